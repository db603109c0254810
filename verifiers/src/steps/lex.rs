//! Tokens of one line of prose for the steps verifier.
//!
//! The lexer is deliberately conservative: anything that is not clearly arithmetic becomes a
//! break token ([`Kind::Word`], [`Kind::Punct`], [`Kind::Approx`]) that ends a claim. Times
//! (`3:00`), dates (`1/2/2020`, `2023-01-05`), version-like numbers (`1.2.3`), ordinals and
//! numbers glued to words (`3rd`, `5kg`) are words, not numbers.

use crate::expr::Tok;
use crate::numbers::{decimal_value, latex_arg};
use num_rational::BigRational;
use num_traits::Zero;

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

    /// A glued proper fraction `a/b` of integers at `k`; returns its value and end index.
    fn proper_fraction_at(&self, k: usize) -> Option<(BigRational, usize)> {
        let a = self.digits_from(k);
        if a == 0 || self.ch(k + a) != Some('/') {
            return None;
        }
        let b = self.digits_from(k + a + 1);
        let end = k + a + 1 + b;
        let after = self.ch(end);
        let clean_end = !after.is_some_and(|c| {
            c.is_ascii_digit()
                || c == '/'
                || (c == '.' && self.ch(end + 1).is_some_and(|d| d.is_ascii_digit()))
        });
        if b == 0 || !clean_end {
            return None;
        }
        let n = decimal_value(&self.collect(k, k + a), "").ok()?;
        let d = decimal_value(&self.collect(k + a + 1, end), "").ok()?;
        (n < d && !n.is_zero()).then(|| (n / d, end))
    }

    /// A mixed number's fraction after an integer ending at `i`: ` 1/2`, ` and 1/2`,
    /// ` and $1/3`, ` and (2/3)`. Returns the fraction and the index after it.
    fn mixed_tail(&self, i: usize) -> Option<(BigRational, usize)> {
        if self.ch(i) != Some(' ') {
            return None;
        }
        if let Some(found) = self.proper_fraction_at(i + 1) {
            return Some(found);
        }
        let and: String = self.collect(i, (i + 5).min(self.chars.len()));
        if and != " and " {
            return None;
        }
        let mut k = i + 5;
        if matches!(self.ch(k), Some('$' | '€' | '£')) {
            k += 1;
        }
        let paren = self.ch(k) == Some('(');
        if paren {
            k += 1;
        }
        let (value, end) = self.proper_fraction_at(k)?;
        if paren {
            (self.ch(end) == Some(')')).then_some((value, end + 1))
        } else {
            Some((value, end))
        }
    }

    /// Lexes a number starting at `start`; returns the index after it.
    fn number(&mut self, start: usize) -> usize {
        let prose = !self.calculator;
        // `D3`, `COVID19`: digits glued to a word are part of it.
        let after_times_x = matches!(
            self.toks.last().map(|t| &t.kind),
            Some(Kind::Math(Tok::Op('*')))
        );
        if prose
            && !after_times_x
            && start > 0
            && self.ch(start - 1).is_some_and(char::is_alphabetic)
        {
            let len = self.chars[start..]
                .iter()
                .take_while(|&&(_, c)| c.is_alphanumeric())
                .count()
                .max(1);
            return self.word(start, start + len);
        }
        let mut i = start;
        let mut int = String::new();
        let mut group = 0usize;
        let mut grouped = false;
        // Thousands separators: commas, or (in prose) single spaces (`18 000`); one kind per
        // number, groups of exactly three digits.
        let mut separator = None;
        while let Some(c) = self.ch(i) {
            let is_sep =
                c == ',' || (prose && matches!(c, ' ' | '\u{a0}' | '\u{2009}' | '\u{202f}'));
            if c.is_ascii_digit() {
                int.push(c);
                group += 1;
                i += 1;
            } else if is_sep
                && separator.is_none_or(|s| s == c)
                && !int.is_empty()
                && self.digits_from(i + 1) == 3
                && (c == ',' || self.ch(i + 4) != Some('/'))
            {
                if !(if grouped { group == 3 } else { group <= 3 }) || int.starts_with('0') {
                    break;
                }
                separator = Some(c);
                grouped = true;
                group = 0;
                i += 1;
            } else {
                break;
            }
        }
        let mut frac = String::new();
        if self.ch(i) == Some('.') && self.ch(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            while let Some(c) = self.ch(i).filter(char::is_ascii_digit) {
                frac.push(c);
                i += 1;
            }
        }
        let plain_int = frac.is_empty() && !grouped;
        if prose {
            // 1.2.3, 3:00, 1/2/2020, 2023-01-05, 0900: not arithmetic.
            let run_len = match self.ch(i) {
                Some('.' | ':' | '/' | '-') => self.chars[i..]
                    .iter()
                    .take(16)
                    .take_while(|&&(_, c)| c.is_ascii_digit() || matches!(c, '.' | ':' | '/' | '-'))
                    .count(),
                _ => 0,
            };
            let run = self.collect(i, i + run_len);
            let dotted = run.starts_with('.') && run[1..].starts_with(|c: char| c.is_ascii_digit());
            let timed = run.starts_with(':') && self.digits_from(i + 1) == 2;
            let dated = plain_int
                && ((int.len() <= 2 && is_date_tail(&run, '/'))
                    || (int.len() == 4 && is_date_tail(&run, '-')));
            if dotted || timed || dated {
                return self.word(start, i + run_len);
            }
            if plain_int && int.len() >= 2 && int.starts_with('0') {
                return self.word(start, i);
            }
            // `Weeks 1-2`: a range after a word, not a subtraction.
            let after_word =
                self.space && matches!(self.toks.last().map(|t| &t.kind), Some(Kind::Word(_)));
            if plain_int && after_word && self.ch(i) == Some('-') {
                let d = self.digits_from(i + 1);
                let upper = decimal_value(&self.collect(i + 1, i + 1 + d), "").ok();
                let lower = decimal_value(&int, "").ok();
                if d > 0 && upper.zip(lower).is_some_and(|(u, l)| u > l) {
                    return self.word(start, i + 1 + d);
                }
            }
        }
        // `12-pound`, `250-page`: an adjective, not a subtraction.
        if prose
            && self.ch(i) == Some('-')
            && self.ch(i + 1).is_some_and(|c| c.is_ascii_alphabetic())
            && self.ch(i + 2).is_some_and(|c| c.is_ascii_alphabetic())
        {
            let len = self.word_len(i + 1);
            return self.word(start, i + 1 + len);
        }
        // Glued letters: `3x4` (times), `2x` (coefficient), `3rd`/`5kg` (a word).
        let letters = self.chars[i..]
            .iter()
            .take_while(|&&(_, c)| c.is_alphabetic())
            .count();
        let suffix = if letters > 1 {
            self.collect(i, i + letters).to_lowercase()
        } else {
            String::new()
        };
        if letters > 1 && matches!(suffix.as_str(), "st" | "nd" | "rd" | "th" | "am" | "pm") {
            return self.word(start, i + letters); // `3rd`, `10am`
        }
        let Ok(mut value) = decimal_value(&int, &frac) else {
            return self.word(start, i);
        };
        let mut end = i;
        let after_spaced_division = self.space
            && matches!(
                self.toks.last().map(|t| &t.kind),
                Some(Kind::Math(Tok::Op('/')))
            );
        if plain_int && prose && after_spaced_division && self.ch(i) == Some('/') {
            // `25 / 1/3`: a glued fraction after a spaced division sign is one number.
            let d = self.digits_from(i + 1);
            let e = i + 1 + d;
            let clean_end = !self.ch(e).is_some_and(|c| {
                (c == '/' && !self.ch(e + 1).is_some_and(char::is_alphabetic))
                    || (c == '.' && self.ch(e + 1).is_some_and(|x| x.is_ascii_digit()))
            });
            if d > 0 && clean_end {
                if let Ok(den) = decimal_value(&self.collect(i + 1, e), "") {
                    if !den.is_zero() {
                        value /= den;
                        end = e;
                    }
                }
            }
        } else if plain_int && prose {
            if let Some((f, e)) = self.mixed_tail(i) {
                value += f;
                end = e;
            }
        }
        self.push(Kind::Math(Tok::Num(value)), start, end, frac.len());
        if letters > 1 && end == i {
            // `25ml`: a number and its unit word.
            self.push(Kind::Word(suffix), end, end + letters, 0);
            return end + letters;
        }
        if letters == 1 && end == i {
            let c = self.ch(end).unwrap_or(' ');
            let after = self.ch(end + 1);
            let times =
                (c == 'x' || c == 'X') && after.is_some_and(|n| n.is_ascii_digit() || n == '(');
            let kind = if times {
                Kind::Math(Tok::Op('*'))
            } else if c.is_ascii_alphabetic() {
                self.push(Kind::Math(Tok::ImplicitMul), end, end, 0);
                Kind::Letter(c)
            } else {
                Kind::Word(c.to_string())
            };
            self.push(kind, end, end + 1, 0);
            return end + 1;
        }
        if self.ch(end) == Some('(') {
            self.push(Kind::Math(Tok::ImplicitMul), end, end, 0);
        }
        end
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
        assert_eq!(
            kinds("48/2 = 24 clips"),
            ["48", "/", "2", "=", "24", "w:clips"]
        );
        assert_eq!(
            kinds("$1,200 + $300 = $1,500."),
            ["1200", "+", "300", "=", "1500", "p"]
        );
        assert_eq!(kinds("0.2 x 50 = 10"), ["1/5", "*", "50", "=", "10"]);
        assert_eq!(kinds("3x4=12"), ["3", "*", "4", "=", "12"]);
        assert_eq!(kinds(".25*32 = 8"), ["1/4", "*", "32", "=", "8"]);
        assert_eq!(kinds("5² = 25"), ["5", "^", "2", "=", "25"]);
        assert_eq!(kinds("20% of"), ["20", "%", "w:of"]);
    }

    #[test]
    fn unknowns_and_words() {
        assert_eq!(
            kinds("2x + 3 = 11"),
            ["2", "·", "var:x", "+", "3", "=", "11"]
        );
        assert_eq!(kinds("x = 4"), ["var:x", "=", "4"]);
        assert_eq!(kinds("a 3"), ["w:a", "3"]);
        assert_eq!(kinds("the 3rd day"), ["w:the", "w:#", "w:day"]);
        assert_eq!(kinds("5kg"), ["5", "w:kg"]);
        assert_eq!(kinds("students x $4"), ["w:students", "*", "4"]);
        assert_eq!(kinds("Let x be"), ["w:let", "w:x", "w:be"]);
        assert_eq!(kinds("15 push-ups"), ["15", "w:push-ups"]);
        assert_eq!(kinds("a 12-pound bag"), ["w:a", "w:#", "w:bag"]);
        assert_eq!(kinds("D3 = 6"), ["w:D", "w:#", "=", "6"]);
        assert_eq!(kinds("Mrs.5 = 5"), ["w:mrs", "w:#", "5", "=", "5"]);
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
        assert_eq!(kinds("= 18 000 watts"), ["=", "18000", "w:watts"]);
        assert_eq!(kinds("1 000,000"), ["1000", "p", "w:#"]);
        assert_eq!(kinds("Weeks 1-2 = 3"), ["w:weeks", "w:#", "=", "3"]);
        assert_eq!(kinds("so 4-2 = 2"), ["w:so", "4", "-", "2", "=", "2"]);
        assert_eq!(kinds("so 4 - 2 = 2"), ["w:so", "4", "-", "2", "=", "2"]);
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
