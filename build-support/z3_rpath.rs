//! Embeds an rpath to the libz3 the Makefile unpacked, so binaries and tests run without
//! LD_LIBRARY_PATH. Without SMELT_Z3_RPATH set, the system loader search applies.
fn main() {
    println!("cargo:rerun-if-env-changed=SMELT_Z3_RPATH");
    if let Ok(dir) = std::env::var("SMELT_Z3_RPATH") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
