//! Process creation: `clone(CLONE_VM | CLONE_VFORK)` like `posix_spawn`, optionally into new
//! namespaces, with the child configured by a [`Plan`] the parent prepared in full.
//!
//! Why not `std::process::Command` + `pre_exec`: `Command` forks (copying the page tables of a
//! process that may hold a multi-GB model), and it cannot make the child the init of a new PID
//! namespace, which is what lets one `kill` tear down everything the child ever started.
//!
//! The child shares the parent's memory until `execve`, so between `clone` and `execve` it only
//! makes raw system calls on data the parent built beforehand: no allocation, no locks, no
//! glibc wrappers that coordinate threads (`setresuid` & co. go through `syscall` directly),
//! no panics. Signals are blocked across the clone and reset to defaults in the child before
//! they are unblocked, so no parent signal handler ever runs on the shared memory.

use super::child::Child;
use nix::libc::{self, c_char, c_int, c_void};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the child does between `clone` and `execve`, in order.
pub(super) struct Plan<'a> {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    /// The working directory (and the tmpfs mount point when `tmpfs` is set).
    pub cwd: Option<CString>,
    /// Child ends of stdin, stdout, stderr.
    pub stdio: [RawFd; 3],
    /// `/proc/self/uid_map` and `gid_map` contents, for a new user namespace.
    pub userns_maps: Option<(Vec<u8>, Vec<u8>)>,
    pub new_session: bool,
    /// tmpfs mount options; the tmpfs is mounted on `cwd` in a private mount namespace.
    pub tmpfs: Option<CString>,
    /// Files written into `cwd` by the child (only with `tmpfs`; otherwise the parent writes).
    pub files: Vec<(CString, &'a [u8])>,
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64)>,
    /// Switch to this uid and gid (with no supplementary groups).
    pub drop_to: Option<(u32, u32)>,
    pub no_new_privs: bool,
    /// Landlock ruleset fd and the rights granted on `cwd`.
    pub landlock: Option<(RawFd, u64)>,
    pub seccomp: Option<&'a [libc::sock_filter]>,
    pub pdeathsig: bool,
}

/// Where the child failed before `execve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(super) enum Stage {
    UserNs = 1,
    Session,
    MountPrivate,
    MountTmpfs,
    Chdir,
    WriteFile,
    Stdio,
    CloseFds,
    Rlimit,
    DropPrivileges,
    NoNewPrivs,
    Landlock,
    Seccomp,
    DeathSignal,
    Exec,
}

impl Stage {
    fn from_u32(v: u32) -> Option<Stage> {
        use Stage::*;
        [
            UserNs,
            Session,
            MountPrivate,
            MountTmpfs,
            Chdir,
            WriteFile,
            Stdio,
            CloseFds,
            Rlimit,
            DropPrivileges,
            NoNewPrivs,
            Landlock,
            Seccomp,
            DeathSignal,
            Exec,
        ]
        .into_iter()
        .find(|s| *s as u32 == v)
    }
}

#[derive(Debug)]
pub(super) enum SpawnError {
    /// `clone` itself failed (typically: namespaces not permitted here).
    Clone(i32),
    /// The child failed while setting itself up.
    Child(Stage, i32),
    /// Could not allocate the child's stack.
    Stack(i32),
}

/// A child stack with a guard page below it.
struct Stack {
    base: *mut c_void,
    len: usize,
}

impl Stack {
    const SIZE: usize = 256 * 1024;

    fn new() -> Result<Stack, i32> {
        // SAFETY: anonymous private mapping; checked for MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(errno());
        }
        let stack = Stack {
            base,
            len: Self::SIZE,
        };
        // SAFETY: the first page lies inside the mapping we own.
        if unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) } != 0 {
            return Err(errno());
        }
        Ok(stack)
    }

    fn top(&self) -> *mut c_void {
        // SAFETY: one past the end of our mapping, 16-byte aligned because the mapping is
        // page-aligned and SIZE is a multiple of 16.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; the child has exec'd or exited.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

struct ChildArgs<'p, 'a> {
    plan: &'p Plan<'a>,
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    fprog: Option<libc::sock_fprog>,
    /// `stage << 32 | errno`, written by the child when it fails before `execve`.
    error: AtomicU64,
}

/// Starts `plan` in a child created with `clone(CLONE_VM | CLONE_VFORK | extra_flags)`.
/// Returns once the child has exec'd (or failed to).
pub(super) fn spawn(plan: &Plan<'_>, extra_flags: c_int) -> Result<Child, SpawnError> {
    let stack = Stack::new().map_err(SpawnError::Stack)?;
    let mut argv: Vec<*const c_char> = plan.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const c_char> = plan.envp.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    let args = ChildArgs {
        plan,
        argv,
        envp,
        fprog: plan.seccomp.map(|f| libc::sock_fprog {
            len: f.len() as u16,
            filter: f.as_ptr() as *mut libc::sock_filter,
        }),
        error: AtomicU64::new(0),
    };
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | extra_flags;
    // SAFETY: sigset out-parameters are plain data; clone gets a valid stack top, a function
    // that never returns into Rust frames of the parent, and a pointer to `args`, which
    // outlives the child's use of it (CLONE_VFORK suspends us until execve or _exit).
    let (pid, clone_errno) = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            child_main,
            stack.top(),
            flags,
            &args as *const ChildArgs as *mut c_void,
        );
        let e = errno();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        (pid, e)
    };
    drop(stack);
    if pid < 0 {
        return Err(SpawnError::Clone(clone_errno));
    }
    let mut child = Child::new(pid);
    let failure = args.error.load(Ordering::SeqCst);
    if failure != 0 {
        child.reap();
        let stage = Stage::from_u32((failure >> 32) as u32).unwrap_or(Stage::Exec);
        return Err(SpawnError::Child(stage, (failure & 0xffff_ffff) as i32));
    }
    // SAFETY: pidfd_open on our own unreaped child; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd >= 0 {
        // SAFETY: a fresh fd the kernel handed us.
        child.pidfd = Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
    }
    Ok(child)
}

extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent passed and keeps alive while we run.
    let args = unsafe { &*(arg as *const ChildArgs) };
    // SAFETY: we are the freshly cloned child; `setup_and_exec` follows the rules above.
    let (stage, err) = unsafe { setup_and_exec(args) };
    args.error.store(
        ((stage as u64) << 32) | (err as u32 as u64).max(1),
        Ordering::SeqCst,
    );
    // SAFETY: _exit never returns and runs no atexit handlers in the shared memory.
    unsafe { libc::_exit(127) }
}

fn child_errno() -> i32 {
    // SAFETY: reading errno of the current thread.
    unsafe { *libc::__errno_location() }
}

/// Writes all of `data` to `path`. Async-signal-safe.
unsafe fn write_file(path: *const c_char, data: &[u8], flags: c_int) -> Result<(), i32> {
    let fd = libc::open(path, flags | libc::O_WRONLY | libc::O_CLOEXEC, 0o644);
    if fd < 0 {
        return Err(child_errno());
    }
    let mut off = 0;
    while off < data.len() {
        let n = libc::write(fd, data[off..].as_ptr().cast(), data.len() - off);
        if n < 0 {
            let e = child_errno();
            if e == libc::EINTR {
                continue;
            }
            libc::close(fd);
            return Err(e);
        }
        off += n as usize;
    }
    libc::close(fd);
    Ok(())
}

/// Runs in the child. Returns only on failure, with the stage and errno.
unsafe fn setup_and_exec(args: &ChildArgs) -> (Stage, i32) {
    let plan = args.plan;
    macro_rules! check {
        ($stage:expr, $call:expr) => {
            if $call < 0 {
                return ($stage, child_errno());
            }
        };
    }

    // Default dispositions, so nothing the parent installed can run here or survive execve.
    let mut dfl: libc::sigaction = std::mem::zeroed();
    dfl.sa_sigaction = libc::SIG_DFL;
    for sig in 1..65 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        }
    }

    if let Some((uid_map, gid_map)) = &plan.userns_maps {
        let w = libc::O_TRUNC;
        if let Err(e) = write_file(c"/proc/self/setgroups".as_ptr(), b"deny", w) {
            return (Stage::UserNs, e);
        }
        if let Err(e) = write_file(c"/proc/self/uid_map".as_ptr(), uid_map, w) {
            return (Stage::UserNs, e);
        }
        if let Err(e) = write_file(c"/proc/self/gid_map".as_ptr(), gid_map, w) {
            return (Stage::UserNs, e);
        }
    }

    if plan.new_session {
        check!(Stage::Session, libc::setsid());
    }

    if let (Some(opts), Some(cwd)) = (&plan.tmpfs, &plan.cwd) {
        check!(
            Stage::MountPrivate,
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        );
        check!(
            Stage::MountTmpfs,
            libc::mount(
                c"tmpfs".as_ptr(),
                cwd.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                opts.as_ptr().cast(),
            )
        );
    }
    if let Some(cwd) = &plan.cwd {
        check!(Stage::Chdir, libc::chdir(cwd.as_ptr()));
    }
    if plan.tmpfs.is_some() {
        for (name, data) in &plan.files {
            if let Err(e) = write_file(name.as_ptr(), data, libc::O_CREAT | libc::O_EXCL) {
                return (Stage::WriteFile, e);
            }
        }
    }

    // Move the pipe ends out of the way first, so no dup2 can clobber another.
    let mut high = [0; 3];
    for (i, fd) in plan.stdio.iter().enumerate() {
        high[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 10);
        check!(Stage::Stdio, high[i]);
    }
    for (i, fd) in high.iter().enumerate() {
        check!(Stage::Stdio, libc::dup2(*fd, i as c_int));
    }
    // Everything else is closed on execve (the Landlock ruleset fd is still needed until then).
    if libc::syscall(
        libc::SYS_close_range,
        3u32,
        u32::MAX,
        libc::CLOSE_RANGE_CLOEXEC,
    ) < 0
    {
        for fd in 3..4096 {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }

    for (resource, value) in &plan.rlimits {
        let lim = libc::rlimit {
            rlim_cur: *value,
            rlim_max: *value,
        };
        check!(Stage::Rlimit, libc::setrlimit(*resource, &lim));
    }

    if let Some((uid, gid)) = plan.drop_to {
        // Raw system calls: glibc's wrappers would try to change the credentials of every
        // thread of the parent process, whose memory we share.
        check!(
            Stage::DropPrivileges,
            libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>())
        );
        check!(
            Stage::DropPrivileges,
            libc::syscall(libc::SYS_setresgid, gid, gid, gid)
        );
        check!(
            Stage::DropPrivileges,
            libc::syscall(libc::SYS_setresuid, uid, uid, uid)
        );
    }

    if plan.no_new_privs {
        check!(
            Stage::NoNewPrivs,
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        );
    }

    if let Some((ruleset, rights)) = plan.landlock {
        let dir = libc::open(
            c".".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        check!(Stage::Landlock, dir);
        if let Err(e) = super::landlock::add_rule(ruleset, dir, rights) {
            return (Stage::Landlock, e);
        }
        libc::close(dir);
        if let Err(e) = super::landlock::restrict_self(ruleset) {
            return (Stage::Landlock, e);
        }
    }

    if let Some(prog) = &args.fprog {
        if let Err(e) = super::seccomp::install(prog) {
            return (Stage::Seccomp, e);
        }
    }

    // After the credential change, which would clear it.
    if plan.pdeathsig {
        check!(
            Stage::DeathSignal,
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0)
        );
    }

    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    libc::execve(plan.path.as_ptr(), args.argv.as_ptr(), args.envp.as_ptr());
    (Stage::Exec, child_errno())
}

/// Kills every process running as `uid` (except ours), for the mode without a PID namespace
/// where a process that called `setsid` escapes the process-group kill. Only sound because
/// the uid is leased to one sandbox run at a time and checked to belong to no real user.
pub(super) fn kill_all_of_uid(uid: u32) {
    let Ok(stack) = Stack::new() else { return };
    extern "C" fn sweeper(arg: *mut c_void) -> c_int {
        let uid = arg as usize as u32;
        // SAFETY: raw system calls only (see the module docs); the child then _exits.
        unsafe {
            if libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0 {
                libc::_exit(1);
            }
            // kill(-1) signals every process of this uid at once, and a process with a pending
            // SIGKILL cannot complete a fork; a few rounds cover forks already past that check.
            for _ in 0..3 {
                if libc::kill(-1, libc::SIGKILL) != 0 {
                    break; // ESRCH: no process visible at all
                }
                libc::sched_yield();
            }
            libc::_exit(0)
        }
    }
    // SAFETY: as in `spawn`; the argument is a plain integer smuggled through the pointer.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            sweeper,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            uid as usize as *mut c_void,
        );
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid > 0 {
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpawnError::Clone(e) => write!(f, "clone: {}", std::io::Error::from_raw_os_error(*e)),
            SpawnError::Child(stage, e) => write!(
                f,
                "child set-up failed at {stage:?}: {}",
                std::io::Error::from_raw_os_error(*e)
            ),
            SpawnError::Stack(e) => write!(f, "stack: {}", std::io::Error::from_raw_os_error(*e)),
        }
    }
}
