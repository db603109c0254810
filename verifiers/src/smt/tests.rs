//! The SMT verifier: linear equations, systems, uniqueness, malformed input, limits.

use super::*;
use crate::compliance::{assert_verifier_compliance, Expect};
use std::time::{Duration, Instant};

const LINEAR: &str = "(declare-const x Int) (assert (= (+ (* 3 x) 5) 20))";
const SYSTEM: &str = "(declare-const x Real) (declare-const y Real)
    (assert (= (+ x y) 3)) (assert (= (- x (* 2 y)) 4.5))";
const UNDERDETERMINED: &str = "(declare-const x Int) (declare-const y Int) (assert (= (+ x y) 3))";

fn verifier(cfg: SmtConfig) -> SmtVerifier {
    SmtVerifier::new(cfg).unwrap_or_else(|e| panic!("{e}"))
}

fn sample(completion: &str, constraints: Option<&str>) -> Sample {
    Sample {
        completion: completion.to_owned(),
        constraints: constraints.map(str::to_owned),
        ..Sample::default()
    }
}

fn reason_with(v: &SmtVerifier, completion: &str, constraints: Option<&str>) -> String {
    match v.verify(&sample(completion, constraints)) {
        Ok(Verdict::Accept { .. }) => "accept".into(),
        Ok(Verdict::Reject { reason, detail }) => {
            eprintln!("{reason}: {detail}");
            reason
        }
        Err(e) => format!("error {e}"),
    }
}

fn reason(completion: &str, constraints: Option<&str>) -> String {
    reason_with(&verifier(SmtConfig::default()), completion, constraints)
}

#[test]
fn linear_equation() {
    assert_eq!(reason("so \\boxed{5}", Some(LINEAR)), "accept");
    assert_eq!(reason("The answer is x = 5.", Some(LINEAR)), "accept");
    assert_eq!(reason("\\boxed{4}", Some(LINEAR)), "wrong_answer");
    assert_eq!(reason("\\boxed{5.5}", Some(LINEAR)), "wrong_answer");
    assert_eq!(reason("\\boxed{y = 5}", Some(LINEAR)), "unparsable_answer");
    assert_eq!(reason("\\boxed{five}", Some(LINEAR)), "unparsable_answer");
}

#[test]
fn two_by_two_system_is_unique() {
    // x + y = 3, x - 2y = 4.5  =>  x = 3.5, y = -0.5
    assert_eq!(reason("\\boxed{(3.5, -1/2)}", Some(SYSTEM)), "accept");
    assert_eq!(reason("Answer: x = 7/2, y = -0.5", Some(SYSTEM)), "accept");
    assert_eq!(reason("Answer: y = -0.5, x = 3.5", Some(SYSTEM)), "accept");
    assert_eq!(reason("\\boxed{(-1/2, 3.5)}", Some(SYSTEM)), "wrong_answer");
    assert_eq!(reason("\\boxed{3.5}", Some(SYSTEM)), "unparsable_answer");
    assert_eq!(
        reason("\\boxed{(3.5, -0.5, 1)}", Some(SYSTEM)),
        "unparsable_answer"
    );
}

#[test]
fn underdetermined_system_is_not_unique() {
    assert_eq!(
        reason("\\boxed{(2, 1)}", Some(UNDERDETERMINED)),
        "not_unique"
    );
    let lenient = verifier(SmtConfig {
        prove_unique: false,
        ..SmtConfig::default()
    });
    assert_eq!(
        reason_with(&lenient, "\\boxed{(2, 1)}", Some(UNDERDETERMINED)),
        "accept"
    );
    assert_eq!(
        reason_with(&lenient, "\\boxed{(2, 2)}", Some(UNDERDETERMINED)),
        "wrong_answer"
    );
}

#[test]
fn booleans_and_functions() {
    let c = "(declare-const p Bool) (declare-const n Int) (declare-fun f (Int) Int)
             (assert (= p (> n 2))) (assert (= n 3)) (assert (= (f n) 7))";
    assert_eq!(reason("\\boxed{(true, 3)}", Some(c)), "accept");
    assert_eq!(reason("\\boxed{(false, 3)}", Some(c)), "wrong_answer");
}

#[test]
fn malformed_constraints_never_accept() {
    for bad in [
        "(declare-const x Int) (assert (= x y))",
        "(declare-const x Int) (assert (= x 5)",
        "(declare-const x Int) (assert (= x 5)))",
        "(declare-const x String) (assert (= x \"5\"))",
        "(assert (= 5 5))",
        "(declare-const x Int)",
        "(declare-const x Int) (assert (= x 5)) (assert (= x 6))",
        "(declare-const x Int) (assert (+ x 5))",
        "garbage",
        "(declare-const x Int) (assert (= x 5)) \"unterminated",
        "(declare-const x Int) (assert (= x 5)) (check-sat) (exit) (assert (= x 6))",
        "(declare-const x Int) (assert (= x 5)) (push 1) (assert (= x 6)) (pop 1)",
        "(declare-const x Int) (define-fun five () Int 5) (assert (= x five)) x",
    ] {
        assert_eq!(
            reason("\\boxed{5}", Some(bad)),
            "malformed_constraints",
            "{bad}"
        );
    }
    // Commands a file may carry are fine.
    let ok = "(set-logic QF_LIA) (set-option :produce-models true) (declare-const x Int)
              (assert (= x 5)) (check-sat) (get-model)";
    assert_eq!(reason("\\boxed{5}", Some(ok)), "accept");
}

#[test]
fn missing_ground_truth_and_no_answer() {
    assert_eq!(reason("\\boxed{5}", None), "missing_ground_truth");
    assert_eq!(reason("\\boxed{5}", Some("  ")), "missing_ground_truth");
    assert_eq!(reason("I think it is five", Some(LINEAR)), "no_answer");
    assert_eq!(reason("\\boxed{5", Some(LINEAR)), "no_answer");
}

/// x^3 + y^3 = z^3 + 1 in integers with 1 < x <= y: (9, 10, 12) is a solution (1729), and the
/// next is (64, 94, 103), so proving uniqueness (or finding another) is hard.
const TAXICAB: &str = "(declare-const x Int) (declare-const y Int) (declare-const z Int)
    (assert (> x 1)) (assert (> y 0)) (assert (> z 0)) (assert (<= x y))
    (assert (= (+ (* x x x) (* y y y)) (+ (* z z z) 1)))";

#[test]
fn hard_problem_with_tiny_limits_is_unknown_quickly() {
    // A short wall-clock budget with a generous rlimit: the timeout stops it.
    // A generous budget with a tiny rlimit: the resource limit stops it.
    for (timeout_ms, rlimit) in [(300, u32::MAX), (60_000, 2_000)] {
        let v = verifier(SmtConfig {
            timeout_ms,
            rlimit,
            ..SmtConfig::default()
        });
        let start = Instant::now();
        assert_eq!(
            reason_with(&v, "\\boxed{(9, 10, 12)}", Some(TAXICAB)),
            "solver_unknown"
        );
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(3),
            "took {took:?} with {timeout_ms} ms, rlimit {rlimit}"
        );
        // Checking an answer stays cheap under the same limits.
        assert_eq!(
            reason_with(&v, "\\boxed{(9, 10, 13)}", Some(TAXICAB)),
            "wrong_answer"
        );
    }
}

#[test]
fn a_watchdog_interrupts_from_another_thread() {
    // Several threads at once, each with its own context, all stopped on time.
    let v = verifier(SmtConfig {
        timeout_ms: 300,
        rlimit: u32::MAX,
        ..SmtConfig::default()
    });
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                assert_eq!(
                    reason_with(&v, "\\boxed{(9, 10, 12)}", Some(TAXICAB)),
                    "solver_unknown"
                )
            });
        }
    });
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn config() {
    let cfg: SmtConfig =
        serde_json::from_value(serde_json::json!({"prove_unique": false, "timeout_ms": 100}))
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(!cfg.prove_unique);
    assert_eq!(cfg.rlimit, SmtConfig::default().rlimit);
    assert!(serde_json::from_value::<SmtConfig>(serde_json::json!({"unique": true})).is_err());
    for bad in [
        SmtConfig {
            timeout_ms: 0,
            ..SmtConfig::default()
        },
        SmtConfig {
            rlimit: 0,
            ..SmtConfig::default()
        },
        SmtConfig {
            patterns: vec!["(".into()],
            ..SmtConfig::default()
        },
    ] {
        assert!(matches!(SmtVerifier::new(bad), Err(VerifyError::Config(_))));
    }
}

#[test]
fn declarations_in_order() {
    let o = outline("; comment (declare-const z Int)\n(declare-fun b () Real) (declare-const a Bool) (declare-fun f (Int) Int) (assert true)")
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = o.vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(o.asserts, 1);
    assert!(outline("((((").is_err());
    assert!(outline(&"(".repeat(10_000)).is_err());
    assert!(outline("(push 1)").is_err());
}

#[test]
fn compliance() {
    let v = verifier(SmtConfig::default());
    let cases = vec![
        (sample("\\boxed{5}", Some(LINEAR)), Expect::Accept),
        (sample("\\boxed{(3.5, -0.5)}", Some(SYSTEM)), Expect::Accept),
        (
            sample("\\boxed{4}", Some(LINEAR)),
            Expect::reject("wrong_answer"),
        ),
        (
            sample("\\boxed{(2, 1)}", Some(UNDERDETERMINED)),
            Expect::reject("not_unique"),
        ),
        (
            sample("\\boxed{5}", Some("(assert")),
            Expect::reject("malformed_constraints"),
        ),
    ];
    assert_verifier_compliance(&v, &cases);
}
