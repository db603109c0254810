//! [`SandboxPool`]: runs untrusted programs with every isolation layer, a few at a time.

use super::child::Child;
use super::config::{Layers, RunOutput, RunSpec, SandboxConfig, DEFAULT_PATH};
use super::pipe_io::pipe;
use super::process::ManagedProcess;
use super::spawn::{self, Plan, SpawnError};
use super::supervise::supervise;
use super::uid::{check_uid_range_unused, chown, UidLease};
use super::{
    argv, cstring, envp, io_err, landlock, override_env, path_var, resolve_program, seccomp,
    SandboxError,
};
use crate::semaphore::Semaphore;
use nix::libc;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;

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
                Ok((child, pipes)) => {
                    return Ok(SandboxedServer {
                        process: ManagedProcess::new(child, pipes),
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
        override_env(&mut env, &spec.env);
        let path_var = path_var(&env);
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
        let (stdin_r, stdin_w) = pipe().map_err(|e| io_err("pipe", e))?;
        let (stdout_r, stdout_w) = pipe().map_err(|e| io_err("pipe", e))?;
        let (stderr_r, stderr_w) = pipe().map_err(|e| io_err("pipe", e))?;
        let l = &spec.limits;
        let owner = uid.unwrap_or_else(|| nix::unistd::geteuid().as_raw());
        let group = uid.unwrap_or_else(|| nix::unistd::getegid().as_raw());
        let plan = Plan {
            path: cstring(program.as_os_str().as_encoded_bytes())?,
            argv: argv(&spec.program, &spec.args)?,
            envp: envp(&env)?,
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
