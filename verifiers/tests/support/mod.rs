//! Shared by the integration tests.

use std::path::PathBuf;

/// This crate's directory. Read at run time (cargo sets `CARGO_MANIFEST_DIR` when it runs a
/// test), so a test binary built from another checkout that shares the target directory still
/// finds this checkout's fixtures; the compile-time value is the fallback.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}
