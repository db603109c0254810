//! Tokens of one line of prose for the steps verifier.
//!
//! The lexer is deliberately conservative: anything that is not clearly arithmetic becomes a
//! break token ([`Kind::Word`], [`Kind::Punct`], [`Kind::Approx`]) that ends a claim. Times
//! (`3:00`), dates (`1/2/2020`, `2023-01-05`), version-like numbers (`1.2.3`), ordinals and
//! numbers glued to words (`3rd`, `5kg`) are words, not numbers.

use crate::expr::Tok;
use crate::numbers::{decimal_value, latex_arg};
use num_rational::BigRational;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    /// Part of an arithmetic expression.
    Math(Tok),
    /// `=`.
    Eq,
    /// A single letter that may be an unknown; resolved to `Math(Var)` or `Word` after lexing.
    Letter(char),
    /// A word (lower-cased); ends a claim.
    Word(String),
    /// Punctuation or an unsupported symbol; ends a claim.
    Punct,
    /// `≈`, `~`, `...`: an approximation marker; ends a claim.
    Approx,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: Kind,
    /// Byte span in the lexed text.
    pub start: usize,
    pub end: usize,
    /// Whitespace right before this token.
    pub space_before: bool,
    /// Digits written after the decimal point (numbers only).
    pub decimals: usize,
}

impl Token {
    pub fn is_math(&self) -> bool {
        matches!(self.kind, Kind::Math(_) | Kind::Eq)
    }
}

/// Rewrites LaTeX math into the plain notation the lexer reads: `\frac{a}{b}` → `((a)/(b))`,
/// `\times`/`\cdot` → `×`, `\div` → `÷`, `\text{..}` → a word, braces → parentheses.
pub(super) fn latex_to_plain(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < chars.len() && chars[j].is_ascii_alphabetic() {
            j += 1;
        }
        if j == start {
            match chars.get(start) {
                Some('$') => out.push('$'),
                Some('%') => out.push('%'),
                Some('{') => out.push('{'),
                Some('}') => out.push('}'),
                Some(',' | ';' | ':' | '!' | ' ') => out.push(' '),
                _ => out.push('\\'),
            }
            i = (start + 1).min(chars.len());
            continue;
        }
        let name: String = chars[start..j].iter().collect();
        i = j;
        match name.as_str() {
            "frac" | "dfrac" | "tfrac" => {
                let (num, next) = latex_arg(&chars, i);
                let (den, next) = latex_arg(&chars, next);
                i = next;
                out.push_str(&format!(
                    "(({})/({}))",
                    latex_to_plain(&num),
                    latex_to_plain(&den)
                ));
            }
            "times" | "cdot" | "ast" => out.push('×'),
            "div" => out.push('÷'),
            "left" | "right" | "displaystyle" | "boxed" | "mathbf" | "mathrm" => {}
            "quad" | "qquad" => out.push(' '),
            "approx" | "sim" | "simeq" | "cong" => out.push('≈'),
            "text" | "textbf" | "mbox" => {
                let (arg, next) = latex_arg(&chars, i);
                i = next;
                out.push_str(" \u{1}");
                out.push_str(&arg.replace(|c: char| !c.is_alphanumeric(), " "));
                out.push(' ');
            }
            _ => {
                // Unknown command (\sqrt, \le, \neq, \pi, ...): a word, which ends any claim.
                out.push_str(" \u{1}");
                out.push_str(&name);
                out.push(' ');
            }
        }
    }
    out
}

/// Lexes one line. `calculator` is true inside GSM8K `<<...>>` annotations, where `**` is a
/// power; in prose `**` is Markdown bold.
pub(super) fn lex(text: &str, calculator: bool) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let ch = |k: usize| chars.get(k).map(|&(_, c)| c);
    let mut toks: Vec<Token> = Vec::new();
    let mut space = false;
    let mut i = 0;
    let push = |toks: &mut Vec<Token>, kind: Kind, a: usize, b: usize, space: &mut bool| {
        toks.push(Token {
            kind,
            start: byte_at(a),
            end: byte_at(b),
            space_before: *space,
            decimals: 0,
        });
        *space = false;
    };
    while i < chars.len() {
        let c = chars[i].1;
        let prev_is_digit = i > 0 && ch(i - 1).is_some_and(|p| p.is_ascii_digit() || p == '.');
        if c.is_ascii_digit() || (c == '.' && !prev_is_digit && ch(i + 1).is_some_and(|n| n.is_ascii_digit())) {
            i = lex_number(&chars, calculator, i, &mut toks, &mut space, text.len());
            continue;
        }
        if c.is_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        let (kind, len) = match c {
            '$' | '€' | '£' | '¥' => {
                i += 1;
                continue;
            }
            '+' => (Kind::Math(Tok::Op('+')), 1),
            '-' | '−' => (Kind::Math(Tok::Op('-')), 1),
            '*' if ch(i + 1) == Some('*') => {
                let run = chars[i..].iter().take_while(|&&(_, c)| c == '*').count();
                if calculator && run == 2 {
                    (Kind::Math(Tok::Op('^')), 2)
                } else {
                    (Kind::Punct, run)
                }
            }
            '*' | '×' | '·' | '⋅' | '∙' => (Kind::Math(Tok::Op('*')), 1),
            '/' | '÷' | '∕' => (Kind::Math(Tok::Op('/')), 1),
            '^' => (Kind::Math(Tok::Op('^')), 1),
            '²' | '³' => {
                let n = if c == '²' { 2 } else { 3 };
                push(&mut toks, Kind::Math(Tok::Op('^')), i, i, &mut space);
                (Kind::Math(Tok::Num(BigRational::from_integer(n.into()))), 1)
            }
            '=' => {
                let run = chars[i..].iter().take_while(|&&(_, c)| c == '=').count();
                if ch(i + run) == Some('>') {
                    (Kind::Punct, run + 1)
                } else {
                    (Kind::Eq, run)
                }
            }
            '≈' | '~' | '≃' | '≅' | '…' => (Kind::Approx, 1),
            '.' if ch(i + 1) == Some('.') && ch(i + 2) == Some('.') => (Kind::Approx, 3),
            '(' | '[' | '{' => (Kind::Math(Tok::LParen), 1),
            ')' | ']' | '}' => (Kind::Math(Tok::RParen), 1),
            '%' => (Kind::Math(Tok::Percent), 1),
            c if c.is_alphabetic() || c == '\u{1}' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|&&(_, c)| c.is_alphabetic() || c == '\'' || c == '’' || c == '\u{1}')
                    .count();
                let word: String = chars[i..i + len].iter().map(|&(_, c)| c).collect();
                (letter_or_word(&word, &toks, &chars, i + len), len)
            }
            _ => (Kind::Punct, 1),
        };
        push(&mut toks, kind, i, i + len, &mut space);
        i += len;
    }
    resolve_letters(&mut toks);
    toks
}

/// A single letter may be the multiplication sign `x`, an unknown, or a word.
fn letter_or_word(word: &str, toks: &[Token], chars: &[(usize, char)], after: usize) -> Kind {
    let mut it = word.chars();
    let (Some(c), None) = (it.next(), it.next()) else {
        return Kind::Word(word.to_lowercase());
    };
    let prev_operand = toks.last().is_some_and(|t| {
        matches!(
            t.kind,
            Kind::Math(Tok::Num(_) | Tok::RParen | Tok::Percent)
        )
    });
    let next = chars[after..]
        .iter()
        .map(|&(_, c)| c)
        .find(|c| !c.is_whitespace() && !matches!(c, '$' | '€' | '£'));
    let next_operand = next.is_some_and(|n| n.is_ascii_digit() || n == '(' || n == '.');
    if (c == 'x' || c == 'X') && prev_operand && next_operand {
        return Kind::Math(Tok::Op('*'));
    }
    if c == 'a' || c == 'I' || !c.is_ascii_alphabetic() {
        return Kind::Word(word.to_lowercase());
    }
    Kind::Letter(c)
}

/// A letter is an unknown when it touches an operator, `=` or a parenthesis; otherwise a word.
fn resolve_letters(toks: &mut [Token]) {
    let is_op_like = |k: &Kind| {
        matches!(
            k,
            Kind::Eq | Kind::Math(Tok::Op(_) | Tok::ImplicitMul | Tok::LParen | Tok::RParen)
        )
    };
    for k in 0..toks.len() {
        if let Kind::Letter(c) = toks[k].kind {
            let prev = k.checked_sub(1).map(|p| &toks[p].kind);
            let next = toks.get(k + 1).map(|t| &t.kind);
            let glued_coefficient = matches!(prev, Some(Kind::Math(Tok::ImplicitMul)));
            let touches = prev.is_some_and(is_op_like) || next.is_some_and(is_op_like);
            toks[k].kind = if glued_coefficient || touches {
                Kind::Math(Tok::Var(c.to_string()))
            } else {
                Kind::Word(c.to_string())
            };
        }
    }
}

/// Lexes a number starting at `i`; returns the index after it.
fn lex_number(
    chars: &[(usize, char)],
    calculator: bool,
    start: usize,
    toks: &mut Vec<Token>,
    space: &mut bool,
    text_len: usize,
) -> usize {
    let ch = |k: usize| chars.get(k).map(|&(_, c)| c);
    let byte_at = |k: usize| chars.get(k).map_or(text_len, |&(b, _)| b);
    let digits_from = |k: usize| chars[k.min(chars.len())..].iter().take_while(|(_, c)| c.is_ascii_digit()).count();
    let mut i = start;
    let mut int = String::new();
    let mut group = 0usize;
    let mut grouped = false;
    while let Some(c) = ch(i) {
        if c.is_ascii_digit() {
            int.push(c);
            group += 1;
            i += 1;
        } else if c == ','
            && !int.is_empty()
            && digits_from(i + 1) == 3
            && (if grouped { group == 3 } else { group <= 3 })
            && !int.starts_with('0')
        {
            grouped = true;
            group = 0;
            i += 1;
        } else {
            break;
        }
    }
    let mut frac = String::new();
    if ch(i) == Some('.') && ch(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
        while let Some(c) = ch(i).filter(char::is_ascii_digit) {
            frac.push(c);
            i += 1;
        }
    }
    let word = |toks: &mut Vec<Token>, end: usize, space: &mut bool| {
        toks.push(Token {
            kind: Kind::Word(String::from("#")),
            start: byte_at(start),
            end: byte_at(end),
            space_before: *space,
            decimals: 0,
        });
        *space = false;
        end
    };
    let is_num_char = |c: char| c.is_ascii_digit() || c == '.' || c == ':' || c == '/' || c == '-';
    // 1.2.3, 3:00, 1/2/2020, 2023-01-05: not arithmetic.
    let rest_run = chars[i..].iter().take_while(|&&(_, c)| is_num_char(c)).count();
    let run: String = chars[i..i + rest_run].iter().map(|&(_, c)| c).collect();
    let dotted = run.starts_with('.') && run[1..].starts_with(|c: char| c.is_ascii_digit());
    let timed = run.starts_with(':') && run[1..].starts_with(|c: char| c.is_ascii_digit());
    let dated = frac.is_empty()
        && !grouped
        && ((int.len() <= 2 && is_date_tail(&run, '/'))
            || (int.len() == 4 && is_date_tail(&run, '-')));
    if !calculator && (dotted || timed || dated) {
        return word(toks, i + rest_run, space);
    }
    // Glued letters: `3x4` (times), `2x` (coefficient), `3rd`/`5kg` (a word).
    let letters = chars[i..].iter().take_while(|&&(_, c)| c.is_alphabetic()).count();
    if letters > 1 {
        return word(toks, i + letters, space);
    }
    let Ok(mut value) = decimal_value(&int, &frac) else {
        return word(toks, i, space);
    };
    let mut end = i;
    // Mixed number `3 1/2`: an integer, one space, a proper fraction of integers.
    if frac.is_empty() && !grouped && ch(i) == Some(' ') {
        let a = digits_from(i + 1);
        if a > 0 && ch(i + 1 + a) == Some('/') {
            let b = digits_from(i + 2 + a);
            let after = ch(i + 2 + a + b);
            let clean_end = !after.is_some_and(|c| {
                c.is_ascii_digit()
                    || c == '/'
                    || (c == '.' && ch(i + 3 + a + b).is_some_and(|d| d.is_ascii_digit()))
            });
            if b > 0 && clean_end {
                let num: String = chars[i + 1..i + 1 + a].iter().map(|&(_, c)| c).collect();
                let den: String = chars[i + 2 + a..i + 2 + a + b].iter().map(|&(_, c)| c).collect();
                if let (Ok(n), Ok(d)) = (decimal_value(&num, ""), decimal_value(&den, "")) {
                    if n < d && n > BigRational::from_integer(0.into()) {
                        value += n / d;
                        end = i + 2 + a + b;
                    }
                }
            }
        }
    }
    toks.push(Token {
        kind: Kind::Math(Tok::Num(value)),
        start: byte_at(start),
        end: byte_at(end),
        space_before: *space,
        decimals: frac.len(),
    });
    *space = false;
    if letters == 1 {
        let c = ch(end).unwrap_or(' ');
        let after = ch(end + 1);
        let times = (c == 'x' || c == 'X') && after.is_some_and(|n| n.is_ascii_digit() || n == '(');
        let kind = if times {
            Kind::Math(Tok::Op('*'))
        } else if c.is_ascii_alphabetic() {
            push_implicit(toks, byte_at(end));
            Kind::Letter(c)
        } else {
            Kind::Word(c.to_string())
        };
        toks.push(Token {
            kind,
            start: byte_at(end),
            end: byte_at(end + 1),
            space_before: false,
            decimals: 0,
        });
        return end + 1;
    }
    if ch(end) == Some('(') {
        push_implicit(toks, byte_at(end));
    }
    end
}

fn push_implicit(toks: &mut Vec<Token>, at: usize) {
    toks.push(Token {
        kind: Kind::Math(Tok::ImplicitMul),
        start: at,
        end: at,
        space_before: false,
        decimals: 0,
    });
}

/// `/2/2020` or `-01-05` after the first number: the rest of a date (two more numeric parts,
/// the middle one at most two digits, the last two or four).
fn is_date_tail(run: &str, sep: char) -> bool {
    let parts: Vec<&str> = run.split(sep).collect();
    let numeric = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    parts.len() >= 3
        && parts[0].is_empty()
        && numeric(parts[1])
        && parts[1].len() <= 2
        && numeric(parts[2].trim_end_matches('.'))
        && matches!(parts[2].trim_end_matches('.').len(), 2 | 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<String> {
        lex(&latex_to_plain(s), false)
            .into_iter()
            .map(|t| match t.kind {
                Kind::Math(Tok::Num(n)) => format!("{n}"),
                Kind::Math(Tok::Var(v)) => format!("var:{v}"),
                Kind::Math(Tok::Op(c)) => c.to_string(),
                Kind::Math(Tok::ImplicitMul) => "·".into(),
                Kind::Math(Tok::LParen) => "(".into(),
                Kind::Math(Tok::RParen) => ")".into(),
                Kind::Math(Tok::Percent) => "%".into(),
                Kind::Math(other) => format!("{other:?}"),
                Kind::Eq => "=".into(),
                Kind::Letter(c) => format!("letter:{c}"),
                Kind::Word(w) => format!("w:{w}"),
                Kind::Punct => "p".into(),
                Kind::Approx => "≈".into(),
            })
            .collect()
    }

    #[test]
    fn basic_prose() {
        assert_eq!(kinds("48/2 = 24 clips"), ["48", "/", "2", "=", "24", "w:clips"]);
        assert_eq!(kinds("$1,200 + $300 = $1,500."), ["1200", "+", "300", "=", "1500", "p"]);
        assert_eq!(kinds("0.2 x 50 = 10"), ["1/5", "*", "50", "=", "10"]);
        assert_eq!(kinds("3x4=12"), ["3", "*", "4", "=", "12"]);
        assert_eq!(kinds(".25*32 = 8"), ["1/4", "*", "32", "=", "8"]);
        assert_eq!(kinds("5² = 25"), ["5", "^", "2", "=", "25"]);
        assert_eq!(kinds("20% of"), ["20", "%", "w:of"]);
    }

    #[test]
    fn unknowns_and_words() {
        assert_eq!(kinds("2x + 3 = 11"), ["2", "·", "var:x", "+", "3", "=", "11"]);
        assert_eq!(kinds("x = 4"), ["var:x", "=", "4"]);
        assert_eq!(kinds("a 3"), ["w:a", "3"]);
        assert_eq!(kinds("the 3rd day"), ["w:the", "w:#", "w:day"]);
        assert_eq!(kinds("5kg"), ["w:#"]);
    }

    #[test]
    fn times_dates_and_versions_are_words() {
        assert_eq!(kinds("3:00 + 2 = 5:00"), ["w:#", "+", "2", "=", "w:#"]);
        assert_eq!(kinds("1/2/2020"), ["w:#"]);
        assert_eq!(kinds("2023-01-05"), ["w:#"]);
        assert_eq!(kinds("1.2.3"), ["w:#"]);
        assert_eq!(kinds("3 - 4"), ["3", "-", "4"]);
    }

    #[test]
    fn mixed_numbers_and_commas() {
        assert_eq!(kinds("1 1/2 + 1 = 2 1/2"), ["3/2", "+", "1", "=", "5/2"]);
        assert_eq!(kinds("2 3/2"), ["2", "3", "/", "2"]);
        assert_eq!(kinds("1,2,3"), ["1", "p", "2", "p", "3"]);
        assert_eq!(kinds("12,3456"), ["12", "p", "3456"]);
    }

    #[test]
    fn latex() {
        assert_eq!(
            kinds("\\frac{48}{2} = 24"),
            ["(", "(", "48", ")", "/", "(", "2", ")", ")", "=", "24"]
        );
        assert_eq!(kinds("3 \\times 4"), ["3", "*", "4"]);
        assert_eq!(kinds("\\text{apples}"), ["w:\u{1}apples"]);
        assert_eq!(kinds("\\sqrt{4}"), ["w:\u{1}sqrt", "(", "4", ")"]);
    }

    #[test]
    fn approximations_and_markdown() {
        assert_eq!(kinds("10/3 ≈ 3.33"), ["10", "/", "3", "≈", "333/100"]);
        assert_eq!(kinds("3.33..."), ["333/100", "≈"]);
        assert_eq!(kinds("**5**"), ["p", "5", "p"]);
        assert_eq!(lex("2**3", true)[1].kind, Kind::Math(Tok::Op('^')));
    }
}
