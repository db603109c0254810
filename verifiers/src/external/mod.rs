//! `external`: a verifier written in any language, run as a long-lived process that speaks
//! JSON lines on stdin/stdout (protocol in `SPEC.md`, "External verifiers").
//!
//! One process serves every worker thread: requests carry ids, a reader thread dispatches the
//! responses, and a semaphore bounds the requests in flight. Each request has a deadline; a
//! process that misses it, exits, or writes anything but protocol lines is killed and restarted
//! on the next request, with exponential backoff, until `max_restarts` consecutive failures,
//! after which every call fails. Nothing that goes wrong here is ever an accept: it is a
//! [`VerifyError`] (`Timeout`, `Crashed`, `Protocol`) or, for a malformed verdict, `Protocol`.

mod conformance;

pub use conformance::{
    check_conformance, default_conformance_cases, ConformanceCase, ConformanceCheck,
    ConformanceReport,
};

use crate::sandbox::{spawn_process, write_all_before, ManagedProcess, ProcessSpec};
use crate::semaphore::Semaphore;
use crate::verifier::is_snake_case;
use crate::{Sample, Verdict, Verifier, VerifyError};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The protocol version smelt speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// Configuration of [`ExternalVerifier`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExternalConfig {
    /// The program and its arguments, e.g. `["python3", "examples/external_verifier.py"]`.
    pub command: Vec<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Start from a minimal environment instead of smelt's.
    pub clear_env: bool,
    /// Working directory of the process.
    pub cwd: Option<PathBuf>,
    /// Deadline per sample, from sending the request to receiving the verdict.
    pub timeout_ms: u64,
    /// Deadline for the process to start and answer the handshake.
    pub startup_timeout_ms: u64,
    /// Requests in flight at once (the handshake may lower it).
    pub max_in_flight: usize,
    /// Consecutive failed starts/crashes/timeouts tolerated before giving up.
    pub max_restarts: u32,
    /// First restart delay; doubles per consecutive failure (capped at 10 s).
    pub restart_backoff_ms: u64,
    /// Longest accepted response line.
    pub max_line_bytes: usize,
    /// Run without network (fresh network namespace + seccomp socket filter).
    pub no_network: bool,
    /// When smelt runs as root, run the process as nobody.
    pub drop_privileges: bool,
    /// Address-space limit of the process, MiB.
    pub memory_mb: Option<u64>,
}

impl ExternalConfig {
    pub const KIND: &'static str = "external";
}

impl Default for ExternalConfig {
    fn default() -> Self {
        ExternalConfig {
            command: Vec::new(),
            env: BTreeMap::new(),
            clear_env: false,
            cwd: None,
            timeout_ms: 30_000,
            startup_timeout_ms: 10_000,
            max_in_flight: 8,
            max_restarts: 3,
            restart_backoff_ms: 100,
            max_line_bytes: 16 << 20,
            no_network: false,
            drop_privileges: false,
            memory_mb: None,
        }
    }
}

/// What the handshake told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub version: String,
}

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

/// What the reader thread shares with callers.
struct Shared {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    pending: HashMap<u64, SyncSender<Reply>>,
    /// Set once the process is unusable; later requests fail at once.
    dead: Option<VerifyError>,
}

enum Reply {
    Line(Value),
    Dead(VerifyError),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Marks the process dead with `why` and fails every waiting request.
    fn die(&self, why: VerifyError) {
        let mut inner = lock(&self.inner);
        if inner.dead.is_none() {
            inner.dead = Some(why.clone());
        }
        for (_, tx) in inner.pending.drain() {
            let _ = tx.try_send(Reply::Dead(why.clone()));
        }
    }
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

fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), VerifyError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(|_| ())
        .map_err(|e| VerifyError::Other(format!("cannot start a thread: {e}")))
}

/// Reads one `\n`-terminated line of at most `max` bytes. `Ok(None)` at EOF.
fn read_line(r: &mut impl BufRead, max: usize) -> std::io::Result<Option<Vec<u8>>> {
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
fn read_responses(
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
fn forward_stderr(stderr: File, label: &str) {
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

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// Checks the handshake answer: `{"protocol": 1, "name": "...", "version": "..."}` plus an
/// optional `"max_in_flight"`.
fn parse_handshake(v: &Value) -> Result<(Identity, Option<usize>), VerifyError> {
    let proto = v.get("protocol").and_then(Value::as_u64);
    if proto != Some(PROTOCOL_VERSION) {
        return Err(VerifyError::Config(format!(
            "handshake: smelt speaks protocol {PROTOCOL_VERSION}, the verifier answered {}",
            short(v)
        )));
    }
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .map(str::to_owned)
    };
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Err(VerifyError::Protocol(format!(
            "handshake needs non-empty \"name\" and \"version\" strings: {}",
            short(v)
        )));
    };
    let wanted = match v.get("max_in_flight") {
        None | Some(Value::Null) => None,
        Some(n) => match n.as_u64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => return Err(VerifyError::Protocol(format!("bad max_in_flight: {n}"))),
        },
    };
    Ok((Identity { name, version }, wanted))
}

/// Turns a response object into a verdict, validating every field.
fn parse_response(v: &Value) -> Result<Verdict, VerifyError> {
    let proto = |m: String| Err(VerifyError::Protocol(m));
    if let Some(e) = v.get("error") {
        let msg = e.as_str().map_or_else(|| e.to_string(), str::to_owned);
        return Err(VerifyError::Other(format!(
            "the verifier could not judge: {msg}"
        )));
    }
    let Some(accepted) = v.get("accepted").and_then(Value::as_bool) else {
        return proto(format!("\"accepted\" must be true or false: {}", short(v)));
    };
    let detail = match v.get("detail") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return proto(format!("\"detail\" must be a string, got {}", short(other))),
    };
    if accepted {
        let score = match v.get("score") {
            None | Some(Value::Null) => 1.0,
            Some(s) => match s.as_f64() {
                Some(x) if x.is_finite() && (0.0..=1.0).contains(&x) => x,
                _ => return proto(format!("\"score\" must be a number in [0, 1], got {s}")),
            },
        };
        Ok(Verdict::Accept {
            score,
            evidence: detail,
        })
    } else {
        let Some(reason) = v.get("reason").and_then(Value::as_str) else {
            return proto(format!(
                "a rejection needs a \"reason\" string: {}",
                short(v)
            ));
        };
        if !is_snake_case(reason) {
            return proto(format!("reason {reason:?} is not snake_case"));
        }
        Ok(Verdict::reject(reason, detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn responses_are_validated() {
        assert_eq!(
            parse_response(&json!({"id": 1, "accepted": true})),
            Ok(Verdict::Accept {
                score: 1.0,
                evidence: String::new()
            })
        );
        assert_eq!(
            parse_response(
                &json!({"id": 1, "accepted": false, "reason": "wrong_answer", "detail": "7 != 8"})
            ),
            Ok(Verdict::reject("wrong_answer", "7 != 8"))
        );
        for bad in [
            json!({"id": 1}),
            json!({"id": 1, "accepted": "yes"}),
            json!({"id": 1, "accepted": true, "score": 1.5}),
            json!({"id": 1, "accepted": true, "score": "1"}),
            json!({"id": 1, "accepted": false}),
            json!({"id": 1, "accepted": false, "reason": "Wrong Answer"}),
            json!({"id": 1, "accepted": true, "detail": 3}),
        ] {
            assert!(
                matches!(parse_response(&bad), Err(VerifyError::Protocol(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_response(&json!({"id": 1, "error": "no reference"})),
            Err(VerifyError::Other(_))
        ));
    }

    #[test]
    fn handshakes_are_validated() {
        let ok = parse_handshake(&json!({"protocol": 1, "name": "n", "version": "2"})).expect("ok");
        assert_eq!(
            ok.0,
            Identity {
                name: "n".into(),
                version: "2".into()
            }
        );
        assert_eq!(ok.1, None);
        assert_eq!(
            parse_handshake(
                &json!({"protocol": 1, "name": "n", "version": "2", "max_in_flight": 3})
            )
            .expect("ok")
            .1,
            Some(3)
        );
        assert!(matches!(
            parse_handshake(&json!({"protocol": 2, "name": "n", "version": "2"})),
            Err(VerifyError::Config(_))
        ));
        assert!(parse_handshake(&json!({"protocol": 1, "name": "", "version": "2"})).is_err());
        assert!(parse_handshake(&json!({"protocol": 1, "name": "n"})).is_err());
        assert!(parse_handshake(
            &json!({"protocol": 1, "name": "n", "version": "1", "max_in_flight": 0})
        )
        .is_err());
    }

    #[test]
    fn lines_are_bounded() {
        let mut r = std::io::Cursor::new(b"abc\n\nlong-line-here\nend".to_vec());
        assert_eq!(read_line(&mut r, 8).expect("ok"), Some(b"abc".to_vec()));
        assert_eq!(read_line(&mut r, 8).expect("ok"), Some(Vec::new()));
        assert!(read_line(&mut r, 8).is_err());
        let mut r = std::io::Cursor::new(b"end".to_vec());
        assert_eq!(read_line(&mut r, 8).expect("ok"), Some(b"end".to_vec()));
        assert_eq!(read_line(&mut r, 8).expect("ok"), None);
    }
}
