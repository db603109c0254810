//! `SmtVerifier`: the completion's answer must satisfy the sample's SMT-LIB 2 constraints, and
//! (by default) be their only solution.
//!
//! `sample.constraints` holds declarations and assertions, e.g.
//! `(declare-const x Int) (assert (= (+ (* 3 x) 5) 20))`. The declared constants (`declare-const`,
//! or `declare-fun` with no arguments; sorts `Int`, `Real`, `Bool`) are the answer's variables,
//! in declaration order. Functions with arguments are allowed and are existential (any
//! interpretation will do). The final answer is extracted as by the answer verifier and read as
//! one value (one variable), a tuple in declaration order `(1, -1/2)`, or assignments
//! `x = 1, y = -1/2`.
//!
//! Checks: the constraints with the variables fixed to the answer must be satisfiable; with
//! `prove_unique`, the constraints together with "the variables differ from the answer" must be
//! unsatisfiable.
//!
//! Reasons: `missing_ground_truth` (no constraints), `malformed_constraints` (the SMT-LIB does
//! not parse, declares no variable, uses another sort, has no assertion, or is unsatisfiable
//! itself — bad ground truth is a reject, never an accept, and is counted apart from wrong
//! answers), `no_answer`, `unparsable_answer`, `wrong_answer`, `not_unique`, `solver_unknown`
//! (a limit was hit: see [`crate::SolverLimits`]).

use crate::answer::{compile_patterns, parse_answer, AnswerValue};
use crate::solver::{parse_smtlib, with_session, Outcome, Session, SolverLimits};
use crate::{Sample, Verdict, Verifier, VerifyError};
use num_rational::BigRational;
use regex::Regex;
use serde::Deserialize;
use z3::ast::{Bool, Dynamic, Int, Real};

/// Configuration of [`SmtVerifier`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtConfig {
    /// Extra regular expressions locating the answer (as in the answer verifier).
    pub patterns: Vec<String>,
    /// Require the answer to be the only solution.
    pub prove_unique: bool,
    /// Wall-clock budget per sample, in milliseconds.
    pub timeout_ms: u64,
    /// Z3 resource limit per solver check.
    pub rlimit: u32,
}

impl Default for SmtConfig {
    fn default() -> Self {
        let limits = SolverLimits::default();
        SmtConfig {
            patterns: Vec::new(),
            prove_unique: true,
            timeout_ms: limits.timeout_ms,
            rlimit: limits.rlimit,
        }
    }
}

impl SmtConfig {
    pub const KIND: &'static str = "smt";
}

/// Checks an answer against SMT-LIB constraints with Z3.
#[derive(Debug, Clone)]
pub struct SmtVerifier {
    patterns: Vec<Regex>,
    prove_unique: bool,
    limits: SolverLimits,
}

impl SmtVerifier {
    /// Validates the configuration (pure: no solver is started).
    pub fn new(cfg: SmtConfig) -> Result<Self, VerifyError> {
        let limits = SolverLimits {
            timeout_ms: cfg.timeout_ms,
            rlimit: cfg.rlimit,
        };
        limits.validate().map_err(VerifyError::Config)?;
        Ok(SmtVerifier {
            patterns: compile_patterns(&cfg.patterns)?,
            prove_unique: cfg.prove_unique,
            limits,
        })
    }

    /// The final answer as this verifier reads it.
    pub fn extract(&self, completion: &str) -> Option<String> {
        crate::answer::extract_with(completion, &self.patterns)
    }
}

/// A declared constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Var {
    pub name: String,
    pub sort: Sort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    Int,
    Real,
    Bool,
}

/// A value assigned to a variable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Number(BigRational),
    Bool(bool),
}

/// What the top-level commands of the constraints declare and assert.
#[derive(Debug)]
pub(crate) struct Outline {
    /// The declared constants, in order.
    pub vars: Vec<Var>,
    /// How many `assert` commands there are.
    pub asserts: usize,
}

/// Reads the outline of `src`, rejecting commands that would make Z3's parser drop assertions
/// silently (`exit`, `push`, `pop`, `reset`).
pub(crate) fn outline(src: &str) -> Result<Outline, String> {
    let mut vars = Vec::new();
    let mut asserts = 0;
    for cmd in sexp::top_level(src)? {
        let sexp::Sexp::List(items) = &cmd else {
            return Err(format!("{:?} is not a command", cmd.atom().unwrap_or("")));
        };
        let head = items.first().and_then(sexp::Sexp::atom);
        match head {
            Some("assert") => asserts += 1,
            Some(c @ ("exit" | "push" | "pop" | "reset" | "reset-assertions")) => {
                return Err(format!("unsupported command ({c})"))
            }
            _ => {}
        }
        let (name, sort) = match (head, items.as_slice()) {
            (Some("declare-const"), [_, name, sort]) => (name, sort),
            (Some("declare-fun"), [_, name, sexp::Sexp::List(args), sort]) if args.is_empty() => {
                (name, sort)
            }
            _ => continue,
        };
        let name = name.atom().ok_or("a declared name must be a symbol")?;
        let sort = match sort.atom() {
            Some("Int") => Sort::Int,
            Some("Real") => Sort::Real,
            Some("Bool") => Sort::Bool,
            other => return Err(format!("variable {name} has unsupported sort {other:?}")),
        };
        vars.push(Var {
            name: name.trim_matches('|').to_owned(),
            sort,
        });
    }
    Ok(Outline { vars, asserts })
}

/// Maps the answer onto the variables.
fn assignment(answer: &AnswerValue, vars: &[Var]) -> Result<Vec<Value>, String> {
    let value = |v: &AnswerValue| -> Result<Value, String> {
        match v {
            AnswerValue::Number(n) => Ok(Value::Number(n.clone())),
            AnswerValue::Text(t) if t == "true" => Ok(Value::Bool(true)),
            AnswerValue::Text(t) if t == "false" => Ok(Value::Bool(false)),
            other => Err(format!("{other} is not a number or a truth value")),
        }
    };
    match answer {
        AnswerValue::Named(pairs) => {
            if pairs.len() != vars.len() {
                return Err(format!(
                    "the answer gives {} values for {} variables",
                    pairs.len(),
                    vars.len()
                ));
            }
            vars.iter()
                .map(|var| {
                    let (_, v) = pairs
                        .iter()
                        .find(|(n, _)| *n == var.name)
                        .ok_or_else(|| format!("the answer gives no value for {}", var.name))?;
                    value(v)
                })
                .collect()
        }
        AnswerValue::Tuple(items) => {
            if items.len() != vars.len() {
                return Err(format!(
                    "the answer gives {} values for {} variables",
                    items.len(),
                    vars.len()
                ));
            }
            items.iter().map(value).collect()
        }
        single => {
            if vars.len() != 1 {
                return Err(format!(
                    "the answer gives one value for {} variables",
                    vars.len()
                ));
            }
            Ok(vec![value(single)?])
        }
    }
}

/// The variable as a Z3 term, and the constraint that it equals `value` (None: the value is
/// not in the variable's sort).
pub(crate) fn pin(var: &Var, value: &Value) -> (Dynamic, Option<Bool>) {
    match (var.sort, value) {
        (Sort::Int, Value::Number(n)) => {
            let x = Int::new_const(var.name.as_str());
            let eq = n
                .is_integer()
                .then(|| real_numeral(n).map(|v| x.eq(v.to_int())))
                .flatten();
            (Dynamic::from_ast(&x), eq)
        }
        (Sort::Real, Value::Number(n)) => {
            let x = Real::new_const(var.name.as_str());
            let eq = real_numeral(n).map(|v| x.eq(v));
            (Dynamic::from_ast(&x), eq)
        }
        (Sort::Bool, Value::Bool(b)) => {
            let x = Bool::new_const(var.name.as_str());
            let eq = x.eq(Bool::from_bool(*b));
            (Dynamic::from_ast(&x), Some(eq))
        }
        (Sort::Int | Sort::Real, _) => {
            (Dynamic::from_ast(&Int::new_const(var.name.as_str())), None)
        }
        (Sort::Bool, _) => (Dynamic::from_ast(&Bool::new_const(var.name.as_str())), None),
    }
}

/// An exact Z3 real numeral.
pub(crate) fn real_numeral(n: &BigRational) -> Option<Real> {
    Real::from_rational_str(&n.numer().to_string(), &n.denom().to_string())
}

fn unknown(reason: &str, what: &str) -> Verdict {
    Verdict::reject(
        "solver_unknown",
        format!("Z3 could not decide {what}: {reason}"),
    )
}

impl SmtVerifier {
    fn judge(&self, s: &Session, constraints: &str, answer: &str) -> Verdict {
        let outline = match outline(constraints) {
            Ok(o) if o.vars.is_empty() => {
                return Verdict::reject(
                    "malformed_constraints",
                    "the constraints declare no constant",
                )
            }
            Ok(o) => o,
            Err(e) => return Verdict::reject("malformed_constraints", e),
        };
        let vars = outline.vars;
        let assertions = match parse_smtlib(constraints) {
            Ok(a) if a.is_empty() => {
                return Verdict::reject("malformed_constraints", "no assertion")
            }
            Ok(a) if a.len() != outline.asserts => {
                return Verdict::reject(
                    "malformed_constraints",
                    format!("Z3 read {} of {} assertions", a.len(), outline.asserts),
                )
            }
            Ok(a) => a,
            Err(e) => return Verdict::reject("malformed_constraints", e),
        };
        let values = match assignment(&parse_answer(answer), &vars) {
            Ok(v) => v,
            Err(e) => {
                return Verdict::reject("unparsable_answer", format!("answer {answer:?}: {e}"))
            }
        };
        let mut pins = Vec::with_capacity(vars.len());
        for (var, value) in vars.iter().zip(&values) {
            match pin(var, value) {
                (_, Some(eq)) => pins.push(eq),
                (_, None) => {
                    return Verdict::reject(
                        "wrong_answer",
                        format!(
                            "{} is {:?}, which is not a value of sort {:?}",
                            var.name, value, var.sort
                        ),
                    )
                }
            }
        }
        let shown = answer.trim();
        let with_answer: Vec<Bool> = assertions.iter().chain(&pins).cloned().collect();
        match s.check(&with_answer) {
            Outcome::Sat => {}
            Outcome::Unknown(r) => {
                return unknown(&r, "whether the answer satisfies the constraints")
            }
            Outcome::Unsat => {
                // Tell bad ground truth from a wrong answer; if that cannot be decided, the
                // answer is still wrong.
                return match s.check(&assertions) {
                    Outcome::Unsat => {
                        Verdict::reject("malformed_constraints", "the constraints have no solution")
                    }
                    Outcome::Sat | Outcome::Unknown(_) => Verdict::reject(
                        "wrong_answer",
                        format!("{shown} does not satisfy the constraints"),
                    ),
                };
            }
        }
        if !self.prove_unique {
            return Verdict::accept(format!("{shown} satisfies the constraints"));
        }
        let terms: Vec<Dynamic> = vars.iter().zip(&values).map(|(v, x)| pin(v, x).0).collect();
        let other: Vec<Bool> = assertions
            .iter()
            .cloned()
            .chain(std::iter::once(Bool::and(&pins).not()))
            .collect();
        match s.check_with_model(&other, &terms) {
            (Outcome::Unsat, _) => {
                Verdict::accept(format!("{shown} is the unique solution of the constraints"))
            }
            (Outcome::Sat, model) => {
                let other: Vec<String> = vars
                    .iter()
                    .zip(&model)
                    .map(|(v, m)| format!("{} = {m}", v.name))
                    .collect();
                Verdict::reject(
                    "not_unique",
                    format!(
                        "{shown} satisfies the constraints, but so does {}",
                        other.join(", ")
                    ),
                )
            }
            (Outcome::Unknown(r), _) => unknown(&r, "whether the solution is unique"),
        }
    }
}

impl Verifier for SmtVerifier {
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        let Some(constraints) = sample
            .constraints
            .as_deref()
            .filter(|c| !c.trim().is_empty())
        else {
            return Ok(Verdict::reject(
                "missing_ground_truth",
                "the sample has no SMT-LIB constraints",
            ));
        };
        let Some(answer) = self.extract(&sample.completion) else {
            return Ok(Verdict::reject("no_answer", "no final answer found"));
        };
        with_session(self.limits, |s| self.judge(s, constraints, &answer))
            .ok_or_else(|| VerifyError::Other("Z3 could not create a context".into()))
    }

    fn name(&self) -> &str {
        SmtConfig::KIND
    }

    fn version(&self) -> &str {
        "1"
    }
}

/// A minimal S-expression reader, only to list declarations and numerals (Z3 parses the
/// constraints themselves).
pub(crate) mod sexp {
    #[derive(Debug, Clone, PartialEq)]
    pub enum Sexp {
        Atom(String),
        List(Vec<Sexp>),
    }

    impl Sexp {
        pub fn atom(&self) -> Option<&str> {
            match self {
                Sexp::Atom(a) => Some(a),
                Sexp::List(_) => None,
            }
        }
    }

    /// Deepest nesting accepted (hostile input must not overflow the stack).
    const MAX_DEPTH: usize = 256;

    /// The top-level S-expressions of `src`.
    pub fn top_level(src: &str) -> Result<Vec<Sexp>, String> {
        let mut stack: Vec<Vec<Sexp>> = vec![Vec::new()];
        let mut chars = src.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            match c {
                ';' => {
                    for (_, c) in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                '(' => {
                    if stack.len() > MAX_DEPTH {
                        return Err("the constraints nest too deeply".into());
                    }
                    stack.push(Vec::new());
                }
                ')' => {
                    let list = stack.pop().ok_or("unbalanced ')'")?;
                    stack
                        .last_mut()
                        .ok_or("unbalanced ')'")?
                        .push(Sexp::List(list));
                }
                c if c.is_whitespace() => {}
                '"' | '|' => {
                    let mut s = String::from(c);
                    let mut closed = false;
                    for (_, d) in chars.by_ref() {
                        s.push(d);
                        if d == c {
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        return Err("unterminated string or quoted symbol".into());
                    }
                    stack.last_mut().ok_or("unbalanced")?.push(Sexp::Atom(s));
                }
                c => {
                    let mut s = String::from(c);
                    while let Some(&(_, d)) = chars.peek() {
                        if d.is_whitespace() || matches!(d, '(' | ')' | ';' | '"' | '|') {
                            break;
                        }
                        s.push(d);
                        chars.next();
                    }
                    stack.last_mut().ok_or("unbalanced")?.push(Sexp::Atom(s));
                }
            }
        }
        if stack.len() != 1 {
            return Err("unbalanced '('".into());
        }
        Ok(stack.pop().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests;
