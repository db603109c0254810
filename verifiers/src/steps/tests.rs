//! Behaviour of the steps verifier as a whole.

use super::*;
use crate::compliance::{assert_verifier_compliance, Expect};

fn verifier() -> StepsVerifier {
    StepsVerifier::new(StepsConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn verdict(text: &str) -> Verdict {
    verifier()
        .verify(&Sample::new(text, None))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn rejected(text: &str) -> bool {
    matches!(verdict(text), Verdict::Reject { ref reason, .. } if reason == "false_step")
}

fn accepted(text: &str) -> bool {
    verdict(text).is_accept()
}

#[test]
fn true_claims_are_accepted_with_counts() {
    let v = verdict("48/2 = <<48/2=24>>24 clips.\nThen 48+24 = 72 and 72 × 2 = 144.");
    assert_eq!(v, Verdict::accept("checked 4 claims (0 skipped)"));
    assert_eq!(
        verdict("No arithmetic here."),
        Verdict::accept("no arithmetic claims (0 skipped)")
    );
}

#[test]
fn a_false_claim_is_named_with_its_line() {
    let v = verdict("First 2 + 2 = 4.\nThen 12 * 3 = 35 apples.\n#### 35");
    let Verdict::Reject { reason, detail } = v else {
        panic!("expected a reject")
    };
    assert_eq!(reason, "false_step");
    assert!(detail.contains("line 2"), "{detail}");
    assert!(detail.contains("12 * 3 = 35"), "{detail}");
    assert!(detail.contains("36 ≠ 35"), "{detail}");
    // Even when the final answer would be right.
    assert!(rejected("<<5*5=24>>25\n#### 25"));
}

#[test]
fn forms_of_claims() {
    assert!(accepted("$1,200 + $300 = $1,500"));
    assert!(accepted("0.2 x 50 = 10"));
    assert!(accepted("(3 + 4) * 2 = 14 = 7 * 2"));
    assert!(rejected("(3 + 4) * 2 = 14 = 7 * 3"));
    assert!(accepted("2(3 + 4) = 14"));
    assert!(accepted("5² = 25 and 2^10 = 1024"));
    assert!(accepted("1 1/2 + 1 = 2 1/2"));
    assert!(accepted("$\\frac{48}{2} = 24$ and $3 \\times 4 = 12$"));
    assert!(rejected("$\\frac{48}{2} = 25$"));
    assert!(accepted("25 / 1/3 = 75"));
    assert!(accepted("17/3 = 5 and 2/3"));
    assert!(accepted("It takes 30 snakes * 3 birds/snake = 90 birds."));
    assert!(rejected("It takes 30 snakes * 3 birds/snake = 93 birds."));
    assert!(rejected("5 / 0 = 0"));
}

#[test]
fn non_claims_are_not_rejected() {
    // Dates, ranges, times, list numbering, labels, unknowns, approximations.
    assert!(accepted("On 2023-01-05 = the day we met"));
    assert!(accepted("It takes 3-4 hours, Weeks 1-2 = 96 - 70 = 26"));
    assert!(accepted("From 3:00 to 5:00 = 2 hours"));
    assert!(accepted("1. 5 + 3 = 8\n2. 8 * 2 = 16"));
    assert!(accepted("Section 2 = x + 200"));
    assert!(accepted("Let x = 5 apples"));
    assert!(accepted("10/3 ≈ 3.3 and 22/7 ~ 3.14"));
    assert!(accepted("2 hours + 30 minutes = 150 minutes"));
    assert!(accepted("3 times 4 + 2 = 14"));
    assert!(accepted("He travels 7*2 = 14 billion miles"));
    assert!(accepted("4.5 gallons = 4.5 * 8 = 36 pints"));
    assert!(accepted("$1 / 2 = 50 cents"));
}

#[test]
fn rounding_to_written_precision() {
    assert!(accepted("10/3 = 3.33"));
    assert!(accepted("2/3 = 0.67"));
    assert!(accepted("2/3 = 0.66"));
    assert!(rejected("2/3 = 0.68"));
    assert!(rejected("10/60 = 0.2")); // one significant digit is not a rounding
    assert!(rejected("7/2 = 3")); // no leeway for integers
    assert!(rejected("<<10/3=3.33>>")); // nor for calculator annotations
    assert!(rejected("0.5 * 3 = 1.6")); // 1.5 needs no rounding
    let exact = StepsVerifier::new(StepsConfig {
        rounding: Rounding::Exact,
        ..StepsConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!exact
        .verify(&Sample::new("10/3 = 3.33", None))
        .unwrap_or_else(|e| panic!("{e}"))
        .is_accept());
}

#[test]
fn percentages_under_either_reading() {
    assert!(accepted("50 * 20% = 10"));
    assert!(accepted("0.5 * 100 = 50%"));
    assert!(accepted("30/60 = 50%"));
    assert!(accepted("100% - 40% = 60%"));
    assert!(rejected("50 * 20% = 12"));
    assert!(accepted("200 + 10% = 220")); // skipped: no single reading
}

#[test]
fn unknowns_use_the_traces_definitions() {
    assert!(accepted("2x + 3 = 11\nx = 4"));
    assert!(rejected("2x + 3 = 11\nx = 5"));
    // A letter defined twice with different values is not used.
    assert!(accepted("x = 4\n2x + 3 = 11\nx = 7"));
    // An equation with no value for its unknown is skipped.
    assert!(accepted("3y - 2 = 10"));
}

#[test]
fn integer_division_with_a_stated_remainder() {
    assert!(accepted(
        "13 / 6 = 2 full cycles with a remainder of 1 hour"
    ));
    assert!(rejected("13 / 6 = 2 full cycles"));
}

#[test]
fn require_claims() {
    let strict = StepsVerifier::new(StepsConfig {
        require_claims: true,
        ..StepsConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let v = strict
        .verify(&Sample::new("no numbers", None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(v, Verdict::Reject { ref reason, .. } if reason == "no_steps"));
    let json = serde_json::json!({"require_claims": true, "rounding": "exact"});
    let cfg: StepsConfig = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.rounding, Rounding::Exact);
    assert!(serde_json::from_value::<StepsConfig>(serde_json::json!({"bogus": 1})).is_err());
}

#[test]
fn compliance() {
    let cases = vec![
        (
            Sample::new("48/2 = <<48/2=24>>24\n#### 24", Some("24")),
            Expect::Accept,
        ),
        (Sample::new("no claims at all", None), Expect::Accept),
        (
            Sample::new("48/2 = <<48/2=25>>25", Some("25")),
            Expect::reject("false_step"),
        ),
        (Sample::new("3 + 4 = 8", None), Expect::reject("false_step")),
    ];
    assert_verifier_compliance(&verifier(), &cases);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn op_strategy() -> impl Strategy<Value = char> {
        prop_oneof![Just('+'), Just('-'), Just('*'), Just('/')]
    }

    fn apply(a: i64, op: char, b: i64) -> BigRational {
        let (a, b) = (
            BigRational::from_integer(a.into()),
            BigRational::from_integer(b.into()),
        );
        match op {
            '+' => a + b,
            '-' => a - b,
            '*' => a * b,
            _ => a / b,
        }
    }

    proptest! {
        #[test]
        fn true_claims_pass_and_off_by_one_fails(
            a in 0i64..100_000,
            b in 1i64..10_000,
            op in op_strategy(),
            style in 0usize..4,
            delta in prop_oneof![Just(-1i64), Just(1i64)],
        ) {
            let exact = apply(a, op, b);
            let shown = crate::numbers::format_rational(&exact);
            let shown_op = match (style, op) {
                (1, '*') => "×".to_owned(),
                (2, '*') => "x".to_owned(),
                (_, c) => c.to_string(),
            };
            let claim = |result: &str| match style {
                3 => format!("<<{a}{op}{b}={result}>>{result}"),
                _ => format!("So {a} {shown_op} {b} = {result} apples."),
            };
            prop_assume!(!shown.contains('/')); // a fraction result is written differently
            prop_assert!(accepted(&claim(&shown)), "{}", claim(&shown));
            let off = crate::numbers::format_rational(&(exact + BigRational::from_integer(delta.into())));
            prop_assert!(rejected(&claim(&off)), "{}", claim(&off));
        }

        #[test]
        fn never_panics(s in "[0-9+*/=() x%.,$a-z\\n-]{0,80}") {
            let _ = verifier().check(&s);
        }
    }
}
