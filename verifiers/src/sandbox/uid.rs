//! Uids leased to runs when smelt runs as root: one per concurrent run, never a real user's.

use super::{io_err, SandboxError};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

/// Refuses a uid range that `/etc/passwd` assigns to someone: the sweep of the no-namespace
/// mode kills every process of a leased uid.
pub(super) fn check_uid_range_unused(base: u32, count: u32) -> Result<(), SandboxError> {
    let Ok(passwd) = std::fs::read_to_string("/etc/passwd") else {
        return Ok(());
    };
    for line in passwd.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(uid)) = (fields.next(), fields.nth(1)) else {
            continue;
        };
        if let Ok(uid) = uid.parse::<u32>() {
            if uid >= base && uid - base < count {
                return Err(SandboxError::Config(format!(
                    "sandbox uid range {base}..{} contains user {name:?} ({uid}); set uid_base",
                    base + count
                )));
            }
        }
    }
    Ok(())
}

/// A uid leased to one run; uids are unique across all pools of the process.
pub(super) struct UidLease(pub(super) u32);

/// Leased uids, and where the round-robin search starts next.
static UID_LEASES: Mutex<(BTreeSet<u32>, u32)> = Mutex::new((BTreeSet::new(), 0));

impl UidLease {
    /// The next free uid after the last one handed out (round-robin): a uid released a moment
    /// ago may still count processes the kernel has not finished releasing (`RLIMIT_NPROC`).
    pub(super) fn take(base: u32, count: u32) -> Option<UidLease> {
        let mut guard = UID_LEASES.lock().unwrap_or_else(PoisonError::into_inner);
        let (set, next) = &mut *guard;
        let uid = (0..count)
            .map(|i| base + (next.wrapping_add(i) % count))
            .find(|u| !set.contains(u))?;
        set.insert(uid);
        *next = (uid - base + 1) % count;
        Some(UidLease(uid))
    }
}

impl Drop for UidLease {
    fn drop(&mut self) {
        UID_LEASES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .remove(&self.0);
    }
}

pub(super) fn chown(path: &Path, uid: u32) -> Result<(), SandboxError> {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).map_err(|e| io_err("chown work dir", e))
}
