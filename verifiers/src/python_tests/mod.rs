//! `python_tests`: runs the completion's Python code against the sample's tests in the sandbox.
//!
//! The code is the completion's last fenced block tagged with one of `language_tags` (or the
//! last untagged block, when allowed); see [`crate::code_block`]. A small harness
//! (`python_harness.py`, run with `python3 -I`) loads the solution, then runs the tests:
//!
//! * [`TestSpec::Check`]: HumanEval style, `check(<entry_point>)`; one test.
//! * [`TestSpec::Asserts`]: each assert separately, each reported.
//! * [`TestSpec::Io`]: the solution as a script, once per case in its own process, stdin fed,
//!   stdout compared line by line with trailing whitespace and trailing blank lines ignored.
//!
//! Results travel on stderr behind a per-run random nonce the solution never sees on disk, and
//! only a complete `done` report with every test passed and exit status 0 is an accept.
//! Tests run in a copy of the solution's namespace and the builtins are restored after the
//! solution loads and after each test. A solution function named like a builtin (MBPP's own
//! `sum(a, b)`) shadows it, as in plain Python, in each assert where it is the only solution
//! name used (`assert sum(1, 2) == 3`); elsewhere the tests keep the real builtin, so a
//! solution cannot redefine `len`, `abs` or `isinstance` under an assert that checks another of
//! its functions (`assert len(f(x)) == 3`). Check-style tests get the entry point as their
//! `candidate` and no shadowing names. By default solution functions may only return plain
//! values: builtin ones, the stdlib value types `Counter`, `OrderedDict`, `defaultdict`,
//! `deque`, `Fraction`, `Decimal`, `date`/`datetime`/`time`/`timedelta`/`timezone` (exactly
//! those classes, unmodified since before the solution ran) and namedtuples (that define no
//! comparison of their own), each with plain contents; so an object that compares equal to
//! everything cannot pass a test. In-process checks remain best effort against code that
//! deliberately inspects the interpreter; the sandbox contains it either way.
//!
//! Reject reasons: `no_code`, `syntax_error`, `tests_failed`, `timeout`, `memory_limit`,
//! `resource_limit`, `output_limit`, `bad_return_type`, `missing_ground_truth`.

use crate::code_block::{extract_code, Extracted};
use crate::python_fork_server::{ForkError, ForkServers};
use crate::sandbox::{Limits, RunOutput, RunSpec, SandboxConfig, SandboxPool};
use crate::{Sample, TestSpec, Verdict, Verifier, VerifyError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod literal;
mod report;
#[cfg(test)]
mod tests;

use literal::{head, nonce, py_literal, tail};
use report::{judge, normalize, Report};

const HARNESS: &str = include_str!("../python_harness.py");

/// Configuration of [`PythonTestsVerifier`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PythonTestsConfig {
    /// The interpreter: a path, or a name looked up in the sandbox `PATH`
    /// (`/usr/local/bin:/usr/bin:/bin`, not the caller's).
    pub python: String,
    /// Interpreter flags after `-I` (always passed). `-S` skips `site` (about a third of the
    /// start-up cost) at the price of not seeing site-packages.
    pub python_args: Vec<String>,
    /// Wall-clock limit per process (a Check/Asserts sample is one process, Io one per case).
    pub timeout_ms: u64,
    /// CPU seconds per process.
    pub cpu_secs: u64,
    /// Address-space limit per process, MiB.
    pub memory_mb: u64,
    /// Process/thread limit.
    pub max_processes: u64,
    /// Cap on stdout and on stderr, bytes.
    pub max_output_bytes: usize,
    /// Accepted fence tags (case-insensitive).
    pub language_tags: Vec<String>,
    /// Fall back to the last untagged fenced block.
    pub allow_untagged: bool,
    /// Only plain builtin values may come back from solution functions.
    pub check_return_types: bool,
    /// Io: stop at the first failing case.
    pub fail_fast: bool,
    /// Fork each check from a warm, sandboxed interpreter instead of starting Python per check
    /// (several times the throughput; see `python_fork_server`). Falls back to one process per
    /// check when the server cannot start.
    pub fork_server: bool,
    /// Checks one fork server handles before it is replaced.
    pub fork_server_max_jobs: u32,
    /// Isolation settings of the sandbox pool.
    pub sandbox: SandboxConfig,
}

impl PythonTestsConfig {
    pub const KIND: &'static str = "python_tests";
}

impl Default for PythonTestsConfig {
    fn default() -> Self {
        PythonTestsConfig {
            python: "python3".into(),
            python_args: vec!["-S".into()],
            timeout_ms: 10_000,
            cpu_secs: 10,
            memory_mb: 1024,
            max_processes: 16,
            max_output_bytes: 1 << 20,
            language_tags: vec!["python".into(), "py".into(), "python3".into()],
            allow_untagged: true,
            check_return_types: true,
            fail_fast: true,
            fork_server: true,
            fork_server_max_jobs: 1000,
            sandbox: SandboxConfig::default(),
        }
    }
}

/// Runs Python tests against code completions. See the module docs.
pub struct PythonTestsVerifier {
    cfg: PythonTestsConfig,
    pool: Arc<SandboxPool>,
    servers: Option<ForkServers>,
    servers_broken: AtomicBool,
}

impl PythonTestsVerifier {
    /// Validates `cfg`; starts nothing.
    pub fn new(cfg: PythonTestsConfig) -> Result<Self, VerifyError> {
        let pool = Arc::new(SandboxPool::new(cfg.sandbox.clone())?);
        Self::with_pool(cfg, pool)
    }

    /// Like [`new`](Self::new) but runs in a shared pool (whose own settings then apply).
    pub fn with_pool(cfg: PythonTestsConfig, pool: Arc<SandboxPool>) -> Result<Self, VerifyError> {
        let bad = |m: &str| Err(VerifyError::Config(format!("python_tests: {m}")));
        if cfg.python.trim().is_empty() {
            return bad("python must not be empty");
        }
        if cfg.timeout_ms == 0 || cfg.cpu_secs == 0 {
            return bad("timeout_ms and cpu_secs must be > 0");
        }
        if cfg.memory_mb < 32 {
            return bad("memory_mb below 32 cannot start Python");
        }
        if cfg.max_processes == 0 || cfg.max_output_bytes < 1024 {
            return bad("max_processes must be > 0 and max_output_bytes >= 1024");
        }
        if cfg.language_tags.is_empty() && !cfg.allow_untagged {
            return bad("no language tags and untagged blocks not allowed: nothing could match");
        }
        let servers = cfg.fork_server.then(|| {
            ForkServers::new(
                pool.clone(),
                cfg.python.clone(),
                cfg.python_args.clone(),
                cfg.fork_server_max_jobs,
            )
        });
        Ok(PythonTestsVerifier {
            cfg,
            pool,
            servers,
            servers_broken: AtomicBool::new(false),
        })
    }

    /// The sandbox pool this verifier runs in.
    pub fn pool(&self) -> &Arc<SandboxPool> {
        &self.pool
    }

    fn limits(&self) -> Limits {
        Limits {
            timeout: Duration::from_millis(self.cfg.timeout_ms),
            cpu_secs: self.cfg.cpu_secs,
            memory_bytes: self.cfg.memory_mb << 20,
            max_processes: self.cfg.max_processes,
            max_file_bytes: 16 << 20,
            max_open_files: 64,
            max_output_bytes: self.cfg.max_output_bytes,
        }
    }

    /// Runs one harness job (fork server, or a fresh interpreter) and reads its report.
    fn run_job(&self, mut job: Value, stdin: &str) -> Result<(RunOutput, Report), VerifyError> {
        let nonce = nonce()?;
        job["nonce"] = json!(nonce);
        let limits = self.limits();
        let forked = match &self.servers {
            Some(servers) if !self.servers_broken.load(Ordering::Relaxed) => {
                match servers.run(&job, stdin, &limits) {
                    Ok(out) => Some(out),
                    Err(ForkError::Job(e)) => return Err(e),
                    Err(ForkError::Unavailable(e)) => {
                        if !self.servers_broken.swap(true, Ordering::Relaxed) {
                            tracing::warn!("python_tests: fork server unavailable ({e}); starting Python per check");
                        }
                        None
                    }
                }
            }
            _ => None,
        };
        let out = match forked {
            Some(out) => out,
            None => {
                let mut args = vec!["-I".to_owned()];
                args.extend(self.cfg.python_args.iter().cloned());
                args.push("harness.py".into());
                let spec = RunSpec {
                    program: self.cfg.python.clone(),
                    args,
                    env: Vec::new(),
                    stdin: stdin.as_bytes().to_vec(),
                    files: vec![
                        ("harness.py".into(), HARNESS.as_bytes().to_vec()),
                        ("job.py".into(), py_literal(&job).into_bytes()),
                    ],
                    limits,
                };
                self.pool.run(&spec)?
            }
        };
        let report = Report::parse(&out.stderr, &nonce);
        if !report.started {
            if out.timed_out {
                return Err(VerifyError::Timeout(out.wall_time));
            }
            return Err(VerifyError::Other(format!(
                "python did not start ({:?}): {}",
                out.status,
                tail(&String::from_utf8_lossy(&out.stderr), 400)
            )));
        }
        Ok((out, report))
    }

    fn verify_in_process(&self, sample: &Sample, code: &str) -> Result<Verdict, VerifyError> {
        let guard = self.cfg.check_return_types;
        let job = match &sample.tests {
            Some(TestSpec::Check { code: tests }) => {
                let Some(entry) = sample.entry_point.as_deref().filter(|e| !e.is_empty()) else {
                    return Ok(Verdict::reject(
                        "missing_ground_truth",
                        "check-style tests need the sample's entry_point",
                    ));
                };
                json!({"mode": "check", "guard": guard, "solution": code, "tests": tests, "entry_point": entry})
            }
            Some(TestSpec::Asserts { asserts }) => {
                json!({"mode": "asserts", "guard": guard, "solution": code, "asserts": asserts})
            }
            _ => {
                return Err(VerifyError::Other(
                    "io tests run one process per case".into(),
                ))
            }
        };
        let expected = match &sample.tests {
            Some(TestSpec::Asserts { asserts }) => asserts.len(),
            _ => 1,
        };
        let (out, report) = self.run_job(job, "")?;
        Ok(judge(&out, &report, expected, false))
    }

    fn verify_io(&self, code: &str, cases: &[crate::IoCase]) -> Result<Verdict, VerifyError> {
        let job = json!({"mode": "io", "guard": false, "solution": code});
        let mut results = Vec::new();
        let mut first_failure: Option<Verdict> = None;
        let mut total_ms = 0u128;
        for (i, case) in cases.iter().enumerate() {
            let (out, report) = self.run_job(job.clone(), &case.input)?;
            total_ms += out.wall_time.as_millis();
            let verdict = match judge(&out, &report, 1, true) {
                Verdict::Accept { .. } => {
                    let got = String::from_utf8_lossy(&out.stdout);
                    if normalize(&got) == normalize(&case.output) {
                        results.push(json!({"case": i, "ok": true}));
                        continue;
                    }
                    results.push(json!({
                        "case": i, "ok": false, "error": "wrong output",
                        "expected": head(&case.output, 200), "got": head(&got, 200),
                    }));
                    Verdict::reject("tests_failed", String::new())
                }
                reject => {
                    let why = match &reject {
                        Verdict::Reject { reason, detail } => {
                            format!("{reason}: {}", head(detail, 300))
                        }
                        Verdict::Accept { .. } => String::new(),
                    };
                    results.push(json!({"case": i, "ok": false, "error": why}));
                    reject
                }
            };
            if first_failure.is_none() {
                first_failure = Some(verdict);
            }
            if self.cfg.fail_fast {
                break;
            }
        }
        let passed = results.iter().filter(|r| r["ok"] == json!(true)).count();
        match first_failure {
            None => Ok(Verdict::accept(format!(
                "{passed}/{} io cases passed ({total_ms} ms)",
                cases.len()
            ))),
            Some(Verdict::Reject { reason, .. }) => Ok(Verdict::reject(
                reason,
                json!({"passed": passed, "total": cases.len(), "cases": results}).to_string(),
            )),
            Some(accept) => Ok(accept),
        }
    }
}

impl Verifier for PythonTestsVerifier {
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        let Some(tests) = &sample.tests else {
            return Ok(Verdict::reject(
                "missing_ground_truth",
                "the sample has no tests",
            ));
        };
        let empty = match tests {
            TestSpec::Check { code } => code.trim().is_empty(),
            TestSpec::Asserts { asserts } => asserts.is_empty(),
            TestSpec::Io { cases } => cases.is_empty(),
        };
        if empty {
            return Ok(Verdict::reject(
                "missing_ground_truth",
                "the sample's tests are empty",
            ));
        }
        let code = match extract_code(
            &sample.completion,
            &self.cfg.language_tags,
            self.cfg.allow_untagged,
        ) {
            Extracted::Found { code, .. } if !code.trim().is_empty() => code,
            Extracted::Found { .. } => {
                return Ok(Verdict::reject("no_code", "the code block is empty"))
            }
            Extracted::NoBlock => {
                return Ok(Verdict::reject(
                    "no_code",
                    format!("no fenced code block tagged {:?}", self.cfg.language_tags),
                ))
            }
            Extracted::Unterminated { line } => {
                return Ok(Verdict::reject(
                    "no_code",
                    format!("the code fence opened on line {line} never closes"),
                ))
            }
        };
        match tests {
            TestSpec::Io { cases } => self.verify_io(&code, cases),
            _ => self.verify_in_process(sample, &code),
        }
    }

    fn name(&self) -> &str {
        PythonTestsConfig::KIND
    }

    fn version(&self) -> &str {
        "2"
    }
}
