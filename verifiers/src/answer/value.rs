//! Reading an answer string as a value, and comparing two values exactly.
//!
//! Forms, tried in order: assignments (`x = 3`, `x = 1, y = -1/2`), tuples (`(1, 2)`,
//! `[1, 2]`, `1, 2`), one number ([`parse_number`]), and otherwise normalised text (lower
//! case, collapsed whitespace, LaTeX text wrappers and `$` removed).

use crate::numbers::{format_rational, normalize_latex, parse_number};
use num_rational::BigRational;

/// An answer as a value.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerValue {
    Number(BigRational),
    /// An ordered tuple or list, compared elementwise.
    Tuple(Vec<AnswerValue>),
    /// `name = value` pairs, compared by name (order does not matter).
    Named(Vec<(String, AnswerValue)>),
    /// Anything else, normalised.
    Text(String),
}

impl std::fmt::Display for AnswerValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerValue::Number(n) => write!(f, "{}", format_rational(n)),
            AnswerValue::Tuple(xs) => {
                let parts: Vec<String> = xs.iter().map(ToString::to_string).collect();
                write!(f, "({})", parts.join(", "))
            }
            AnswerValue::Named(xs) => {
                let parts: Vec<String> = xs.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                write!(f, "{}", parts.join(", "))
            }
            AnswerValue::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// Splits at commas (and `;`) outside brackets. Commas inside numbers (`1,234`) are not
/// separators: a separator comma is followed by whitespace or is not between digit groups.
fn split_top_level(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut depth = 0i32;
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b';' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            b',' if depth == 0 => {
                let digit_before = i > 0 && bytes[i - 1].is_ascii_digit();
                let digits_after = bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let thousands = digit_before
                    && digits_after == 3
                    && !bytes.get(i + 4).is_some_and(|c| c.is_ascii_digit());
                if !thousands {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn assignment(part: &str) -> Option<(String, &str)> {
    let (name, value) = part.split_once('=')?;
    let name = name.trim();
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    (ok && !value.contains('=')).then(|| (name.to_owned(), value.trim()))
}

/// Strips one pair of enclosing brackets when they enclose the whole string.
fn enclosed(s: &str) -> Option<&str> {
    let (open, close) = match s.as_bytes().first()? {
        b'(' => (b'(', b')'),
        b'[' => (b'[', b']'),
        _ => return None,
    };
    if s.len() < 2 || *s.as_bytes().last()? != close {
        return None;
    }
    let mut depth = 0i32;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b == open {
            depth += 1;
        } else if b == close {
            depth -= 1;
            if depth == 0 && i != s.len() - 1 {
                return None; // `(1) + (2)`
            }
        }
    }
    Some(&s[1..s.len() - 1])
}

/// Reads an answer (or a reference) as a value.
pub fn parse_answer(s: &str) -> AnswerValue {
    parse_depth(s, 0)
}

fn parse_depth(raw: &str, depth: usize) -> AnswerValue {
    let s = strip_math_delimiters(raw.trim());
    if depth > 8 {
        return AnswerValue::Text(normalize_text(s));
    }
    let parts = split_top_level(s);
    if parts.len() > 1 {
        let named: Option<Vec<_>> = parts.iter().map(|p| assignment(p)).collect();
        if let Some(named) = named {
            return AnswerValue::Named(
                named
                    .into_iter()
                    .map(|(n, v)| (n, parse_depth(v, depth + 1)))
                    .collect(),
            );
        }
    }
    if let Some((name, value)) = assignment(s) {
        return AnswerValue::Named(vec![(name, parse_depth(value, depth + 1))]);
    }
    if let Some(inner) = enclosed(s) {
        let items = split_top_level(inner);
        if items.len() > 1 {
            return AnswerValue::Tuple(items.iter().map(|p| parse_depth(p, depth + 1)).collect());
        }
        if let Ok(n) = parse_number(inner) {
            return AnswerValue::Number(n);
        }
    } else if parts.len() > 1 && parts.iter().all(|p| parse_number(p).is_ok()) {
        return AnswerValue::Tuple(parts.iter().map(|p| parse_depth(p, depth + 1)).collect());
    }
    match parse_number(s) {
        Ok(n) => AnswerValue::Number(n),
        Err(_) => AnswerValue::Text(normalize_text(s)),
    }
}

fn strip_math_delimiters(s: &str) -> &str {
    let mut s = s;
    loop {
        let t = s.trim();
        let inner = t
            .strip_prefix("$$")
            .and_then(|x| x.strip_suffix("$$"))
            .or_else(|| t.strip_prefix("\\(").and_then(|x| x.strip_suffix("\\)")))
            .or_else(|| {
                (t.len() >= 2 && t.starts_with('$') && t.ends_with('$')).then(|| &t[1..t.len() - 1])
            });
        match inner {
            Some(i) => s = i,
            None => return t,
        }
    }
}

/// Lower case, LaTeX text wrappers and `$` removed, whitespace collapsed, trailing punctuation
/// dropped.
pub fn normalize_text(s: &str) -> String {
    let plain = normalize_latex(s).replace('$', "");
    let words: Vec<&str> = plain.split_whitespace().collect();
    words
        .join(" ")
        .trim_end_matches(['.', '!', ';', ','])
        .to_lowercase()
}

/// The result of comparing an answer with a reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    Equal,
    Different(String),
    /// The answer cannot be read in the form the reference has.
    Unparsable(String),
}

/// Compares exactly. Names must agree when both sides name a value; a lone `x = 3` matches a
/// reference `3`.
pub fn compare(answer: &AnswerValue, reference: &AnswerValue) -> Comparison {
    use AnswerValue::*;
    match (answer, reference) {
        (Named(a), Named(r)) if a.len() == r.len() => {
            for (name, rv) in r {
                let Some((_, av)) = a.iter().find(|(n, _)| n == name) else {
                    return Comparison::Different(format!("the answer does not give {name}"));
                };
                match compare(av, rv) {
                    Comparison::Equal => {}
                    other => return other,
                }
            }
            Comparison::Equal
        }
        (Named(a), r) if a.len() == 1 && !matches!(r, Named(_)) => compare(&a[0].1, r),
        (a, Named(r)) if r.len() == 1 && !matches!(a, Named(_)) => compare(a, &r[0].1),
        (Number(a), Number(r)) => {
            if a == r {
                Comparison::Equal
            } else {
                Comparison::Different(format!("{} ≠ {}", format_rational(a), format_rational(r)))
            }
        }
        (Tuple(a), Tuple(r)) => {
            if a.len() != r.len() {
                return Comparison::Different(format!(
                    "{} components, expected {}",
                    a.len(),
                    r.len()
                ));
            }
            for (i, (x, y)) in a.iter().zip(r).enumerate() {
                match compare(x, y) {
                    Comparison::Equal => {}
                    Comparison::Different(d) => {
                        return Comparison::Different(format!("component {}: {d}", i + 1))
                    }
                    Comparison::Unparsable(d) => {
                        return Comparison::Unparsable(format!("component {}: {d}", i + 1))
                    }
                }
            }
            Comparison::Equal
        }
        (Text(a), Text(r)) => {
            if a == r {
                Comparison::Equal
            } else {
                Comparison::Different(format!("{a:?} ≠ {r:?}"))
            }
        }
        (Text(a), _) => Comparison::Unparsable(format!("{a:?} is not of the reference's form")),
        (a, r) => Comparison::Different(format!("{a} is not of the form of {r}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(a: &str, r: &str) -> bool {
        compare(&parse_answer(a), &parse_answer(r)) == Comparison::Equal
    }

    #[test]
    fn numbers_compare_exactly() {
        assert!(eq("72", "72"));
        assert!(eq("$18.00", "18"));
        assert!(eq("0.25", "1/4"));
        assert!(eq("\\frac{1}{4}", "0.25"));
        assert!(eq("1,080", "1080"));
        assert!(eq("72 clips", "72"));
        assert!(eq("$5$", "5"));
        assert!(!eq("0.333", "1/3"));
        assert!(!eq("71", "72"));
        assert!(eq("25%", "25"));
        assert!(!eq("0.25", "25%"));
    }

    #[test]
    fn assignments_and_tuples() {
        assert!(eq("x = 3", "3"));
        assert!(eq("3", "x=3"));
        assert!(!eq("y = 3", "x = 3"));
        assert!(eq("y = -1, x = 2", "x=2, y=-1"));
        assert!(!eq("x = 2, y = 1", "x=2, y=-1"));
        assert!(eq("(1, 2)", "(1,2)"));
        assert!(eq("[1, -1/2]", "(1, -0.5)"));
        assert!(!eq("(2, 1)", "(1, 2)"));
        assert!(!eq("(1, 2, 3)", "(1, 2)"));
        assert!(eq("1, 2", "(1, 2)"));
        assert!(!eq("(1, 2)", "x = 1, y = 2"));
    }

    #[test]
    fn text_answers() {
        assert!(eq("\\text{Yes}", "yes"));
        assert!(eq("  Blue  whale. ", "blue whale"));
        assert!(!eq("red", "blue"));
        assert!(matches!(
            compare(&parse_answer("seventy"), &parse_answer("70")),
            Comparison::Unparsable(_)
        ));
    }

    #[test]
    fn deep_nesting_does_not_recurse_forever() {
        let s = "(".repeat(5000) + "1, 2" + &")".repeat(5000);
        let _ = parse_answer(&s);
    }
}
