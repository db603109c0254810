//! The Landlock layer (Linux ≥ 5.13 with Landlock enabled): an unprivileged, inheritable
//! allow-list of what the sandboxed process tree may do with the file system and, from ABI 4,
//! TCP; from ABI 6 it also scopes abstract unix sockets and signals to the sandbox itself.
//!
//! The parent builds the ruleset (read-only rules for the system directories); the child adds
//! the one read-write rule for its work directory (after mounting it) and restricts itself.

use nix::libc;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

const CREATE_RULESET_VERSION: u32 = 1;
const RULE_PATH_BENEATH: libc::c_int = 1;

const FS_EXECUTE: u64 = 1 << 0;
const FS_WRITE_FILE: u64 = 1 << 1;
const FS_READ_FILE: u64 = 1 << 2;
const FS_READ_DIR: u64 = 1 << 3;
const FS_TRUNCATE: u64 = 1 << 14;
const FS_IOCTL_DEV: u64 = 1 << 15;
const NET_BIND_TCP: u64 = 1 << 0;
const NET_CONNECT_TCP: u64 = 1 << 1;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

/// Rights that make sense on a regular file (the kernel rejects directory rights there).
const FILE_RIGHTS: u64 = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The Landlock ABI version the kernel offers, or `None` when Landlock is unavailable.
pub(super) fn abi() -> Option<u32> {
    // SAFETY: the documented version query; no pointers are passed.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    (v > 0).then_some(v as u32)
}

/// Every file-system right the given ABI knows.
fn fs_rights(abi: u32) -> u64 {
    let mut bits = (1u64 << 13) - 1; // ABI 1: EXECUTE … MAKE_SYM
    if abi >= 2 {
        bits |= 1 << 13; // REFER
    }
    if abi >= 3 {
        bits |= FS_TRUNCATE;
    }
    if abi >= 5 {
        bits |= FS_IOCTL_DEV;
    }
    bits
}

/// A ruleset under construction. Cheap: a handful of system calls per run.
pub(super) struct Ruleset {
    fd: OwnedFd,
    /// The rights for the work directory (everything this ABI handles).
    pub(super) dir_rights: u64,
}

impl Ruleset {
    /// A ruleset that handles every right of `abi`, so whatever no rule grants is denied.
    pub(super) fn new(abi: u32) -> std::io::Result<Ruleset> {
        let handled_fs = fs_rights(abi);
        let attr = RulesetAttr {
            handled_access_fs: handled_fs,
            handled_access_net: if abi >= 4 {
                NET_BIND_TCP | NET_CONNECT_TCP
            } else {
                0
            },
            scoped: if abi >= 6 {
                SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
            } else {
                0
            },
        };
        // Older kernels reject a struct larger than they know unless the tail is zero; pass
        // only the prefix this ABI understands.
        let size = match abi {
            1..=3 => 8,
            4 | 5 => 16,
            _ => std::mem::size_of::<RulesetAttr>(),
        };
        // SAFETY: `attr` is a valid, live `landlock_ruleset_attr` prefix of `size` bytes.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &attr as *const RulesetAttr,
                size,
                0u32,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this fd to us and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        Ok(Ruleset {
            fd,
            dir_rights: handled_fs,
        })
    }

    pub(super) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Allows reading (and executing) beneath `path`; `write` also allows writing to it (for
    /// device files such as `/dev/null`). A path that does not exist is skipped.
    pub(super) fn allow_read(&self, path: &Path, write: bool) -> std::io::Result<()> {
        let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else {
            return Ok(());
        };
        // SAFETY: `c` is a valid C string; O_PATH opens no file contents.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if fd < 0 {
            return Ok(()); // absent paths are simply not granted
        }
        // SAFETY: freshly opened, owned here.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let meta = std::fs::metadata(path)?;
        let mut rights = FS_EXECUTE | FS_READ_FILE;
        if meta.is_dir() {
            rights |= FS_READ_DIR;
        }
        if write {
            rights |= FS_WRITE_FILE | FS_TRUNCATE;
        }
        if !meta.is_dir() {
            rights &= FILE_RIGHTS;
        }
        rights &= self.dir_rights;
        // SAFETY: valid ruleset fd and rule fd, both live for the call.
        match unsafe { add_rule(self.fd.as_raw_fd(), fd.as_raw_fd(), rights) } {
            Ok(()) => Ok(()),
            Err(e) => Err(std::io::Error::from_raw_os_error(e)),
        }
    }
}

/// `landlock_add_rule` for a path-beneath rule. Async-signal-safe (one system call).
///
/// # Safety
/// Both fds must be valid for the duration of the call.
pub(super) unsafe fn add_rule(ruleset: RawFd, dir: RawFd, rights: u64) -> Result<(), i32> {
    let rule = PathBeneathAttr {
        allowed_access: rights,
        parent_fd: dir,
    };
    let r = libc::syscall(
        libc::SYS_landlock_add_rule,
        ruleset,
        RULE_PATH_BENEATH,
        &rule as *const PathBeneathAttr,
        0u32,
    );
    if r == 0 {
        Ok(())
    } else {
        Err(*libc::__errno_location())
    }
}

/// `landlock_restrict_self`. Async-signal-safe. Requires `PR_SET_NO_NEW_PRIVS`.
///
/// # Safety
/// `ruleset` must be a valid Landlock ruleset fd.
pub(super) unsafe fn restrict_self(ruleset: RawFd) -> Result<(), i32> {
    let r = libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32);
    if r == 0 {
        Ok(())
    } else {
        Err(*libc::__errno_location())
    }
}
