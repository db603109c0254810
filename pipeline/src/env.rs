//! Every environment variable smelt reads, in one place.

/// Model for `make run` / the quickstart: a local directory, a `.gguf` file or a hub id.
/// The Makefile passes it as `--set model.id=$MODEL`.
pub const MODEL: &str = "MODEL";
/// Log filter, as for `tracing_subscriber::EnvFilter` (e.g. `smelt=debug`).
pub const LOG: &str = "SMELT_LOG";
/// Test-only fault injection; see `sink::fault`.
pub const FAULT: &str = "SMELT_FAULT";

/// This crate's directory, for tests. Read at run time first (cargo sets `CARGO_MANIFEST_DIR`
/// when it runs a test), so a test binary built from another checkout that shares the target
/// directory still finds this checkout's files; the compile-time value is the fallback.
#[cfg(test)]
pub(crate) fn crate_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::path::PathBuf::from,
    )
}
