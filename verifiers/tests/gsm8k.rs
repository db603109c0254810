//! The answer and steps verifiers on GSM8K reference solutions.
//!
//! Runs on the in-repo fixture (30 rows, `tests/fixtures/gsm8k_sample.jsonl`) always, and on the
//! full training set (7,473 rows) when `../../shared/data/gsm8k/train.jsonl` exists beside the
//! checkout (or `$SMELT_GSM8K` names it); without it those tests print a skip message and pass.
//!
//! Thresholds (measured numbers are in the comments and printed by each test):
//! * answer: every reference solution is accepted against its own `####` answer (100%).
//! * steps: 99.518% of reference solutions accepted; each of the 36 rejects is listed in
//!   `KNOWN_EXCEPTIONS` with why (30 are real arithmetic errors in GSM8K).
//! * corruption: one number in one `<<...>>` step changed; caught 100% measured.
//! * prose corruption: annotations removed, the result of one prose claim changed; measures how
//!   many prose claims the verifier finds (see `PROSE_CORRUPTION_MIN_RATE`).

mod support;

use serde::Deserialize;
use smelt_verifiers::{
    AnswerConfig, AnswerVerifier, Sample, StepsConfig, StepsVerifier, Verdict, Verifier,
};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Row {
    #[allow(dead_code)]
    question: String,
    answer: String,
}

fn load(path: &Path) -> Option<Vec<Row>> {
    let text = std::fs::read_to_string(path).ok()?;
    let rows: Vec<Row> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect();
    Some(rows)
}

fn fixture() -> Vec<Row> {
    let p = support::crate_dir().join("tests/fixtures/gsm8k_sample.jsonl");
    let rows = load(&p).unwrap_or_else(|| panic!("fixture missing: {}", p.display()));
    assert_eq!(rows.len(), 30);
    rows
}

/// The full training set: `$SMELT_GSM8K`, or `../../shared/data/gsm8k/train.jsonl` relative to
/// this crate.
fn full() -> Option<Vec<Row>> {
    let p: PathBuf = std::env::var_os("SMELT_GSM8K").map_or_else(
        || support::crate_dir().join("../../shared/data/gsm8k/train.jsonl"),
        PathBuf::from,
    );
    let rows = load(&p);
    if rows.is_none() {
        eprintln!("SKIP: {} not found; full GSM8K checks skipped", p.display());
    }
    rows
}

/// The text after the last `####`.
fn reference(answer: &str) -> String {
    answer
        .rsplit("####")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn answer_verifier() -> AnswerVerifier {
    AnswerVerifier::new(AnswerConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn steps_verifier() -> StepsVerifier {
    StepsVerifier::new(StepsConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn verdict(v: &dyn Verifier, completion: &str, reference: &str) -> Verdict {
    v.verify(&Sample::new(completion, Some(reference)))
        .unwrap_or_else(|e| panic!("verifier error: {e}"))
}

/// Rows whose verdict is a reject, with the detail.
fn rejects(
    v: &dyn Verifier,
    rows: &[Row],
    completion: impl Fn(&Row) -> String,
) -> Vec<(usize, String)> {
    rows.iter()
        .enumerate()
        .filter_map(
            |(i, r)| match verdict(v, &completion(r), &reference(&r.answer)) {
                Verdict::Accept { .. } => None,
                Verdict::Reject { reason, detail } => Some((i, format!("{reason}: {detail}"))),
            },
        )
        .collect()
}

fn report(what: &str, total: usize, bad: &[(usize, String)]) -> f64 {
    let rate = (total - bad.len()) as f64 / total as f64;
    println!(
        "{what}: {}/{total} = {:.4}%",
        total - bad.len(),
        rate * 100.0
    );
    for (i, d) in bad.iter().take(50) {
        println!("  row {i}: {d}");
    }
    rate
}

fn check_answers(rows: &[Row], label: &str) {
    let v = answer_verifier();
    let as_is = rejects(&v, rows, |r| r.answer.clone());
    let rate = report(&format!("answer/{label}/####"), rows.len(), &as_is);
    assert!(rate >= 1.0, "reference solutions must all be accepted");
    // The same solutions ending the other ways a model writes its answer.
    let rewrite = |r: &Row, end: &dyn Fn(&str) -> String| {
        let body = r.answer.rsplit_once("####").map_or("", |(b, _)| b);
        format!("{body}{}", end(&reference(&r.answer)))
    };
    for (name, end) in [
        (
            "boxed",
            &(|a: &str| format!("So the answer is $\\boxed{{{a}}}$.")) as &dyn Fn(&str) -> String,
        ),
        ("answer_is", &|a: &str| format!("The answer is {a}.")),
        ("answer_colon", &|a: &str| format!("**Answer:** {a}")),
    ] {
        let bad = rejects(&v, rows, |r| rewrite(r, end));
        let rate = report(&format!("answer/{label}/{name}"), rows.len(), &bad);
        assert!(
            rate >= 1.0,
            "{name}: all rewritten solutions must be accepted"
        );
    }
    // A wrong final answer is always rejected.
    let off_by_one = rejects(&v, rows, |r| {
        let body = r.answer.rsplit_once("####").map_or("", |(b, _)| b);
        let n: i64 = reference(&r.answer).replace(',', "").parse().unwrap_or(0);
        format!("{body}#### {}", n + 1)
    });
    assert_eq!(
        off_by_one.len(),
        rows.len(),
        "every off-by-one answer must be rejected"
    );
}

#[test]
fn answer_accepts_references_fixture() {
    check_answers(&fixture(), "fixture");
}

#[test]
fn answer_accepts_references_full() {
    if let Some(rows) = full() {
        check_answers(&rows, "full");
    }
}

/// Every reference solution the steps verifier rejects on the full training set (7,473 rows),
/// with the reason. Measured: 7,437 accepted (99.518%), these 36 rejected.
///
/// Thirty are real arithmetic errors in GSM8K's reference solutions: the text states a false
/// equation (a typo, a wrong operator, an inconsistent equation). Six are our misreadings of
/// prose that is right in context (marked `MISREAD`, 0.08% of rows); they are kept as known
/// false rejects rather than weakening the checks that catch the real errors.
const KNOWN_EXCEPTIONS: &[(usize, &str)] = &[
    (167, "192*100=$1920: 19200"),
    (168, "6*2.5 = $18.00: typo, the price is $3.00"),
    (198, "6/3=.5: means 3/6"),
    (224, "4000 + 2040 = 6120: typo for 4080"),
    (502, "3/1=1"),
    (716, "MISREAD: 100 * 0.75 = $0.75, cents to dollars"),
    (1394, "4c = 150 with c = 35: should be 140"),
    (1817, "1550 cubic inches / 50 cubic inches/pump = 29: 31"),
    (
        2287,
        "4p + 24 + p + 6 + p = 315 with p = 47: the text's own total is 312",
    ),
    (3002, "8*3 = 240: typo for 80*3"),
    (3205, "b = 180, then b + b/6 + b/2 = 30: b is 18"),
    (3334, "$4200+$3000 = $8600: 7200, the final answer"),
    (3371, "P+3+P+6+P+9+P+12 = 5P + 30: four P's"),
    (3377, "MISREAD: 3x = 1 hour with x = 20 minutes"),
    (3409, "10 x .5 = 10: 5"),
    (
        3411,
        "MISREAD: 5 minutes x 60 seconds = 300 + 58 seconds = 358, a running total",
    ),
    (
        3859,
        "MISREAD: 5 * 3 = $15,000, 5 means five thousand earlier in the sentence",
    ),
    (4593, "14 / 1 / 4 = 56: means 14 / (1/4); as written 3.5"),
    (4691, "2*8 = 24"),
    (4973, "200*.55=100: 110"),
    (5195, "5 x 1/2 = 10: means 5 / (1/2)"),
    (5396, "MISREAD: 10 pages per day on day 1 * 2 = 20"),
    (
        5350,
        "13 marbles + 4 marbles + 16 marbles = 45: 33, the final answer",
    ),
    (5457, "14-2*k=64 with k = 39: means 2k - 14"),
    (5781, "7+9+1+2 = $19.50: 1.50 written as 1"),
    (6157, "70 + 40 = 100: 110"),
    (6256, "10 x 1,248 = 11,480: 12,480"),
    (
        6405,
        "MISREAD: 150 minutes / 5 minutes/100 meters, a compound rate",
    ),
    (6498, "14, 400 / 80 = 180: stray comma in 14,400"),
    (6700, "2 / 12 = .125: 1/6"),
    (6713, "3 x (8/16) = 6: means 3 / (8/16)"),
    (6760, "4+4+6 = 18: 14"),
    (6812, "50-8 = 44: typo for 52"),
    (6842, "500/ 2/5 = 200: means 500 x 2/5"),
    (7178, "1152/ 1,536 = .5: 0.75"),
    (7270, "13,2000 / 60 = 220: typo for 13,200"),
    (7444, "14*20=140: 280"),
];

/// The pass rate on the full set must not drop below the measured 99.518% by more than a few
/// rows (0.994 allows 9 more rejects, should the data file differ slightly).
const STEPS_MIN_RATE: f64 = 0.994;

fn check_steps(rows: &[Row], label: &str, min_rate: f64) -> Vec<(usize, String)> {
    let v = steps_verifier();
    let (mut checked, mut skipped) = (0, 0);
    for r in rows {
        let report = v.check(&r.answer);
        checked += report.checked;
        skipped += report.skipped;
    }
    println!("steps/{label}: {checked} claims checked, {skipped} skipped");
    let bad = rejects(&v, rows, |r| r.answer.clone());
    let rate = report(&format!("steps/{label}"), rows.len(), &bad);
    assert!(rate >= min_rate, "steps pass rate {rate} below {min_rate}");
    assert!(
        checked >= rows.len() * 3,
        "too few claims checked: {checked}"
    );
    bad
}

#[test]
fn steps_accepts_references_fixture() {
    check_steps(&fixture(), "fixture", 1.0);
}

#[test]
fn steps_accepts_references_full() {
    let Some(rows) = full() else { return };
    let bad = check_steps(&rows, "full", STEPS_MIN_RATE);
    if rows.len() == 7473 {
        let unknown: Vec<_> = bad
            .iter()
            .filter(|(i, _)| !KNOWN_EXCEPTIONS.iter().any(|(k, _)| k == i))
            .collect();
        assert!(
            unknown.is_empty(),
            "new rejects on reference solutions: {unknown:#?}"
        );
        let misread = KNOWN_EXCEPTIONS
            .iter()
            .filter(|(_, why)| why.starts_with("MISREAD"))
            .count();
        println!(
            "steps/full: {} known exceptions: {} real errors in GSM8K, {misread} misreadings",
            bad.len(),
            bad.len() - misread
        );
    }
}

/// SplitMix64: a small deterministic generator, so corruptions are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Changes one number inside one `<<...>>` annotation. Integers move by ±1..±3 (staying
/// non-negative); decimals have their last digit changed. Returns `None` when the solution has no
/// annotation.
fn corrupt(answer: &str, rng: &mut Rng) -> Option<(String, String)> {
    let ann = regex::Regex::new(r"<<([^<>]*)>>").ok()?;
    let num = regex::Regex::new(r"\d*\.?\d+").ok()?;
    let spans: Vec<_> = ann.find_iter(answer).collect();
    if spans.is_empty() {
        return None;
    }
    let a = spans[rng.below(spans.len())];
    let inner = a.as_str();
    let nums: Vec<_> = num.find_iter(inner).collect();
    let n = nums[rng.below(nums.len())];
    let text = n.as_str();
    let new = if text.contains('.') {
        let (head, last) = text.split_at(text.len() - 1);
        let d = last.parse::<u32>().unwrap_or(0);
        format!("{head}{}", (d + 1 + rng.below(9) as u32) % 10)
    } else {
        let v: i64 = text.parse().unwrap_or(0);
        let step = 1 + rng.below(3) as i64;
        let w = if v >= step && rng.below(2) == 0 {
            v - step
        } else {
            v + step
        };
        w.to_string()
    };
    let changed = format!("{}{}{}", &inner[..n.start()], new, &inner[n.end()..]);
    let out = format!("{}{}{}", &answer[..a.start()], changed, &answer[a.end()..]);
    Some((out, format!("{inner} -> {changed}")))
}

/// Measured on the full training set (seed 42): 7,378 solutions have an annotation to corrupt;
/// all 7,378 corruptions caught (100%). A corrupted operand can in principle leave a step true
/// (`0*5` → `0*6`); 0.995 leaves room for such draws should the data change.
const CORRUPTION_MIN_RATE: f64 = 0.995;

fn check_corruptions(rows: &[Row], label: &str, min_rate: f64) {
    let v = steps_verifier();
    let mut rng = Rng(42);
    let mut total = 0usize;
    let mut missed = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let Some((bad, what)) = corrupt(&r.answer, &mut rng) else {
            continue;
        };
        total += 1;
        match verdict(&v, &bad, &reference(&r.answer)) {
            Verdict::Reject { ref reason, .. } if reason == "false_step" => {}
            other => missed.push((i, format!("{what}: {other:?}"))),
        }
    }
    let rate = report(&format!("corruption/{label} caught"), total, &missed);
    assert!(total > 0);
    assert!(rate >= min_rate, "caught {rate} below {min_rate}");
}

#[test]
fn steps_catches_corruptions_fixture() {
    check_corruptions(&fixture(), "fixture", 1.0);
}

#[test]
fn steps_catches_corruptions_full() {
    if let Some(rows) = full() {
        check_corruptions(&rows, "full", CORRUPTION_MIN_RATE);
    }
}

/// Removes the `<<...>>` annotations, then changes the number right after the first `=` of one
/// line (the claimed result). Returns `None` when no line has such a number.
fn corrupt_prose(answer: &str, rng: &mut Rng) -> Option<(String, String)> {
    let ann = regex::Regex::new(r"<<[^<>]*>>").ok()?;
    let result = regex::Regex::new(r"=\s*\$?(\d+)").ok()?;
    let stripped = ann.replace_all(answer, "").into_owned();
    let lines: Vec<&str> = stripped.lines().collect();
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].starts_with("####") && result.is_match(lines[i]))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let li = candidates[rng.below(candidates.len())];
    let caps = result.captures(lines[li])?;
    let m = caps.get(1)?;
    let v: i64 = m.as_str().parse().ok()?;
    let w = v + 1 + rng.below(3) as i64;
    let changed = format!("{}{}{}", &lines[li][..m.start()], w, &lines[li][m.end()..]);
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    out[li] = changed.clone();
    Some((out.join("\n"), changed))
}

/// Measured on the full training set (seed 7): 7,434 solutions have a prose claim to corrupt
/// once annotations are removed; 7,088 caught (95.35%). The misses are claims the verifier
/// deliberately does not read (units joined by `of`, mixed units, scale words, equations with
/// unknowns); the threshold sits just below the measurement.
const PROSE_CORRUPTION_MIN_RATE: f64 = 0.94;

fn check_prose_corruptions(rows: &[Row], label: &str, min_rate: f64) {
    let v = steps_verifier();
    let mut rng = Rng(7);
    let mut total = 0usize;
    let mut missed = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let Some((bad, what)) = corrupt_prose(&r.answer, &mut rng) else {
            continue;
        };
        total += 1;
        match verdict(&v, &bad, &reference(&r.answer)) {
            Verdict::Reject { ref reason, .. } if reason == "false_step" => {}
            other => missed.push((i, format!("{what:?}: {other:?}"))),
        }
    }
    let rate = report(&format!("prose-corruption/{label} caught"), total, &missed);
    assert!(total > 0);
    assert!(rate >= min_rate, "caught {rate} below {min_rate}");
}

#[test]
fn steps_catches_prose_corruptions_fixture() {
    check_prose_corruptions(&fixture(), "fixture", 0.9);
}

#[test]
fn steps_catches_prose_corruptions_full() {
    if let Some(rows) = full() {
        check_prose_corruptions(&rows, "full", PROSE_CORRUPTION_MIN_RATE);
    }
}

/// Rough throughput of answer + steps on reference solutions, on one thread and on two (printed;
/// the assertion only catches pathological slowdowns, as machines differ).
#[test]
fn throughput() {
    let rows = full().unwrap_or_else(fixture);
    let (a, s) = (answer_verifier(), steps_verifier());
    let samples: Vec<Sample> = rows
        .iter()
        .map(|r| Sample::new(r.answer.clone(), Some(&reference(&r.answer))))
        .collect();
    for (name, v) in [("answer", &a as &dyn Verifier), ("steps", &s)] {
        let t = std::time::Instant::now();
        for sample in &samples {
            assert!(v.verify(sample).is_ok());
        }
        let per = t.elapsed().as_secs_f64() / samples.len() as f64;
        println!(
            "throughput: {name} {:.1} µs/sample on one thread",
            per * 1e6
        );
    }
    let rounds = (20_000 / samples.len()).max(1);
    for threads in [1usize, 2] {
        let start = std::time::Instant::now();
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (a, s, samples) = (&a, &s, &samples);
                scope.spawn(move || {
                    for _ in 0..rounds {
                        for sample in samples.iter().skip(t).step_by(threads) {
                            assert!(a.verify(sample).is_ok_and(|v| v.is_accept()));
                            assert!(s.verify(sample).is_ok());
                        }
                    }
                });
            }
        });
        let secs = start.elapsed().as_secs_f64();
        let n = rounds * samples.len();
        println!(
            "throughput: {threads} thread(s): {:.0} samples/s = {:.0} checks/s (answer + steps)",
            n as f64 / secs,
            2.0 * n as f64 / secs
        );
        assert!(n as f64 / secs > 1_000.0, "answer + steps far too slow");
    }
}
