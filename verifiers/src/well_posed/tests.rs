//! Well-posedness: each reason on a hand-made proposal, and the round trip through the SMT
//! verifier (a proven answer is accepted by `smt` on the same statement).

use super::*;
use crate::{Sample, SmtConfig, SmtVerifier, Verdict, Verifier};

fn proposal(text: &str, smt: &str) -> Proposal {
    Proposal {
        text: text.into(),
        smt: smt.into(),
        equation: None,
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

/// A completion in the equation form, read and checked: the answer, or the reason.
fn equation(text: &str, eq: &str) -> Result<String, &'static str> {
    let proposal = parse_proposal(&format!("Problem: {text}\nEquation: {eq}\n")).map_err(|r| {
        eprintln!("{r}");
        r.reason
    })?;
    assert_eq!(proposal.equation.as_deref(), Some(eq.trim_end_matches('.')));
    check(&proposal, SolverLimits::default())
        .map(|p| p.answer)
        .map_err(|r| {
            eprintln!("{r}");
            r.reason
        })
}

#[test]
fn the_equation_form_is_proven_over_the_reals() {
    let pens =
        "Sam buys 4 pens at 3 dollars each and a book for 10 dollars. How much does he spend?";
    assert_eq!(equation(pens, "answer = 4 * 3 + 10.").as_deref(), Ok("22"));
    assert_eq!(equation(pens, "4 × 3 + 10 = answer").as_deref(), Ok("22"));
    let eggs = "A box holds 6 eggs. How many boxes hold 40 eggs?";
    assert_eq!(equation(eggs, "answer * 6 = 40").as_deref(), Ok("20/3"));
    let shirt = "A shirt costs 40 dollars and is 25% off. What does it cost now?";
    assert_eq!(
        equation(shirt, "answer = 40 - 25% * 40").as_deref(),
        Ok("30")
    );
    let ages = "Tom is 3 times as old as his son. Together they are 48. How old is the son?";
    assert_eq!(
        equation(ages, "answer + 3 * answer = 48").as_deref(),
        Ok("12")
    );
    let half = "Half of the 9 cakes were eaten. How many were eaten?";
    assert_eq!(equation(half, "answer = 9 / 2").as_deref(), Ok("4.5"));

    // A chain asserts each `=`; its trailing result need not be a number of the text.
    assert_eq!(
        equation(pens, "answer = 4 * 3 + 10 = 22").as_deref(),
        Ok("22")
    );
    assert_eq!(
        equation(pens, "answer = $4 * $3 + $10").as_deref(),
        Ok("22")
    );
    assert_eq!(equation(pens, "answer = 4 * 3 + 10 = 21"), Err("unsat"));
    // ... but a defining side must: `answer = 4 * 5 = 20` invents the 5.
    assert_eq!(equation(pens, "answer = 4 * 5 = 20"), Err("text_mismatch"));
    assert_eq!(
        equation(pens, "answer = 22 = 4 * 3 + 10"),
        Err("text_mismatch")
    );

    // The translation: reals, and every divisor non-zero.
    assert_eq!(
        equation::to_smtlib("answer = 7 / (2 - 1.5)").unwrap(),
        "(declare-const answer Real) (assert (= answer (/ 7.0 (- 2.0 1.5)))) \
         (assert (not (= (- 2.0 1.5) 0.0)))"
    );
    let t = equation::translate("answer * 2 = 3 + 5 = 8").unwrap();
    assert_eq!(
        t.smt,
        "(declare-const answer Real) (assert (= (* answer 2.0) (+ 3.0 5.0))) \
         (assert (= (+ 3.0 5.0) 8.0))"
    );
    assert_eq!(
        t.definition,
        "(declare-const answer Real) (assert (= (* answer 2.0) (+ 3.0 5.0)))"
    );
    // A statement that is not its equation's translation is refused.
    let mut p = parse_proposal(&format!("Problem: {pens}\nEquation: answer = 4 * 3 + 10")).unwrap();
    p.smt = "(declare-const answer Real) (assert (= answer 22.0))".into();
    assert_eq!(
        check(&p, SolverLimits::default()).unwrap_err().reason,
        "unparsable"
    );
}

#[test]
fn the_equation_form_refuses_what_it_cannot_read() {
    let t = "Ann has 2 bags of 3 apples. How many apples?";
    for eq in [
        "answer = 2answer",
        "answer = 2 (3)",
        "x = 2 * 3",
        "answer ^ 2 = 3",
        "2 * 3 = 6",
        "answer = 2 * 3 +",
        "answer = (2 * 3",
        "answer = 2 * 3 = 6 apples",
        "answer = #2 * 3",
        "",
    ] {
        assert_eq!(equation(t, eq), Err("unparsable"), "{eq}");
    }
    assert_eq!(
        parse_proposal("Problem: What is 2 + 3?\nAnswer: 5")
            .unwrap_err()
            .reason,
        "unparsable"
    );
}

#[test]
fn the_equation_form_has_every_reason() {
    // Division by zero cannot make a solution: 6 / answer = 0 has none.
    assert_eq!(
        equation(
            "6 divided by a number is 0. What is the number?",
            "6 / answer = 0"
        ),
        Err("unsat")
    );
    assert_eq!(
        equation("Divide 2 by 3 minus 3.", "answer = 2 / (3 - 3)"),
        Err("unsat")
    );
    assert_eq!(
        equation("A number times 0 is 0. What is it?", "answer * 0 = 0"),
        Err("not_unique")
    );
    assert_eq!(
        equation("Sam has 5 apples and buys 8 more.", "answer = 5 + 7"),
        Err("text_mismatch")
    );
}

#[test]
fn a_statement_may_not_invent_numbers() {
    let cars = "Ben has 2 cars. How many wheels do they have?";
    assert_eq!(equation(cars, "answer = 2 * 4"), Err("text_mismatch"));
    let four = "Ben has 2 cars with four wheels each. How many wheels do they have?";
    assert_eq!(equation(four, "answer = 2 * 4").as_deref(), Ok("8"));
    assert_eq!(
        reason(
            "Ben has 2 cars. How many wheels do they have?",
            "(declare-const answer Int) (assert (= answer (* 2 4)))"
        ),
        "text_mismatch"
    );
    // 0 and 1 are always allowed, 100 with a percentage, a dozen is 12.
    let p = proposal(
        "Eggs come by the dozen. Mia buys 3 dozen and 50% are brown. How many are brown?",
        "(declare-const answer Int) (assert (>= answer 0)) \
         (assert (= (* answer 100) (* 50 (* 3 12))))",
    );
    assert_eq!(check(&p, SolverLimits::default()).unwrap().answer, "18");
}
