//! `external`: a verifier written in any language, run as a long-lived process that speaks
//! JSON lines on stdin/stdout (protocol in `SPEC.md`, "External verifiers").
//!
//! One process serves every worker thread: requests carry ids, a reader thread dispatches the
//! responses, and a semaphore bounds the requests in flight. Each request has a deadline; a
//! process that misses it, exits, or writes anything but protocol lines is killed and restarted
//! on the next request, with exponential backoff, until `max_restarts` consecutive failures,
//! after which every call fails. Nothing that goes wrong here is ever an accept: it is a
//! [`VerifyError`] (`Timeout`, `Crashed`, `Protocol`) or, for a malformed verdict, `Protocol`.

mod config;
mod conformance;
mod protocol;
mod reader;

pub use config::{ExternalConfig, Identity};
pub use conformance::{
    check_conformance, default_conformance_cases, ConformanceCase, ConformanceCheck,
    ConformanceReport,
};

use protocol::{parse_handshake, parse_response};
use reader::{forward_stderr, lock, read_responses, spawn_thread, Inner, Reply, Shared};

use crate::sandbox::{spawn_process, write_all_before, ManagedProcess, ProcessSpec};
use crate::semaphore::Semaphore;
use crate::{Sample, Verdict, Verifier, VerifyError};
use serde_json::Value;
use std::fs::File;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The protocol version smelt speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// See the module docs.
pub struct ExternalVerifier {
    cfg: ExternalConfig,
    identity: OnceLock<Identity>,
    state: Mutex<State>,
    in_flight: OnceLock<Semaphore>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct State {
    conn: Option<Arc<Conn>>,
    failures: u32,
    last_failure: String,
}

/// One running process.
struct Conn {
    process: Mutex<ManagedProcess>,
    stdin: Mutex<Option<File>>,
    shared: Arc<Shared>,
}

impl ExternalVerifier {
    /// Validates `cfg`; the process starts on first use or with [`start`](Self::start).
    pub fn new(cfg: ExternalConfig) -> Result<Self, VerifyError> {
        let bad = |m: &str| Err(VerifyError::Config(format!("external: {m}")));
        if cfg.command.first().is_none_or(|p| p.trim().is_empty()) {
            return bad("command must name a program");
        }
        if cfg.timeout_ms == 0 || cfg.startup_timeout_ms == 0 {
            return bad("timeout_ms and startup_timeout_ms must be > 0");
        }
        if cfg.max_in_flight == 0 {
            return bad("max_in_flight must be > 0");
        }
        if cfg.max_line_bytes < 1024 {
            return bad("max_line_bytes must be at least 1024");
        }
        Ok(ExternalVerifier {
            cfg,
            identity: OnceLock::new(),
            state: Mutex::new(State::default()),
            in_flight: OnceLock::new(),
            next_id: AtomicU64::new(1),
        })
    }

    /// Starts the process and runs the handshake now (otherwise the first `verify` does).
    pub fn start(&self) -> Result<Identity, VerifyError> {
        self.connection()?;
        self.identity
            .get()
            .cloned()
            .ok_or_else(|| VerifyError::Other("no identity after handshake".into()))
    }

    /// The identity from the handshake, once there was one.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.get()
    }

    /// The current connection, starting (or restarting, with backoff) the process if needed.
    fn connection(&self) -> Result<Arc<Conn>, VerifyError> {
        let mut st = lock(&self.state);
        if let Some(c) = &st.conn {
            if lock(&c.shared.inner).dead.is_none() {
                return Ok(c.clone());
            }
            st.conn = None; // dropping the last Arc kills the process
        }
        if st.failures > self.cfg.max_restarts {
            return Err(VerifyError::Crashed(format!(
                "gave up after {} consecutive failures; last: {}",
                st.failures, st.last_failure
            )));
        }
        if st.failures > 0 {
            let factor = 1u64 << (st.failures - 1).min(16);
            let delay = self
                .cfg
                .restart_backoff_ms
                .saturating_mul(factor)
                .min(10_000);
            std::thread::sleep(Duration::from_millis(delay));
        }
        match self.launch() {
            Ok(c) => {
                let c = Arc::new(c);
                st.conn = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                st.failures += 1;
                st.last_failure = e.to_string();
                Err(e)
            }
        }
    }

    /// Records a failure of `conn` (killing it) so the next call restarts.
    fn fail(&self, conn: &Arc<Conn>, why: &VerifyError) {
        conn.shared.die(why.clone());
        let mut st = lock(&self.state);
        if st.conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            st.conn = None;
            st.failures += 1;
            st.last_failure = why.to_string();
        }
        drop(st);
        lock(&conn.process).kill();
    }

    fn launch(&self) -> Result<Conn, VerifyError> {
        let cmd = &self.cfg.command;
        let spec = ProcessSpec {
            program: cmd[0].clone(),
            args: cmd[1..].to_vec(),
            env: self
                .cfg
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            clear_env: self.cfg.clear_env,
            cwd: self.cfg.cwd.clone(),
            no_network: self.cfg.no_network,
            drop_privileges: self.cfg.drop_privileges,
            memory_bytes: self.cfg.memory_mb.map(|m| m << 20),
            die_with_spawning_thread: false,
        };
        let mut process = spawn_process(&spec).map_err(|e| VerifyError::Crashed(e.to_string()))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (
            process.stdin.take(),
            process.stdout.take(),
            process.stderr.take(),
        ) else {
            return Err(VerifyError::Other("process without pipes".into()));
        };
        let label = cmd.join(" ");
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
        });
        let (hs_tx, hs_rx) = sync_channel::<Result<Value, VerifyError>>(1);
        spawn_thread("smelt-ext-stderr", {
            let label = label.clone();
            move || forward_stderr(stderr, &label)
        })?;
        spawn_thread("smelt-ext-reader", {
            let shared = shared.clone();
            let max = self.cfg.max_line_bytes;
            move || read_responses(stdout, shared, hs_tx, max)
        })?;
        let conn = Conn {
            process: Mutex::new(process),
            stdin: Mutex::new(Some(stdin)),
            shared,
        };
        let deadline = Instant::now() + Duration::from_millis(self.cfg.startup_timeout_ms);
        let hello = format!("{{\"smelt_protocol\":{PROTOCOL_VERSION}}}\n");
        if let Err(e) = self.send(&conn, hello.as_bytes(), deadline) {
            return Err(self.exit_detail(&conn, e));
        }
        let answer = match hs_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(self.exit_detail(&conn, e)),
            Err(_) => {
                lock(&conn.process).kill();
                return Err(VerifyError::Timeout(Duration::from_millis(
                    self.cfg.startup_timeout_ms,
                )));
            }
        };
        let (identity, wanted) = parse_handshake(&answer)?;
        match self.identity.get() {
            None => {
                let _ = self.identity.set(identity.clone());
                tracing::info!(verifier = %identity.name, version = %identity.version, command = %label, "external verifier started");
            }
            Some(known) if *known != identity => {
                return Err(VerifyError::Config(format!(
                    "the restarted verifier calls itself {}/{}, not {}/{}",
                    identity.name, identity.version, known.name, known.version
                )));
            }
            Some(_) => tracing::info!(verifier = %identity.name, "external verifier restarted"),
        }
        let bound = wanted.map_or(self.cfg.max_in_flight, |w| {
            w.clamp(1, self.cfg.max_in_flight)
        });
        self.in_flight.get_or_init(|| Semaphore::new(bound));
        Ok(conn)
    }

    /// Adds the exit status (if the process already ended) to a failure.
    fn exit_detail(&self, conn: &Conn, e: VerifyError) -> VerifyError {
        let mut p = lock(&conn.process);
        let status = p.wait_timeout(Duration::from_millis(200));
        p.kill();
        match (e, status) {
            (VerifyError::Crashed(m), Some(s)) => VerifyError::Crashed(format!("{m} ({s:?})")),
            (e, _) => e,
        }
    }

    fn send(&self, conn: &Conn, line: &[u8], deadline: Instant) -> Result<(), VerifyError> {
        let stdin = lock(&conn.stdin);
        let Some(f) = stdin.as_ref() else {
            return Err(VerifyError::Crashed("stdin closed".into()));
        };
        write_all_before(f, line, deadline).map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => {
                VerifyError::Timeout(Duration::from_millis(self.cfg.timeout_ms))
            }
            _ => VerifyError::Crashed(format!("writing to the verifier failed: {e}")),
        })
    }

    /// Closes the process's stdin and waits up to `grace` for it to exit (for conformance
    /// checks and orderly shutdown). Returns whether it exited.
    pub fn shutdown(&self, grace: Duration) -> bool {
        let conn = lock(&self.state).conn.take();
        let Some(conn) = conn else { return true };
        lock(&conn.stdin).take();
        let exited = lock(&conn.process).wait_timeout(grace).is_some();
        conn.shared.die(VerifyError::Crashed("shut down".into()));
        lock(&conn.process).kill();
        exited
    }

    fn request(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        let conn = self.connection()?;
        let timeout = Duration::from_millis(self.cfg.timeout_ms);
        let deadline = Instant::now() + timeout;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = sync_channel(1);
        {
            let mut inner = lock(&conn.shared.inner);
            if let Some(e) = &inner.dead {
                return Err(e.clone());
            }
            inner.pending.insert(id, tx);
        }
        let mut line = serde_json::to_vec(&serde_json::json!({"id": id, "sample": sample}))
            .map_err(|e| VerifyError::Other(format!("cannot encode the sample: {e}")))?;
        line.push(b'\n');
        if let Err(e) = self.send(&conn, &line, deadline) {
            lock(&conn.shared.inner).pending.remove(&id);
            self.fail(&conn, &e);
            return Err(e);
        }
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Reply::Line(v)) => {
                let verdict = parse_response(&v);
                if verdict.is_ok() {
                    lock(&self.state).failures = 0;
                }
                verdict
            }
            Ok(Reply::Dead(e)) => {
                let e = self.exit_detail(&conn, e);
                self.fail(&conn, &e);
                Err(e)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                lock(&conn.shared.inner).pending.remove(&id);
                let e = VerifyError::Timeout(timeout);
                // A verifier that misses a deadline is presumed stuck: restart it.
                self.fail(
                    &conn,
                    &VerifyError::Crashed(format!("killed: request {id} timed out")),
                );
                Err(e)
            }
        }
    }
}

impl Verifier for ExternalVerifier {
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        if self.in_flight.get().is_none() {
            self.connection()?; // the handshake sets the in-flight bound
        }
        let sem = self
            .in_flight
            .get()
            .ok_or_else(|| VerifyError::Other("no in-flight bound".into()))?;
        let _permit = sem.acquire();
        self.request(sample)
    }

    fn name(&self) -> &str {
        self.identity
            .get()
            .map_or(ExternalConfig::KIND, |i| i.name.as_str())
    }

    fn version(&self) -> &str {
        self.identity
            .get()
            .map_or("unknown", |i| i.version.as_str())
    }
}

#[cfg(test)]
mod tests;
