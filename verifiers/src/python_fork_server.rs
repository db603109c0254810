//! The fork server of `python_tests`: warm Python interpreters that fork one child per check.
//!
//! Starting Python costs 10–20 ms of CPU; forking a warm one costs well under 1 ms. Each server
//! (`python_zygote.py`) runs in its own full sandbox from [`SandboxPool::spawn_server`] (it is
//! PID 1 of its namespaces, with a leased uid, Landlock, seccomp and rlimits) and never runs
//! solution code itself. Per check it forks a child that starts a new session, lowers its
//! rlimits to the check's, enters a nested Landlock domain (write only its scratch directory,
//! no signals or abstract sockets outward), closes every fd but its own stdio, and runs the
//! harness. Afterwards the server SIGKILLs every other process of its namespace (`kill(-1)`
//! from PID 1), reaps them and deletes the scratch directory, so no process or file of one
//! check outlives it. Servers handle one check at a time and are replaced after `max_jobs`
//! checks or any anomaly.

use crate::sandbox::{
    read_line_before, resolve_program, write_all_before, ExitStatus, Limits, RunOutput, RunSpec,
    SandboxPool, SandboxedServer, DEFAULT_PATH,
};
use crate::semaphore::Semaphore;
use crate::VerifyError;
use serde_json::{json, Value};
use std::fs::File;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const ZYGOTE: &str = include_str!("python_zygote.py");
const HARNESS: &str = include_str!("python_harness.py");

/// Why a job did not run on a fork server.
pub(crate) enum ForkError {
    /// No server could be started: fall back to one process per check.
    Unavailable(VerifyError),
    /// This job failed on the server (never an accept).
    Job(VerifyError),
}

/// Warm interpreters, at most one per `max_parallel` slot of the pool.
pub(crate) struct ForkServers {
    pool: Arc<SandboxPool>,
    python: String,
    python_args: Vec<String>,
    max_jobs: u32,
    idle: Mutex<Vec<Zygote>>,
    sem: Semaphore,
}

struct Zygote {
    server: SandboxedServer,
    stdin: File,
    stdout: File,
    buf: Vec<u8>,
    jobs: u32,
}

impl ForkServers {
    /// Pure: servers start on first use.
    pub(crate) fn new(
        pool: Arc<SandboxPool>,
        python: String,
        python_args: Vec<String>,
        max_jobs: u32,
    ) -> Self {
        let parallel = pool.max_parallel();
        ForkServers {
            pool,
            python,
            python_args,
            max_jobs: max_jobs.max(1),
            idle: Mutex::new(Vec::new()),
            sem: Semaphore::new(parallel),
        }
    }

    /// Runs one harness job (a JSON object as `python_harness.py` expects it) with `stdin`.
    pub(crate) fn run(
        &self,
        job: &Value,
        stdin: &str,
        limits: &Limits,
    ) -> Result<RunOutput, ForkError> {
        let _permit = self.sem.acquire();
        let mut request = job.clone();
        request["stdin"] = json!(stdin);
        request["limits"] = json!({
            "timeout_ms": limits.timeout.as_millis() as u64,
            "cpu_secs": limits.cpu_secs.max(1),
            "memory_bytes": limits.memory_bytes,
            "max_processes": limits.max_processes,
            "max_file_bytes": limits.max_file_bytes,
            "max_open_files": limits.max_open_files,
            "max_output_bytes": limits.max_output_bytes,
        });
        let mut line = request.to_string().into_bytes();
        line.push(b'\n');
        // A server taken from the idle list may have died meanwhile; then the job never ran
        // and one fresh server gets it.
        let mut zygote = match self.take_idle() {
            Some(z) => z,
            None => self.start(limits).map_err(ForkError::Unavailable)?,
        };
        let send_deadline = Instant::now() + Duration::from_secs(10);
        if write_all_before(&zygote.stdin, &line, send_deadline).is_err() {
            drop(zygote);
            zygote = self.start(limits).map_err(ForkError::Unavailable)?;
            write_all_before(&zygote.stdin, &line, send_deadline).map_err(|e| {
                ForkError::Job(VerifyError::Crashed(format!(
                    "python fork server refused a job: {e}"
                )))
            })?;
        }
        // The server enforces the job's deadline; this one only catches a stuck server.
        let deadline = Instant::now() + limits.timeout + Duration::from_secs(5);
        // Two capped streams as JSON latin-1 strings: up to 6 bytes (\u00XX) per byte.
        let max = 12 * limits.max_output_bytes + (1 << 20);
        let reply = read_line_before(&zygote.stdout, &mut zygote.buf, deadline, max);
        let reply = match reply {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(ForkError::Job(VerifyError::Timeout(
                    limits.timeout + Duration::from_secs(5),
                )))
            }
            Err(e) => {
                let status = zygote
                    .server
                    .process
                    .wait_timeout(Duration::from_millis(200));
                return Err(ForkError::Job(VerifyError::Crashed(format!(
                    "python fork server: {e} ({status:?})"
                ))));
            }
        };
        let out = parse_reply(&reply).map_err(ForkError::Job)?;
        zygote.jobs += 1;
        if zygote.jobs < self.max_jobs {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(zygote);
        }
        Ok(out)
    }

    fn take_idle(&self) -> Option<Zygote> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn start(&self, limits: &Limits) -> Result<Zygote, VerifyError> {
        let program = resolve_program(&self.python, DEFAULT_PATH)?;
        let config = json!({"read_paths": self.pool.read_paths_for(&program)});
        let mut args = vec!["-I".to_owned()];
        args.extend(self.python_args.iter().cloned());
        args.push("zygote.py".into());
        let spec = RunSpec {
            program: self.python.clone(),
            args,
            env: Vec::new(),
            stdin: Vec::new(),
            files: vec![
                ("zygote.py".into(), ZYGOTE.as_bytes().to_vec()),
                ("harness.py".into(), HARNESS.as_bytes().to_vec()),
                ("zygote.json".into(), config.to_string().into_bytes()),
            ],
            // Upper bounds for the children, which lower them per check; the server itself
            // uses little CPU per check but lives long.
            limits: Limits {
                timeout: Duration::MAX,
                cpu_secs: 1_000_000,
                memory_bytes: limits.memory_bytes.max(256 << 20),
                max_processes: limits.max_processes + 4,
                max_file_bytes: limits.max_file_bytes,
                max_open_files: limits.max_open_files.max(64),
                max_output_bytes: limits.max_output_bytes,
            },
        };
        let mut server = self.pool.spawn_server(&spec)?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (
            server.process.stdin.take(),
            server.process.stdout.take(),
            server.process.stderr.take(),
        ) else {
            return Err(VerifyError::Other("fork server without pipes".into()));
        };
        std::thread::Builder::new()
            .name("smelt-zygote-stderr".into())
            .spawn(move || log_lines(stderr))
            .map_err(|e| VerifyError::Other(format!("cannot start a thread: {e}")))?;
        let mut zygote = Zygote {
            server,
            stdin,
            stdout,
            buf: Vec::new(),
            jobs: 0,
        };
        let ready = read_line_before(
            &zygote.stdout,
            &mut zygote.buf,
            Instant::now() + Duration::from_secs(20),
            1 << 16,
        )
        .map_err(|e| {
            let status = zygote
                .server
                .process
                .wait_timeout(Duration::from_millis(200));
            VerifyError::Other(format!(
                "the python fork server did not start: {e} ({status:?})"
            ))
        })?;
        let hello: Value = serde_json::from_slice(&ready).unwrap_or(Value::Null);
        if hello.get("ready") != Some(&Value::Bool(true)) {
            return Err(VerifyError::Other(format!(
                "the python fork server said {:?}",
                String::from_utf8_lossy(&ready)
            )));
        }
        Ok(zygote)
    }
}

/// The server's own stderr (its tracebacks, if it ever fails) goes to the log.
fn log_lines(stderr: File) {
    use std::io::BufRead;
    for line in std::io::BufReader::new(stderr).lines() {
        match line {
            Ok(l) => tracing::warn!(target: "smelt_verifiers::python_tests", "fork server: {l}"),
            Err(_) => return,
        }
    }
}

/// A reply line → the same [`RunOutput`] a one-shot sandbox run gives.
fn parse_reply(line: &[u8]) -> Result<RunOutput, VerifyError> {
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| VerifyError::Protocol(format!("python fork server sent a bad reply: {e}")))?;
    if let Some(e) = v.get("error") {
        return Err(VerifyError::Other(format!("python fork server: {e}")));
    }
    let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let ms = |k: &str| Duration::from_millis(v.get(k).and_then(Value::as_u64).unwrap_or(0));
    let status = match (v["exited"].as_i64(), v["signal"].as_i64()) {
        (Some(code), _) => ExitStatus::Exited(code as i32),
        (None, Some(sig)) => ExitStatus::Signaled(sig as i32),
        _ => return Err(VerifyError::Protocol("reply without an exit status".into())),
    };
    Ok(RunOutput {
        status,
        timed_out: flag("timed_out"),
        cpu_limit_exceeded: flag("cpu_limit"),
        output_limit_exceeded: flag("output_limit"),
        stdout: latin1(&v["stdout"])?,
        stderr: latin1(&v["stderr"])?,
        stdout_truncated: flag("stdout_truncated"),
        stderr_truncated: flag("stderr_truncated"),
        wall_time: ms("wall_ms"),
        cpu_time: ms("cpu_ms"),
        max_rss_kib: 0,
    })
}

/// Bytes the server sent as a latin-1 string (one char per byte).
fn latin1(v: &Value) -> Result<Vec<u8>, VerifyError> {
    let s = v
        .as_str()
        .ok_or_else(|| VerifyError::Protocol("reply output is not a string".into()))?;
    s.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .map_err(|_| VerifyError::Protocol("reply output is not latin-1".into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_into_run_outputs() {
        let out = parse_reply(br#"{"exited": 0, "signal": null, "timed_out": false, "stdout": "a\u00ff", "stderr": "", "wall_ms": 5, "cpu_ms": 2}"#)
            .expect("ok");
        assert_eq!(out.status, ExitStatus::Exited(0));
        assert_eq!(out.stdout, vec![b'a', 0xff]);
        assert_eq!(out.wall_time, Duration::from_millis(5));
        let out = parse_reply(
            br#"{"exited": null, "signal": 9, "timed_out": true, "stdout": "", "stderr": ""}"#,
        )
        .expect("ok");
        assert_eq!(out.status, ExitStatus::Signaled(9));
        assert!(out.timed_out);
        assert!(matches!(
            parse_reply(b"garbage"),
            Err(VerifyError::Protocol(_))
        ));
        assert!(matches!(
            parse_reply(br#"{"error": "boom"}"#),
            Err(VerifyError::Other(_))
        ));
        assert!(matches!(
            parse_reply(br#"{"exited": 0, "stdout": "\u0100", "stderr": ""}"#),
            Err(VerifyError::Protocol(_))
        ));
    }
}
