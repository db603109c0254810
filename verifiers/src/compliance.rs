//! A compliance check every verifier author runs in their tests.
//!
//! ```
//! use smelt_verifiers::{assert_verifier_compliance, from_fn, Expect, Sample, Verdict};
//! let nonempty = from_fn("nonempty", "1", |s: &Sample| {
//!     Ok(if s.completion.trim().is_empty() {
//!         Verdict::reject("empty_completion", "the completion is empty")
//!     } else {
//!         Verdict::accept("has text")
//!     })
//! });
//! assert_verifier_compliance(&nonempty, &[
//!     (Sample::new("42", None), Expect::Accept),
//!     (Sample::new("   ", None), Expect::reject("empty_completion")),
//! ]);
//! ```
//!
//! It checks, against the contract in `SPEC.md`: a non-empty, stable name and version; the
//! expected verdict on each known-good and known-bad case (at least one of each is required);
//! snake_case reasons and scores in `[0, 1]`; the same verdict twice (determinism) and from
//! several threads at once; and no panic on hostile completions (empty, 10 MB, lossy-decoded
//! invalid UTF-8, unbalanced `\boxed{`, an unterminated code fence, deep nesting, garbage),
//! each within a time bound.

use crate::{run_verifier, Sample, VerdictRecord, Verifier};
use std::time::{Duration, Instant};

/// What a case must yield.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Accept,
    /// Reject, with any reason.
    Reject,
    /// Reject with this reason.
    RejectWith(String),
    /// The verifier cannot run ([`crate::VerifyError`]); `Some(code)` pins the error code.
    Error(Option<String>),
}

impl Expect {
    /// Reject with this reason.
    pub fn reject(reason: &str) -> Self {
        Expect::RejectWith(reason.to_owned())
    }
}

/// Knobs of [`check_verifier_compliance`].
#[derive(Debug, Clone)]
pub struct ComplianceOptions {
    /// Threads calling the verifier at once.
    pub threads: usize,
    /// Size of the large hostile completion.
    pub big_input_bytes: usize,
    /// Longest acceptable time for one call on a small hostile input.
    pub max_call: Duration,
    /// Longest acceptable time for the large hostile input.
    pub max_big_call: Duration,
}

impl Default for ComplianceOptions {
    fn default() -> Self {
        ComplianceOptions {
            threads: 4,
            big_input_bytes: 10 << 20,
            max_call: Duration::from_secs(10),
            max_big_call: Duration::from_secs(60),
        }
    }
}

/// What went wrong; empty when the verifier complies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplianceReport {
    pub failures: Vec<String>,
}

impl ComplianceReport {
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every check and panics with the list of failures, if any.
pub fn assert_verifier_compliance(v: &dyn Verifier, cases: &[(Sample, Expect)]) {
    let report = check_verifier_compliance(v, cases, &ComplianceOptions::default());
    assert!(
        report.is_ok(),
        "verifier {:?} is not compliant:\n  - {}",
        v.name(),
        report.failures.join("\n  - ")
    );
}

/// The comparable part of a verdict (not the timing, not the free-text detail).
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    accepted: bool,
    error: bool,
    reason: String,
    score: f64,
}

impl From<&VerdictRecord> for Outcome {
    fn from(r: &VerdictRecord) -> Self {
        Outcome {
            accepted: r.accepted,
            error: r.error,
            reason: r.reason.clone(),
            score: r.score,
        }
    }
}

fn describe(r: &VerdictRecord) -> String {
    let what = if r.accepted {
        "accept".to_owned()
    } else if r.error {
        format!("error {}", r.reason)
    } else {
        format!("reject {}", r.reason)
    };
    let mut detail = r.detail.clone();
    if detail.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| detail.is_char_boundary(i))
            .unwrap_or(0);
        detail.truncate(cut);
        detail.push('…');
    }
    format!("{what} ({detail})")
}

fn meets(r: &VerdictRecord, e: &Expect) -> bool {
    match e {
        Expect::Accept => r.accepted,
        Expect::Reject => !r.accepted && !r.error,
        Expect::RejectWith(reason) => !r.accepted && !r.error && &r.reason == reason,
        Expect::Error(code) => r.error && code.as_ref().is_none_or(|c| c == &r.reason),
    }
}

/// Runs every check and returns the failures.
pub fn check_verifier_compliance(
    v: &dyn Verifier,
    cases: &[(Sample, Expect)],
    opts: &ComplianceOptions,
) -> ComplianceReport {
    let mut failures = Vec::new();
    let name = v.name().to_owned();
    if name.trim().is_empty() {
        failures.push("name() is empty".to_owned());
    }
    if v.name() != name {
        failures.push("name() is not stable".to_owned());
    }
    let version = v.version().to_owned();
    if version.trim().is_empty() {
        failures.push("version() is empty".to_owned());
    }
    if v.version() != version {
        failures.push("version() is not stable".to_owned());
    }
    if !cases.iter().any(|(_, e)| *e == Expect::Accept) {
        failures.push("cases need at least one known-good sample (Expect::Accept)".to_owned());
    }
    if !cases
        .iter()
        .any(|(_, e)| matches!(e, Expect::Reject | Expect::RejectWith(_)))
    {
        failures.push("cases need at least one known-bad sample (Expect::Reject)".to_owned());
    }

    // Expected verdicts, determinism, well-formed records.
    let mut first = Vec::with_capacity(cases.len());
    for (i, (sample, expect)) in cases.iter().enumerate() {
        let r = run_verifier(v, sample);
        check_record(&r, &format!("case {i}"), &mut failures);
        if !meets(&r, expect) {
            failures.push(format!(
                "case {i}: expected {expect:?}, got {}",
                describe(&r)
            ));
        }
        let again = run_verifier(v, sample);
        if Outcome::from(&again) != Outcome::from(&r) {
            failures.push(format!(
                "case {i}: not deterministic: {} then {}",
                describe(&r),
                describe(&again)
            ));
        }
        first.push(Outcome::from(&r));
    }

    // Several threads at once must see the same verdicts.
    if !cases.is_empty() && opts.threads > 1 {
        let results: Vec<Vec<(usize, Outcome)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..opts.threads)
                .map(|t| {
                    scope.spawn(move || {
                        (0..cases.len() * 2)
                            .map(|k| {
                                let i = (k + t) % cases.len();
                                (i, Outcome::from(&run_verifier(v, &cases[i].0)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (t, res) in results.iter().enumerate() {
            if res.len() != cases.len() * 2 {
                failures.push(format!("thread {t} panicked"));
            }
            for (i, o) in res {
                if *o != first[*i] {
                    failures.push(format!(
                        "case {i}: different verdict from thread {t}: {o:?} vs {:?}",
                        first[*i]
                    ));
                }
            }
        }
    }

    // Hostile completions, with each case's ground truth.
    let hostile = hostile_completions();
    for (i, (sample, _)) in cases.iter().enumerate() {
        for (label, completion) in &hostile {
            let s = Sample {
                completion: completion.clone(),
                ..sample.clone()
            };
            run_hostile(
                v,
                &s,
                &format!("case {i} with {label}"),
                opts.max_call,
                &mut failures,
            );
        }
    }
    if let Some((sample, _)) = cases.first() {
        let s = Sample {
            completion: big_completion(opts.big_input_bytes),
            ..sample.clone()
        };
        run_hostile(
            v,
            &s,
            "a 10 MB completion",
            opts.max_big_call,
            &mut failures,
        );
        let s = Sample {
            problem: big_completion(1 << 20),
            reference: sample.reference.as_ref().map(|_| "\\boxed{".to_owned()),
            ..sample.clone()
        };
        run_hostile(
            v,
            &s,
            "a hostile problem and reference",
            opts.max_call,
            &mut failures,
        );
    }
    ComplianceReport { failures }
}

fn check_record(r: &VerdictRecord, what: &str, failures: &mut Vec<String>) {
    if r.error && r.reason == "verifier_crashed" && r.detail.contains("panicked") {
        failures.push(format!("{what}: panicked: {}", r.detail));
    } else if r.error && r.reason == "verifier_protocol" {
        failures.push(format!("{what}: malformed verdict: {}", r.detail));
    }
}

fn run_hostile(
    v: &dyn Verifier,
    s: &Sample,
    what: &str,
    limit: Duration,
    failures: &mut Vec<String>,
) {
    let start = Instant::now();
    let r = run_verifier(v, s);
    let took = start.elapsed();
    check_record(&r, what, failures);
    if took > limit {
        failures.push(format!("{what}: took {took:?} (limit {limit:?})"));
    }
    let again = run_verifier(v, s);
    if Outcome::from(&again) != Outcome::from(&r) {
        failures.push(format!(
            "{what}: not deterministic: {} then {}",
            describe(&r),
            describe(&again)
        ));
    }
}

/// Small hostile completions, labelled.
pub fn hostile_completions() -> Vec<(&'static str, String)> {
    // Deterministic pseudo-random bytes (xorshift), decoded lossily as a pipeline would.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    vec![
        ("an empty completion", String::new()),
        ("whitespace", " \n\t \r\n".to_owned()),
        (
            "an unbalanced \\boxed{",
            "The answer is \\boxed{42".to_owned(),
        ),
        (
            "nested unbalanced \\boxed",
            "\\boxed{\\boxed{\\frac{1}{".to_owned(),
        ),
        (
            "a never-ending code fence",
            format!(
                "```python\ndef f(x):\n{}",
                "    return x + 1 = 2\n".repeat(500)
            ),
        ),
        (
            "lossy invalid UTF-8",
            String::from_utf8_lossy(&bytes).into_owned(),
        ),
        (
            "deep nesting",
            format!("{}1{} = 1", "(".repeat(50_000), ")".repeat(50_000)),
        ),
        (
            "garbage",
            "}{)(][ #### \\frac{ = = = <<<>>> 1/0 = 0 ∞ NaN -0 %%% $$$ ^^^".repeat(200),
        ),
        (
            "huge numbers",
            format!(
                "{}^{} = 1\n#### {}",
                "9".repeat(5000),
                "9".repeat(500),
                "9".repeat(100_000)
            ),
        ),
        (
            "NUL and control characters",
            "\0\u{1}\u{7f}#### \0 \u{202e}42".to_owned(),
        ),
    ]
}

/// A large completion mixing prose, claims, braces and broken markup.
pub fn big_completion(bytes: usize) -> String {
    let chunk = "Step 1: 12 + 30 = 42 apples, so 42 * 2 = <<42*2=84>>84. {\\boxed{ (x+1 ## \u{fffd} 3:00 1/2/2020 \
                 x = 5, 2x + 1 = 11 ≈ 3.33... 1,234,567 - 1 = 1,234,566\n";
    let mut s = String::with_capacity(bytes + chunk.len());
    while s.len() < bytes {
        s.push_str(chunk);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_fn, Verdict};

    fn good_and_bad() -> Vec<(Sample, Expect)> {
        vec![
            (Sample::new("yes", None), Expect::Accept),
            (Sample::new("", None), Expect::reject("empty_completion")),
        ]
    }

    fn quick() -> ComplianceOptions {
        ComplianceOptions {
            big_input_bytes: 1 << 20,
            ..ComplianceOptions::default()
        }
    }

    #[test]
    fn a_compliant_verifier_passes() {
        let v = from_fn("nonempty", "1", |s: &Sample| {
            Ok(if s.completion.trim().is_empty() {
                Verdict::reject("empty_completion", "empty")
            } else {
                Verdict::accept("text")
            })
        });
        let report = check_verifier_compliance(&v, &good_and_bad(), &quick());
        assert!(report.is_ok(), "{:?}", report.failures);
    }

    #[test]
    fn panics_bad_reasons_and_wrong_verdicts_are_caught() {
        let v = from_fn("bad", "1", |s: &Sample| {
            if s.completion.len() > 100_000 {
                panic!("too long");
            }
            Ok(if s.completion.is_empty() {
                Verdict::reject("Empty Completion", "not snake case")
            } else {
                Verdict::accept("ok")
            })
        });
        let report = check_verifier_compliance(&v, &good_and_bad(), &quick());
        let all = report.failures.join("\n");
        assert!(all.contains("panicked"), "{all}");
        assert!(all.contains("malformed verdict"), "{all}");
        assert!(all.contains("case 1: expected"), "{all}");
    }

    #[test]
    fn nondeterminism_and_missing_cases_are_caught() {
        let counter = std::sync::atomic::AtomicUsize::new(0);
        let v = from_fn("flaky", "", move |_: &Sample| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(if n.is_multiple_of(2) {
                Verdict::accept("even")
            } else {
                Verdict::reject("odd", "odd")
            })
        });
        let cases = vec![(Sample::new("x", None), Expect::Accept)];
        let report = check_verifier_compliance(&v, &cases, &quick());
        let all = report.failures.join("\n");
        assert!(all.contains("version() is empty"), "{all}");
        assert!(all.contains("known-bad"), "{all}");
        assert!(all.contains("not deterministic"), "{all}");
    }

    #[test]
    #[should_panic(expected = "is not compliant")]
    fn assert_panics_on_failure() {
        let v = from_fn("always", "1", |_: &Sample| Ok(Verdict::accept("yes")));
        assert_verifier_compliance(&v, &good_and_bad());
    }
}
