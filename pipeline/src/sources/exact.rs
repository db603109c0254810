//! Exact numbers as text: reference answers (`-3/4`) and SMT-LIB 2 terms (`(- (/ 3 4))`).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// `"-3/4"`, or `"5"` for an integer.
pub fn rat_text(r: &BigRational) -> String {
    if r.denom().is_one() {
        r.numer().to_string()
    } else {
        format!("{}/{}", r.numer(), r.denom())
    }
}

/// Parses `"-3/4"` or `"5"` (the inverse of [`rat_text`]).
pub fn parse_rat(s: &str) -> Option<BigRational> {
    match s.split_once('/') {
        Some((n, d)) => {
            let d: BigInt = d.trim().parse().ok()?;
            if d.is_zero() {
                return None;
            }
            Some(BigRational::new(n.trim().parse().ok()?, d))
        }
        None => Some(BigRational::from_integer(s.trim().parse().ok()?)),
    }
}

/// Parses an integer written by `BigInt::to_string`.
pub fn parse_int(s: &str) -> Option<BigInt> {
    s.trim().parse().ok()
}

/// An SMT-LIB integer literal: `5` or `(- 5)`.
pub fn smt_int(n: &BigInt) -> String {
    if n.is_negative() {
        format!("(- {})", n.abs())
    } else {
        n.to_string()
    }
}

/// An SMT-LIB real literal: `5`, `(/ 1 2)`, `(- (/ 1 2))`.
pub fn smt_rat(r: &BigRational) -> String {
    let magnitude = if r.denom().is_one() {
        r.numer().abs().to_string()
    } else {
        format!("(/ {} {})", r.numer().abs(), r.denom())
    };
    if r.is_negative() {
        format!("(- {magnitude})")
    } else {
        magnitude
    }
}

/// `(declare-const answer Int)(assert (= answer V))`: the answer is exactly `value`.
pub fn smt_int_answer(value: &BigInt) -> String {
    format!(
        "(declare-const answer Int)\n(assert (= answer {}))",
        smt_int(value)
    )
}

/// `a·v` terms of a linear form as an SMT-LIB sum (at least two terms: `(+ t1 t2 ...)`).
pub fn smt_linear(coefs: &[BigInt], vars: &[&str], constant: Option<&BigInt>) -> String {
    let mut terms: Vec<String> = coefs
        .iter()
        .zip(vars)
        .map(|(c, v)| format!("(* {} {v})", smt_int(c)))
        .collect();
    if let Some(k) = constant {
        terms.push(smt_int(k));
    }
    if terms.len() == 1 {
        terms.remove(0)
    } else {
        format!("(+ {})", terms.join(" "))
    }
}

/// A linear form for people: `3x - y + 5`, `-2z`, `0` (zero terms left out).
pub fn linear_text(coefs: &[BigInt], vars: &[&str], constant: Option<&BigInt>) -> String {
    let mut out = String::new();
    let mut push = |negative: bool, body: String| {
        if out.is_empty() {
            if negative {
                out.push('-');
            }
        } else {
            out.push_str(if negative { " - " } else { " + " });
        }
        out.push_str(&body);
    };
    for (c, v) in coefs.iter().zip(vars) {
        if c.is_zero() {
            continue;
        }
        let magnitude = c.abs();
        let body = if magnitude.is_one() {
            (*v).to_owned()
        } else {
            format!("{magnitude}{v}")
        };
        push(c.is_negative(), body);
    }
    if let Some(k) = constant.filter(|k| !k.is_zero()) {
        push(k.is_negative(), k.abs().to_string());
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> BigInt {
        BigInt::from(v)
    }

    #[test]
    fn rationals_round_trip_as_text() {
        let r = BigRational::new(int(6), int(-8));
        assert_eq!(rat_text(&r), "-3/4");
        assert_eq!(parse_rat("-3/4"), Some(r));
        assert_eq!(rat_text(&BigRational::from_integer(int(5))), "5");
        assert_eq!(parse_rat("1/0"), None);
    }

    #[test]
    fn smt_literals_are_standard() {
        assert_eq!(smt_int(&int(-3)), "(- 3)");
        assert_eq!(smt_rat(&BigRational::new(int(-1), int(2))), "(- (/ 1 2))");
        assert_eq!(smt_rat(&BigRational::new(int(4), int(2))), "2");
        assert_eq!(
            smt_linear(&[int(2), int(-1)], &["x", "y"], None),
            "(+ (* 2 x) (* (- 1) y))"
        );
    }

    #[test]
    fn linear_text_skips_zeros_and_ones() {
        assert_eq!(
            linear_text(&[int(-1), int(0), int(3)], &["x", "y", "z"], Some(&int(-5))),
            "-x + 3z - 5"
        );
        assert_eq!(linear_text(&[int(0)], &["x"], None), "0");
    }
}
