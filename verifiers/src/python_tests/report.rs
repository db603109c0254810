//! What the harness reports (nonce-tagged lines on stderr), and the verdict made of it.

use super::literal::{head, tail};
use crate::sandbox::{ExitStatus, RunOutput};
use crate::Verdict;
use serde_json::json;

/// One exception as the harness describes it.
#[derive(Debug, Clone, Default)]
pub(super) struct Exc {
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
pub(super) struct Report {
    pub(super) started: bool,
    syntax: Option<(String, String)>,
    load_error: Option<Exc>,
    missing: Option<String>,
    test_error: Option<Exc>,
    pub(super) tests: Vec<(usize, Option<Exc>)>,
    bad_return: Option<String>,
    pub(super) done: Option<(usize, usize)>,
    /// stderr without the harness lines.
    pub(super) other_stderr: String,
}

impl Report {
    pub(super) fn parse(stderr: &[u8], nonce: &str) -> Report {
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

pub(super) fn unescape(s: &str) -> String {
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
pub(super) fn judge(out: &RunOutput, r: &Report, expected: usize, io: bool) -> Verdict {
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
pub(super) fn normalize(s: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = s.split('\n').map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}
