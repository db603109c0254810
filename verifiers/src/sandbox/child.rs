//! A spawned child process: kill its tree, poll for its exit, reap it.

use nix::libc::{self, c_int};
use std::os::fd::OwnedFd;

/// A spawned child that has not been reaped yet. Dropping it kills its process group and
/// reaps it.
pub(super) struct Child {
    pub pid: libc::pid_t,
    pub pidfd: Option<OwnedFd>,
    reaped: bool,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

impl Child {
    /// A child just started with `pid`, not reaped yet.
    pub(super) fn new(pid: libc::pid_t) -> Child {
        Child {
            pid,
            pidfd: None,
            reaped: false,
        }
    }

    /// SIGKILL to the child's process group and to the child itself (the init of its PID
    /// namespace, when it has one: the kernel then kills the whole namespace).
    pub(super) fn kill_tree(&self) {
        if !self.reaped {
            // SAFETY: plain kill(2); the pid is our unreaped child, so it cannot be recycled.
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
                libc::kill(self.pid, libc::SIGKILL);
            }
        }
    }

    /// True once the child has exited (it is not reaped, so its pid stays reserved).
    pub(super) fn has_exited(&self) -> bool {
        if self.reaped {
            return true;
        }
        // SAFETY: zeroed siginfo is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: si_pid is valid to read for a waitid result.
        r == 0 && unsafe { info.si_pid() } == self.pid
    }

    /// Waits for the child and reaps it; returns how it ended and its resource usage.
    pub(super) fn reap(&mut self) -> (ExitStatus, libc::rusage) {
        // SAFETY: zeroed rusage is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let mut status: c_int = 0;
        if self.reaped {
            return (ExitStatus::Exited(0), usage);
        }
        loop {
            // SAFETY: valid out-pointers; pid is our child.
            let r = unsafe { libc::wait4(self.pid, &mut status, 0, &mut usage) };
            if r == self.pid {
                break;
            }
            if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            // ECHILD: someone else reaped it (SIGCHLD ignored); nothing more to learn.
            self.reaped = true;
            return (ExitStatus::Signaled(libc::SIGKILL), usage);
        }
        self.reaped = true;
        let st = if libc::WIFSIGNALED(status) {
            ExitStatus::Signaled(libc::WTERMSIG(status))
        } else {
            ExitStatus::Exited(libc::WEXITSTATUS(status))
        };
        (st, usage)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill_tree();
            self.reap();
        }
    }
}
