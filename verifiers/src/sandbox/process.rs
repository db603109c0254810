//! Long-lived trusted helpers (external verifiers): pipes, own process group, kill on drop.

use super::child::Child;
use super::config::DEFAULT_PATH;
use super::pipe_io::pipe;
use super::spawn::{self, Plan};
use super::{
    argv, cstring, envp, io_err, override_env, path_var, resolve_program, seccomp, ExitStatus,
    SandboxError,
};
use nix::libc;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    /// A started `child` with our ends of its stdin, stdout and stderr pipes.
    pub(super) fn new(child: Child, [stdin, stdout, stderr]: [OwnedFd; 3]) -> ManagedProcess {
        ManagedProcess {
            child,
            status: None,
            stdin: Some(std::fs::File::from(stdin)),
            stdout: Some(std::fs::File::from(stdout)),
            stderr: Some(std::fs::File::from(stderr)),
        }
    }

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
    override_env(&mut env, &spec.env);
    let path_var = path_var(&env);
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
    let (stdin_r, stdin_w) = pipe().map_err(|e| io_err("pipe", e))?;
    let (stdout_r, stdout_w) = pipe().map_err(|e| io_err("pipe", e))?;
    let (stderr_r, stderr_w) = pipe().map_err(|e| io_err("pipe", e))?;
    let filter = (spec.no_network && seccomp::SUPPORTED).then(seccomp::filter);
    let mut rlimits = vec![(libc::RLIMIT_CORE, 0)];
    if let Some(m) = spec.memory_bytes {
        rlimits.push((libc::RLIMIT_AS, m));
    }
    let plan = Plan {
        path: cstring(program.as_os_str().as_encoded_bytes())?,
        argv: argv(&spec.program, &spec.args)?,
        envp: envp(&env)?,
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
    Ok(ManagedProcess::new(child, [stdin_w, stdout_r, stderr_r]))
}
