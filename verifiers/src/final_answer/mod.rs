//! Final answers as people write them, shared by the `answer` and `equivalence` verifiers.
//!
//! [`judge`] compares an answer with a reference:
//!
//! 1. Two plain numbers (`7,425,000`, `1000.0`, `$4$`, `72 clips`) compare exactly as rationals,
//!    without further parsing.
//! 2. Otherwise both are cleaned of LaTeX (`clean.rs`) and read as structures (`parse.rs`):
//!    tuples and intervals compare elementwise with the same brackets (`(1, 2)` ≠ `[1, 2]`),
//!    bare lists (`-2, 3`, `x = 1 or x = 2`), sets and unions as multisets, `name = value` by
//!    name (`x = 3` matches `3`), equations `l = r` as `l - r` (either sign), matrices cell by
//!    cell. Inequalities are intervals: `-2 ≤ x ≤ 7` is `[-2, 7]`, `x > 3` is `(3, ∞)`.
//! 3. Leaves compare by [`leaf`]: plain numbers exactly; words (`Monday`, `\text{Yes}`) as
//!    normalised text; expressions by exact rational evaluation, or else by a Z3 proof over the
//!    reals (see the equivalence module: roots as `y ≥ 0 ∧ yⁿ = x`, `π` and `e` as unknown
//!    reals within eight-decimal bounds, so only identities are proved). Nothing numeric is
//!    ever taken as evidence: what neither exact arithmetic nor Z3 decides is a reject with
//!    reason `solver_unknown`.

mod clean;
mod parse;

pub(crate) use clean::{clean, command_name};
pub(crate) use parse::{parse, Value};

use crate::equivalence::{read, scalar};
use crate::numbers::{format_rational, parse_number};
use crate::solver::SolverLimits;
use crate::{Verdict, VerifyError};
use num_rational::BigRational;
use parse::MAX_ITEMS;
use std::time::{Duration, Instant};

/// Short words after a number that are units, not variables (`5 cm`, `3 hrs`); any other run
/// of at most three letters (`x`, `xy`, `e`, `π`) makes the text an expression.
const SHORT_UNITS: &[&str] = &[
    "cm", "mm", "km", "kg", "mg", "ml", "mL", "min", "hr", "hrs", "sec", "lb", "lbs", "oz", "ft",
    "yd", "mi", "mph", "in", "sq", "m", "g", "s", "h", "L", "kW", "W", "J", "cal", "day", "yr",
    "yrs", "am", "pm", "and", "of", "per", "cup", "pt", "qt", "gal", "ton", "deg", "rad", "sqm",
    "kph", "cc", "mins", "ms", "ns", "km²", "cm²", "m²",
];

/// The exact value of a plain number (`7,425,000`, `$18.00`, `72 clips`, `\frac{3}{4}`), but
/// not of a number followed by what reads as a variable or constant (`\frac12 x`, `2e`, `5π`).
pub(crate) fn plain_number(s: &str) -> Option<BigRational> {
    if s.contains(['!', '±']) || s.contains("binom") || s.contains("\\pm") {
        return None; // `5!` is not 5
    }
    let n = parse_number(s).ok()?;
    let cleaned = clean(s);
    let mut rest = cleaned.as_str();
    while let Some(start) = rest.find(|c: char| c.is_alphabetic() || c == '\\') {
        let tail = &rest[start..];
        if let Some(cmd) = tail.strip_prefix('\\') {
            let len = cmd
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(cmd.len());
            rest = &cmd[len..];
            continue;
        }
        let len = tail
            .find(|c: char| !(c.is_alphabetic() || c == '²'))
            .unwrap_or(tail.len());
        let word = &tail[..len];
        let attached = rest[..start].ends_with(|c: char| c.is_ascii_digit());
        let letters = word.chars().count();
        // `5 m` is five metres; `5m` may be five times m.
        if letters <= 3 && (!SHORT_UNITS.contains(&word) || (letters == 1 && attached)) {
            return None;
        }
        rest = &tail[len..];
    }
    Some(n)
}

/// The verdict on two plain numbers, exactly; `None` unless both are plain numbers.
pub(crate) fn compare_numbers(answer: &str, reference: &str) -> Option<Verdict> {
    let (a, r) = (plain_number(answer)?, plain_number(reference)?);
    Some(if a == r {
        Verdict::accept(format!("{} equals the reference", format_rational(&a)))
    } else {
        Verdict::reject(
            "wrong_answer",
            format!("{} ≠ {}", format_rational(&a), format_rational(&r)),
        )
    })
}

/// Compares an answer with a reference (both raw final-answer strings).
pub(crate) fn judge(
    answer: &str,
    reference: &str,
    limits: SolverLimits,
) -> Result<Verdict, VerifyError> {
    if let Some(v) = too_long(answer, reference).or_else(|| compare_numbers(answer, reference)) {
        return Ok(v);
    }
    let (a, r) = (parse(&clean(answer)), parse(&clean(reference)));
    let budget = Budget {
        limits,
        deadline: Instant::now() + Duration::from_millis(limits.timeout_ms),
    };
    let v = compare(&a, &r, budget)?;
    Ok(match v {
        Verdict::Reject { reason, detail } => Verdict::reject(
            reason,
            format!("answer {answer:?} vs reference {reference:?}: {detail}"),
        ),
        accept => accept,
    })
}

/// A word answer: letters and spaces (with punctuation), at least one run of two letters that
/// is not a LaTeX command.
fn is_word(s: &str) -> bool {
    let plain = s
        .chars()
        .all(|c| c.is_alphabetic() || c.is_whitespace() || matches!(c, '\'' | '-' | '.'));
    let mut run = 0;
    let mut longest = 0;
    for c in s.chars() {
        run = if c.is_alphabetic() { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    plain && longest >= 2
}

fn normalize_word(s: &str) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    words.join(" ").trim_matches(['.', '(', ')']).to_lowercase()
}

/// Compares two leaves: numbers exactly, words as text, expressions exactly or by Z3. Two
/// leaves that are not expressions are equal when their text is; otherwise words differ
/// (`wrong_answer`) and anything else gets the expression reader's reason.
pub(crate) fn leaf(a: &str, r: &str, limits: Budget) -> Result<Verdict, VerifyError> {
    let text = |s: &str| is_word(s) || (plain_number(s).is_none() && read(s).is_err());
    if text(a) && text(r) {
        let (x, y) = (normalize_word(a), normalize_word(r));
        if x == y {
            return Ok(Verdict::accept(format!("{x:?} is the reference's text")));
        }
        if is_word(a) && is_word(r) {
            return Ok(Verdict::reject("wrong_answer", format!("{x:?} ≠ {y:?}")));
        }
    }
    let Some(limits) = limits.left() else {
        return Ok(Verdict::reject(
            "solver_unknown",
            "the time limit was spent on other parts of the answer",
        ));
    };
    scalar(a, r, limits)
}

/// Longest answer or reference read.
const MAX_BYTES: usize = 10_000;

/// A reject when the answer or the reference is longer than [`MAX_BYTES`].
pub(crate) fn too_long(answer: &str, reference: &str) -> Option<Verdict> {
    if answer.len() > MAX_BYTES {
        return Some(Verdict::reject(
            "unparsable_answer",
            format!("the answer is over {MAX_BYTES} bytes"),
        ));
    }
    (reference.len() > MAX_BYTES).then(|| {
        Verdict::reject(
            "malformed_reference",
            format!("the reference is over {MAX_BYTES} bytes"),
        )
    })
}

/// The solver limits of one comparison: `timeout_ms` covers all its leaves together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    limits: SolverLimits,
    deadline: Instant,
}

impl Budget {
    /// The limits for the next solver call, or `None` when the time is spent.
    fn left(self) -> Option<SolverLimits> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX);
        (ms > 0).then_some(SolverLimits {
            timeout_ms: ms,
            rlimit: self.limits.rlimit,
        })
    }
}

fn wrong(detail: impl Into<String>) -> Result<Verdict, VerifyError> {
    Ok(Verdict::reject("wrong_answer", detail))
}

/// Describes a value's kind for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Leaf(_) => "a value",
        Value::Infinity(_) => "infinity",
        Value::List { open: ' ', .. } => "a list",
        Value::List { .. } => "a tuple or interval",
        Value::Set(_) => "a set",
        Value::Union(_) => "a union of intervals",
        Value::Named(_) => "named values",
        Value::Equation(..) => "an equation",
        Value::Matrix(_) => "a matrix",
    }
}

/// Compares two structures (the answer first).
pub(crate) fn compare(a: &Value, r: &Value, limits: Budget) -> Result<Verdict, VerifyError> {
    use Value::*;
    match (a, r) {
        (Named(x), Named(y)) => named(x, y, limits),
        (Named(x), y) if x.len() == 1 => compare(&x[0].1, y, limits),
        (x, Named(y)) if y.len() == 1 => compare(x, &y[0].1, limits),
        (Leaf(x), Leaf(y)) => leaf(x, y, limits),
        (Infinity(x), Infinity(y)) if x == y => Ok(Verdict::accept("both are the same infinity")),
        (
            List {
                open: ' ',
                items: x,
                ..
            },
            List {
                open: ' ',
                items: y,
                ..
            },
        )
        | (Set(x), Set(y))
        | (Union(x), Union(y))
        | (
            Set(x),
            List {
                open: ' ',
                items: y,
                ..
            },
        )
        | (
            List {
                open: ' ',
                items: x,
                ..
            },
            Set(y),
        ) => unordered(x, y, limits),
        (Set(x), y @ Leaf(_)) if x.len() == 1 => compare(&x[0], y, limits),
        (x @ Leaf(_), Set(y)) if y.len() == 1 => compare(x, &y[0], limits),
        (
            List {
                open: o1,
                close: c1,
                items: x,
            },
            List {
                open: o2,
                close: c2,
                items: y,
            },
        ) => {
            let bare_vs_tuple = (*o1 == ' ' && *o2 == '(' && *c2 == ')')
                || (*o2 == ' ' && *o1 == '(' && *c1 == ')');
            if (o1, c1) != (o2, c2) && !bare_vs_tuple {
                return wrong(format!("brackets {o1}…{c1} vs {o2}…{c2}"));
            }
            ordered(x, y, limits)
        }
        (Equation(l1, r1), Equation(l2, r2)) => {
            let d1 = format!("({l1})-({r1})");
            let v = leaf(&d1, &format!("({l2})-({r2})"), limits)?;
            if v.is_accept() {
                return Ok(v);
            }
            let flipped = leaf(&d1, &format!("({r2})-({l2})"), limits)?;
            Ok(if flipped.is_accept() { flipped } else { v })
        }
        (Matrix(x), Matrix(y)) => {
            if x.len() != y.len() || x.iter().zip(y).any(|(p, q)| p.len() != q.len()) {
                return wrong("the matrices have different shapes");
            }
            let (x, y): (Vec<Value>, Vec<Value>) =
                (x.concat(), y.iter().flatten().cloned().collect());
            ordered(&x, &y, limits)
        }
        (x, y) => wrong(format!(
            "the answer is {}, the reference {}",
            kind(x),
            kind(y)
        )),
    }
}

fn named(
    x: &[(String, Value)],
    y: &[(String, Value)],
    limits: Budget,
) -> Result<Verdict, VerifyError> {
    if x.len() != y.len() {
        return wrong(format!("{} named values, expected {}", x.len(), y.len()));
    }
    let mut evidence = Vec::new();
    for (name, rv) in y {
        let Some((_, av)) = x.iter().find(|(n, _)| n == name) else {
            return wrong(format!("the answer does not give {name}"));
        };
        match compare(av, rv, limits)? {
            Verdict::Reject { reason, detail } => {
                return Ok(Verdict::reject(reason, format!("{name}: {detail}")))
            }
            Verdict::Accept { evidence: e, .. } => evidence.push(format!("{name}: {e}")),
        }
    }
    Ok(agree(
        format!("all {} named values agree", y.len()),
        &evidence,
    ))
}

fn ordered(x: &[Value], y: &[Value], limits: Budget) -> Result<Verdict, VerifyError> {
    if x.len() != y.len() {
        return wrong(format!("{} components, expected {}", x.len(), y.len()));
    }
    let mut evidence = Vec::new();
    for (i, (p, q)) in x.iter().zip(y).enumerate() {
        match compare(p, q, limits)? {
            Verdict::Reject { reason, detail } => {
                return Ok(Verdict::reject(
                    reason,
                    format!("component {}: {detail}", i + 1),
                ))
            }
            Verdict::Accept { evidence: e, .. } => evidence.push(e),
        }
    }
    Ok(agree(
        format!("all {} components agree", y.len()),
        &evidence,
    ))
}

/// Multiset comparison: every reference item is matched by its own answer item.
fn unordered(x: &[Value], y: &[Value], limits: Budget) -> Result<Verdict, VerifyError> {
    if x.len() != y.len() {
        return wrong(format!("{} elements, expected {}", x.len(), y.len()));
    }
    if y.len() > MAX_ITEMS {
        return Ok(Verdict::reject(
            "unparsable_answer",
            format!("more than {MAX_ITEMS} elements"),
        ));
    }
    let mut used = vec![false; x.len()];
    let mut evidence = Vec::new();
    for (i, q) in y.iter().enumerate() {
        let mut undecided = None;
        let mut found = false;
        for (j, p) in x.iter().enumerate() {
            if used[j] {
                continue;
            }
            match compare(p, q, limits)? {
                Verdict::Accept { evidence: e, .. } => {
                    used[j] = true;
                    found = true;
                    evidence.push(e);
                    break;
                }
                Verdict::Reject { reason, detail } if reason != "wrong_answer" => {
                    undecided.get_or_insert((reason, detail));
                }
                Verdict::Reject { .. } => {}
            }
        }
        if !found {
            return Ok(match undecided {
                Some((reason, detail)) => {
                    Verdict::reject(reason, format!("element {}: {detail}", i + 1))
                }
                None => Verdict::reject(
                    "wrong_answer",
                    format!(
                        "no element of the answer equals element {} of the reference",
                        i + 1
                    ),
                ),
            });
        }
    }
    Ok(agree(
        format!("all {} elements agree (in any order)", y.len()),
        &evidence,
    ))
}

/// An accept saying what agreed and how each part was shown equal (exactly, by Z3, as text).
fn agree(what: String, parts: &[String]) -> Verdict {
    let mut evidence = format!("{what}: {}", parts.join("; "));
    if evidence.len() > 600 {
        let cut = (0..=600)
            .rev()
            .find(|&i| evidence.is_char_boundary(i))
            .unwrap_or(0);
        evidence.truncate(cut);
        evidence.push('…');
    }
    Verdict::accept(evidence)
}

#[cfg(test)]
mod tests;
