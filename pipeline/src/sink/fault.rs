//! Fault injection for the crash and signal tests, driven by `SMELT_FAULT` (see [`crate::env`]).
//! Unset (the normal case) every hook is a no-op.
//!
//! `SMELT_FAULT` is a comma-separated list of:
//! - `slow_shard_ms=N`: sleep N ms before renaming each shard (widens the "during a shard
//!   write" window for signal tests);
//! - `fail_shard_write=N`: the N-th shard write (1-based) fails with "No space left on device";
//! - `exit_before_journal=N`: the process exits abruptly (no cleanup) just before the N-th
//!   journal append, leaving a renamed shard that no commit names.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

#[derive(Default)]
struct Faults {
    slow_shard_ms: Option<u64>,
    fail_shard_write: Option<u64>,
    exit_before_journal: Option<u64>,
}

static FAULTS: LazyLock<Faults> = LazyLock::new(|| {
    let mut f = Faults::default();
    if let Ok(spec) = std::env::var(crate::env::FAULT) {
        for item in spec.split(',') {
            let (key, value) = item.split_once('=').unwrap_or((item, "1"));
            let n = value.trim().parse().ok();
            match key.trim() {
                "slow_shard_ms" => f.slow_shard_ms = n,
                "fail_shard_write" => f.fail_shard_write = n,
                "exit_before_journal" => f.exit_before_journal = n,
                _ => {}
            }
        }
    }
    f
});

static SHARD_WRITES: AtomicU64 = AtomicU64::new(0);
static JOURNAL_APPENDS: AtomicU64 = AtomicU64::new(0);

/// Called before a shard is written; `Err` simulates a full disk.
pub fn check_shard_write(path: &Path) -> std::io::Result<()> {
    let n = SHARD_WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    if FAULTS.fail_shard_write == Some(n) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!(
                "No space left on device (injected by SMELT_FAULT at {})",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Called between a shard's fsync and its rename.
pub fn before_rename(_path: &Path) {
    if let Some(ms) = FAULTS.slow_shard_ms {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Called before each journal append.
pub fn before_journal_append(_path: &Path) {
    let n = JOURNAL_APPENDS.fetch_add(1, Ordering::SeqCst) + 1;
    if FAULTS.exit_before_journal == Some(n) {
        // Abrupt, like a power cut: no destructors, no flushing.
        std::process::abort();
    }
}
