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

mod child;
mod config;
mod landlock;
mod pipe_io;
mod pool;
mod process;
mod seccomp;
mod spawn;
mod supervise;
mod uid;

pub use child::ExitStatus;
pub use config::{Layers, Limits, RunOutput, RunSpec, SandboxConfig, DEFAULT_PATH};
pub use pipe_io::{read_line_before, write_all_before};
pub use pool::{SandboxPool, SandboxedServer};
pub use process::{spawn_process, ManagedProcess, ProcessSpec};

use crate::VerifyError;
use std::ffi::CString;
use std::path::{Path, PathBuf};

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

pub(super) fn io_err(what: &str, e: std::io::Error) -> SandboxError {
    SandboxError::Io(format!("{what}: {e}"))
}

/// Sets each of `overrides` in `env`, replacing an earlier value of the same name.
pub(super) fn override_env(env: &mut Vec<(String, String)>, overrides: &[(String, String)]) {
    for (k, v) in overrides {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
}

/// The `PATH` of `env`, or [`DEFAULT_PATH`].
pub(super) fn path_var(env: &[(String, String)]) -> &str {
    env.iter()
        .find(|(k, _)| k == "PATH")
        .map_or(DEFAULT_PATH, |(_, v)| v.as_str())
}

/// The `argv` of an `execve`: the program as given, then its arguments.
pub(super) fn argv(program: &str, args: &[String]) -> Result<Vec<CString>, SandboxError> {
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(|a| cstring(a.as_bytes()))
        .collect()
}

/// The `envp` of an `execve`: `KEY=value` strings.
pub(super) fn envp(env: &[(String, String)]) -> Result<Vec<CString>, SandboxError> {
    env.iter()
        .map(|(k, v)| cstring(format!("{k}={v}").as_bytes()))
        .collect()
}

pub(super) fn cstring(b: &[u8]) -> Result<CString, SandboxError> {
    CString::new(b).map_err(|_| SandboxError::Config("argument or path contains a NUL byte".into()))
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

#[cfg(test)]
mod tests;
