//! Supervision of one sandboxed run: stdin fed, output capped, deadline enforced, tree reaped.

use super::child::Child;
use super::config::{Limits, RunOutput};
use super::pipe_io::{pollfd, set_nonblocking, would_block};
use super::ExitStatus;
use nix::libc;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Feeds stdin, collects capped output, enforces the deadline, then kills and reaps.
pub(super) fn supervise(
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
        let _ = set_nonblocking(fd);
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

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}
