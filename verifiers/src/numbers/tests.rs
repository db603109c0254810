//! Number parsing and exact comparison.

use super::*;

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn ok(s: &str) -> BigRational {
    parse_number(s).unwrap_or_else(|e| panic!("{s:?} did not parse: {e}"))
}

#[test]
fn integers_signs_decimals() {
    assert_eq!(ok("72"), q(72, 1));
    assert_eq!(ok("-47"), q(-47, 1));
    assert_eq!(ok("+5"), q(5, 1));
    assert_eq!(ok("0.25"), q(1, 4));
    assert_eq!(ok(".5"), q(1, 2));
    assert_eq!(ok("18.00"), q(18, 1));
    assert_eq!(ok("0.1"), q(1, 10));
    assert_eq!(ok("−3"), q(-3, 1));
    assert_eq!(ok("7."), q(7, 1));
}

#[test]
fn fractions_and_mixed_numbers() {
    assert_eq!(ok("3/4"), q(3, 4));
    assert_eq!(ok("-3/4"), q(-3, 4));
    assert_eq!(ok("6 / 8"), q(3, 4));
    assert_eq!(ok("1 1/2"), q(3, 2));
    assert_eq!(ok("-1 1/2"), q(-3, 2));
    assert_eq!(ok("1.5/3"), q(1, 2));
    assert!(matches!(
        parse_number("2 3/2"),
        Err(NumberError::Ambiguous(_))
    ));
    assert_eq!(parse_number("1/0"), Err(NumberError::DivisionByZero));
    assert!(parse_number("1 2").is_err());
}

#[test]
fn separators_currency_units() {
    assert_eq!(ok("1,234,567"), q(1_234_567, 1));
    assert_eq!(ok("$18.00"), q(18, 1));
    assert_eq!(ok("-$5"), q(-5, 1));
    assert_eq!(ok("€ 12"), q(12, 1));
    assert_eq!(ok("72 clips"), q(72, 1));
    assert_eq!(ok("5 dollars."), q(5, 1));
    assert_eq!(ok("25%"), q(25, 1));
    assert_eq!(ok("12 km/h"), q(12, 1));
    assert_eq!(ok("3 cm^2"), q(3, 1));
    assert_eq!(ok("2.5 million"), q(2_500_000, 1));
    assert_eq!(ok("$1,000 per month"), q(1000, 1));
    assert!(parse_number("1,5").is_err());
    assert!(parse_number("12,34").is_err());
    assert!(parse_number("1234,567").is_err());
    assert!(parse_number("5 dollars and 50 cents").is_err());
    assert!(parse_number("about 5").is_err());
    assert!(parse_number("≈ 3.14").is_err());
    assert!(parse_number("3.33...").is_err());
    assert!(parse_number("abc").is_err());
    assert_eq!(parse_number("  "), Err(NumberError::Empty));
}

#[test]
fn latex_forms() {
    assert_eq!(ok("\\frac{3}{4}"), q(3, 4));
    assert_eq!(ok("\\dfrac{-3}{4}"), q(-3, 4));
    assert_eq!(ok("-\\frac34"), q(-3, 4));
    assert_eq!(ok("1\\frac{1}{2}"), q(3, 2));
    assert_eq!(ok("\\$18"), q(18, 1));
    assert_eq!(ok("1{,}000"), q(1000, 1));
    assert_eq!(ok("\\text{5 dollars}"), q(5, 1));
    assert_eq!(ok("5\\text{ apples}"), q(5, 1));
    assert_eq!(ok("50\\%"), q(50, 1));
    assert!(parse_number("\\frac{1}{").is_err());
    assert!(parse_number("\\sqrt{2}").is_err());
}

#[test]
fn too_long_numerals_are_rejected_cheaply() {
    let long = "9".repeat(MAX_DIGITS + 1);
    assert_eq!(parse_number(&long), Err(NumberError::TooLong));
}

#[test]
fn formatting() {
    assert_eq!(format_rational(&q(72, 1)), "72");
    assert_eq!(format_rational(&q(-1, 4)), "-0.25");
    assert_eq!(format_rational(&q(1, 20)), "0.05");
    assert_eq!(format_rational(&q(1, 3)), "1/3");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn with_commas(n: u64) -> String {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    proptest! {
        #[test]
        fn integers_round_trip(n in any::<i64>()) {
            prop_assert_eq!(ok(&n.to_string()), q(n, 1));
        }

        #[test]
        fn thousands_round_trip(n in any::<u64>()) {
            let expect = BigRational::from_integer(BigInt::from(n));
            prop_assert_eq!(ok(&with_commas(n)), expect.clone());
            prop_assert_eq!(ok(&format!("${} dollars", with_commas(n))), expect);
        }

        #[test]
        fn decimals_round_trip(int in 0u32..1_000_000, frac in 0u32..10_000) {
            let text = format!("{int}.{frac:04}");
            let expect = q(i64::from(int), 1) + q(i64::from(frac), 10_000);
            prop_assert_eq!(ok(&text), expect);
        }

        #[test]
        fn fractions_round_trip(n in -10_000i64..10_000, d in 1i64..10_000) {
            prop_assert_eq!(ok(&format!("{n}/{d}")), q(n, d));
            prop_assert_eq!(ok(&format!("\\frac{{{n}}}{{{d}}}")), q(n, d));
        }

        #[test]
        fn format_then_parse_round_trips(n in -100_000i64..100_000, d in 1i64..1000) {
            let r = q(n, d);
            prop_assert_eq!(ok(&format_rational(&r)), r);
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = parse_number(&s);
        }
    }
}
