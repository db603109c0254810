//! Exact parsing of numeric answers into [`BigRational`]. Never floats.
//!
//! [`parse_number`] reads one whole answer such as `72`, `-3/4`, `0.25` (exactly 1/4),
//! `1 1/2`, `1,234,567`, `$18.00`, `72 clips`, `2.5 million`, `\frac{3}{4}`, `\$1{,}000`,
//! `\text{5 dollars}`. Anything it cannot read unambiguously is an error, never a guess:
//!
//! * Commas are thousands separators only in well-formed groups (`1,234`, not `1,5` or `12,34`);
//!   a European decimal comma is rejected rather than misread.
//! * `%` is a unit label, like `clips`: `25%` reads as 25. (A reference `25` and an answer `25%`
//!   agree; `0.25` and `25%` do not.) The value is never silently divided by 100.
//! * A mixed number `1 1/2` is accepted only with a proper fraction part (`2 3/2` is rejected).
//! * Scale words `hundred`, `thousand`, `million`, `billion`, `trillion` multiply exactly.
//! * Trailing unit words are dropped (`5 dollars`, `3 cm^2`, `12 km/h`); trailing text that
//!   contains another number (`5 dollars and 50 cents`) is rejected.
//! * Approximation markers (`≈`, `~`, `about`, `...`) are rejected: an approximation is not an
//!   exact answer.
//! * Numerals longer than [`MAX_DIGITS`] digits are rejected (big-integer parsing of hostile
//!   input must stay cheap).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// Longest numeral (in digits) that is parsed; longer ones are rejected as too long.
pub const MAX_DIGITS: usize = 1000;

/// Why a string is not one exact number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("empty")]
    Empty,
    #[error("not a number: {0:?}")]
    NotANumber(String),
    #[error("ambiguous number: {0}")]
    Ambiguous(String),
    #[error("division by zero")]
    DivisionByZero,
    #[error("numeral longer than {MAX_DIGITS} digits")]
    TooLong,
}

/// Parses one whole answer string as an exact rational number (see the module docs for the
/// accepted forms and what is rejected).
pub fn parse_number(text: &str) -> Result<BigRational, NumberError> {
    let cleaned = normalize_latex(text.trim());
    let s = cleaned.trim();
    if s.contains(['≈', '~', '±']) || s.contains("...") || s.contains('…') {
        return Err(NumberError::Ambiguous(format!("approximate value {s:?}")));
    }
    let s = s.trim_end_matches(['.', '!', ';', ',', ':']).trim();
    if s.is_empty() {
        return Err(NumberError::Empty);
    }
    let lower = s.to_ascii_lowercase();
    for w in [
        "about ",
        "approximately ",
        "approx",
        "around ",
        "nearly ",
        "roughly ",
    ] {
        if lower.starts_with(w) {
            return Err(NumberError::Ambiguous(format!("approximate value {s:?}")));
        }
    }
    let mut cur = Cursor::new(s);
    let negative = cur.sign_and_currency();
    let mut value = cur.magnitude()?;
    cur.skip_ws();
    value *= cur.scale_word();
    let rest = cur.rest().trim();
    check_unit_tail(rest)?;
    if negative {
        value = -value;
    }
    Ok(value)
}

/// Rewrites the LaTeX forms of numbers into plain text: `\frac{a}{b}` → `a/b` (or ` a/b` after a
/// digit, for mixed numbers), `\text{...}` → its content, `{,}` → `,`, `\$` → `$`, `\%` → `%`,
/// spacing commands dropped, remaining braces dropped.
pub(crate) fn normalize_latex(s: &str) -> String {
    if !s.contains(['\\', '{', '}']) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' && chars.get(i + 1) == Some(&',') && chars.get(i + 2) == Some(&'}') {
            out.push(',');
            i += 3;
            continue;
        }
        if c != '\\' {
            if c != '{' && c != '}' {
                out.push(c);
            }
            i += 1;
            continue;
        }
        // A command: a backslash followed by letters, or by one non-letter.
        let start = i + 1;
        let mut j = start;
        while j < chars.len() && chars[j].is_ascii_alphabetic() {
            j += 1;
        }
        if j == start {
            match chars.get(start) {
                Some('$') => out.push('$'),
                Some('%') => out.push('%'),
                Some(',' | ';' | ':' | '!' | ' ') => {}
                Some(other) => out.push(*other),
                None => {}
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
                if out.chars().last().is_some_and(|c| c.is_ascii_digit()) {
                    out.push(' ');
                }
                out.push_str(&format!(
                    "{}/{}",
                    normalize_latex(&num),
                    normalize_latex(&den)
                ));
            }
            "text" | "textbf" | "mathrm" | "mathbf" | "textrm" | "mbox" | "boxed" => {
                let (arg, next) = latex_arg(&chars, i);
                i = next;
                out.push_str(&normalize_latex(&arg));
            }
            "left" | "right" | "displaystyle" | "quad" | "qquad" => {}
            "cdot" | "times" => out.push('*'),
            "div" => out.push('/'),
            "approx" | "sim" => out.push('≈'),
            "pm" => out.push('±'),
            "circ" => out.push('°'),
            "euro" => out.push('€'),
            _ => {
                out.push('\\');
                out.push_str(&name);
            }
        }
    }
    out
}

/// One LaTeX argument starting at `i`: a balanced `{...}` group or a single character
/// (`\frac34`). Returns the argument text and the index after it. An unbalanced group yields the
/// rest of the input, which then fails to parse as a number.
pub(crate) fn latex_arg(chars: &[char], mut i: usize) -> (String, usize) {
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    match chars.get(i) {
        Some('{') => {
            let mut depth = 0usize;
            for (k, &c) in chars.iter().enumerate().skip(i) {
                if c == '{' {
                    depth += 1;
                } else if c == '}' {
                    depth -= 1;
                    if depth == 0 {
                        return (chars[i + 1..k].iter().collect(), k + 1);
                    }
                }
            }
            (chars[i + 1..].iter().collect(), chars.len())
        }
        Some(c) => (c.to_string(), i + 1),
        None => (String::new(), i),
    }
}

const SCALES: [(&str, u64); 5] = [
    ("hundred", 100),
    ("thousand", 1_000),
    ("million", 1_000_000),
    ("billion", 1_000_000_000),
    ("trillion", 1_000_000_000_000),
];

/// The tail after the number must be unit words only (no further numbers).
fn check_unit_tail(rest: &str) -> Result<(), NumberError> {
    let rest = rest.trim_start_matches('%').trim();
    if rest.is_empty() {
        return Ok(());
    }
    let first = rest.chars().next().unwrap_or(' ');
    let starts_ok = first.is_alphabetic() || matches!(first, '°' | '\'' | '’' | '"');
    let mut prev = ' ';
    for c in rest.chars() {
        let ok = c.is_alphabetic()
            || c.is_whitespace()
            || matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '’' | '/' | '°'
            )
            || matches!(c, '²' | '³' | '-' | '(' | ')' | '"')
            || ((c == '2' || c == '3') && (prev == '^' || prev.is_alphabetic()))
            || (c == '^' && prev.is_alphabetic());
        if !ok {
            return Err(NumberError::NotANumber(rest.to_owned()));
        }
        prev = c;
    }
    if !starts_ok {
        return Err(NumberError::NotANumber(rest.to_owned()));
    }
    Ok(())
}

/// A hand-written scanner over the answer text.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Reads an optional sign and currency symbol in either order (`-$5`, `$-5`); returns true
    /// for a minus sign.
    fn sign_and_currency(&mut self) -> bool {
        let mut negative = false;
        let mut seen_sign = false;
        let mut seen_currency = false;
        loop {
            self.skip_ws();
            match self.peek() {
                Some('-' | '−' | '–') if !seen_sign => {
                    negative = true;
                    seen_sign = true;
                }
                Some('+') if !seen_sign => seen_sign = true,
                Some('$' | '€' | '£' | '¥') if !seen_currency => seen_currency = true,
                _ => return negative,
            }
            self.bump();
        }
    }

    /// An unsigned decimal numeral with optional thousands commas: `1,234.50`, `.5`, `7`.
    fn decimal(&mut self) -> Result<Option<BigRational>, NumberError> {
        let start = self.pos;
        let mut int_digits = String::new();
        let mut group_len = 0usize;
        let mut saw_comma = false;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                int_digits.push(c);
                group_len += 1;
                self.bump();
            } else if c == ',' && !int_digits.is_empty() {
                let after = &self.rest()[1..];
                let digits = after.chars().take_while(char::is_ascii_digit).count();
                if digits == 0 {
                    break; // a trailing comma is punctuation
                }
                let first_group_ok = saw_comma || (1..=3).contains(&group_len);
                if digits != 3 || !first_group_ok || (saw_comma && group_len != 3) {
                    return Err(NumberError::Ambiguous(format!(
                        "comma in {:?} is not a thousands separator",
                        &self.s[start..]
                    )));
                }
                if int_digits.starts_with('0') {
                    return Err(NumberError::Ambiguous("leading zero before a comma".into()));
                }
                saw_comma = true;
                group_len = 0;
                self.bump();
            } else {
                break;
            }
        }
        if saw_comma && group_len != 3 {
            return Err(NumberError::Ambiguous(
                "malformed thousands separators".into(),
            ));
        }
        let mut frac_digits = String::new();
        if self.peek() == Some('.')
            && self.rest()[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        {
            self.bump();
            while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                frac_digits.push(c);
                self.bump();
            }
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            self.pos = start;
            return Ok(None);
        }
        decimal_value(&int_digits, &frac_digits).map(Some)
    }

    /// The unsigned magnitude: a decimal, a fraction `a/b`, or a mixed number `a b/c`.
    fn magnitude(&mut self) -> Result<BigRational, NumberError> {
        let Some(first) = self.decimal()? else {
            return Err(NumberError::NotANumber(self.rest().to_owned()));
        };
        if let Some(den) = self.fraction_tail()? {
            return divide(first, den);
        }
        // Mixed number: an integer, one space, then a proper fraction of integers.
        let save = self.pos;
        if self.peek() == Some(' ') && first.is_integer() {
            self.bump();
            let inner_start = self.pos;
            if let Some(num) = self.decimal()? {
                let num_is_int = !self.s[inner_start..self.pos].contains('.');
                if let Some(den) = self.fraction_tail()? {
                    if !num_is_int || !den.is_integer() {
                        return Err(NumberError::Ambiguous("mixed number with decimals".into()));
                    }
                    if num >= den || num.is_zero() {
                        return Err(NumberError::Ambiguous(format!(
                            "{} {}/{} is not a mixed number",
                            first, num, den
                        )));
                    }
                    return Ok(first + num / den);
                }
            }
        }
        self.pos = save;
        Ok(first)
    }

    /// `/b` directly after a numerator (spaces allowed around the slash).
    fn fraction_tail(&mut self) -> Result<Option<BigRational>, NumberError> {
        let save = self.pos;
        self.skip_ws();
        if self.peek() != Some('/') {
            self.pos = save;
            return Ok(None);
        }
        self.bump();
        self.skip_ws();
        match self.decimal()? {
            Some(den) => Ok(Some(den)),
            None => {
                // `12 km/h`-style units after a number are not fractions.
                self.pos = save;
                Ok(None)
            }
        }
    }

    /// An optional scale word right after the number; returns the multiplier (1 if none).
    fn scale_word(&mut self) -> BigRational {
        let rest = self.rest();
        for (word, factor) in SCALES {
            let matches = rest.len() >= word.len()
                && rest.is_char_boundary(word.len())
                && rest[..word.len()].eq_ignore_ascii_case(word)
                && !rest[word.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphabetic);
            if matches {
                self.pos += word.len();
                return BigRational::from_integer(BigInt::from(factor));
            }
        }
        BigRational::one()
    }
}

/// Exact value of `int.frac` from its digit strings.
pub(crate) fn decimal_value(
    int_digits: &str,
    frac_digits: &str,
) -> Result<BigRational, NumberError> {
    if int_digits.len() + frac_digits.len() > MAX_DIGITS {
        return Err(NumberError::TooLong);
    }
    // Fast path: up to 18 digits fit in a u64 exactly.
    if int_digits.len() + frac_digits.len() <= 18 {
        let digits = || int_digits.bytes().chain(frac_digits.bytes());
        if digits().all(|b| b.is_ascii_digit()) {
            let numer = digits().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
            let denom = 10u64.pow(frac_digits.len() as u32);
            return Ok(BigRational::new(numer.into(), denom.into()));
        }
    }
    let all = format!("{int_digits}{frac_digits}");
    let numer: BigInt = if all.is_empty() {
        BigInt::zero()
    } else {
        all.parse()
            .map_err(|_| NumberError::NotANumber(all.clone()))?
    };
    let denom = num_traits::pow(BigInt::from(10u32), frac_digits.len());
    Ok(BigRational::new(numer, denom))
}

fn divide(a: BigRational, b: BigRational) -> Result<BigRational, NumberError> {
    if b.is_zero() {
        Err(NumberError::DivisionByZero)
    } else {
        Ok(a / b)
    }
}

/// Formats a rational for humans: an integer, a terminating decimal, or `p/q`.
pub fn format_rational(r: &BigRational) -> String {
    if r.is_integer() {
        return r.numer().to_string();
    }
    // Terminating decimal iff the reduced denominator has only factors 2 and 5.
    let mut d = r.denom().clone();
    let (two, five) = (BigInt::from(2), BigInt::from(5));
    let mut places = 0usize;
    let (mut twos, mut fives) = (0usize, 0usize);
    while (&d % &two).is_zero() {
        d /= &two;
        twos += 1;
    }
    while (&d % &five).is_zero() {
        d /= &five;
        fives += 1;
    }
    if d.is_one() {
        places = twos.max(fives);
    }
    if places == 0 || places > 30 {
        return format!("{}/{}", r.numer(), r.denom());
    }
    let scaled = r * BigRational::from_integer(num_traits::pow(BigInt::from(10), places));
    let n = scaled.to_integer();
    let neg = n < BigInt::zero();
    let digits = if neg { (-n).to_string() } else { n.to_string() };
    let digits = format!("{digits:0>width$}", width = places + 1);
    let (ip, fp) = digits.split_at(digits.len() - places);
    format!("{}{ip}.{fp}", if neg { "-" } else { "" })
}

#[cfg(test)]
mod tests;
