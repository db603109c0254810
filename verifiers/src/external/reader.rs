//! The threads that read an external verifier's stdout (dispatching responses to the
//! waiting requests) and stderr (forwarded to the log).

use super::protocol::short;
use crate::VerifyError;
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// What the reader thread shares with callers.
pub(super) struct Shared {
    pub(super) inner: Mutex<Inner>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) pending: HashMap<u64, SyncSender<Reply>>,
    /// Set once the process is unusable; later requests fail at once.
    pub(super) dead: Option<VerifyError>,
}

pub(super) enum Reply {
    Line(Value),
    Dead(VerifyError),
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Marks the process dead with `why` and fails every waiting request.
    pub(super) fn die(&self, why: VerifyError) {
        let mut inner = lock(&self.inner);
        if inner.dead.is_none() {
            inner.dead = Some(why.clone());
        }
        for (_, tx) in inner.pending.drain() {
            let _ = tx.try_send(Reply::Dead(why.clone()));
        }
    }
}

pub(super) fn spawn_thread(
    name: &str,
    f: impl FnOnce() + Send + 'static,
) -> Result<(), VerifyError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(|_| ())
        .map_err(|e| VerifyError::Other(format!("cannot start a thread: {e}")))
}

/// Reads one `\n`-terminated line of at most `max` bytes. `Ok(None)` at EOF.
pub(super) fn read_line(r: &mut impl BufRead, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((!line.is_empty()).then_some(line));
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max + 1 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than {max} bytes"),
            ));
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if done {
            line.pop();
            return Ok(Some(line));
        }
    }
}

/// The reader thread: the first line answers the handshake, the rest are dispatched by id.
pub(super) fn read_responses(
    stdout: File,
    shared: Arc<Shared>,
    handshake: SyncSender<Result<Value, VerifyError>>,
    max: usize,
) {
    let mut r = BufReader::with_capacity(64 * 1024, stdout);
    let mut handshake = Some(handshake);
    loop {
        let why = match read_line(&mut r, max) {
            Ok(None) => VerifyError::Crashed("the verifier closed its stdout (exited?)".into()),
            Err(e) => VerifyError::Protocol(format!("reading the verifier's stdout: {e}")),
            Ok(Some(line)) => match serde_json::from_slice::<Value>(&line) {
                Err(_) => VerifyError::Protocol(format!(
                    "not a JSON line on stdout: {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(200)])
                )),
                Ok(v) if !v.is_object() => {
                    VerifyError::Protocol(format!("expected a JSON object, got {}", short(&v)))
                }
                Ok(v) => {
                    if let Some(hs) = handshake.take() {
                        let _ = hs.send(Ok(v));
                        continue;
                    }
                    let Some(id) = v.get("id").and_then(Value::as_u64) else {
                        shared.die(VerifyError::Protocol(format!(
                            "a response without a numeric id: {}",
                            short(&v)
                        )));
                        return;
                    };
                    let tx = lock(&shared.inner).pending.remove(&id);
                    match tx {
                        Some(tx) => {
                            let _ = tx.try_send(Reply::Line(v));
                        }
                        None => tracing::warn!(
                            id,
                            "external verifier answered an unknown or expired request"
                        ),
                    }
                    continue;
                }
            },
        };
        if let Some(hs) = handshake.take() {
            let _ = hs.send(Err(why.clone()));
        }
        shared.die(why);
        return;
    }
}

/// Forwards the process's stderr to `tracing`, line by line.
pub(super) fn forward_stderr(stderr: File, label: &str) {
    let mut r = BufReader::new(stderr);
    loop {
        match read_line(&mut r, 64 * 1024) {
            Ok(Some(line)) => {
                tracing::info!(target: "smelt_verifiers::external", verifier = %label, "{}", String::from_utf8_lossy(&line))
            }
            Ok(None) => return,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                tracing::info!(target: "smelt_verifiers::external", verifier = %label, "(a stderr line over 64 KiB was skipped)");
                // Skip to the next newline.
                let mut sink = Vec::new();
                if r.read_until(b'\n', &mut sink).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
