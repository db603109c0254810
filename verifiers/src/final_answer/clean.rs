//! Rewrites a final answer written in LaTeX into the plain form the structure parser reads.
//!
//! * Math delimiters (`$`, `\(`, `\[`) and `\boxed{}`/`\fbox{}` wrappers go (several boxes
//!   become a comma list); `\left`, `\right`, `\displaystyle`, `\big…` and spacing commands go.
//! * `\dfrac`/`\tfrac` become `\frac`; `\le`/`\leq`/`<=` become `≤`, `\ge`/`\geq`/`>=` `≥`,
//!   `\lt`/`\gt` `<`/`>`, `\in` `∈`, `\cup` `∪`, `\infty` `∞`, `\emptyset` `∅`, and `\{ \}` the
//!   set delimiters `«` `»`.
//! * Degrees (`^\circ`, `°`), `\%` (kept as `%`), `\$` and currency go away.
//! * `\text{}`-like wrappers: `or`/`and` become a comma; `e` stays Euler's number; a wrapper
//!   that is the whole answer yields its text; a unit word after a value (`\text{ cm}^2`) is
//!   dropped; anything else is kept as its content.
//! * Digits grouped by spaces (`7 425 000`, from `7\,425\,000`) are joined.

/// Commands whose argument is text.
const TEXT_COMMANDS: &[&str] = &[
    "text",
    "textbf",
    "textit",
    "textrm",
    "mathrm",
    "mathbf",
    "mathit",
    "mbox",
    "textnormal",
    "mathsf",
    "textsf",
    "operatorname",
];

/// Commands dropped without a trace.
const DROPPED: &[&str] = &[
    "left",
    "right",
    "displaystyle",
    "textstyle",
    "big",
    "Big",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "bigg",
    "Bigg",
    "biggl",
    "biggr",
    "quad",
    "qquad",
    "limits",
    "nolimits",
    "degree",
    "textdegree",
    "circ",
    "mathbb",
];

/// Plain replacements of commands.
const RENAMED: &[(&str, &str)] = &[
    ("dfrac", "\\frac"),
    ("tfrac", "\\frac"),
    ("cfrac", "\\frac"),
    ("le", "≤"),
    ("leq", "≤"),
    ("leqslant", "≤"),
    ("ge", "≥"),
    ("geq", "≥"),
    ("geqslant", "≥"),
    ("lt", "<"),
    ("gt", ">"),
    ("in", "∈"),
    ("cup", "∪"),
    ("infty", "∞"),
    ("infinity", "∞"),
    ("emptyset", "∅"),
    ("varnothing", "∅"),
    ("lbrace", "«"),
    ("pm", "±"),
    ("rbrace", "»"),
];

/// Cleans one final answer (see the module docs).
pub(crate) fn clean(raw: &str) -> String {
    let s = rewrite(raw.trim(), true, 0);
    let s = s
        .replace("<=", "≤")
        .replace(">=", "≥")
        .replace("\\{", "«")
        .replace("\\}", "»");
    let s = join_digit_groups(&s);
    let s = integer_functions(&s);
    let words: Vec<&str> = s.split_whitespace().collect();
    words
        .join(" ")
        .trim_end_matches(['.', ';'])
        .trim()
        .to_owned()
}

/// One pass over the text; `whole` is true when `s` is the whole answer.
fn rewrite(s: &str, whole: bool, depth: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '$' | '~' => {
                out.push(' ');
                i += 1;
            }
            '°' => i += 1,
            '^' if degree_at(&chars, i + 1).is_some() => {
                i = degree_at(&chars, i + 1).unwrap_or(i + 1);
            }
            '\\' => i = command(&chars, i, &mut out, whole, depth),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `\circ` or `{\circ}` at `i`: the index after it.
fn degree_at(chars: &[char], i: usize) -> Option<usize> {
    let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
    ["\\circ", "{\\circ}", "{{\\circ}}"]
        .iter()
        .find(|p| rest.starts_with(**p))
        .map(|p| i + p.chars().count())
}

/// The letters of the LaTeX command at `chars[start] == '\\'` (empty for `\,` and the like)
/// and the index after them.
pub(crate) fn command_name(chars: &[char], start: usize) -> (String, usize) {
    let mut j = start + 1;
    while j < chars.len() && chars[j].is_ascii_alphabetic() {
        j += 1;
    }
    (chars[start + 1..j].iter().collect(), j)
}

/// A command at `chars[start] == '\\'`; returns the index after it.
fn command(chars: &[char], start: usize, out: &mut String, whole: bool, depth: usize) -> usize {
    let (name, j) = command_name(chars, start);
    if name.is_empty() {
        return match chars.get(j) {
            Some(',' | ';' | ':' | '!' | ' ' | '>') => {
                out.push(' ');
                j + 1
            }
            Some('(' | ')' | '[' | ']' | '$') => {
                out.push(' ');
                j + 1
            }
            Some('%') => {
                out.push('%');
                j + 1
            }
            Some('{') => {
                out.push('«');
                j + 1
            }
            Some('}') => {
                out.push('»');
                j + 1
            }
            Some(other) => {
                out.push('\\');
                out.push(*other);
                j + 1
            }
            None => j,
        };
    }
    if let Some((_, to)) = RENAMED.iter().find(|(from, _)| *from == name) {
        out.push_str(to);
        if to.starts_with('\\') {
            return j;
        }
        out.push(' ');
        return j;
    }
    if DROPPED.contains(&name.as_str()) {
        out.push(' ');
        return j;
    }
    if name == "overline" {
        let (digits, next) = crate::numbers::latex_arg(chars, j);
        if let Some(exact) = repeating(out, digits.trim()) {
            out.push_str(&exact);
            return next;
        }
    }
    if name == "boxed" || name == "fbox" {
        let (arg, next) = crate::numbers::latex_arg(chars, j);
        if depth < 8 {
            let inner = rewrite(&arg, whole && rest_is_blank(chars, next), depth + 1);
            if box_follows_box(out) {
                out.push_str(", ");
            }
            out.push_str(&inner);
            out.push('\u{1}');
        }
        return next;
    }
    if TEXT_COMMANDS.contains(&name.as_str()) {
        let (arg, next) = crate::numbers::latex_arg(chars, j);
        let content = arg.trim();
        let only = whole && out.trim().is_empty() && rest_is_blank(chars, next);
        let lower = content.to_ascii_lowercase();
        if lower == "or" || lower == "and" || lower == "," {
            out.push_str(", ");
        } else if content == "e" || only || !is_unit(content) || out.trim().is_empty() {
            out.push(' ');
            if depth < 8 {
                out.push_str(&rewrite(content, false, depth + 1));
            }
            out.push(' ');
        } else {
            // A unit after a value: drop it, and a power right after it (`\text{cm}^2`).
            return skip_power(chars, next);
        }
        return next;
    }
    out.push('\\');
    out.push_str(&name);
    j
}

/// `0.1\overline{6}`: replaces the decimal at the end of `out` by the exact fraction of the
/// repeating decimal, `(1/6)`. `None` (and `out` untouched) unless `out` ends with `a.b` and
/// `period` is 1–12 digits.
fn repeating(out: &mut String, period: &str) -> Option<String> {
    if period.is_empty() || period.len() > 12 || !period.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_len = out.bytes().rev().take_while(u8::is_ascii_digit).count();
    let dot = out.len().checked_sub(frac_len + 1)?;
    if out.as_bytes().get(dot) != Some(&b'.') {
        return None;
    }
    let int_len = out[..dot]
        .bytes()
        .rev()
        .take_while(u8::is_ascii_digit)
        .count();
    let (int, frac) = (&out[dot - int_len..dot], &out[dot + 1..]);
    if int.len() + frac.len() > 12 {
        return None;
    }
    // x = (int frac period − int frac) / (10^len(frac) · (10^len(period) − 1))
    let whole: u128 = format!("{int}{frac}{period}").parse().ok()?;
    let head: u128 = format!("0{int}{frac}").parse().ok()?;
    let denom = 10u128.pow(u32::try_from(frac.len()).ok()?)
        * (10u128.pow(u32::try_from(period.len()).ok()?) - 1);
    out.truncate(dot - int_len);
    Some(format!("({}/{denom})", whole - head))
}

/// True when the previous output ended with a box and only separators followed it.
fn box_follows_box(out: &mut String) -> bool {
    let Some(pos) = out.rfind('\u{1}') else {
        return false;
    };
    let between = out[pos + 1..].trim().trim_matches(',').trim();
    let sep = between.is_empty() || between == "and" || between == "or";
    if sep {
        out.truncate(pos);
    } else {
        out.remove(pos);
    }
    sep
}

fn rest_is_blank(chars: &[char], from: usize) -> bool {
    chars[from.min(chars.len())..]
        .iter()
        .all(|c| c.is_whitespace() || matches!(c, '$' | '.'))
}

/// Unit-like text: letters, spaces, `/`, `.` and powers, with at least two letters or a
/// known one-letter unit.
fn is_unit(s: &str) -> bool {
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    let ok = s.chars().all(|c| {
        c.is_alphabetic() || c.is_whitespace() || matches!(c, '/' | '.' | '^' | '2' | '3' | '-')
    });
    ok && (letters >= 2
        || matches!(
            s.trim(),
            "m" | "g" | "s" | "h" | "l" | "L" | "K" | "J" | "W"
        ))
}

/// Skips `^2`, `^{2}`, `^3` right after a dropped unit.
fn skip_power(chars: &[char], i: usize) -> usize {
    if chars.get(i) != Some(&'^') {
        return i;
    }
    match (chars.get(i + 1), chars.get(i + 2), chars.get(i + 3)) {
        (Some('2' | '3'), _, _) => i + 2,
        (Some('{'), Some('2' | '3'), Some('}')) => i + 4,
        _ => i,
    }
}

/// Joins `7 425 000` into `7425000`: a run of 1–3 digits, then groups of exactly three
/// digits after single spaces, not part of a decimal or a fraction.
fn join_digit_groups(s: &str) -> String {
    let s = s.replace('\u{1}', "");
    let b: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let starts =
            b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == '.'));
        if !starts {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let lead = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let mut end = i + lead;
        let mut groups = 0;
        while lead <= 3
            && b.get(end) == Some(&' ')
            && b[end + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count()
                == 3
            && !matches!(b.get(end + 4), Some('.' | '/' | ','))
        {
            end += 4;
            groups += 1;
        }
        let next_ok = !matches!(b.get(end), Some('.' | '/'));
        let prev_ok = !(i > 0 && matches!(b[i - 1], '/'));
        let join = groups > 0 && next_ok && prev_ok;
        out.extend(b[i..end].iter().filter(|c| !join || **c != ' '));
        i = end;
    }
    out
}

/// Evaluates `n!` (n ≤ 20) and `\binom{n}{k}` (n ≤ 60) of integer literals, which the
/// expression reader does not know.
fn integer_functions(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..].iter().take(7).collect();
        if rest.starts_with("\\binom")
            || rest.starts_with("\\dbinom")
            || rest.starts_with("\\tbinom")
        {
            let at = i + if rest.starts_with("\\binom") { 6 } else { 7 };
            let (n, next) = crate::numbers::latex_arg(&chars, at);
            let (k, next) = crate::numbers::latex_arg(&chars, next);
            if let (Ok(n), Ok(k)) = (n.trim().parse::<u64>(), k.trim().parse::<u64>()) {
                if n <= 60 && k <= n {
                    let c = (0..k).fold(1u128, |c, j| c * u128::from(n - j) / u128::from(j + 1));
                    out.push_str(&format!("({c})"));
                    i = next;
                    continue;
                }
            }
        }
        if chars[i] == '!' {
            let digits = out.chars().rev().take_while(char::is_ascii_digit).count();
            let before = out.chars().rev().nth(digits);
            let operand = !before.is_some_and(|c| c.is_alphanumeric() || c == '.' || c == ')');
            if let (true, true, Ok(n)) = (
                digits > 0,
                operand,
                out[out.len() - digits..].parse::<u64>(),
            ) {
                if n <= 20 {
                    out.truncate(out.len() - digits);
                    out.push_str(&format!("({})", (1..=n).product::<u64>()));
                    i += 1;
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn latex_is_rewritten() {
        assert_eq!(clean("$\\boxed{(3,2)}$"), "(3,2)");
        assert_eq!(clean("\\boxed{3}, \\boxed{5}"), "3, 5");
        assert_eq!(clean("\\boxed{3} and \\boxed{5}"), "3, 5");
        assert_eq!(clean("x \\in [-2,7]"), "x ∈ [-2,7]");
        assert_eq!(clean("-2 \\le x \\leq 7"), "-2 ≤ x ≤ 7");
        assert_eq!(clean("\\{-12, -11\\}"), "«-12, -11»");
        assert_eq!(clean("30^\\circ"), "30");
        assert_eq!(clean("30^{\\circ}"), "30");
        assert_eq!(clean("10 \\text{ cm}^2"), "10");
        assert_eq!(clean("\\text{Monday}"), "Monday");
        assert_eq!(clean("x=1 \\text{ or } x=2"), "x=1 , x=2");
        assert_eq!(clean("7\\,425\\,000"), "7425000");
        assert_eq!(clean("1 1/2"), "1 1/2");
        assert_eq!(clean("\\dfrac{1}{2}"), "\\frac{1}{2}");
        assert_eq!(clean("\\left( 1, 2 \\right)"), "( 1, 2 )");
        assert_eq!(clean("50\\%"), "50%");
        assert_eq!(clean("\\mathrm{e}^2"), "e ^2");
        assert_eq!(clean("5!"), "(120)");
        assert_eq!(clean("\\binom{5}{2}"), "(10)");
        assert_eq!(clean("x!"), "x!");
        assert_eq!(clean("0.\\overline{3}"), "(3/9)");
        assert_eq!(clean("1.1\\overline{6}"), "(105/90)");
        assert_eq!(clean("\\overline{AB}"), "\\overline{AB}");
    }
}
