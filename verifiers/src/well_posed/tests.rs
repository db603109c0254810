//! Well-posedness: each reason on a hand-made proposal, and the round trip through the SMT
//! verifier (a proven answer is accepted by `smt` on the same statement).

use super::*;
use crate::{Sample, SmtConfig, SmtVerifier, Verdict, Verifier};

fn proposal(text: &str, smt: &str) -> Proposal {
    Proposal {
        text: text.into(),
        smt: smt.into(),
    }
}

fn reason(text: &str, smt: &str) -> &'static str {
    match check(&proposal(text, smt), SolverLimits::default()) {
        Ok(p) => panic!("accepted with answer {}", p.answer),
        Err(r) => {
            eprintln!("{r}");
            r.reason
        }
    }
}

#[test]
fn a_well_posed_proposal_is_proven() {
    let p = proposal(
        "A farmer has 3 pens with 12 hens each. How many hens are there?",
        "(declare-const answer Int) (assert (= answer (* 3 12)))",
    );
    let proven = check(&p, SolverLimits::default()).unwrap();
    assert_eq!(proven.answer, "36");
    assert!(proven.single_constant);

    // A system whose asked-for unknown is `answer`, with a rational solution.
    let p = proposal(
        "Two numbers add up to 7 and the first is 2 more than the second. Twice the first is the answer. Half of 5 is 2.5.",
        "(declare-const a Real) (declare-const b Real) (declare-const answer Real)
         (assert (= (+ a b) 7)) (assert (= a (+ b 2))) (assert (= answer (* 2 a)))
         (assert (= (/ 5 2) 2.5))",
    );
    let proven = check(&p, SolverLimits::default()).unwrap();
    assert_eq!(proven.answer, "9");
    assert!(!proven.single_constant);
}

#[test]
fn each_reason() {
    assert_eq!(
        reason(
            "What is 3 + 4?",
            "(declare-const x Int) (assert (= x (+ 3 4))"
        ),
        "unparsable"
    );
    assert_eq!(
        reason("What is 3 + 4?", "(declare-const x Int)"),
        "unparsable"
    );
    assert_eq!(
        reason(
            "What is 3 + 4?",
            "(declare-const x Int) (declare-const y Int) (assert (= x (+ 3 4)))"
        ),
        "unparsable",
        "two constants, none named answer"
    );
    assert_eq!(
        reason("Is 3 < 4?", "(declare-const b Bool) (assert (= b (< 3 4)))"),
        "unparsable"
    );
    assert_eq!(
        reason(
            "Sam has 5 apples and buys 8 more.",
            "(declare-const x Int) (assert (= x (+ 5 7)))"
        ),
        "text_mismatch"
    );
    assert_eq!(
        reason(
            "A number is 2 more than itself. Find it.",
            "(declare-const x Int) (assert (= x (+ x 2)))"
        ),
        "unsat"
    );
    assert_eq!(
        reason(
            "A square of a number is 9. Find it.",
            "(declare-const x Int) (assert (= (* x x) 9))"
        ),
        "not_unique"
    );
    // Nonlinear integer arithmetic under a tiny resource limit: Z3 gives up.
    let hard = proposal(
        "Find x with x*x*x + y*y*y = 29 and x > 1.",
        "(declare-const x Int) (declare-const y Int) (declare-const answer Int)
         (assert (= (+ (* x x x) (* y y y)) 29)) (assert (> x 1)) (assert (= answer x))",
    );
    let tiny = SolverLimits {
        timeout_ms: 5_000,
        rlimit: 1,
    };
    assert_eq!(check(&hard, tiny).unwrap_err().reason, "solver_unknown");
}

#[test]
fn text_numbers_in_their_written_forms() {
    let ok = |text: &str, smt: &str| check(&proposal(text, smt), SolverLimits::default()).is_ok();
    assert!(ok(
        "25% of 80 people stay.",
        "(declare-const x Real) (assert (= x (* 0.25 80)))"
    ));
    assert!(ok(
        "25% of 80 people stay.",
        "(declare-const x Real) (assert (= x (/ (* 25 80) 100)))"
    ));
    assert!(ok(
        "Eat 3/4 of 8 pies.",
        "(declare-const x Real) (assert (= x (* (/ 3 4) 8)))"
    ));
    assert!(ok(
        "Pay 1,200 dollars over 12 months.",
        "(declare-const x Int) (assert (= (* x 12) 1200))"
    ));
    // A number glued to a word is a name, not a quantity.
    assert!(ok(
        "Player x2 scores 4 then 5.",
        "(declare-const x Int) (assert (= x (+ 4 5)))"
    ));
    assert!(!ok(
        "Pay 1,300 dollars over 12 months.",
        "(declare-const x Int) (assert (= (* x 12) 1200))"
    ));
}

#[test]
fn proposals_are_read_from_completions() {
    let c = "Sure! Here is one.\nProblem: Tom reads 4 pages a day for 6 days. How many pages?\nSMT:\n```smt\n(declare-const answer Int)\n(assert (= answer (* 4 6)))\n```\nThis works because...";
    let p = parse_proposal(c).unwrap();
    assert_eq!(
        p.text,
        "Tom reads 4 pages a day for 6 days. How many pages?"
    );
    assert_eq!(
        p.smt,
        "(declare-const answer Int)\n(assert (= answer (* 4 6)))"
    );
    assert_eq!(check(&p, SolverLimits::default()).unwrap().answer, "24");

    let c =
        "problem: What is 2 + 2?\nsmt: (declare-const x Int) (assert (= x (+ 2 2))) and more words";
    assert_eq!(
        parse_proposal(c).unwrap().smt,
        "(declare-const x Int) (assert (= x (+ 2 2)))"
    );
    assert_eq!(
        parse_proposal("Problem: What is 2 + 2?")
            .unwrap_err()
            .reason,
        "unparsable"
    );
    assert_eq!(
        parse_proposal("SMT: (assert true)").unwrap_err().reason,
        "unparsable"
    );
    assert_eq!(
        parse_proposal("Problem:\nSMT: (assert true)")
            .unwrap_err()
            .reason,
        "unparsable"
    );
}

#[test]
fn a_proven_answer_passes_the_smt_verifier_and_a_wrong_one_does_not() {
    let p = proposal(
        "A shop sells 7 pens for 21 dollars. What does one pen cost?",
        "(declare-const x Real) (assert (= (* 7 x) 21))",
    );
    let proven = check(&p, SolverLimits::default()).unwrap();
    let smt = SmtVerifier::new(SmtConfig::default()).unwrap();
    let verdict = |answer: &str| {
        smt.verify(&Sample {
            completion: format!("\\boxed{{{answer}}}"),
            constraints: Some(p.smt.clone()),
            ..Sample::default()
        })
        .unwrap()
    };
    assert!(matches!(verdict(&proven.answer), Verdict::Accept { .. }));
    assert!(matches!(verdict("4"), Verdict::Reject { .. }));
}

#[test]
fn z3_numerals_are_read_exactly() {
    let r = |n: i64, d: i64| BigRational::new(n.into(), d.into());
    assert_eq!(numeral("7"), Some(r(7, 1)));
    assert_eq!(numeral("(- 3)"), Some(r(-3, 1)));
    assert_eq!(numeral("(/ 5.0 2.0)"), Some(r(5, 2)));
    assert_eq!(numeral("(- (/ 1 3))"), Some(r(-1, 3)));
    assert_eq!(numeral("x"), None);
    assert_eq!(numeral("(/ 1 0)"), None);
}
