//! LaTeX math rewritten into the plain notation the lexer reads.

use crate::numbers::latex_arg;

/// Rewrites LaTeX math into the plain notation the lexer reads: `\frac{a}{b}` → `((a)/(b))`,
/// `\times`/`\cdot` → `×`, `\div` → `÷`, `\text{..}` → a word, braces → parentheses.
pub(in crate::steps) fn latex_to_plain(s: &str) -> String {
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
