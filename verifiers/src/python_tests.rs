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
//! Tests run in a copy of the solution's namespace without names that shadow builtins, the
//! builtins are restored after the solution loads and after each test, and (by default)
//! solution functions may only return plain builtin values, so an object that compares equal
//! to everything cannot pass a test. In-process checks remain best effort against code that
//! deliberately inspects the interpreter; the sandbox contains it either way.
//!
//! Reject reasons: `no_code`, `syntax_error`, `tests_failed`, `timeout`, `memory_limit`,
//! `resource_limit`, `output_limit`, `bad_return_type`, `missing_ground_truth`.

use crate::code_block::{extract_code, Extracted};
use crate::python_fork_server::{ForkError, ForkServers};
use crate::sandbox::{ExitStatus, Limits, RunOutput, RunSpec, SandboxConfig, SandboxPool};
use crate::{Sample, TestSpec, Verdict, Verifier, VerifyError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const HARNESS: &str = include_str!("python_harness.py");

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
        "1"
    }
}

/// One exception as the harness describes it.
#[derive(Debug, Clone, Default)]
struct Exc {
    ty: String,
    msg: String,
    at: String,
}

impl Exc {
    fn from_fields(f: &[String]) -> Exc {
        let get = |i: usize| f.get(i).cloned().unwrap_or_default();
        Exc {
            ty: get(0),
            msg: get(1),
            at: get(2),
        }
    }

    fn text(&self) -> String {
        let mut s = self.ty.clone();
        if !self.msg.is_empty() {
            s.push_str(": ");
            s.push_str(&self.msg);
        }
        if !self.at.is_empty() {
            s.push_str(" at ");
            s.push_str(&self.at);
        }
        s
    }

    /// A limit-related reason for this exception, if it is one.
    fn limit_reason(&self) -> Option<&'static str> {
        const RESOURCE_ERRNOS: [&str; 5] = [
            "[Errno 11]",
            "[Errno 23]",
            "[Errno 24]",
            "[Errno 27]",
            "[Errno 28]",
        ];
        if self.ty == "MemoryError" {
            Some("memory_limit")
        } else if self.ty == "BlockingIOError"
            || RESOURCE_ERRNOS.iter().any(|e| self.msg.starts_with(e))
        {
            Some("resource_limit")
        } else {
            None
        }
    }
}

/// What the harness reported.
#[derive(Debug, Default)]
struct Report {
    started: bool,
    syntax: Option<(String, String)>,
    load_error: Option<Exc>,
    missing: Option<String>,
    test_error: Option<Exc>,
    tests: Vec<(usize, Option<Exc>)>,
    bad_return: Option<String>,
    done: Option<(usize, usize)>,
    /// stderr without the harness lines.
    other_stderr: String,
}

impl Report {
    fn parse(stderr: &[u8], nonce: &str) -> Report {
        let text = String::from_utf8_lossy(stderr);
        let mut r = Report::default();
        let tag = format!("{nonce}\t");
        for line in text.split('\n') {
            let Some(pos) = line.find(&tag) else {
                r.other_stderr.push_str(line);
                r.other_stderr.push('\n');
                continue;
            };
            r.other_stderr.push_str(&line[..pos]);
            let fields: Vec<String> = line[pos + tag.len()..].split('\t').map(unescape).collect();
            let f = |i: usize| fields.get(i).cloned().unwrap_or_default();
            match f(0).as_str() {
                "started" => r.started = true,
                "syntax" => r.syntax = Some((f(1), f(2))),
                "load_error" => r.load_error = Some(Exc::from_fields(&fields[1..])),
                "missing" => r.missing = Some(f(1)),
                "test_error" => r.test_error = Some(Exc::from_fields(&fields[1..])),
                "bad_return" => r.bad_return = Some(f(1)),
                "test" => {
                    let i = f(1).parse().unwrap_or(usize::MAX);
                    let exc =
                        (f(2) != "ok").then(|| Exc::from_fields(fields.get(3..).unwrap_or(&[])));
                    r.tests.push((i, exc));
                }
                "done" => {
                    r.done = f(1).parse().ok().zip(f(2).parse().ok());
                }
                _ => {}
            }
        }
        r
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Turns one harness run into a verdict. `expected` is the number of tests that must pass;
/// `io` runs report no per-test lines, only `done 1 1`.
fn judge(out: &RunOutput, r: &Report, expected: usize, io: bool) -> Verdict {
    let tests: Vec<_> = r
        .tests
        .iter()
        .take(50)
        .map(|(i, e)| match e {
            None => json!({"test": i, "ok": true}),
            Some(e) => json!({"test": i, "ok": false, "error": e.text()}),
        })
        .collect();
    let detail = |why: &str| {
        json!({
            "why": why,
            "passed": r.tests.iter().filter(|t| t.1.is_none()).count(),
            "total": expected,
            "tests": tests,
            "stderr_tail": tail(&r.other_stderr, 600),
            "wall_ms": out.wall_time.as_millis() as u64,
        })
        .to_string()
    };
    if out.output_limit_exceeded {
        return Verdict::reject("output_limit", detail("printed more than the output cap"));
    }
    if let Some((line, msg)) = &r.syntax {
        return Verdict::reject("syntax_error", format!("line {line}: {}", head(msg, 300)));
    }
    if out.timed_out || out.cpu_limit_exceeded {
        let which = if out.timed_out { "wall-clock" } else { "CPU" };
        return Verdict::reject("timeout", detail(&format!("{which} limit reached")));
    }
    let excs = r
        .load_error
        .iter()
        .chain(r.tests.iter().filter_map(|t| t.1.as_ref()));
    if let Some(reason) = excs.clone().find_map(Exc::limit_reason) {
        return Verdict::reject(reason, detail("a limit was hit"));
    }
    if let Some(ty) = &r.bad_return {
        return Verdict::reject(
            "bad_return_type",
            detail(&format!(
                "a solution function returned a {ty}; only plain builtin values count"
            )),
        );
    }
    if let Some(e) = &r.load_error {
        return Verdict::reject(
            "tests_failed",
            detail(&format!("the solution raised while loading: {}", e.text())),
        );
    }
    if let Some(m) = &r.missing {
        return Verdict::reject("tests_failed", detail(m));
    }
    if let Some(e) = &r.test_error {
        return Verdict::reject(
            "tests_failed",
            detail(&format!("the tests could not run: {}", e.text())),
        );
    }
    let failed = r.tests.iter().filter(|t| t.1.is_some()).count();
    if failed > 0 {
        return Verdict::reject(
            "tests_failed",
            detail(&format!("{failed} of {expected} failed")),
        );
    }
    let test_lines = if io { 0 } else { expected };
    let complete = r.done == Some((expected, expected)) && r.tests.len() == test_lines;
    if !complete || out.status != ExitStatus::Exited(0) {
        let why = match out.status {
            ExitStatus::Signaled(s) => {
                format!("the process was killed by signal {s} before finishing")
            }
            ExitStatus::Exited(c) if c != 0 => {
                format!("the process exited with status {c} before finishing")
            }
            ExitStatus::Exited(_) => "the run ended without a complete report".to_owned(),
        };
        if r.other_stderr.contains("MemoryError") {
            return Verdict::reject("memory_limit", detail(&why));
        }
        return Verdict::reject("tests_failed", detail(&why));
    }
    Verdict::accept(format!(
        "{expected}/{expected} {} passed in {} ms",
        if expected == 1 { "test" } else { "tests" },
        out.wall_time.as_millis()
    ))
}

/// Lines with trailing whitespace removed, trailing blank lines dropped.
fn normalize(s: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = s.split('\n').map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// A Python string literal for `s`.
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Python literal for a JSON value (`true` → `True`, `null` → `None`, …).
fn py_literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn nonce() -> Result<String, VerifyError> {
    let mut buf = [0u8; 16];
    // SAFETY: getrandom writes at most buf.len() bytes into our buffer.
    let n = unsafe { nix::libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n != buf.len() as isize {
        return Err(VerifyError::Other("getrandom failed".into()));
    }
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn head(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn tail(s: &str, n: usize) -> String {
    let s = s.trim_end();
    let count = s.chars().count();
    if count <= n {
        return s.to_owned();
    }
    match s.char_indices().nth(count - n) {
        Some((i, _)) => format!("…{}", &s[i..]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_jobs_become_python_literals() {
        let v = json!({"a": [true, false, null, 3], "b": "x\"y"});
        assert_eq!(
            py_literal(&v),
            r#"{"a": [True, False, None, 3], "b": "x\"y"}"#
        );
    }

    #[test]
    fn python_literals_round_trip_the_awkward_characters() {
        assert_eq!(py_str("a\"b\\c\nd\te\r\0"), r#""a\"b\\c\nd\te\r\x00""#);
        assert_eq!(py_str("é🙂"), "\"é🙂\"");
    }

    #[test]
    fn report_lines_are_found_behind_the_nonce_only() {
        let n = "abc123";
        let err = format!(
            "noise\npartial{n}\tstarted\n{n}\ttest\t0\tfail\tAssertionError\t\tassert_0:1: assert f(1) == 2\nfake\ttest\t1\tok\n{n}\tdone\t0\t1\n"
        );
        let r = Report::parse(err.as_bytes(), n);
        assert!(r.started);
        assert_eq!(r.tests.len(), 1);
        assert_eq!(r.done, Some((0, 1)));
        assert!(r.other_stderr.contains("noise") && r.other_stderr.contains("partial"));
        assert_eq!(unescape("a\\tb\\nc\\\\d"), "a\tb\nc\\d");
    }

    #[test]
    fn io_comparison_ignores_trailing_whitespace_only() {
        assert_eq!(normalize("1 2  \n3\n\n"), normalize("1 2\n3"));
        assert_ne!(normalize("1  2\n3"), normalize("1 2\n3"));
        assert_ne!(normalize("\n1"), normalize("1"));
    }
}
