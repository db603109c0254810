//! Sandboxed process execution — the one place in smelt that starts processes.
//!
//! [`SandboxPool::run`] runs an untrusted program to completion in a fresh work directory and
//! returns a typed [`RunOutput`]; [`spawn_process`] starts a long-lived trusted helper (an
//! external verifier) with pipes and a kill-on-drop guarantee.
//!
//! # Layers of a sandbox run (see also `SPEC.md`)
//!
//! | layer | what it does | applies when |
//! |---|---|---|
//! | PID namespace | the program is PID 1 of a fresh namespace; killing it kills every process it ever started, `setsid`/double-fork escapes included; it cannot see or signal host processes | root, or a user namespace can be created (`namespaces = true`) |
//! | network namespace | only a down loopback: no connect anywhere, 127.0.0.1 included | same |
//! | IPC + mount namespace | private SysV IPC; the work dir is a size-capped tmpfs that vanishes with the run | same |
//! | uid drop | runs as a uid leased from `uid_base..uid_base+uid_count` (one per concurrent run), no groups, no capabilities | running as root |
//! | `no_new_privs` | set-uid binaries cannot raise privileges | always |
//! | Landlock | writes only in the work dir (and `/dev/null`), reads only under `read_paths`; TCP bind/connect denied (ABI ≥ 4); signals and abstract sockets scoped to the sandbox (ABI ≥ 6) | kernel has Landlock (`landlock = true`) |
//! | seccomp | `socket()` only for `AF_UNIX`; no `io_uring`, `ptrace`, `process_vm_*`; foreign ABIs denied | x86_64 / aarch64 (`seccomp = true`) |
//! | rlimits | CPU seconds, address space, processes, file size, open files, core = 0 | always |
//! | supervision | wall-clock deadline, stdout/stderr capped while read (then killed), process group + namespace killed, everything reaped before `run` returns | always |
//!
//! Without namespaces (a container that forbids them) the process group is killed and, when a
//! uid was dropped to, every process of that uid is swept, so escapes are still reaped; the
//! work dir then lives on the host disk, bounded per file by the file-size limit.
//! A layer that cannot be applied is logged once; `require_all_layers = true` makes it an error.

mod landlock;
mod seccomp;
mod spawn;

pub use spawn::ExitStatus;

use crate::semaphore::Semaphore;
use crate::VerifyError;
use nix::libc;
use serde::Deserialize;
use spawn::{Child, Plan, SpawnError};
use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Default `PATH` inside the sandbox (and for resolving a bare program name).
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Pool-wide isolation settings. Per-run limits are in [`Limits`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxConfig {
    /// How many runs may execute at once; 0 = twice the number of CPUs.
    pub max_parallel: usize,
    /// First uid leased to runs when smelt runs as root (one uid per concurrent run, so runs
    /// cannot signal or read each other). The range must belong to no real user.
    pub uid_base: u32,
    /// How many uids the range holds (caps concurrency across all pools).
    pub uid_count: u32,
    /// Use PID/network/IPC/mount namespaces.
    pub namespaces: bool,
    /// Use Landlock when the kernel offers it.
    pub landlock: bool,
    /// Use the seccomp filter.
    pub seccomp: bool,
    /// Fail instead of degrading when a layer cannot be applied.
    pub require_all_layers: bool,
    /// Paths the sandbox may read and execute under (Landlock). The program's installation
    /// prefix (`/usr` for `/usr/bin/python3`) is added automatically.
    pub read_paths: Vec<PathBuf>,
    /// Where work directories are created; default: the system temp dir.
    pub work_root: Option<PathBuf>,
    /// Size of the tmpfs work dir, in MiB.
    pub disk_mb: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            max_parallel: 0,
            uid_base: 60_000,
            uid_count: 1024,
            namespaces: true,
            landlock: true,
            seccomp: true,
            require_all_layers: false,
            read_paths: [
                "/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc",
            ]
            .iter()
            .map(PathBuf::from)
            .collect(),
            work_root: None,
            disk_mb: 64,
        }
    }
}

/// Resource limits of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Wall-clock deadline; the process tree is killed when it passes.
    pub timeout: Duration,
    /// CPU seconds (RLIMIT_CPU).
    pub cpu_secs: u64,
    /// Address space in bytes (RLIMIT_AS).
    pub memory_bytes: u64,
    /// Processes/threads (RLIMIT_NPROC; per leased uid when root).
    pub max_processes: u64,
    /// Largest file the program may write (RLIMIT_FSIZE).
    pub max_file_bytes: u64,
    /// Open files (RLIMIT_NOFILE).
    pub max_open_files: u64,
    /// Cap on each of stdout and stderr; past it the program is killed.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            cpu_secs: 10,
            memory_bytes: 1 << 30,
            max_processes: 64,
            max_file_bytes: 16 << 20,
            max_open_files: 256,
            max_output_bytes: 1 << 20,
        }
    }
}

/// One program to run.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// A path, or a name looked up in the sandbox's `PATH`.
    pub program: String,
    pub args: Vec<String>,
    /// Added to (or overriding) the minimal environment.
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
    /// Files created in the work dir before the program starts (plain names, read-only).
    pub files: Vec<(String, Vec<u8>)>,
    pub limits: Limits,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub status: ExitStatus,
    /// Killed at the wall-clock deadline.
    pub timed_out: bool,
    /// Killed for exceeding the CPU-seconds limit.
    pub cpu_limit_exceeded: bool,
    /// Killed for printing more than `max_output_bytes` on stdout or stderr.
    pub output_limit_exceeded: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub wall_time: Duration,
    pub cpu_time: Duration,
    pub max_rss_kib: u64,
}

impl RunOutput {
    /// Exited with status 0 and no limit hit.
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Exited(0)
            && !self.timed_out
            && !self.cpu_limit_exceeded
            && !self.output_limit_exceeded
    }
}

/// Which layers a pool actually applies (known after its first run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layers {
    pub pid_network_ipc_mount_namespaces: bool,
    pub user_namespace: bool,
    pub uid_drop: bool,
    pub landlock_abi: Option<u32>,
    pub seccomp: bool,
    pub tmpfs_workdir: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox misconfigured: {0}")]
    Config(String),
    #[error("could not start the program: {0}")]
    Spawn(String),
    #[error("sandbox i/o: {0}")]
    Io(String),
}

impl From<SandboxError> for VerifyError {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::Config(m) => VerifyError::Config(m),
            other => VerifyError::Other(other.to_string()),
        }
    }
}

/// Why one attempt at a run did not produce output.
enum Attempt {
    Failed(SandboxError),
    /// Namespaces turned out to be unavailable; retry without them.
    NoNamespaces,
}

impl From<SandboxError> for Attempt {
    fn from(e: SandboxError) -> Self {
        Attempt::Failed(e)
    }
}

fn io_err(what: &str, e: std::io::Error) -> SandboxError {
    SandboxError::Io(format!("{what}: {e}"))
}

/// Runs sandboxed programs, at most `max_parallel` at a time. `Send + Sync`; share it.
pub struct SandboxPool {
    cfg: SandboxConfig,
    parallel: usize,
    sem: Semaphore,
    state: OnceLock<Result<PoolState, SandboxError>>,
    namespaces_ok: AtomicBool,
    counter: AtomicU64,
}

/// Set up on the first run (construction stays free of side effects).
struct PoolState {
    base: tempfile::TempDir,
    root: bool,
    landlock_abi: Option<u32>,
    seccomp: Option<Vec<libc::sock_filter>>,
}

// SAFETY: `sock_filter` is plain data; the raw pointer inside `libc::sock_filter`-free state
// is only a Vec of POD structs.
unsafe impl Send for PoolState {}
unsafe impl Sync for PoolState {}

impl std::fmt::Debug for SandboxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxPool")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl SandboxPool {
    /// Validates the configuration. Pure: nothing is created or started until the first run.
    pub fn new(cfg: SandboxConfig) -> Result<SandboxPool, SandboxError> {
        if cfg.uid_count == 0
            || cfg.uid_base == 0
            || cfg.uid_base.checked_add(cfg.uid_count).is_none()
        {
            return Err(SandboxError::Config(
                "uid_base must be > 0 and uid_base + uid_count must fit in a u32".into(),
            ));
        }
        if cfg.disk_mb == 0 {
            return Err(SandboxError::Config("disk_mb must be > 0".into()));
        }
        let parallel = if cfg.max_parallel == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
        } else {
            cfg.max_parallel
        };
        Ok(SandboxPool {
            parallel,
            sem: Semaphore::new(parallel),
            namespaces_ok: AtomicBool::new(cfg.namespaces),
            cfg,
            state: OnceLock::new(),
            counter: AtomicU64::new(0),
        })
    }

    /// The pool's configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.cfg
    }

    /// How many runs may execute at once.
    pub fn max_parallel(&self) -> usize {
        self.parallel
    }

    /// The paths Landlock lets `program` read under: `read_paths` plus its installation prefix.
    pub fn read_paths_for(&self, program: &Path) -> Vec<PathBuf> {
        let mut paths = self.cfg.read_paths.clone();
        if let Some(prefix) = std::fs::canonicalize(program)
            .ok()
            .and_then(|p| p.parent().and_then(Path::parent).map(Path::to_path_buf))
        {
            paths.push(prefix);
        }
        paths
    }

    fn state(&self) -> Result<&PoolState, SandboxError> {
        self.state
            .get_or_init(|| PoolState::init(&self.cfg))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The layers that apply (initialising the pool if needed).
    pub fn layers(&self) -> Result<Layers, SandboxError> {
        let st = self.state()?;
        let ns = self.namespaces_ok.load(Ordering::Relaxed);
        Ok(Layers {
            pid_network_ipc_mount_namespaces: ns,
            user_namespace: ns && !st.root,
            uid_drop: st.root,
            landlock_abi: st.landlock_abi,
            seccomp: st.seccomp.is_some(),
            tmpfs_workdir: ns,
        })
    }

    /// Runs `spec` to completion in a fresh sandbox. Blocks while the pool is full.
    ///
    /// `Err` means the sandbox itself failed (not the program): configuration, spawn failure,
    /// or i/o on the host side. Everything the program does is in the `Ok` output.
    pub fn run(&self, spec: &RunSpec) -> Result<RunOutput, SandboxError> {
        let st = self.state()?;
        let _permit = self.sem.acquire();
        let lease = self.lease(st)?;
        let uid = lease.as_ref().map(|u| u.0);
        loop {
            let ns = self.namespaces_ok.load(Ordering::Relaxed);
            let workdir = self.workdir(st, ns)?;
            let result = self
                .launch(st, spec, &workdir, uid, ns, false)
                .map(|(child, [i, o, e])| supervise(child, i, o, e, &spec.stdin, &spec.limits));
            if !ns {
                cleanup_run_dir(&workdir, uid);
            }
            match result {
                Ok(out) => return Ok(out),
                Err(Attempt::Failed(e)) => return Err(e),
                Err(Attempt::NoNamespaces) if ns => continue, // retry without
                Err(Attempt::NoNamespaces) => {
                    return Err(SandboxError::Spawn("namespaces unavailable".into()))
                }
            }
        }
    }

    /// Starts `spec` as a long-lived server in a sandbox with every layer of [`run`](Self::run)
    /// (`limits.timeout` and `max_output_bytes` do not apply: the caller supervises it). It
    /// holds its own uid until dropped; it does not count against `max_parallel`.
    pub fn spawn_server(&self, spec: &RunSpec) -> Result<SandboxedServer, SandboxError> {
        let st = self.state()?;
        let lease = self.lease(st)?;
        let uid = lease.as_ref().map(|u| u.0);
        loop {
            let ns = self.namespaces_ok.load(Ordering::Relaxed);
            let workdir = self.workdir(st, ns)?;
            match self.launch(st, spec, &workdir, uid, ns, true) {
                Ok((child, [stdin, stdout, stderr])) => {
                    return Ok(SandboxedServer {
                        process: ManagedProcess {
                            child,
                            status: None,
                            stdin: Some(std::fs::File::from(stdin)),
                            stdout: Some(std::fs::File::from(stdout)),
                            stderr: Some(std::fs::File::from(stderr)),
                        },
                        run_dir: (!ns).then_some(workdir),
                        _lease: lease,
                    })
                }
                Err(e) => {
                    if !ns {
                        cleanup_run_dir(&workdir, uid);
                    }
                    match e {
                        Attempt::Failed(e) => return Err(e),
                        Attempt::NoNamespaces if ns => continue,
                        Attempt::NoNamespaces => {
                            return Err(SandboxError::Spawn("namespaces unavailable".into()))
                        }
                    }
                }
            }
        }
    }

    /// A uid for one run or server, when running as root.
    fn lease(&self, st: &PoolState) -> Result<Option<UidLease>, SandboxError> {
        if !st.root {
            return Ok(None);
        }
        UidLease::take(self.cfg.uid_base, self.cfg.uid_count)
            .map(Some)
            .ok_or_else(|| {
                SandboxError::Config(format!(
                    "all {} sandbox uids from {} are in use",
                    self.cfg.uid_count, self.cfg.uid_base
                ))
            })
    }

    /// With namespaces every run mounts its own tmpfs on one shared, empty mount point (the
    /// mounts live in per-run mount namespaces); without, each run gets a fresh directory.
    fn workdir(&self, st: &PoolState, ns: bool) -> Result<PathBuf, SandboxError> {
        if ns {
            return Ok(st.base.path().join("work"));
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let dir = st.base.path().join(format!("run-{n}"));
        std::fs::create_dir(&dir).map_err(|e| io_err("work dir", e))?;
        Ok(dir)
    }

    /// Starts `spec` in `workdir`; returns the child and the parent's ends of its stdio.
    fn launch(
        &self,
        st: &PoolState,
        spec: &RunSpec,
        workdir: &Path,
        uid: Option<u32>,
        ns: bool,
        server: bool,
    ) -> Result<(Child, [OwnedFd; 3]), Attempt> {
        for (name, _) in &spec.files {
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(SandboxError::Config(format!("bad file name {name:?}")).into());
            }
        }
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), DEFAULT_PATH.into()),
            ("HOME".into(), workdir.display().to_string()),
            ("TMPDIR".into(), workdir.display().to_string()),
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
        ];
        for (k, v) in &spec.env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
        let path_var = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map_or(DEFAULT_PATH, |(_, v)| v.as_str());
        let program = resolve_program(&spec.program, path_var)?;
        if !ns {
            if let Some(u) = uid {
                chown(workdir, u)?;
            }
            std::fs::set_permissions(workdir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io_err("work dir", e))?;
            for (name, data) in &spec.files {
                std::fs::write(workdir.join(name), data)
                    .map_err(|e| io_err("write input file", e))?;
            }
        }
        let ruleset = match st.landlock_abi {
            Some(abi) => Some(self.ruleset(abi, &program)?),
            None => None,
        };
        let (stdin_r, stdin_w) = spawn::pipe().map_err(|e| io_err("pipe", e))?;
        let (stdout_r, stdout_w) = spawn::pipe().map_err(|e| io_err("pipe", e))?;
        let (stderr_r, stderr_w) = spawn::pipe().map_err(|e| io_err("pipe", e))?;
        let l = &spec.limits;
        let owner = uid.unwrap_or_else(|| nix::unistd::geteuid().as_raw());
        let group = uid.unwrap_or_else(|| nix::unistd::getegid().as_raw());
        let plan = Plan {
            path: cstring(program.as_os_str().as_encoded_bytes())?,
            argv: std::iter::once(spec.program.as_str())
                .chain(spec.args.iter().map(String::as_str))
                .map(|a| cstring(a.as_bytes()))
                .collect::<Result<_, _>>()?,
            envp: env
                .iter()
                .map(|(k, v)| cstring(format!("{k}={v}").as_bytes()))
                .collect::<Result<_, _>>()?,
            cwd: Some(cstring(workdir.as_os_str().as_encoded_bytes())?),
            stdio: [
                stdin_r.as_raw_fd(),
                stdout_w.as_raw_fd(),
                stderr_w.as_raw_fd(),
            ],
            userns_maps: (ns && !st.root).then(|| {
                (
                    format!("{owner} {owner} 1\n").into_bytes(),
                    format!("{group} {group} 1\n").into_bytes(),
                )
            }),
            new_session: true,
            tmpfs: if ns {
                Some(cstring(
                    format!(
                        "size={}k,nr_inodes=4096,mode=0700,uid={owner},gid={group}",
                        self.cfg.disk_mb * 1024
                    )
                    .as_bytes(),
                )?)
            } else {
                None
            },
            files: if ns {
                spec.files
                    .iter()
                    .map(|(n, d)| Ok((cstring(n.as_bytes())?, d.as_slice())))
                    .collect::<Result<_, SandboxError>>()?
            } else {
                Vec::new()
            },
            rlimits: vec![
                (libc::RLIMIT_CPU, l.cpu_secs.max(1)),
                (libc::RLIMIT_AS, l.memory_bytes),
                (libc::RLIMIT_NPROC, l.max_processes),
                (libc::RLIMIT_FSIZE, l.max_file_bytes),
                (libc::RLIMIT_NOFILE, l.max_open_files),
                (libc::RLIMIT_CORE, 0),
                (libc::RLIMIT_MEMLOCK, 0),
                (libc::RLIMIT_MSGQUEUE, 0),
            ],
            drop_to: uid.map(|u| (u, u)),
            no_new_privs: true,
            landlock: ruleset.as_ref().map(|r| (r.raw_fd(), r.dir_rights)),
            seccomp: st.seccomp.as_deref(),
            // A one-shot run is supervised by the thread that spawned it, so it dies with it; a
            // server would die with whichever worker thread happened to start it.
            pdeathsig: !server,
        };
        let mut flags = 0;
        if ns {
            flags =
                libc::CLONE_NEWPID | libc::CLONE_NEWNET | libc::CLONE_NEWIPC | libc::CLONE_NEWNS;
            if !st.root {
                flags |= libc::CLONE_NEWUSER;
            }
        }
        let child = match spawn::spawn(&plan, flags) {
            Ok(c) => c,
            Err(SpawnError::Clone(e))
                if ns && matches!(e, libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::EUSERS) =>
            {
                let why = std::io::Error::from_raw_os_error(e);
                if self.cfg.require_all_layers {
                    return Err(SandboxError::Config(format!(
                        "namespaces unavailable ({why}) and require_all_layers is set"
                    ))
                    .into());
                }
                if self.namespaces_ok.swap(false, Ordering::Relaxed) {
                    tracing::warn!(
                        "sandbox: cannot create namespaces ({why}); continuing without PID/network/mount isolation"
                    );
                }
                return Err(Attempt::NoNamespaces);
            }
            Err(e) => return Err(SandboxError::Spawn(e.to_string()).into()),
        };
        drop((stdin_r, stdout_w, stderr_w, ruleset));
        Ok((child, [stdin_w, stdout_r, stderr_r]))
    }

    fn ruleset(&self, abi: u32, program: &Path) -> Result<landlock::Ruleset, SandboxError> {
        let rs = landlock::Ruleset::new(abi).map_err(|e| io_err("landlock ruleset", e))?;
        for p in &self.read_paths_for(program) {
            rs.allow_read(p, false)
                .map_err(|e| io_err("landlock rule", e))?;
        }
        for dev in ["/dev/null", "/dev/zero", "/dev/full"] {
            rs.allow_read(Path::new(dev), true)
                .map_err(|e| io_err("landlock rule", e))?;
        }
        for dev in ["/dev/urandom", "/dev/random"] {
            rs.allow_read(Path::new(dev), false)
                .map_err(|e| io_err("landlock rule", e))?;
        }
        Ok(rs)
    }
}

impl PoolState {
    fn init(cfg: &SandboxConfig) -> Result<PoolState, SandboxError> {
        let root = nix::unistd::geteuid().is_root();
        if root {
            check_uid_range_unused(cfg.uid_base, cfg.uid_count)?;
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix("smelt-sandbox-");
        let base = match &cfg.work_root {
            Some(r) => builder.tempdir_in(r),
            None => builder.tempdir(),
        }
        .map_err(|e| io_err("sandbox base dir", e))?;
        // Others may traverse (to reach their own run dir) but not list.
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o711))
            .map_err(|e| io_err("sandbox base dir", e))?;
        // The shared tmpfs mount point of namespaced runs; it stays empty on the host.
        std::fs::create_dir(base.path().join("work"))
            .map_err(|e| io_err("sandbox mount point", e))?;
        let landlock_abi = if cfg.landlock { landlock::abi() } else { None };
        if cfg.landlock && landlock_abi.is_none() {
            if cfg.require_all_layers {
                return Err(SandboxError::Config(
                    "Landlock unavailable and require_all_layers is set".into(),
                ));
            }
            tracing::warn!("sandbox: Landlock unavailable; file-system confinement relies on the uid drop only");
        }
        let seccomp = (cfg.seccomp && seccomp::SUPPORTED).then(seccomp::filter);
        if cfg.seccomp && seccomp.is_none() && cfg.require_all_layers {
            return Err(SandboxError::Config(
                "no seccomp filter for this architecture".into(),
            ));
        }
        if !root && cfg.require_all_layers {
            // Without root there is no uid to drop to; the user namespace is the substitute.
            tracing::info!("sandbox: not root; runs keep smelt's uid inside a user namespace");
        }
        Ok(PoolState {
            base,
            root,
            landlock_abi,
            seccomp,
        })
    }
}

/// Refuses a uid range that `/etc/passwd` assigns to someone: the sweep of the no-namespace
/// mode kills every process of a leased uid.
fn check_uid_range_unused(base: u32, count: u32) -> Result<(), SandboxError> {
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

/// After a run without namespaces: sweep the uid's processes (setsid escapes are not in the
/// process group; the uid is this run's alone) and delete the run's directory.
fn cleanup_run_dir(dir: &Path, uid: Option<u32>) {
    if let Some(u) = uid {
        spawn::kill_all_of_uid(u);
    }
    if let Err(e) = std::fs::remove_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), "could not remove sandbox work dir: {e}");
    }
}

/// A long-lived sandboxed server (see [`SandboxPool::spawn_server`]). Dropping it kills it —
/// with its PID namespace, everything it started — and releases its uid.
pub struct SandboxedServer {
    pub process: ManagedProcess,
    run_dir: Option<PathBuf>,
    _lease: Option<UidLease>,
}

impl std::fmt::Debug for SandboxedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxedServer")
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}

impl Drop for SandboxedServer {
    fn drop(&mut self) {
        self.process.kill();
        if let Some(dir) = &self.run_dir {
            cleanup_run_dir(dir, self._lease.as_ref().map(|u| u.0));
        }
    }
}

/// A uid leased to one run; uids are unique across all pools of the process.
struct UidLease(u32);

/// Leased uids, and where the round-robin search starts next.
static UID_LEASES: Mutex<(BTreeSet<u32>, u32)> = Mutex::new((BTreeSet::new(), 0));

impl UidLease {
    /// The next free uid after the last one handed out (round-robin): a uid released a moment
    /// ago may still count processes the kernel has not finished releasing (`RLIMIT_NPROC`).
    fn take(base: u32, count: u32) -> Option<UidLease> {
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

fn cstring(b: &[u8]) -> Result<CString, SandboxError> {
    CString::new(b).map_err(|_| SandboxError::Config("argument or path contains a NUL byte".into()))
}

fn chown(path: &Path, uid: u32) -> Result<(), SandboxError> {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).map_err(|e| io_err("chown work dir", e))
}

/// Resolves `program` like `execvp` would, against `path_var`.
pub fn resolve_program(program: &str, path_var: &str) -> Result<PathBuf, SandboxError> {
    use std::os::unix::fs::MetadataExt;
    let is_exec =
        |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0);
    if program.is_empty() {
        return Err(SandboxError::Config("empty program name".into()));
    }
    if program.contains('/') {
        let p = PathBuf::from(program);
        return if is_exec(&p) {
            Ok(p)
        } else {
            Err(SandboxError::Config(format!(
                "{program}: not an executable file"
            )))
        };
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| is_exec(p))
        .ok_or_else(|| SandboxError::Config(format!("{program}: not found in PATH {path_var}")))
}

/// Feeds stdin, collects capped output, enforces the deadline, then kills and reaps.
fn supervise(
    mut child: Child,
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    input: &[u8],
    limits: &Limits,
) -> RunOutput {
    let start = Instant::now();
    let deadline = start + limits.timeout;
    let cap = limits.max_output_bytes;
    let mut stdin = (!input.is_empty()).then_some(stdin);
    let mut pipes: [Option<OwnedFd>; 2] = [Some(stdout), Some(stderr)];
    let mut bufs: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut truncated = [false; 2];
    let mut written = 0usize;
    let (mut timed_out, mut output_limit, mut killed) = (false, false, false);
    let mut exited_at: Option<Instant> = None;
    for fd in stdin.iter().chain(pipes.iter().flatten()) {
        // Failing to set O_NONBLOCK only risks a blocking read below, never a wrong result.
        let _ = spawn::set_nonblocking(fd);
    }
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if exited_at.is_none() && child.has_exited() {
            exited_at = Some(Instant::now());
            // Without a PID namespace, stragglers in the group may still hold the pipes.
            child.kill_tree();
        }
        if pipes.iter().all(Option::is_none) && exited_at.is_some() {
            break;
        }
        let now = Instant::now();
        if !killed && now >= deadline {
            timed_out = true;
            killed = true;
            child.kill_tree();
        }
        // Once the child is gone, give the pipes a moment to drain, then stop.
        if let Some(t) = exited_at {
            if now.duration_since(t) > Duration::from_millis(500) {
                break;
            }
        }
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(4);
        let stdin_idx = stdin.as_ref().map(|fd| {
            fds.push(pollfd(fd.as_raw_fd(), libc::POLLOUT));
            fds.len() - 1
        });
        let pipe_idx: [Option<usize>; 2] = [0, 1].map(|i| {
            pipes[i].as_ref().map(|fd| {
                fds.push(pollfd(fd.as_raw_fd(), libc::POLLIN));
                fds.len() - 1
            })
        });
        let wait_exit = exited_at.is_none();
        if let (true, Some(p)) = (wait_exit, &child.pidfd) {
            fds.push(pollfd(p.as_raw_fd(), libc::POLLIN));
        }
        let mut wait = if killed || exited_at.is_some() {
            Duration::from_millis(50)
        } else {
            deadline.saturating_duration_since(now)
        };
        if child.pidfd.is_none() && wait_exit {
            wait = wait.min(Duration::from_millis(10)); // no pidfd: poll for the exit
        }
        let ms = wait.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if r <= 0 {
            continue; // timeout or EINTR: re-check the deadline and the exit
        }
        if let (Some(fd), Some(i)) = (&stdin, stdin_idx) {
            if fds[i].revents != 0 {
                let rest = &input[written..];
                // SAFETY: writing from a live slice to an fd we own.
                let n = unsafe { libc::write(fd.as_raw_fd(), rest.as_ptr().cast(), rest.len()) };
                if n > 0 {
                    written += n as usize;
                }
                if written >= input.len() || (n < 0 && !would_block()) {
                    stdin = None; // EOF for the program (or it closed its end)
                }
            }
        }
        for i in 0..2 {
            let (Some(fd), Some(pi)) = (&pipes[i], pipe_idx[i]) else {
                continue;
            };
            if fds[pi].revents == 0 {
                continue;
            }
            // SAFETY: reading into a live buffer from an fd we own.
            let n = unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
            if n == 0 {
                pipes[i] = None;
            } else if n < 0 {
                let e = std::io::Error::last_os_error().kind();
                if e != std::io::ErrorKind::WouldBlock && e != std::io::ErrorKind::Interrupted {
                    pipes[i] = None;
                }
            } else {
                let n = n as usize;
                let room = cap.saturating_sub(bufs[i].len());
                bufs[i].extend_from_slice(&chunk[..n.min(room)]);
                if n > room {
                    truncated[i] = true;
                    if !killed {
                        output_limit = true;
                        killed = true;
                        child.kill_tree();
                    }
                }
            }
        }
    }
    let wall_time = exited_at.unwrap_or_else(Instant::now).duration_since(start);
    child.kill_tree();
    let (status, usage) = child.reap();
    let cpu_time = timeval(usage.ru_utime) + timeval(usage.ru_stime);
    // The kernel enforces RLIMIT_CPU on its tick-sampled CPU time, which can run ahead of the
    // rusage we read back by well over 100 ms on a loaded machine (889 ms reported for a
    // 1 s limit was seen): allow a quarter of the limit.
    let cpu_limit = Duration::from_secs(limits.cpu_secs.max(1));
    let cpu_limit_exceeded = !killed
        && matches!(status, ExitStatus::Signaled(s) if s == libc::SIGKILL || s == libc::SIGXCPU)
        && cpu_time + cpu_limit / 4 >= cpu_limit;
    RunOutput {
        status,
        timed_out,
        cpu_limit_exceeded,
        output_limit_exceeded: output_limit,
        stdout: std::mem::take(&mut bufs[0]),
        stderr: std::mem::take(&mut bufs[1]),
        stdout_truncated: truncated[0],
        stderr_truncated: truncated[1],
        wall_time,
        cpu_time,
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
    }
}

fn pollfd(fd: libc::c_int, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

fn would_block() -> bool {
    std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// A long-lived helper (an external verifier): the user's own, trusted program. It gets pipes,
/// its own session and process group (killed on drop), and only the restrictions asked for.
#[derive(Debug, Clone, Default)]
pub struct ProcessSpec {
    /// A path, or a name looked up in `PATH` (smelt's, or the default one with `clear_env`).
    pub program: String,
    pub args: Vec<String>,
    /// Added to (or overriding) the environment.
    pub env: Vec<(String, String)>,
    /// Start from the minimal sandbox environment instead of smelt's.
    pub clear_env: bool,
    pub cwd: Option<PathBuf>,
    /// A fresh network namespace (only a down loopback) plus the seccomp socket filter.
    pub no_network: bool,
    /// When smelt runs as root: run as nobody (65534:65534) with no groups.
    pub drop_privileges: bool,
    /// Address-space limit in bytes.
    pub memory_bytes: Option<u64>,
    /// Kill the helper (SIGKILL) when the *thread* that spawned it exits, even if smelt is
    /// killed with SIGKILL. Only for helpers spawned from a thread that lives as long as they
    /// should (e.g. the thread that reads their output).
    pub die_with_spawning_thread: bool,
}

/// A running helper. Dropping it kills its whole process group and reaps it.
pub struct ManagedProcess {
    child: Child,
    status: Option<ExitStatus>,
    pub stdin: Option<std::fs::File>,
    pub stdout: Option<std::fs::File>,
    pub stderr: Option<std::fs::File>,
}

impl std::fmt::Debug for ManagedProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedProcess")
            .field("pid", &self.child.pid)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl ManagedProcess {
    /// The process id (also its process-group id).
    pub fn id(&self) -> u32 {
        self.child.pid as u32
    }

    /// The exit status if the process has ended (reaping it), without blocking.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() && self.child.has_exited() {
            self.child.kill_tree(); // anything it left in its group
            self.status = Some(self.child.reap().0);
        }
        self.status
    }

    /// Waits up to `timeout` for the process to end.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_wait() {
                return Some(s);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills the process group and reaps the process.
    pub fn kill(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        self.child.kill_tree();
        let s = self.child.reap().0;
        self.status = Some(s);
        s
    }
}

/// Starts a long-lived helper process per `spec`.
pub fn spawn_process(spec: &ProcessSpec) -> Result<ManagedProcess, SandboxError> {
    let mut env: Vec<(String, String)> = if spec.clear_env {
        vec![
            ("PATH".into(), DEFAULT_PATH.into()),
            ("LANG".into(), "C.UTF-8".into()),
        ]
    } else {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    };
    for (k, v) in &spec.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or(DEFAULT_PATH, |(_, v)| v.as_str());
    let program = match &spec.cwd {
        // A relative path with a slash is relative to the helper's working directory.
        Some(dir) if spec.program.contains('/') && !spec.program.starts_with('/') => {
            resolve_program(&dir.join(&spec.program).display().to_string(), path_var)?
        }
        _ => resolve_program(&spec.program, path_var)?,
    };
    let root = nix::unistd::geteuid().is_root();
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    let (stdin_r, stdin_w) = spawn::pipe().map_err(|e| io_err("pipe", e))?;
    let (stdout_r, stdout_w) = spawn::pipe().map_err(|e| io_err("pipe", e))?;
    let (stderr_r, stderr_w) = spawn::pipe().map_err(|e| io_err("pipe", e))?;
    let filter = (spec.no_network && seccomp::SUPPORTED).then(seccomp::filter);
    let mut rlimits = vec![(libc::RLIMIT_CORE, 0)];
    if let Some(m) = spec.memory_bytes {
        rlimits.push((libc::RLIMIT_AS, m));
    }
    let plan = Plan {
        path: cstring(program.as_os_str().as_encoded_bytes())?,
        argv: std::iter::once(spec.program.as_str())
            .chain(spec.args.iter().map(String::as_str))
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<_, _>>()?,
        envp: env
            .iter()
            .map(|(k, v)| cstring(format!("{k}={v}").as_bytes()))
            .collect::<Result<_, _>>()?,
        cwd: spec
            .cwd
            .as_ref()
            .map(|d| cstring(d.as_os_str().as_encoded_bytes()))
            .transpose()?,
        stdio: [
            stdin_r.as_raw_fd(),
            stdout_w.as_raw_fd(),
            stderr_w.as_raw_fd(),
        ],
        userns_maps: (spec.no_network && !root).then(|| {
            (
                format!("{uid} {uid} 1\n").into_bytes(),
                format!("{gid} {gid} 1\n").into_bytes(),
            )
        }),
        new_session: true,
        tmpfs: None,
        files: Vec::new(),
        rlimits,
        drop_to: (spec.drop_privileges && root).then_some((65534, 65534)),
        no_new_privs: spec.no_network || spec.drop_privileges,
        landlock: None,
        seccomp: filter.as_deref(),
        // Off by default: it fires when the *thread* that spawned the helper exits, and
        // pipeline worker threads come and go. Drop (and EOF on stdin) end the helper instead.
        pdeathsig: spec.die_with_spawning_thread,
    };
    let mut flags = 0;
    if spec.no_network {
        flags |= libc::CLONE_NEWNET;
        if !root {
            flags |= libc::CLONE_NEWUSER;
        }
    }
    let child = spawn::spawn(&plan, flags)
        .map_err(|e| SandboxError::Spawn(format!("{}: {e}", spec.program)))?;
    drop((stdin_r, stdout_w, stderr_w));
    Ok(ManagedProcess {
        child,
        status: None,
        stdin: Some(std::fs::File::from(stdin_w)),
        stdout: Some(std::fs::File::from(stdout_r)),
        stderr: Some(std::fs::File::from(stderr_r)),
    })
}

/// Writes all of `data` to a pipe, giving up at `deadline` (the reader may be stuck).
/// Sets the file non-blocking.
pub fn write_all_before(
    file: &std::fs::File,
    data: &[u8],
    deadline: Instant,
) -> std::io::Result<()> {
    spawn::set_nonblocking(file)?;
    let mut off = 0;
    while off < data.len() {
        let rest = &data[off..];
        // SAFETY: writing from a live slice to an fd we own.
        let n = unsafe { libc::write(file.as_raw_fd(), rest.as_ptr().cast(), rest.len()) };
        if n > 0 {
            off += n as usize;
            continue;
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            std::io::ErrorKind::WouldBlock => {}
            std::io::ErrorKind::Interrupted => continue,
            _ => return Err(err),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "write deadline passed",
            ));
        }
        let mut fds = [pollfd(file.as_raw_fd(), libc::POLLOUT)];
        let ms = left.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: a valid one-element pollfd array.
        unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    }
    Ok(())
}

/// Reads from a pipe into `buf` until it holds a `\n`, then returns the first line (without
/// it) and keeps the rest in `buf`. Fails at `deadline`, at EOF, or past `max` bytes.
pub fn read_line_before(
    file: &std::fs::File,
    buf: &mut Vec<u8>,
    deadline: Instant,
    max: usize,
) -> std::io::Result<Vec<u8>> {
    spawn::set_nonblocking(file)?;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let rest = buf.split_off(i + 1);
            let mut line = std::mem::replace(buf, rest);
            line.pop();
            return Ok(line);
        }
        if buf.len() > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than {max} bytes"),
            ));
        }
        // SAFETY: reading into a live buffer from an fd we own.
        let n = unsafe { libc::read(file.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
        if n > 0 {
            buf.extend_from_slice(&chunk[..n as usize]);
            continue;
        }
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            std::io::ErrorKind::WouldBlock => {}
            std::io::ErrorKind::Interrupted => continue,
            _ => return Err(err),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let mut fds = [pollfd(file.as_raw_fd(), libc::POLLIN)];
        // SAFETY: a valid one-element pollfd array.
        unsafe {
            libc::poll(
                fds.as_mut_ptr(),
                1,
                left.as_millis().clamp(1, 1000) as libc::c_int,
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_leases_are_unique_and_not_reused_at_once() {
        let (base, count) = (4_000_000_000, 3);
        let a = UidLease::take(base, count).expect("a");
        let b = UidLease::take(base, count).expect("b");
        assert_ne!(a.0, b.0);
        let first = a.0;
        drop(a);
        let c = UidLease::take(base, count).expect("c");
        assert_ne!(c.0, first, "a just-released uid came straight back");
        let d = UidLease::take(base, count).expect("d");
        assert_eq!(d.0, first, "round robin wraps around to the free one");
        assert!(
            UidLease::take(base, count).is_none(),
            "all three are leased"
        );
        drop((b, c, d));
    }
}
