//! Finding the final answer in a completion.
//!
//! Tried in order, the first that yields an answer wins; within one form, the last occurrence
//! wins:
//!
//! 1. extra patterns from the configuration (first capture group, or the whole match);
//! 2. `\boxed{...}` / `\fbox{...}` with balanced, possibly nested braces; if the last one is
//!    unbalanced there is no answer (the completion was cut off);
//! 3. the line forms GSM8K `#### ...`, `Final answer: ...` / `Final answer is ...`,
//!    `Answer: ...` and `The answer is ...`: whichever occurs last in the text.
//!
//! The answer text is cleaned: Markdown emphasis, surrounding `$...$`/`\(...\)`, a sentence
//! ending after it, and trailing punctuation are removed.

use regex::Regex;
use std::sync::LazyLock;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("static regex {pattern:?}: {e}"))
}

static GSM8K: LazyLock<Regex> = LazyLock::new(|| re(r"####[ \t]*([^\n]*)"));
static FINAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)final\s+answer\**\s*(?::|is\b|=)\**[ \t]*([^\n]*)"));
static ANSWER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\banswer\**[ \t]*:\**[ \t]*([^\n]*)"));
static ANSWER_IS: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bthe\s+(?:correct\s+)?answer\s+is\s*:?[ \t]*([^\n]*)"));

/// Extracts the final answer with the built-in forms only.
pub fn extract_answer(text: &str) -> Option<String> {
    extract_with(text, &[])
}

/// Extracts the final answer, trying `extra` patterns before the built-in forms.
pub(crate) fn extract_with(text: &str, extra: &[Regex]) -> Option<String> {
    for pattern in extra {
        if let Some(a) = last_capture(pattern, text) {
            return Some(a);
        }
    }
    match last_boxes(text) {
        Boxed::Found(inner) => {
            let a = clean(&inner);
            if !a.is_empty() {
                return Some(a);
            }
        }
        Boxed::Unbalanced => return None,
        Boxed::None => {}
    }
    // The line forms: whichever occurs last in the text.
    [&*GSM8K, &*FINAL, &*ANSWER, &*ANSWER_IS]
        .into_iter()
        .filter_map(|p| last_match(p, text))
        .max_by_key(|(start, _)| *start)
        .map(|(_, a)| a)
}

fn last_capture(pattern: &Regex, text: &str) -> Option<String> {
    last_match(pattern, text).map(|(_, a)| a)
}

/// The last non-empty match of `pattern`: its start and the cleaned answer.
fn last_match(pattern: &Regex, text: &str) -> Option<(usize, String)> {
    let caps = pattern.captures_iter(text).last()?;
    let whole = caps.get(0)?;
    let m = caps.get(1).unwrap_or(whole);
    let a = clean(m.as_str());
    (!a.is_empty()).then_some((whole.start(), a))
}

enum Boxed {
    Found(String),
    Unbalanced,
    None,
}

/// The content of the last `\boxed{...}`, joined with the boxes right before it when only
/// separators (`,`, `;`, `and`, `or`, `$`, spaces) stand between them: `\boxed{3}, \boxed{5}`
/// is the answer `3, 5`.
fn last_boxes(text: &str) -> Boxed {
    let mut parts = Vec::new();
    let mut end = text.len();
    loop {
        let before = &text[..end];
        let starts = [before.rfind("\\boxed"), before.rfind("\\fbox")];
        let Some(start) = starts.into_iter().flatten().max() else {
            break;
        };
        let (found, box_end) = boxed_at(text, start);
        let Boxed::Found(inner) = found else {
            if parts.is_empty() {
                return found;
            }
            break;
        };
        let between = text[box_end..end].replace(['$', ',', ';'], " ");
        let separated = parts.is_empty()
            || between
                .split_whitespace()
                .all(|w| matches!(w, "and" | "or" | "\\text{and}" | "\\text{or}" | "\\quad"));
        if !separated || parts.len() >= 16 {
            break;
        }
        parts.push(inner);
        end = start;
    }
    if parts.is_empty() {
        return Boxed::None;
    }
    parts.reverse();
    Boxed::Found(parts.join(", "))
}

/// The content of the last `\boxed{...}` (or `\fbox{...}`).
fn last_boxed(text: &str) -> Boxed {
    let starts = [text.rfind("\\boxed"), text.rfind("\\fbox")];
    match starts.into_iter().flatten().max() {
        Some(start) => boxed_at(text, start).0,
        None => Boxed::None,
    }
}

/// The box starting at `start`, and the byte index after it.
fn boxed_at(text: &str, start: usize) -> (Boxed, usize) {
    let after_cmd = &text[start + 1..];
    let cmd_len = after_cmd
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(after_cmd.len());
    let rest = after_cmd[cmd_len..].trim_start();
    let Some(body) = rest.strip_prefix('{') else {
        // `\boxed 5` (TeX allows a single token).
        let token: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '$')
            .collect();
        let after = text.len() - rest.len() + token.len();
        return if token.is_empty() {
            (Boxed::Unbalanced, text.len())
        } else {
            (Boxed::Found(token), after)
        };
    };
    let body_start = text.len() - body.len();
    let mut depth = 1usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (Boxed::Found(body[..i].to_owned()), body_start + i + 1);
                }
            }
            _ => {}
        }
    }
    (Boxed::Unbalanced, text.len())
}

/// Cleans an extracted answer.
fn clean(raw: &str) -> String {
    let mut s = raw.trim().to_owned();
    // An inner \boxed{} wins (`Answer: $\boxed{5}$`).
    if let Boxed::Found(inner) = last_boxed(&s) {
        s = inner.trim().to_owned();
    }
    for _ in 0..3 {
        let before = s.clone();
        s = s
            .trim_matches(|c: char| c == '*' || c == '_' || c == '`' || c.is_whitespace())
            .to_owned();
        for prefix in [
            "the final answer is",
            "the answer is",
            "final answer:",
            "answer:",
        ] {
            if s.len() >= prefix.len()
                && s.is_char_boundary(prefix.len())
                && s[..prefix.len()].eq_ignore_ascii_case(prefix)
            {
                s = s[prefix.len()..].trim_start().to_owned();
            }
        }
        for (open, close) in [("$$", "$$"), ("\\(", "\\)"), ("\\[", "\\]")] {
            if let Some(inner) = s.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
                s = inner.trim().to_owned();
            }
        }
        if s.len() >= 2
            && s.starts_with('$')
            && s.ends_with('$')
            && !s[1..].starts_with(char::is_whitespace)
        {
            s = s[1..s.len() - 1].trim().to_owned();
        }
        s = cut_sentence(&s).to_owned();
        s = s
            .trim_end_matches(['.', ',', ';', '?', ':'])
            .trim_end()
            .to_owned();
        // A `!` after a digit is a factorial (`5!`), not the end of a sentence.
        while s.ends_with('!') && !s[..s.len() - 1].ends_with(|c: char| c.is_ascii_digit()) {
            s.pop();
            s = s
                .trim_end_matches(['.', ',', ';', '?', ':'])
                .trim_end()
                .to_owned();
        }
        if s == before {
            break;
        }
    }
    s
}

/// Cuts at the end of the first sentence: a `.` followed by whitespace (a decimal point is
/// followed by a digit).
fn cut_sentence(s: &str) -> &str {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'.' && bytes.get(i + 1).is_some_and(|n| n.is_ascii_whitespace()) {
            return &s[..i];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(s: &str) -> Option<String> {
        extract_answer(s)
    }

    #[test]
    fn boxed_forms() {
        assert_eq!(ex("so \\boxed{72}."), Some("72".into()));
        assert_eq!(
            ex("\\boxed{1} then \\boxed{\\frac{1}{2}}"),
            Some("\\frac{1}{2}".into())
        );
        assert_eq!(ex("$\\boxed{x = 3}$"), Some("x = 3".into()));
        assert_eq!(ex("\\fbox{7}"), Some("7".into()));
        assert_eq!(ex("\\boxed 5"), Some("5".into()));
        assert_eq!(ex("\\boxed{5} and then \\boxed{6"), None);
        assert_eq!(ex("\\boxed{"), None);
        assert_eq!(ex("\\boxed{{{}"), None);
        assert_eq!(ex("#### 4 \\boxed{"), None);
        assert_eq!(ex("\\boxed{3} and \\boxed{5}."), Some("3, 5".into()));
        assert_eq!(ex("$\\boxed{3}$, $\\boxed{5}$"), Some("3, 5".into()));
        assert_eq!(ex("\\boxed{3} so x is \\boxed{5}"), Some("5".into()));
        assert_eq!(ex("\\boxed{5!}"), Some("5!".into()));
        assert_eq!(ex("The answer is 42!!"), Some("42!".into()));
        assert_eq!(ex("The answer is yes!"), Some("yes".into()));
    }

    #[test]
    fn line_forms() {
        assert_eq!(ex("blah\n#### 1,080"), Some("1,080".into()));
        assert_eq!(ex("#### 1\n#### 2"), Some("2".into()));
        assert_eq!(ex("Answer: 72 clips."), Some("72 clips".into()));
        assert_eq!(ex("**Answer:** $18.00"), Some("$18.00".into()));
        assert_eq!(ex("The answer is 3.5. Done"), Some("3.5".into()));
        assert_eq!(
            ex("Final Answer: The final answer is $-\\frac{3}{4}$. I hope"),
            Some("-\\frac{3}{4}".into())
        );
        assert_eq!(ex("The answer is: **42**"), Some("42".into()));
        assert_eq!(
            ex("The final answer is 3 apples.\nThe answer is 4."),
            Some("4".into())
        );
        assert_eq!(ex("Answer: 1\n#### 2\nThe answer is 3"), Some("3".into()));
        assert_eq!(ex("no answer here"), None);
        assert_eq!(ex(""), None);
        assert_eq!(ex("Answer:"), None);
    }

    #[test]
    fn extra_patterns_come_first() {
        let p = Regex::new(r"RESULT=(\d+)").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(extract_with("RESULT=5\n#### 6", &[p]), Some("5".into()));
    }
}
