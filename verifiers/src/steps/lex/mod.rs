//! Tokens of one line of prose for the steps verifier.
//!
//! The lexer is deliberately conservative: anything that is not clearly arithmetic becomes a
//! break token ([`Kind::Word`], [`Kind::Punct`], [`Kind::Approx`]) that ends a claim. Times
//! (`3:00`), dates (`1/2/2020`, `2023-01-05`), version-like numbers (`1.2.3`), ordinals and
//! numbers glued to words (`3rd`, `5kg`) are words, not numbers.

mod latex;
mod number;

pub(super) use latex::latex_to_plain;

use crate::expr::Tok;
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
    /// A currency sign came right before this token (`$5`).
    pub dollar: bool,
}

impl Token {
    pub fn is_math(&self) -> bool {
        matches!(self.kind, Kind::Math(_) | Kind::Eq)
    }
}

/// Lexes one line. `calculator` is true inside GSM8K `<<...>>` annotations, where `**` is a
/// power and the prose heuristics (times, dates, labels) are off; in prose `**` is Markdown bold.
pub(super) fn lex(text: &str, calculator: bool) -> Vec<Token> {
    let mut lx = Lexer {
        chars: text.char_indices().collect(),
        text_len: text.len(),
        toks: Vec::new(),
        space: false,
        dollar: false,
        calculator,
    };
    lx.run();
    resolve_letters(&mut lx.toks);
    lx.toks
}

struct Lexer {
    chars: Vec<(usize, char)>,
    text_len: usize,
    toks: Vec<Token>,
    /// Whitespace since the last token.
    space: bool,
    /// A currency sign since the last token.
    dollar: bool,
    calculator: bool,
}

impl Lexer {
    fn ch(&self, k: usize) -> Option<char> {
        self.chars.get(k).map(|&(_, c)| c)
    }

    fn byte(&self, k: usize) -> usize {
        self.chars.get(k).map_or(self.text_len, |&(b, _)| b)
    }

    fn digits_from(&self, k: usize) -> usize {
        self.chars
            .get(k..)
            .unwrap_or(&[])
            .iter()
            .take_while(|(_, c)| c.is_ascii_digit())
            .count()
    }

    fn collect(&self, a: usize, b: usize) -> String {
        self.chars[a..b].iter().map(|&(_, c)| c).collect()
    }

    fn push(&mut self, kind: Kind, a: usize, b: usize, decimals: usize) {
        let t = Token {
            kind,
            start: self.byte(a),
            end: self.byte(b),
            space_before: self.space,
            decimals,
            dollar: self.dollar,
        };
        self.toks.push(t);
        self.space = false;
        self.dollar = false;
    }

    fn run(&mut self) {
        let mut i = 0;
        while i < self.chars.len() {
            let c = self.chars[i].1;
            let prev = i.checked_sub(1).and_then(|p| self.ch(p));
            let next = self.ch(i + 1);
            let starts_number = c.is_ascii_digit()
                || (c == '.'
                    && !prev.is_some_and(|p| p.is_ascii_digit() || p == '.')
                    && next.is_some_and(|n| n.is_ascii_digit()));
            if starts_number {
                let next_i = self.number(i);
                // Always make progress, whatever `number` decided.
                i = if next_i > i {
                    next_i
                } else {
                    self.word(i, i + 1)
                };
                continue;
            }
            if c.is_whitespace() {
                self.space = true;
                i += 1;
                continue;
            }
            let (kind, len) = match c {
                '$' | '€' | '£' | '¥' => {
                    self.dollar = true;
                    i += 1;
                    continue;
                }
                '+' => (Kind::Math(Tok::Op('+')), 1),
                '-' | '−' => (Kind::Math(Tok::Op('-')), 1),
                // An en dash is a minus only between spaces (`38 – x`); `3–4` is a range.
                '–' if self.space && next.is_some_and(char::is_whitespace) => {
                    (Kind::Math(Tok::Op('-')), 1)
                }
                '*' if next == Some('*') => {
                    let run = self.chars[i..]
                        .iter()
                        .take_while(|&&(_, c)| c == '*')
                        .count();
                    if self.calculator && run == 2 {
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
                    self.push(Kind::Math(Tok::Op('^')), i, i, 0);
                    (Kind::Math(Tok::Num(BigRational::from_integer(n.into()))), 1)
                }
                '=' => {
                    let run = self.chars[i..]
                        .iter()
                        .take_while(|&&(_, c)| c == '=')
                        .count();
                    if self.ch(i + run) == Some('>') {
                        (Kind::Punct, run + 1)
                    } else {
                        (Kind::Eq, run)
                    }
                }
                '≈' | '~' | '≃' | '≅' | '…' => (Kind::Approx, 1),
                '.' if next == Some('.') && self.ch(i + 2) == Some('.') => (Kind::Approx, 3),
                '(' | '[' | '{' => (Kind::Math(Tok::LParen), 1),
                ')' | ']' | '}' => (Kind::Math(Tok::RParen), 1),
                '%' => (Kind::Math(Tok::Percent), 1),
                c if c.is_alphabetic() || c == '\u{1}' => {
                    let len = self.word_len(i);
                    let word = self.collect(i, i + len);
                    (self.letter_or_word(&word, i + len), len)
                }
                _ => (Kind::Punct, 1),
            };
            self.push(kind, i, i + len, 0);
            i += len;
        }
    }

    /// Length of the word at `i`: letters and apostrophes, and hyphens between letters
    /// (`push-ups`, `t-shirts`).
    fn word_len(&self, i: usize) -> usize {
        let mut k = i;
        while let Some(c) = self.ch(k) {
            let letter = c.is_alphabetic() || c == '\'' || c == '’' || c == '\u{1}';
            let hyphen = c == '-'
                && k > i
                && self.ch(k - 1).is_some_and(char::is_alphabetic)
                && self.ch(k + 1).is_some_and(char::is_alphabetic);
            if !(letter || hyphen) {
                break;
            }
            k += 1;
        }
        k - i
    }

    /// A single letter may be the multiplication sign `x`, an unknown, or a word.
    fn letter_or_word(&self, word: &str, after: usize) -> Kind {
        let mut it = word.chars();
        let (Some(c), None) = (it.next(), it.next()) else {
            return Kind::Word(word.to_lowercase());
        };
        let prev_operand = self.toks.last().is_some_and(|t| {
            matches!(t.kind, Kind::Math(Tok::Num(_) | Tok::RParen | Tok::Percent))
        });
        let next = self.chars[after..]
            .iter()
            .map(|&(_, c)| c)
            .find(|c| !c.is_whitespace() && !matches!(c, '$' | '€' | '£'));
        let next_operand = next.is_some_and(|n| n.is_ascii_digit() || n == '(' || n == '.');
        let next_number = next.is_some_and(|n| n.is_ascii_digit() || n == '.');
        let prev_word = matches!(self.toks.last().map(|t| &t.kind), Some(Kind::Word(_)));
        // `0.2 x 50`, and `20 students x $4` (after a unit word, before a number).
        if (c == 'x' || c == 'X') && ((prev_operand && next_operand) || (prev_word && next_number))
        {
            return Kind::Math(Tok::Op('*'));
        }
        if c == 'a' || c == 'I' || !c.is_ascii_alphabetic() {
            return Kind::Word(word.to_lowercase());
        }
        Kind::Letter(c)
    }

    /// Emits the chars `a..b` as one opaque word.
    fn word(&mut self, a: usize, b: usize) -> usize {
        self.push(Kind::Word(String::from("#")), a, b, 0);
        b
    }
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

/// `/2/2020` or `-01-05` after the first number: the rest of a date (two more numeric parts,
/// the middle one at most two digits, the last two or four).
fn is_date_tail(run: &str, sep: char) -> bool {
    let parts: Vec<&str> = run.split(sep).collect();
    let numeric = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    let last = parts.get(2).map_or("", |p| p.trim_end_matches('.'));
    parts.len() >= 3
        && parts[0].is_empty()
        && numeric(parts[1])
        && parts[1].len() <= 2
        && numeric(last)
        && matches!(last.len(), 2 | 4)
}

#[cfg(test)]
mod tests;
