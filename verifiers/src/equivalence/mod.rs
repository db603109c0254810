//! `EquivalenceVerifier`: the completion's answer must equal the reference as an expression,
//! over the reals.
//!
//! Both are read as expressions (see `lex.rs`): integers, decimals, fractions, `+ - * / ^` with
//! rational exponents, square and n-th roots, implicit multiplication (`2(x+1)`, `2x`),
//! single-letter variables, `e` and `π`. A leading `x =` is dropped from each side.
//!
//! * Without variables, constants or irrational roots, both sides are evaluated exactly with
//!   big rationals (`1/2^99` vs `1/2^98`: different).
//! * Otherwise Z3 decides over the reals. Roots become fresh variables (`r >= 0`, `r^2 = x` for
//!   `x >= 0`); `e` and `π` are unknown reals pinned to eight decimals (`2.71828182 < e <
//!   2.71828183`), so only identities that hold for every such value are proved. The answer is
//!   accepted when (1) the reference is defined somewhere, (2) the answer is defined wherever
//!   the reference is (no division by zero, no even root of a negative), and (3) no point of the
//!   reference's domain makes them differ. `(x^2-1)/(x-1)` is therefore not accepted for `x+1`
//!   (it is undefined at 1), while `x+1` is accepted for `(x^2-1)/(x-1)`.
//!
//! Reasons: `missing_ground_truth`, `no_answer`, `unparsable_answer`, `malformed_reference`
//! (the reference does not parse or is nowhere defined), `wrong_answer`, `solver_unknown`.

mod lex;

use crate::answer::{compile_patterns, extract_with};
use crate::expr::{self, Constant, EvalError, Expr, PercentMode};
use crate::final_answer::{compare_numbers, too_long};
use crate::numbers::format_rational;
use crate::smt::real_numeral;
use crate::solver::{with_session, Outcome, Session, SolverLimits};
use crate::{Sample, Verdict, Verifier, VerifyError};
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive};
use regex::Regex;
use serde::Deserialize;
use z3::ast::{Bool, Real};

/// Configuration of [`EquivalenceVerifier`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EquivalenceConfig {
    /// Extra regular expressions locating the answer (as in the answer verifier).
    pub patterns: Vec<String>,
    /// Wall-clock budget per sample, in milliseconds.
    pub timeout_ms: u64,
    /// Z3 resource limit per solver check.
    pub rlimit: u32,
}

impl Default for EquivalenceConfig {
    fn default() -> Self {
        let limits = SolverLimits::default();
        EquivalenceConfig {
            patterns: Vec::new(),
            timeout_ms: limits.timeout_ms,
            rlimit: limits.rlimit,
        }
    }
}

impl EquivalenceConfig {
    pub const KIND: &'static str = "equivalence";
}

/// Proves the answer equal to the reference.
#[derive(Debug, Clone)]
pub struct EquivalenceVerifier {
    patterns: Vec<Regex>,
    limits: SolverLimits,
}

/// Largest |integer exponent| expanded for Z3, and largest root index.
const MAX_Z3_EXPONENT: u32 = 64;
const MAX_ROOT: u32 = 16;

/// Reads one side: drops `x =` and math delimiters, then lexes and parses.
pub(crate) fn read(text: &str) -> Result<Expr, String> {
    let mut s = text.trim().trim_matches('$').trim();
    if let Some((lhs, rhs)) = s.split_once('=') {
        let lhs = lhs.trim();
        let ident = !lhs.is_empty() && lhs.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident || rhs.contains('=') {
            return Err(format!("{text:?} is not a single expression"));
        }
        s = rhs.trim();
    }
    let s = s.trim_end_matches('.').trim();
    let toks = lex::lex(s)?;
    expr::parse(&toks).map_err(|e| format!("{e:?}"))
}

/// Exact value when the expression has one.
fn exact(e: &Expr) -> Result<BigRational, EvalError> {
    expr::eval(e, &|_| None, PercentMode::Divide)
}

impl EquivalenceVerifier {
    /// Validates the configuration (pure: no solver is started).
    pub fn new(cfg: EquivalenceConfig) -> Result<Self, VerifyError> {
        let limits = SolverLimits {
            timeout_ms: cfg.timeout_ms,
            rlimit: cfg.rlimit,
        };
        limits.validate().map_err(VerifyError::Config)?;
        Ok(EquivalenceVerifier {
            patterns: compile_patterns(&cfg.patterns)?,
            limits,
        })
    }

    /// The final answer as this verifier reads it.
    pub fn extract(&self, completion: &str) -> Option<String> {
        extract_with(completion, &self.patterns)
    }

    /// Compares two final answers (the answer first): expressions, and the structures of
    /// [`crate::final_answer`] (tuples, intervals, sets, …) whose leaves are expressions. An
    /// error means Z3 could not run.
    pub fn compare(&self, answer: &str, reference: &str) -> Result<Verdict, VerifyError> {
        crate::final_answer::judge(answer, reference, self.limits)
    }
}

/// Compares two scalar expressions (the answer first): exactly, or with Z3.
pub(crate) fn scalar(
    answer: &str,
    reference: &str,
    limits: SolverLimits,
) -> Result<Verdict, VerifyError> {
    match settle(answer, reference) {
        Settled::Verdict(v) => Ok(v),
        Settled::Prove(a, r) => with_session(limits, |s| prove(s, &a, &r, answer))
            .ok_or_else(|| VerifyError::Other("Z3 could not create a context".into())),
    }
}

/// Either a verdict already, or two expressions for Z3.
enum Settled {
    Verdict(Verdict),
    Prove(Expr, Expr),
}

/// Settles what exact arithmetic (or a parse failure) can; leaves the rest to Z3.
fn settle(answer: &str, reference: &str) -> Settled {
    let verdict = |v: Verdict| Settled::Verdict(v);
    // Plain numbers, with units and separators, compare exactly without parsing.
    if let Some(v) = too_long(answer, reference).or_else(|| compare_numbers(answer, reference)) {
        return verdict(v);
    }
    let r = match read(reference) {
        Ok(r) => r,
        Err(e) => {
            return verdict(Verdict::reject(
                "malformed_reference",
                format!("reference {reference:?}: {e}"),
            ))
        }
    };
    let a = match read(answer) {
        Ok(a) => a,
        Err(e) => {
            return verdict(Verdict::reject(
                "unparsable_answer",
                format!("answer {answer:?}: {e}"),
            ))
        }
    };
    match (exact(&a), exact(&r)) {
        (Ok(x), Ok(y)) => verdict(if x == y {
            Verdict::accept(format!("both are exactly {}", format_rational(&x)))
        } else {
            Verdict::reject(
                "wrong_answer",
                format!("{} ≠ {}", format_rational(&x), format_rational(&y)),
            )
        }),
        (_, Err(EvalError::DivisionByZero)) => verdict(Verdict::reject(
            "malformed_reference",
            "the reference divides by zero",
        )),
        (Err(EvalError::DivisionByZero), _) => verdict(Verdict::reject(
            "wrong_answer",
            "the answer divides by zero",
        )),
        (Err(EvalError::TooBig), _) | (_, Err(EvalError::TooBig)) => verdict(Verdict::reject(
            "unparsable_answer",
            "a power is too large to evaluate",
        )),
        _ => Settled::Prove(a, r),
    }
}

/// The Z3 side: translation with domain conditions and root definitions.
#[derive(Default)]
struct Translation {
    /// Where the expression is defined (denominators non-zero, even roots of non-negatives).
    domain: Vec<Bool>,
    /// `condition → definition` of each fresh root variable.
    definitions: Vec<Bool>,
    /// Constants used (`e`, `π`), for their bounds.
    constants: Vec<Constant>,
    fresh: usize,
}

impl Translation {
    fn new(fresh_from: usize) -> Self {
        Translation {
            fresh: fresh_from,
            ..Translation::default()
        }
    }

    fn real(&mut self, e: &Expr) -> Result<Real, String> {
        Ok(match e {
            Expr::Num(n) => real_numeral(n).ok_or("numeral")?,
            Expr::Var(v) => Real::new_const(format!("var_{v}")),
            Expr::Const(c) => {
                if !self.constants.contains(c) {
                    self.constants.push(*c);
                }
                constant(*c)
            }
            Expr::Neg(a) => self.real(a)?.unary_minus(),
            Expr::Add(a, b) => self.real(a)? + self.real(b)?,
            Expr::Sub(a, b) => self.real(a)? - self.real(b)?,
            Expr::Mul(a, b) => self.real(a)? * self.real(b)?,
            Expr::Div(a, b) => {
                let (x, y) = (self.real(a)?, self.real(b)?);
                self.domain.push(y.ne(zero()));
                x / y
            }
            Expr::Percent(a) => {
                self.real(a)?
                    / real_numeral(&BigRational::from_integer(100.into())).ok_or("numeral")?
            }
            Expr::Root(n, a) => {
                let x = self.real(a)?;
                self.root(&x, *n)?
            }
            Expr::Pow(a, b) => {
                let exp = exact(b)
                    .map_err(|_| "only constant rational exponents are supported".to_owned())?;
                let p = exp.numer().abs().to_u32().filter(|p| *p <= MAX_Z3_EXPONENT);
                let q = exp.denom().to_u32().filter(|q| *q <= MAX_ROOT);
                let (Some(p), Some(q)) = (p, q) else {
                    return Err(format!(
                        "exponent {} is out of range",
                        format_rational(&exp)
                    ));
                };
                let base = self.real(a)?;
                let powered = power(&base, p);
                let rooted = if q == 1 {
                    powered
                } else {
                    self.root(&powered, q)?
                };
                if exp.is_negative() {
                    self.domain.push(rooted.ne(zero()));
                    real_numeral(&BigRational::from_integer(1.into())).ok_or("numeral")? / rooted
                } else {
                    rooted
                }
            }
        })
    }

    /// The principal n-th root of `x` as a fresh variable.
    fn root(&mut self, x: &Real, n: u32) -> Result<Real, String> {
        if !(2..=MAX_ROOT).contains(&n) {
            return Err(format!("root index {n}"));
        }
        self.fresh += 1;
        let r = Real::new_const(format!("root_{}", self.fresh));
        let defines = power(&r, n).eq(x);
        if n.is_multiple_of(2) {
            let cond = x.ge(zero());
            self.domain.push(cond.clone());
            self.definitions
                .push(cond.implies(Bool::and(&[r.ge(zero()), defines])));
        } else {
            self.definitions.push(defines);
        }
        Ok(r)
    }
}

fn zero() -> Real {
    Real::from_rational(0, 1)
}

fn power(x: &Real, p: u32) -> Real {
    if p == 0 {
        return Real::from_rational(1, 1);
    }
    let factors: Vec<Real> = (0..p).map(|_| x.clone()).collect();
    Real::mul(&factors)
}

fn constant(c: Constant) -> Real {
    Real::new_const(match c {
        Constant::Pi => "const_pi",
        Constant::E => "const_e",
    })
}

/// Eight-decimal bounds of a constant.
fn bounds(c: Constant) -> Bool {
    let (lo, hi) = match c {
        Constant::Pi => ((314_159_265, 100_000_000), (314_159_266, 100_000_000)),
        Constant::E => ((271_828_182, 100_000_000), (271_828_183, 100_000_000)),
    };
    let x = constant(c);
    Bool::and(&[
        x.gt(Real::from_rational(lo.0, lo.1)),
        x.lt(Real::from_rational(hi.0, hi.1)),
    ])
}

fn unknown(reason: &str, what: &str) -> Verdict {
    Verdict::reject(
        "solver_unknown",
        format!("Z3 could not decide {what}: {reason}"),
    )
}

/// Proves `a` (the answer) equal to `r` (the reference) with Z3.
fn prove(s: &Session, a: &Expr, r: &Expr, shown: &str) -> Verdict {
    let mut tr = Translation::new(0);
    let ref_term = match tr.real(r) {
        Ok(t) => t,
        Err(e) => return Verdict::reject("malformed_reference", e),
    };
    let mut ta = Translation::new(tr.fresh);
    let ans_term = match ta.real(a) {
        Ok(t) => t,
        Err(e) => return Verdict::reject("unparsable_answer", e),
    };
    let mut base: Vec<Bool> = tr
        .constants
        .iter()
        .chain(&ta.constants)
        .map(|c| bounds(*c))
        .collect();
    base.extend(tr.definitions.iter().cloned());
    base.extend(ta.definitions.iter().cloned());
    let ref_domain = Bool::and(&tr.domain);
    let ans_domain = Bool::and(&ta.domain);
    // (1) The reference is defined somewhere.
    if !tr.domain.is_empty() {
        let q: Vec<Bool> = base.iter().cloned().chain([ref_domain.clone()]).collect();
        match s.check(&q) {
            Outcome::Sat => {}
            Outcome::Unsat => {
                return Verdict::reject("malformed_reference", "the reference is nowhere defined")
            }
            Outcome::Unknown(why) => return unknown(&why, "whether the reference is defined"),
        }
    }
    // (2) The answer is defined wherever the reference is.
    if !ta.domain.is_empty() {
        let q: Vec<Bool> = base
            .iter()
            .cloned()
            .chain([ref_domain.clone(), ans_domain.not()])
            .collect();
        match s.check(&q) {
            Outcome::Unsat => {}
            Outcome::Sat => {
                return Verdict::reject(
                    "wrong_answer",
                    format!("{shown} is undefined at some point where the reference is defined"),
                )
            }
            Outcome::Unknown(why) => return unknown(&why, "where the answer is defined"),
        }
    }
    // (3) They agree on the reference's domain.
    let q: Vec<Bool> = base
        .iter()
        .cloned()
        .chain([ref_domain, ans_domain, ans_term.ne(&ref_term)])
        .collect();
    let mut vars = Vec::new();
    a.vars(&mut vars);
    r.vars(&mut vars);
    let terms: Vec<Real> = vars
        .iter()
        .map(|v| Real::new_const(format!("var_{v}")))
        .collect();
    match s.check_with_model(&q, &terms) {
        (Outcome::Unsat, _) => {
            Verdict::accept(format!("{shown} is equal to the reference (proved by Z3)"))
        }
        (Outcome::Sat, values) => {
            let at: Vec<String> = vars
                .iter()
                .zip(&values)
                .map(|(v, x)| format!("{v} = {x}"))
                .collect();
            let detail = if at.is_empty() {
                format!("{shown} differs from the reference")
            } else {
                format!("{shown} differs from the reference at {}", at.join(", "))
            };
            Verdict::reject("wrong_answer", detail)
        }
        (Outcome::Unknown(why), _) => unknown(&why, "whether the answer equals the reference"),
    }
}

impl Verifier for EquivalenceVerifier {
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        let Some(reference) = sample.reference.as_deref().filter(|r| !r.trim().is_empty()) else {
            return Ok(Verdict::reject(
                "missing_ground_truth",
                "the sample has no reference answer",
            ));
        };
        let Some(answer) = self.extract(&sample.completion) else {
            return Ok(Verdict::reject("no_answer", "no final answer found"));
        };
        self.compare(&answer, reference)
    }

    fn name(&self) -> &str {
        EquivalenceConfig::KIND
    }

    fn version(&self) -> &str {
        "2"
    }
}

#[cfg(test)]
mod tests;
