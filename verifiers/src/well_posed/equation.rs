//! smelt's structured form of a proposal's statement: one equation in ordinary notation, in
//! the unknown `answer`, such as `answer = 4 * 3 + 10` or `answer * 6 = 42`. Small models
//! write this far more reliably than SMT-LIB; it is translated to SMT-LIB over the reals, so
//! the same Z3 checks decide it.
//!
//! The syntax is deliberately narrow: decimal numbers (thousands grouped by commas allowed, a
//! currency sign before one ignored), `answer`, `+ - * /` (also `×`, `÷`), a postfix `%` (hundredths), parentheses and
//! `=`. A chain `answer = 6 * 3 = 18` asserts every `=` of it, so a wrong result makes the
//! statement unsatisfiable. Anything else (another name, juxtaposition such as `2answer` or
//! `3 (4)`, a power, a unit word) is refused, never guessed at. Every divisor is asserted
//! non-zero, so that Z3's total division cannot invent a solution.

use crate::expr::{parse, Expr, ParseError, Tok};
use crate::numbers::{format_rational, parse_number};
use num_rational::BigRational;

/// The name of the unknown.
pub const UNKNOWN: &str = "answer";

/// Longest equation read, in bytes.
const MAX_LEN: usize = 2_000;

/// An equation translated: the whole statement, and the statement of its definition alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// `answer` declared Real, every relation of the chain asserted, every divisor non-zero.
    pub smt: String,
    /// The same for the first relation and any later side that mentions `answer`: the
    /// trailing constant sides of a chain (`answer = 6 * 3 = 18`) are results, which Z3 checks
    /// against the definition, not facts, so their numerals need not come from the text.
    pub definition: String,
}

/// The SMT-LIB statement of `equation`: `answer` declared Real, each `=` of the chain
/// asserted, each divisor asserted non-zero. The error says why the equation is not one.
pub fn to_smtlib(equation: &str) -> Result<String, String> {
    translate(equation).map(|t| t.smt)
}

/// [`to_smtlib`], with the definition apart ([`Translation`]).
pub fn translate(equation: &str) -> Result<Translation, String> {
    if equation.len() > MAX_LEN {
        return Err(format!("the equation is longer than {MAX_LEN} bytes"));
    }
    let texts: Vec<&str> = equation.split('=').collect();
    if texts.len() < 2 {
        return Err(format!("`{equation}` has no `=`"));
    }
    let mut sides = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        sides.push(side(text, i + 1)?);
    }
    if !sides.iter().any(mentions_unknown) {
        return Err(format!("the equation does not mention `{UNKNOWN}`"));
    }
    // The definition: the first relation, and every later side that is not a constant result.
    let defining = sides
        .iter()
        .enumerate()
        .rposition(|(i, s)| i < 2 || mentions_unknown(s))
        .unwrap_or(1)
        .max(1);
    Ok(Translation {
        smt: statement(&sides)?,
        definition: statement(&sides[..=defining])?,
    })
}

fn statement(sides: &[Expr]) -> Result<String, String> {
    let mut divisors = Vec::new();
    let mut terms = Vec::with_capacity(sides.len());
    for s in sides {
        terms.push(smt(s, &mut divisors)?);
    }
    let mut out = format!("(declare-const {UNKNOWN} Real)");
    for pair in terms.windows(2) {
        out.push_str(&format!(" (assert (= {} {}))", pair[0], pair[1]));
    }
    for d in divisors {
        out.push_str(&format!(" (assert (not (= {d} 0.0)))"));
    }
    Ok(out)
}

fn side(text: &str, n: usize) -> Result<Expr, String> {
    let tokens = lex(text)?;
    parse(&tokens).map_err(|e| {
        let why = match e {
            ParseError::Empty => "is empty".to_string(),
            ParseError::Unbalanced => "has unbalanced parentheses".to_string(),
            ParseError::Unexpected(t) => format!("has an unexpected {t}"),
            ParseError::Ambiguous(a) => format!("is ambiguous: {a}"),
            ParseError::TooDeep => "nests too deeply".to_string(),
            ParseError::TooLong => "is too long".to_string(),
        };
        format!("side {n} of the equation, `{}`, {why}", text.trim())
    })
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '0'..='9' | '.' => {
                let start = i;
                // Digits, a decimal point, and thousands groups (`1,200`: a comma followed by
                // exactly three digits).
                let group = |i: usize| {
                    chars.get(i) == Some(&',')
                        && (1..=3).all(|k| chars.get(i + k).is_some_and(char::is_ascii_digit))
                        && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
                };
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.' || group(i))
                {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().filter(|c| **c != ',').collect();
                let value = parse_number(&digits)
                    .map_err(|_| format!("`{digits}` is not a decimal number"))?;
                push(&mut out, Tok::Num(value))?;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word != UNKNOWN {
                    return Err(format!(
                        "`{word}` is not `{UNKNOWN}`, the only name an equation may use"
                    ));
                }
                push(&mut out, Tok::Var(word))?;
                continue;
            }
            // A currency sign before a number says nothing about its value.
            '$' | '€' | '£' => {
                i += 1;
                continue;
            }
            '+' | '-' | '*' | '/' => Tok::Op(c),
            '×' => Tok::Op('*'),
            '÷' => Tok::Op('/'),
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '%' => Tok::Percent,
            other => return Err(format!("`{other}` has no meaning in an equation")),
        };
        push(&mut out, tok)?;
        i += 1;
    }
    Ok(out)
}

/// Appends `t`, refusing juxtaposition (an operand right after an operand).
fn push(out: &mut Vec<Tok>, t: Tok) -> Result<(), String> {
    let ends_operand = matches!(
        out.last(),
        Some(Tok::Num(_) | Tok::Var(_) | Tok::RParen | Tok::Percent)
    );
    let starts_operand = matches!(t, Tok::Num(_) | Tok::Var(_) | Tok::LParen);
    if ends_operand && starts_operand {
        return Err("two operands stand side by side: write the operator (`*`)".to_string());
    }
    out.push(t);
    Ok(())
}

fn mentions_unknown(e: &Expr) -> bool {
    let mut vars = Vec::new();
    e.vars(&mut vars);
    !vars.is_empty()
}

/// `e` in SMT-LIB over the reals; each divisor goes into `divisors`.
fn smt(e: &Expr, divisors: &mut Vec<String>) -> Result<String, String> {
    let bin = |op: &str, a: &Expr, b: &Expr, divisors: &mut Vec<String>| {
        Ok::<_, String>(format!(
            "({op} {} {})",
            smt(a, divisors)?,
            smt(b, divisors)?
        ))
    };
    Ok(match e {
        Expr::Num(v) => real(v),
        Expr::Var(name) => name.clone(),
        Expr::Neg(a) => format!("(- {})", smt(a, divisors)?),
        Expr::Add(a, b) => bin("+", a, b, divisors)?,
        Expr::Sub(a, b) => bin("-", a, b, divisors)?,
        Expr::Mul(a, b) => bin("*", a, b, divisors)?,
        Expr::Div(a, b) => {
            let d = smt(b, divisors)?;
            divisors.push(d.clone());
            format!("(/ {} {d})", smt(a, divisors)?)
        }
        Expr::Percent(a) => format!("(/ {} 100.0)", smt(a, divisors)?),
        Expr::Const(_) | Expr::Pow(..) | Expr::Root(..) => {
            return Err("an equation uses only + - * / and %".to_string())
        }
    })
}

/// A non-negative rational as an SMT-LIB real literal: `12.0`, `2.5`, `(/ 1.0 3.0)`.
fn real(v: &BigRational) -> String {
    if v.is_integer() {
        format!("{}.0", v.numer())
    } else {
        let shown = format_rational(v);
        if shown.contains('/') {
            format!("(/ {}.0 {}.0)", v.numer(), v.denom())
        } else {
            shown
        }
    }
}
