//! Line-oriented pipe I/O with a deadline, for talking to helper processes.

use nix::libc;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

/// Writes all of `data` to a pipe, giving up at `deadline` (the reader may be stuck).
/// Sets the file non-blocking.
pub fn write_all_before(
    file: &std::fs::File,
    data: &[u8],
    deadline: Instant,
) -> std::io::Result<()> {
    set_nonblocking(file)?;
    let mut off = 0;
    while off < data.len() {
        let rest = &data[off..];
        // SAFETY: writing from a live slice to an fd we own.
        let n = unsafe { libc::write(file.as_raw_fd(), rest.as_ptr().cast(), rest.len()) };
        if n > 0 {
            off += n as usize;
            continue;
        }
        wait_ready(file, libc::POLLOUT, deadline, || {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "write deadline passed")
        })?;
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
    set_nonblocking(file)?;
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
        wait_ready(file, libc::POLLIN, deadline, || {
            std::io::ErrorKind::TimedOut.into()
        })?;
    }
}

/// After a `read`/`write` on `file` that moved nothing: returns once `file` may be ready for
/// `events` (or at once when the call was interrupted) so the caller tries again; fails with
/// the call's own error, or with `timed_out()` once `deadline` has passed.
fn wait_ready(
    file: &std::fs::File,
    events: libc::c_short,
    deadline: Instant,
    timed_out: impl FnOnce() -> std::io::Error,
) -> std::io::Result<()> {
    let err = std::io::Error::last_os_error();
    match err.kind() {
        std::io::ErrorKind::WouldBlock => {}
        std::io::ErrorKind::Interrupted => return Ok(()),
        _ => return Err(err),
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(timed_out());
    }
    let mut fds = [pollfd(file.as_raw_fd(), events)];
    let ms = left.as_millis().clamp(1, 1000) as libc::c_int;
    // SAFETY: a valid one-element pollfd array.
    unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    Ok(())
}

pub(super) fn pollfd(fd: libc::c_int, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

pub(super) fn would_block() -> bool {
    std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
}

/// A pipe whose both ends are close-on-exec: `(read, write)`.
pub(super) fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: valid out-array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds are fresh and owned by us.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sets O_NONBLOCK on `fd`.
pub(super) fn set_nonblocking(fd: &impl AsRawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on an fd we own.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
