//! Numbers: integers, decimals, thousands separators, glued and mixed fractions.

use super::{is_date_tail, Kind, Lexer};
use crate::expr::Tok;
use crate::numbers::decimal_value;
use num_rational::BigRational;
use num_traits::Zero;

impl Lexer {
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
    pub(super) fn number(&mut self, start: usize) -> usize {
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
}
