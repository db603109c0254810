//! The math verifiers through the public API only, as the pipeline and its benchmark use them:
//! construction from JSON configs, verdicts from several threads, hostile completions, and a
//! rough per-call cost of each verifier (printed).

use smelt_verifiers::{
    run_verifier, AnswerConfig, AnswerVerifier, EquivalenceConfig, EquivalenceVerifier, Sample,
    SmtConfig, SmtVerifier, StepsConfig, StepsVerifier, Verifier,
};
use std::time::Instant;

fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("config: {e}"))
}

fn all() -> Vec<(Box<dyn Verifier>, Sample)> {
    let answer = AnswerVerifier::new(from_json::<AnswerConfig>(serde_json::json!({})));
    let steps = StepsVerifier::new(from_json::<StepsConfig>(
        serde_json::json!({"require_claims": true}),
    ));
    let smt = SmtVerifier::new(from_json::<SmtConfig>(
        serde_json::json!({"timeout_ms": 2000}),
    ));
    let eq = EquivalenceVerifier::new(from_json::<EquivalenceConfig>(serde_json::json!({})));
    let gsm = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72";
    vec![
        (
            Box::new(answer.unwrap_or_else(|e| panic!("{e}"))) as Box<dyn Verifier>,
            Sample::new(gsm, Some("72")),
        ),
        (
            Box::new(steps.unwrap_or_else(|e| panic!("{e}"))),
            Sample::new(gsm, Some("72")),
        ),
        (
            Box::new(smt.unwrap_or_else(|e| panic!("{e}"))),
            Sample {
                completion: "3x + 5 = 20, so x = 5.\nThe answer is $\\boxed{5}$.".into(),
                constraints: Some("(declare-const x Int) (assert (= (+ (* 3 x) 5) 20))".into()),
                ..Sample::default()
            },
        ),
        (
            Box::new(eq.unwrap_or_else(|e| panic!("{e}"))),
            Sample::new("Expanding, $\\boxed{2(x+1)}$.", Some("2x + 2")),
        ),
    ]
}

#[test]
fn each_accepts_its_good_sample_from_many_threads() {
    let verifiers = all();
    std::thread::scope(|s| {
        for t in 0..4 {
            let verifiers = &verifiers;
            s.spawn(move || {
                for (v, sample) in verifiers.iter().cycle().skip(t).take(verifiers.len() * 3) {
                    let rec = run_verifier(v.as_ref(), sample);
                    assert!(
                        rec.accepted,
                        "{}: {} {}",
                        rec.verifier, rec.reason, rec.detail
                    );
                    assert!(!rec.version.is_empty());
                }
            });
        }
    });
}

#[test]
fn none_accepts_hostile_completions() {
    let big = format!("\\boxed{{{}", "1+".repeat(5 << 20));
    let hostile = [
        String::new(),
        "\\boxed{".to_owned(),
        "```python\nprint(1)\n".to_owned(),
        String::from_utf8_lossy(&[0xff, 0xfe, b'#', b'#', b'#', b'#', b' ', 0xc3]).into_owned(),
        big,
        format!("\\boxed{{{}1}}", "1+".repeat(5 << 20)),
    ];
    for (v, good) in all() {
        for h in &hostile {
            let sample = Sample {
                completion: h.clone(),
                ..good.clone()
            };
            let rec = run_verifier(v.as_ref(), &sample);
            assert!(
                !rec.error,
                "{}: error {} on a hostile completion",
                rec.verifier, rec.detail
            );
            // `steps` with require_claims rejects; the others find no (usable) answer.
            assert!(
                !rec.accepted,
                "{} accepted {:?}…",
                rec.verifier,
                h.get(..40)
            );
        }
    }
}

#[test]
fn cost_per_call() {
    for (v, sample) in all() {
        let n = if matches!(v.name(), "smt" | "equivalence") {
            50
        } else {
            5_000
        };
        let start = Instant::now();
        for _ in 0..n {
            assert!(v.verify(&sample).is_ok_and(|verdict| verdict.is_accept()));
        }
        let per = start.elapsed() / n;
        println!("cost: {} {per:?} per call", v.name());
    }
}
