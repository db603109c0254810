//! Final answers as MATH, NuminaMath and model traces write them: the corpus in
//! `fixtures/math_answers.jsonl` (gold, prediction, equal, note) through the public API of the
//! `answer` and `equivalence` verifiers. Each prediction is the completion (wrapped as
//! `Final answer: …` unless it carries its own `\boxed{}`), the gold is the reference.
//!
//! Targets: at least 95% of the equal pairs accepted by each verifier, no unequal pair
//! accepted. `SMELT_MATH_CORPUS=path.jsonl` runs the same checks on another corpus of the same
//! form (held-out data), without the size check. Also prints plain-number throughput (must stay in the tens of thousands of checks/s).

mod support;

use smelt_verifiers::{
    AnswerConfig, AnswerVerifier, EquivalenceConfig, EquivalenceVerifier, Sample, Verdict, Verifier,
};
use std::time::Instant;

struct Pair {
    gold: String,
    prediction: String,
    equal: bool,
    note: String,
}

fn corpus() -> Vec<Pair> {
    let path = std::env::var_os("SMELT_MATH_CORPUS").map_or_else(
        || support::crate_dir().join("tests/fixtures/math_answers.jsonl"),
        std::path::PathBuf::from,
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            let s = |k: &str| {
                v[k].as_str()
                    .unwrap_or_else(|| panic!("{l}: no {k}"))
                    .to_owned()
            };
            Pair {
                gold: s("gold"),
                prediction: s("prediction"),
                equal: v["equal"]
                    .as_bool()
                    .unwrap_or_else(|| panic!("{l}: no equal")),
                note: s("note"),
            }
        })
        .collect()
}

fn completion(prediction: &str) -> String {
    if prediction.contains("\\boxed") {
        format!("So we get {prediction}.")
    } else {
        format!("Final answer: {prediction}")
    }
}

fn run(name: &str, v: &dyn Verifier, pairs: &[Pair]) {
    let (mut eq_total, mut eq_ok, mut ne_total) = (0, 0, 0);
    let mut missed = Vec::new();
    let mut false_accepts = Vec::new();
    let start = Instant::now();
    for p in pairs {
        let sample = Sample::new(completion(&p.prediction), Some(&p.gold));
        let verdict = v
            .verify(&sample)
            .unwrap_or_else(|e| panic!("{name}: {} vs {}: {e}", p.prediction, p.gold));
        match (&verdict, p.equal) {
            (Verdict::Accept { .. }, true) => {
                eq_total += 1;
                eq_ok += 1;
            }
            (Verdict::Reject { reason, detail }, true) => {
                eq_total += 1;
                missed.push(format!(
                    "{} vs {} ({}): {reason}: {detail}",
                    p.prediction, p.gold, p.note
                ));
            }
            (Verdict::Accept { evidence, .. }, false) => {
                ne_total += 1;
                false_accepts.push(format!(
                    "{} vs {} ({}): {evidence}",
                    p.prediction, p.gold, p.note
                ));
            }
            (Verdict::Reject { .. }, false) => ne_total += 1,
        }
    }
    let rate = 100.0 * f64::from(eq_ok) / f64::from(eq_total.max(1));
    println!(
        "{name}: {eq_ok}/{eq_total} equal pairs accepted ({rate:.1}%), {}/{ne_total} unequal pairs accepted, in {:.2?}",
        false_accepts.len(),
        start.elapsed()
    );
    for m in &missed {
        println!("  {name} missed: {m}");
    }
    let own = std::env::var_os("SMELT_MATH_CORPUS").is_none();
    assert!(
        !own || (eq_total >= 250 && ne_total >= 80),
        "corpus too small: {eq_total} equal, {ne_total} unequal"
    );
    assert!(
        false_accepts.is_empty(),
        "{name} false accepts: {false_accepts:#?}"
    );
    assert!(
        rate >= 95.0,
        "{name}: {rate:.1}% of equal pairs accepted, below 95%"
    );
}

#[test]
fn answer_verifier_on_the_corpus() {
    let v = AnswerVerifier::new(AnswerConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    run("answer", &v, &corpus());
}

#[test]
fn equivalence_verifier_on_the_corpus() {
    let v =
        EquivalenceVerifier::new(EquivalenceConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    run("equivalence", &v, &corpus());
}

#[test]
fn plain_number_throughput() {
    let a = AnswerVerifier::new(AnswerConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let e =
        EquivalenceVerifier::new(EquivalenceConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let samples: Vec<Sample> = (0..20_000)
        .map(|i| {
            Sample::new(
                format!("So 3 + {i} = {}.\n#### {}", i + 3, i + 3),
                Some(&(i + 3).to_string()),
            )
        })
        .collect();
    for (name, v) in [("answer", &a as &dyn Verifier), ("equivalence", &e)] {
        let start = Instant::now();
        let accepted = samples
            .iter()
            .filter(|s| v.verify(s).is_ok_and(|v| v.is_accept()))
            .count();
        let rate = samples.len() as f64 / start.elapsed().as_secs_f64();
        println!("{name}: {rate:.0} plain-number checks/s on one thread");
        assert_eq!(accepted, samples.len());
        assert!(rate > 10_000.0, "{name}: {rate:.0} checks/s");
    }
}
