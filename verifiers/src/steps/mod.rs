//! `StepsVerifier`: every arithmetic claim in a chain of thought must be true.
//!
//! Claims are found by `claims.rs` (prose `a op b = c`, chains, GSM8K `<<a*b=c>>` annotations)
//! and checked exactly with big rationals. One false claim rejects the sample with reason
//! `false_step`, naming the claim and its line, even when the final answer is right.
//!
//! What is checked, and what is skipped (never rejected):
//!
//! * Unknowns: `x = 4`-style definitions (a lone letter equal to a number) are collected over
//!   the whole trace; a claim with unknowns is evaluated when each has exactly one defined value
//!   (`2x + 3 = 11` with `x = 4`), and skipped otherwise. Z3 is not needed for this.
//! * Percentages: `%` has two readings in prose (`50 * 20% = 10` divides by 100;
//!   `0.5 * 100 = 50%` is a label). A claim holds if it holds under either reading applied to
//!   the whole claim. Claims adding a percentage to a plain number (`200 + 10% = 220`) are
//!   skipped.
//! * Rounding ([`Rounding::WrittenPrecision`], the default): a side written as a lone decimal
//!   with `d >= 1` digits after the point may be the exact value rounded (half away from zero)
//!   or truncated to `d` digits, when the exact value needs more than `d` digits and the written
//!   value keeps two significant digits (`10/3 = 3.33`, `2/3 = 0.67`; not `1/6 = 0.2`). An
//!   integer result gets no such leeway: `7/2 = 3` is false. GSM8K `<<...>>` annotations are
//!   calculator output and get no leeway at all (measured on GSM8K train: all 23,716 are exact).
//! * Division by zero in a claim makes it false.
//! * Integer division: `13 / 6 = 2` is skipped (not false) when the rest of the line mentions a
//!   remainder (`... with a remainder of 1`); otherwise it is false.
//! * Claims next to `≈`, `~` or `...`, and oversized powers are skipped.
//!
//! The accept evidence says how many claims were checked and skipped.

mod claims;
mod lex;
mod runs;
#[cfg(test)]
mod tests;

use crate::expr::{eval, EvalError, PercentMode};
use crate::numbers::format_rational;
use crate::{Sample, Verdict, Verifier, VerifyError};
use claims::{extract, Chain};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Signed;
use serde::Deserialize;
use std::collections::HashMap;

/// How a side written as a decimal may differ from the exact value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Every claim must hold exactly.
    Exact,
    /// A lone decimal may be rounded or truncated to the digits it shows (see module docs).
    #[default]
    WrittenPrecision,
}

/// Configuration of [`StepsVerifier`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StepsConfig {
    /// Reject with `no_steps` when the completion has no checkable claim.
    pub require_claims: bool,
    pub rounding: Rounding,
}

impl StepsConfig {
    pub const KIND: &'static str = "steps";
}

/// One claim found to be false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FalseClaim {
    /// 1-based line number in the completion.
    pub line: usize,
    /// The claim as written.
    pub text: String,
    /// Which values disagree.
    pub detail: String,
}

/// Everything [`StepsVerifier::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepsReport {
    pub checked: usize,
    pub skipped: usize,
    pub false_claims: Vec<FalseClaim>,
}

/// Checks the arithmetic claims in a completion.
#[derive(Debug, Clone)]
pub struct StepsVerifier {
    cfg: StepsConfig,
}

impl StepsVerifier {
    pub fn new(cfg: StepsConfig) -> Result<Self, VerifyError> {
        Ok(StepsVerifier { cfg })
    }

    /// Checks every claim in `text` (all of them, not stopping at the first false one).
    pub fn check(&self, text: &str) -> StepsReport {
        let found = extract(text);
        let defs = definitions(&found.chains);
        let env = |v: &str| defs.get(v).cloned().flatten();
        let mut report = StepsReport {
            skipped: found.unparsed.len(),
            ..StepsReport::default()
        };
        for chain in found.chains.iter().filter(|c| c.has_operation) {
            match self.judge(chain, &env) {
                Judgement::True => report.checked += 1,
                Judgement::Skipped => report.skipped += 1,
                Judgement::False(detail) => {
                    report.checked += 1;
                    report.false_claims.push(FalseClaim {
                        line: chain.line,
                        text: chain.text.clone(),
                        detail,
                    });
                }
            }
        }
        report
    }

    fn judge(&self, chain: &Chain, env: &dyn Fn(&str) -> Option<BigRational>) -> Judgement {
        let percent = chain.sides.iter().any(|s| s.expr.has_percent());
        if percent && chain.sides.iter().any(|s| s.expr.mixes_percent_in_sum()) {
            return Judgement::Skipped;
        }
        let modes: &[PercentMode] = if percent {
            &[PercentMode::Divide, PercentMode::Label]
        } else {
            &[PercentMode::Divide]
        };
        let mut first_failure = None;
        for &mode in modes {
            // Compare each evaluable side with the previous evaluable one (equality is
            // transitive, so an unknown in the middle of a chain does not hide the rest).
            let mut prev: Option<(BigRational, Option<usize>)> = None;
            let mut integer_quotient = false;
            let mut compared = 0usize;
            let mut failure = None;
            for side in &chain.sides {
                let v = match eval(&side.expr, env, mode) {
                    Ok(v) => v,
                    Err(EvalError::Unknown(_) | EvalError::Symbolic | EvalError::Irrational) => {
                        continue
                    }
                    Err(EvalError::DivisionByZero) => {
                        return Judgement::False("division by zero".to_owned())
                    }
                    Err(EvalError::TooBig) => return Judgement::Skipped,
                };
                if let Some((pv, pdec)) = &prev {
                    compared += 1;
                    let rounding =
                        !chain.calculator && self.cfg.rounding == Rounding::WrittenPrecision;
                    if failure.is_none() && !agree(pv, *pdec, &v, side.literal_decimals, rounding) {
                        integer_quotient = chain.remainder_follows
                            && side.literal_decimals == Some(0)
                            && v.is_integer()
                            && pv.floor() == v;
                        failure =
                            Some(format!("{} ≠ {}", format_rational(pv), format_rational(&v)));
                    }
                }
                prev = Some((v, side.literal_decimals));
            }
            if compared == 0 {
                return Judgement::Skipped;
            }
            if integer_quotient {
                return Judgement::Skipped; // `13 / 6 = 2, with a remainder of 1`
            }
            match failure {
                None => return Judgement::True,
                Some(f) => {
                    first_failure.get_or_insert(f);
                }
            }
        }
        Judgement::False(first_failure.unwrap_or_default())
    }
}

/// Whether two side values agree, optionally allowing written-precision rounding.
fn agree(
    a: &BigRational,
    a_dec: Option<usize>,
    b: &BigRational,
    b_dec: Option<usize>,
    rounding: bool,
) -> bool {
    if a == b {
        return true;
    }
    let rounded_to = |exact: &BigRational, written: &BigRational, d: Option<usize>| {
        d.is_some_and(|d| (1..=30).contains(&d) && is_rounding_of(exact, written, d))
    };
    rounding && (rounded_to(a, b, b_dec) || rounded_to(b, a, a_dec))
}

enum Judgement {
    True,
    False(String),
    Skipped,
}

/// `written` is `exact` rounded half away from zero, or truncated, to `d` decimals; `exact`
/// itself needs more than `d` decimals; and `written` keeps at least two significant digits
/// (`10/60 = 0.2` is not accepted as a rounding, `10/60 = 0.17` is).
fn is_rounding_of(exact: &BigRational, written: &BigRational, d: usize) -> bool {
    let scale = BigRational::from_integer(num_traits::pow(BigInt::from(10), d));
    let x = exact * &scale;
    if x.is_integer() {
        return false;
    }
    let w = written * &scale;
    if !w.is_integer() {
        return false;
    }
    let mag = x.abs();
    let half = BigRational::new(1.into(), 2.into());
    let nearest = (&mag + half).floor();
    let truncated = mag.trunc();
    if w.abs() < BigRational::from_integer(10.into()) {
        return false; // fewer than two significant digits
    }
    let sign_ok = w.is_negative() == x.is_negative();
    sign_ok && (w.abs() == nearest || w.abs() == truncated)
}

/// Values of unknowns defined as `x = <number>` in the trace; `None` when defined more than once
/// with different values.
fn definitions(chains: &[Chain]) -> HashMap<String, Option<BigRational>> {
    let mut defs: HashMap<String, Option<BigRational>> = HashMap::new();
    let none = |_: &str| None;
    for chain in chains {
        if chain.sides.iter().all(|s| s.lone_var.is_none()) {
            continue;
        }
        let value = chain
            .sides
            .iter()
            .filter(|s| s.lone_var.is_none() && !s.expr.has_percent())
            .find_map(|s| eval(&s.expr, &none, PercentMode::Divide).ok());
        let Some(value) = value else { continue };
        for var in chain.sides.iter().filter_map(|s| s.lone_var.as_ref()) {
            defs.entry(var.clone())
                .and_modify(|old| {
                    if old.as_ref() != Some(&value) {
                        *old = None;
                    }
                })
                .or_insert_with(|| Some(value.clone()));
        }
    }
    defs
}

impl Verifier for StepsVerifier {
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        let report = self.check(&sample.completion);
        if let Some(first) = report.false_claims.first() {
            let more = match report.false_claims.len() {
                1 => String::new(),
                n => format!(" ({} false claims in all)", n),
            };
            return Ok(Verdict::reject(
                "false_step",
                format!(
                    "line {}: `{}` is false: {}{more}",
                    first.line, first.text, first.detail
                ),
            ));
        }
        if report.checked == 0 {
            let detail = format!("no arithmetic claims ({} skipped)", report.skipped);
            return Ok(if self.cfg.require_claims {
                Verdict::reject("no_steps", detail)
            } else {
                Verdict::accept(detail)
            });
        }
        Ok(Verdict::accept(format!(
            "checked {} claims ({} skipped)",
            report.checked, report.skipped
        )))
    }

    fn name(&self) -> &str {
        StepsConfig::KIND
    }

    fn version(&self) -> &str {
        "1"
    }
}
