//! Tokens of a math answer: plain text (`2(x+1)`, `sqrt(8)`, `x^2 - 1/2`) or LaTeX
//! (`\frac{1}{2}`, `\sqrt[3]{x}`, `2\pi`, `x^{10}`, `\left(...\right)`).
//!
//! Variables are single letters; a run of two or three letters is their product (`xy`), a
//! longer run is rejected (it is a word or a function we do not support). `e` is Euler's number,
//! `pi`/`π`/`\pi` is π. Implicit multiplication (`2x`, `2(x+1)`, `(a)(b)`, `2\sqrt{2}`) becomes
//! [`Tok::ImplicitMul`].

use crate::expr::{Constant, Tok};
use crate::numbers::{decimal_value, latex_arg};
use num_rational::BigRational;

/// Why an answer is not a supported expression.
pub(super) type LexError = String;

/// Functions and words that are not supported: rejecting them beats reading `sin` as `s*i*n`.
const UNSUPPORTED: &[&str] = &[
    "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "lim", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "max", "min", "abs", "mod", "inf", "and", "or", "infty",
];

/// Lexes `text` into parser tokens.
pub(super) fn lex(text: &str) -> Result<Vec<Tok>, LexError> {
    let mut out = Vec::new();
    lex_into(text, &mut out, 0)?;
    Ok(insert_implicit(out))
}

fn lex_into(text: &str, out: &mut Vec<Tok>, depth: usize) -> Result<(), LexError> {
    if depth > 32 {
        return Err("nested too deeply".into());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '0'..='9' | '.' => i = number(&chars, i, out)?,
            '+' => push(out, Tok::Op('+'), &mut i),
            '-' | '−' => push(out, Tok::Op('-'), &mut i),
            '*' if chars.get(i + 1) == Some(&'*') => {
                out.push(Tok::Op('^'));
                i += 2;
            }
            '*' | '×' | '·' | '⋅' => push(out, Tok::Op('*'), &mut i),
            '/' | '÷' => push(out, Tok::Op('/'), &mut i),
            '^' => push(out, Tok::Op('^'), &mut i),
            '(' | '[' | '{' => push(out, Tok::LParen, &mut i),
            ')' | ']' | '}' => push(out, Tok::RParen, &mut i),
            '%' => push(out, Tok::Percent, &mut i),
            'π' => push(out, Tok::Const(Constant::Pi), &mut i),
            '√' => push(out, Tok::Root(2), &mut i),
            '∛' => push(out, Tok::Root(3), &mut i),
            '²' | '³' => {
                out.push(Tok::Op('^'));
                let n: i64 = if c == '²' { 2 } else { 3 };
                out.push(Tok::Num(BigRational::from_integer(n.into())));
                i += 1;
            }
            '\\' => i = command(&chars, i, out, depth)?,
            c if c.is_ascii_alphabetic() => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                letters(&word, out)?;
                i += len;
            }
            other => return Err(format!("unsupported character {other:?}")),
        }
    }
    Ok(())
}

fn push(out: &mut Vec<Tok>, t: Tok, i: &mut usize) {
    out.push(t);
    *i += 1;
}

/// A decimal numeral (thousands commas allowed only in groups of three).
fn number(chars: &[char], start: usize, out: &mut Vec<Tok>) -> Result<usize, LexError> {
    let mut i = start;
    let mut int = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            int.push(c);
            i += 1;
        } else if c == ','
            && !int.is_empty()
            && chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count()
                == 3
        {
            i += 1;
        } else {
            break;
        }
    }
    let mut frac = String::new();
    if chars.get(i) == Some(&'.') {
        i += 1;
        while let Some(c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            frac.push(*c);
            i += 1;
        }
    }
    if int.is_empty() && frac.is_empty() {
        return Err("a lone '.'".into());
    }
    let v = decimal_value(&int, &frac).map_err(|e| e.to_string())?;
    out.push(Tok::Num(v));
    Ok(i)
}

/// A run of letters: a constant, a root function, or single-letter variables.
fn letters(word: &str, out: &mut Vec<Tok>) -> Result<(), LexError> {
    match word {
        "pi" => out.push(Tok::Const(Constant::Pi)),
        "e" => out.push(Tok::Const(Constant::E)),
        "sqrt" => out.push(Tok::Root(2)),
        "cbrt" => out.push(Tok::Root(3)),
        w if UNSUPPORTED.contains(&w) => return Err(format!("unsupported function {w}")),
        w if w.len() <= 3 => {
            for (k, c) in w.chars().enumerate() {
                if k > 0 {
                    out.push(Tok::ImplicitMul);
                }
                out.push(if c == 'e' {
                    Tok::Const(Constant::E)
                } else {
                    Tok::Var(c.to_string())
                });
            }
        }
        w => return Err(format!("unsupported word {w:?}")),
    }
    Ok(())
}

/// A LaTeX command at `chars[start] == '\\'`; returns the index after it.
fn command(
    chars: &[char],
    start: usize,
    out: &mut Vec<Tok>,
    depth: usize,
) -> Result<usize, LexError> {
    let (name, j) = crate::final_answer::command_name(chars, start);
    if name.is_empty() {
        // `\,` `\;` `\!` `\ ` are spacing; `\{` `\}` are braces.
        return match chars.get(j) {
            Some(',' | ';' | '!' | ' ' | ':') => Ok(j + 1),
            Some('{') => {
                out.push(Tok::LParen);
                Ok(j + 1)
            }
            Some('}') => {
                out.push(Tok::RParen);
                Ok(j + 1)
            }
            other => Err(format!(
                "unsupported LaTeX \\{}",
                other.map_or(String::new(), |c| c.to_string())
            )),
        };
    }
    let group = |at: usize, out: &mut Vec<Tok>| -> Result<usize, LexError> {
        if at >= chars.len() {
            return Err(format!("\\{name} is missing an argument"));
        }
        let (arg, next) = latex_arg(chars, at);
        out.push(Tok::LParen);
        lex_into(&arg, out, depth + 1)?;
        out.push(Tok::RParen);
        Ok(next)
    };
    match name.as_str() {
        "frac" | "dfrac" | "tfrac" => {
            out.push(Tok::LParen);
            let next = group(j, out)?;
            out.push(Tok::Op('/'));
            let next = group(next, out)?;
            out.push(Tok::RParen);
            Ok(next)
        }
        "sqrt" => {
            let mut k = j;
            let mut index = 2;
            if chars.get(k) == Some(&'[') {
                let close = chars[k..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or("unclosed \\sqrt[")?;
                let n: String = chars[k + 1..k + close].iter().collect();
                index = n
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| format!("root index {n:?}"))?;
                if !(2..=16).contains(&index) {
                    return Err(format!("root index {index}"));
                }
                k += close + 1;
            }
            out.push(Tok::Root(index));
            group(k, out)
        }
        "pi" => {
            out.push(Tok::Const(Constant::Pi));
            Ok(j)
        }
        "cdot" | "times" | "ast" => {
            out.push(Tok::Op('*'));
            Ok(j)
        }
        "div" => {
            out.push(Tok::Op('/'));
            Ok(j)
        }
        "left" | "right" | "displaystyle" | "bigl" | "bigr" | "Bigl" | "Bigr" | "big" | "Big" => {
            Ok(j)
        }
        "mathrm" | "text" | "mathit" | "operatorname" => {
            let (arg, next) = latex_arg(chars, j);
            if arg.trim() == "e" {
                out.push(Tok::Const(Constant::E));
                Ok(next)
            } else {
                Err(format!("unsupported text {arg:?}"))
            }
        }
        other => Err(format!("unsupported LaTeX \\{other}")),
    }
}

/// Makes multiplication by juxtaposition explicit: after a number, letter, constant, `)` or
/// `%`, and before a letter, constant, `(` or root.
fn insert_implicit(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    for t in toks {
        let left = matches!(
            out.last(),
            Some(Tok::Num(_) | Tok::Var(_) | Tok::Const(_) | Tok::RParen | Tok::Percent)
        );
        let right = matches!(t, Tok::Var(_) | Tok::Const(_) | Tok::LParen | Tok::Root(_));
        if left && right {
            out.push(Tok::ImplicitMul);
        }
        out.push(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{eval, parse, PercentMode};

    fn value(s: &str) -> BigRational {
        let toks = lex(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let e = parse(&toks).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        eval(&e, &|_| None, PercentMode::Divide).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn q(a: i64, b: i64) -> BigRational {
        BigRational::new(a.into(), b.into())
    }

    #[test]
    fn plain_and_latex() {
        assert_eq!(value("2(3+1)"), q(8, 1));
        assert_eq!(value("\\frac{1}{2} + \\dfrac{1}{3}"), q(5, 6));
        assert_eq!(value("\\frac12"), q(1, 2));
        assert_eq!(value("2^{10}"), q(1024, 1));
        assert_eq!(value("\\sqrt{9} + \\sqrt[3]{8}"), q(5, 1));
        assert_eq!(value("sqrt(16)/2"), q(2, 1));
        assert_eq!(value("\\left(1+1\\right)\\cdot 3"), q(6, 1));
        assert_eq!(value("1,000 + 0.5"), q(2001, 2));
        assert_eq!(value("3²"), q(9, 1));
        assert_eq!(value("(2)(3)"), q(6, 1));
    }

    #[test]
    fn letters_and_errors() {
        assert_eq!(
            lex("2xy").unwrap_or_default(),
            vec![
                Tok::Num(q(2, 1)),
                Tok::ImplicitMul,
                Tok::Var("x".into()),
                Tok::ImplicitMul,
                Tok::Var("y".into())
            ]
        );
        assert_eq!(
            lex("2\\pi").unwrap_or_default(),
            vec![
                Tok::Num(q(2, 1)),
                Tok::ImplicitMul,
                Tok::Const(Constant::Pi)
            ]
        );
        assert!(lex("sin(x)").is_err());
        assert!(lex("72 clips").is_err());
        assert!(lex("\\int x").is_err());
        assert!(lex("x ≤ 3").is_err());
        assert!(lex("\\sqrt[99]{2}").is_err());
        assert!(lex("\\frac{1}").is_err());
        assert!(lex(&"\\frac{".repeat(100)).is_err());
    }
}
