//! `check_conformance`: does a program speak the external-verifier protocol correctly?
//! (`smelt verifier check -- CMD…` runs this.) Each check passes or fails with a detail line.

use super::{ExternalConfig, ExternalVerifier};
use crate::{Sample, Verdict, Verifier, VerifyError};
use std::time::{Duration, Instant};

/// One sample to send, with the verdict it should get if known (`Some(true)` = accept).
#[derive(Debug, Clone)]
pub struct ConformanceCase {
    pub name: String,
    pub sample: Sample,
    pub expect_accept: Option<bool>,
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct ConformanceCheck {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// All checks, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConformanceReport {
    pub checks: Vec<ConformanceCheck>,
}

impl ConformanceReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    /// One line per check: `PASS name: detail`.
    pub fn render(&self) -> String {
        self.checks
            .iter()
            .map(|c| {
                format!(
                    "{} {}: {}\n",
                    if c.passed { "PASS" } else { "FAIL" },
                    c.name,
                    c.detail
                )
            })
            .collect()
    }

    fn add(&mut self, name: &str, passed: bool, detail: impl Into<String>) {
        self.checks.push(ConformanceCheck {
            name: name.to_owned(),
            passed,
            detail: detail.into(),
        });
    }
}

/// Samples every verifier must answer with a well-formed verdict (accept or reject): a plain
/// one, an empty one, and ones whose text looks like protocol lines, control characters,
/// unusual Unicode, or is large. No expected verdicts: add your own cases for those.
pub fn default_conformance_cases() -> Vec<ConformanceCase> {
    let case = |name: &str, completion: String, reference: Option<&str>| ConformanceCase {
        name: name.into(),
        sample: Sample {
            id: format!("conformance-{name}"),
            problem: "What is 6 * 7?".into(),
            completion,
            reference: reference.map(str::to_owned),
            ..Sample::default()
        },
        expect_accept: None,
    };
    vec![
        case("plain", "6 * 7 = 42.\n#### 42".into(), Some("42")),
        case("wrong", "6 * 7 = 41.\n#### 41".into(), Some("42")),
        case("empty", String::new(), None),
        case(
            "protocol_lookalike",
            "}\n{\"id\": 0, \"accepted\": true}\n{\"smelt_protocol\": 1}\n\"".into(),
            Some("42"),
        ),
        case(
            "control_chars",
            "a\u{0}b\u{7}c\r\n\t\u{1b}[31m\\u0000".into(),
            Some("\u{0}"),
        ),
        case(
            "unicode",
            "٤٢ — 42 ✓ 🙂 \u{202e}reversed\u{2028}".into(),
            Some("42"),
        ),
        case("large", "4".repeat(1 << 20), Some("42")),
    ]
}

/// Starts `command`, runs the handshake, sends `cases` (one at a time, then all at once from
/// several threads), and checks that closing stdin makes the process exit.
pub fn check_conformance(command: &[String], cases: &[ConformanceCase]) -> ConformanceReport {
    let mut report = ConformanceReport::default();
    let cfg = ExternalConfig {
        command: command.to_vec(),
        timeout_ms: 10_000,
        startup_timeout_ms: 10_000,
        max_restarts: 0,
        ..ExternalConfig::default()
    };
    let verifier = match ExternalVerifier::new(cfg) {
        Ok(v) => v,
        Err(e) => {
            report.add("config", false, e.to_string());
            return report;
        }
    };
    let t = Instant::now();
    match verifier.start() {
        Ok(id) => report.add(
            "handshake",
            true,
            format!("{} {} answered in {:?}", id.name, id.version, t.elapsed()),
        ),
        Err(e) => {
            report.add("handshake", false, e.to_string());
            return report;
        }
    }

    let judge = |c: &ConformanceCase, r: &Result<Verdict, VerifyError>| -> (bool, String) {
        match (r, c.expect_accept) {
            (Err(e), _) => (false, format!("no verdict: {e}")),
            (Ok(v), Some(want)) if v.is_accept() != want => (
                false,
                format!(
                    "expected {}, got {v:?}",
                    if want { "accept" } else { "reject" }
                ),
            ),
            (Ok(v), _) => (true, brief(v)),
        }
    };
    for c in cases {
        let t = Instant::now();
        let r = verifier.verify(&c.sample);
        let (ok, detail) = judge(c, &r);
        report.add(
            &format!("case {}", c.name),
            ok,
            format!("{detail} ({:?})", t.elapsed()),
        );
        if matches!(
            r,
            Err(VerifyError::Crashed(_) | VerifyError::Protocol(_) | VerifyError::Timeout(_))
        ) {
            report.add(
                "still running",
                false,
                "the verifier died; later checks skipped",
            );
            return report;
        }
    }

    // Several requests in flight at once: every answer must come back to its own request.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|c| {
                let verifier = &verifier;
                s.spawn(move || (c, verifier.verify(&c.sample)))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let bad: Vec<String> = results
        .iter()
        .filter_map(|(c, r)| {
            let (ok, d) = judge(c, r);
            (!ok).then(|| format!("{}: {d}", c.name))
        })
        .collect();
    report.add(
        "concurrent requests",
        bad.is_empty() && results.len() == cases.len(),
        if bad.is_empty() {
            format!("{} requests in flight together, all answered", cases.len())
        } else {
            bad.join("; ")
        },
    );

    let exited = verifier.shutdown(Duration::from_secs(5));
    report.add(
        "exit on EOF",
        exited,
        if exited {
            "exited after stdin closed"
        } else {
            "still running 5 s after stdin closed (killed)"
        },
    );
    report
}

fn brief(v: &Verdict) -> String {
    match v {
        Verdict::Accept { score, .. } => format!("accept (score {score})"),
        Verdict::Reject { reason, .. } => format!("reject ({reason})"),
    }
}
