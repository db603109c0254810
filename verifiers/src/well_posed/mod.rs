//! Well-posedness of a model-proposed problem: the model writes a problem *and* its formal
//! statement, in SMT-LIB or as one equation in `answer` (smelt's structured form, see
//! [`equation`], translated to SMT-LIB over the reals); Z3 proves the statement has exactly
//! one answer before the problem is ever sampled, so the reference answer of a proposed
//! problem is a theorem, not a guess.
//!
//! A proposal reads
//!
//! ```text
//! Problem: A farmer has 3 pens with 12 hens each. How many hens are there?
//! SMT: (declare-const answer Int) (assert (= answer (* 3 12)))
//! ```
//!
//! or, with the equation form, `Equation: answer = 3 * 12` on the second line,
//!
//! and is accepted when, in this order:
//! 1. it has both parts and the SMT-LIB declares the unknown asked for: a constant named
//!    `answer`, or a single constant (Int or Real), and Z3 parses every assertion —
//!    else `unparsable`;
//! 2. every number written in the text occurs in the formal statement (so the statement is
//!    about this text: a percentage may appear as itself or divided by 100, a fraction `a/b`
//!    as its value or as both `a` and `b`; number words are not checked), and the statement
//!    uses no number the text does not give (0 and 1, the text's number words and 100 for a
//!    percentage excepted) — else `text_mismatch`;
//! 3. the assertions are satisfiable — else `unsat`;
//! 4. the assertions with `answer ≠ a*` (a* the value Z3 found) are unsatisfiable — else
//!    `not_unique`, naming a second answer.
//!
//! Every solver call runs under [`SolverLimits`]; a check Z3 cannot decide is `solver_unknown`.

pub mod equation;
mod proposal;
#[cfg(test)]
mod tests;
mod text;

pub use proposal::{parse_proposal, Proposal};

use crate::numbers::{format_rational, parse_number};
use crate::smt::{outline, pin, sexp, Sort, Value, Var};
use crate::solver::{parse_smtlib, with_session, Outcome, Session, SolverLimits};
use num_rational::BigRational;
use z3::ast::Bool;

/// Why a proposal was rejected: a snake_case reason (`unparsable`, `text_mismatch`, `unsat`,
/// `not_unique`, `solver_unknown`) and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejection {
    pub reason: &'static str,
    pub detail: String,
}

impl Rejection {
    fn new(reason: &'static str, detail: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}

/// A proposal proven well-posed: its unique answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Proven {
    /// The constant that holds the answer.
    pub variable: String,
    /// Its unique value.
    pub value: BigRational,
    /// The value as the answer verifier reads it (an integer, a terminating decimal, `p/q`).
    pub answer: String,
    /// Whether the answer is the statement's only constant, so that the `smt` verifier can
    /// check a solution against the statement directly.
    pub single_constant: bool,
}

/// Decides whether `proposal` is well-posed (module docs), under `limits`.
pub fn check(proposal: &Proposal, limits: SolverLimits) -> Result<Proven, Rejection> {
    // An equation is judged by its own translation (its trailing results are no facts).
    let defining = match &proposal.equation {
        Some(eq) => {
            let t = equation::translate(eq).map_err(|e| Rejection::new("unparsable", e))?;
            if t.smt != proposal.smt {
                return Err(Rejection::new(
                    "unparsable",
                    "the statement is not the translation of the equation",
                ));
            }
            t.definition
        }
        None => proposal.smt.clone(),
    };
    let outline = outline(&proposal.smt).map_err(|e| Rejection::new("unparsable", e))?;
    let var = answer_variable(&outline.vars)?;
    if outline.asserts == 0 {
        return Err(Rejection::new(
            "unparsable",
            "the statement asserts nothing",
        ));
    }
    let missing = text::missing_numbers(&proposal.text, &proposal.smt)
        .map_err(|e| Rejection::new("unparsable", e))?;
    if !missing.is_empty() {
        return Err(Rejection::new(
            "text_mismatch",
            format!(
                "the text's number(s) {} do not occur in the formal statement",
                missing.join(", ")
            ),
        ));
    }
    let invented = text::invented_numbers(&proposal.text, &defining)
        .map_err(|e| Rejection::new("unparsable", e))?;
    if !invented.is_empty() {
        return Err(Rejection::new(
            "text_mismatch",
            format!(
                "the statement uses the number(s) {}, which the text does not give",
                invented.join(", ")
            ),
        ));
    }
    let single_constant = outline.vars.len() == 1;
    let asserts = outline.asserts;
    let decided = with_session(limits, |s| prove(s, &proposal.smt, asserts, &var))
        .ok_or_else(|| Rejection::new("solver_unknown", "Z3 could not create a context"))??;
    Ok(Proven {
        variable: var.name,
        answer: format_rational(&decided),
        value: decided,
        single_constant,
    })
}

/// The constant named `answer`, else the only constant; numeric.
fn answer_variable(vars: &[Var]) -> Result<Var, Rejection> {
    let var = match vars {
        [] => {
            return Err(Rejection::new(
                "unparsable",
                "the statement declares no constant",
            ))
        }
        [only] => only,
        many => many.iter().find(|v| v.name == "answer").ok_or_else(|| {
            Rejection::new(
                "unparsable",
                format!(
                    "the statement declares {} constants and none is named `answer`",
                    many.len()
                ),
            )
        })?,
    };
    if var.sort == Sort::Bool {
        return Err(Rejection::new(
            "unparsable",
            format!("the answer {} is a truth value, not a number", var.name),
        ));
    }
    Ok(var.clone())
}

fn unknown(why: &str, what: &str) -> Rejection {
    Rejection::new(
        "solver_unknown",
        format!("Z3 could not decide {what}: {why}"),
    )
}

/// Satisfiable, then unique: the answer's value.
fn prove(s: &Session, smt: &str, asserts: usize, var: &Var) -> Result<BigRational, Rejection> {
    let assertions = match parse_smtlib(smt) {
        Ok(a) if a.is_empty() => return Err(Rejection::new("unparsable", "no assertion")),
        Ok(a) if a.len() != asserts => {
            return Err(Rejection::new(
                "unparsable",
                format!("Z3 read {} of {asserts} assertions", a.len()),
            ))
        }
        Ok(a) => a,
        Err(e) => return Err(Rejection::new("unparsable", e)),
    };
    let (term, _) = pin(var, &Value::Number(BigRational::from_integer(0.into())));
    let value = match s.check_with_model(&assertions, std::slice::from_ref(&term)) {
        (Outcome::Sat, values) => {
            let shown = values.first().cloned().unwrap_or_default();
            numeral(&shown).ok_or_else(|| {
                Rejection::new(
                    "solver_unknown",
                    format!("Z3's value of {} is not a number: {shown}", var.name),
                )
            })?
        }
        (Outcome::Unsat, _) => {
            return Err(Rejection::new(
                "unsat",
                "the statement has no solution: the problem asks for something impossible",
            ))
        }
        (Outcome::Unknown(why), _) => {
            return Err(unknown(&why, "whether the statement has a solution"))
        }
    };
    let Some(eq) = pin(var, &Value::Number(value.clone())).1 else {
        return Err(Rejection::new(
            "solver_unknown",
            format!(
                "Z3's value {} does not fit {}",
                format_rational(&value),
                var.name
            ),
        ));
    };
    let other: Vec<Bool> = assertions
        .iter()
        .cloned()
        .chain(std::iter::once(eq.not()))
        .collect();
    match s.check_with_model(&other, &[term]) {
        (Outcome::Unsat, _) => Ok(value),
        (Outcome::Sat, values) => Err(Rejection::new(
            "not_unique",
            format!(
                "{} = {} satisfies the statement, but so does {} = {}",
                var.name,
                format_rational(&value),
                var.name,
                values
                    .first()
                    .and_then(|v| numeral(v))
                    .map_or_else(|| "another value".to_string(), |v| format_rational(&v))
            ),
        )),
        (Outcome::Unknown(why), _) => Err(unknown(&why, "whether the answer is unique")),
    }
}

/// A numeral as Z3 prints it: `7`, `2.5`, `(- 3)`, `(/ 5.0 2.0)`, `(- (/ 1 3))`.
pub(crate) fn numeral(text: &str) -> Option<BigRational> {
    let tree = sexp::top_level(text).ok()?;
    match tree.as_slice() {
        [one] => numeral_of(one),
        _ => None,
    }
}

pub(crate) fn numeral_of(e: &sexp::Sexp) -> Option<BigRational> {
    match e {
        sexp::Sexp::Atom(a) => {
            if !a.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return None;
            }
            parse_number(a).ok()
        }
        sexp::Sexp::List(items) => match items.as_slice() {
            [op, x] if op.atom() == Some("-") => numeral_of(x).map(|v| -v),
            [op, a, b] if op.atom() == Some("/") => {
                let (a, b) = (numeral_of(a)?, numeral_of(b)?);
                (b != BigRational::from_integer(0.into())).then(|| a / b)
            }
            _ => None,
        },
    }
}
