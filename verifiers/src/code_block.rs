//! Finding the code in a completion: Markdown fenced blocks.
//!
//! A fence is a line of three or more backticks or tildes (any indentation, which is then
//! stripped from the block's lines); the first word after it is the language tag. A block ends
//! at a line of the same character, at least as long, and nothing else. The last block whose
//! tag is one of the accepted tags wins; untagged blocks are the fallback when allowed. A fence
//! that never closes means the completion was cut off: that is [`Extracted::Unterminated`],
//! whatever came before it.

/// The outcome of looking for code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted {
    /// The chosen block's code (indentation of the fence removed, `\r` dropped).
    Found { code: String, tag: String },
    /// No block with an accepted tag (nor an untagged one, when those are allowed).
    NoBlock,
    /// A fence opened on this (1-based) line and never closed.
    Unterminated { line: usize },
}

struct Fence {
    ch: u8,
    len: usize,
    indent: usize,
}

fn fence_of(line: &str) -> Option<(Fence, &str)> {
    let trimmed = line.trim_start_matches([' ', '\t']);
    let indent = line.len() - trimmed.len();
    let ch = *trimmed.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = trimmed.bytes().take_while(|&b| b == ch).count();
    if len < 3 {
        return None;
    }
    let info = trimmed[len..].trim();
    if ch == b'`' && info.contains('`') {
        return None; // inline code such as ```x``` on one line
    }
    Some((Fence { ch, len, indent }, info))
}

fn closes(line: &str, open: &Fence) -> bool {
    let t = line.trim();
    t.len() >= open.len && t.bytes().all(|b| b == open.ch)
}

/// Picks the code block of `text` per the module rules. `tags` are compared
/// case-insensitively with the first word of the fence's info string.
pub fn extract_code(text: &str, tags: &[String], allow_untagged: bool) -> Extracted {
    let mut tagged: Option<(String, String)> = None;
    let mut untagged: Option<String> = None;
    let mut lines = text.split('\n').enumerate();
    while let Some((no, raw)) = lines.next() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let Some((fence, info)) = fence_of(line) else {
            continue;
        };
        let tag = info
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let tag = tag
            .trim_start_matches('{')
            .trim_start_matches('.')
            .to_owned();
        let mut code = String::new();
        let mut closed = false;
        for (_, raw) in lines.by_ref() {
            let l = raw.strip_suffix('\r').unwrap_or(raw);
            if closes(l, &fence) {
                closed = true;
                break;
            }
            // Remove up to the fence's indentation.
            let strip = l
                .bytes()
                .take(fence.indent)
                .take_while(|b| *b == b' ' || *b == b'\t')
                .count();
            code.push_str(&l[strip..]);
            code.push('\n');
        }
        if !closed {
            return Extracted::Unterminated { line: no + 1 };
        }
        if tag.is_empty() {
            untagged = Some(code);
        } else if tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            tagged = Some((code, tag));
        }
    }
    match (tagged, untagged) {
        (Some((code, tag)), _) => Extracted::Found { code, tag },
        (None, Some(code)) if allow_untagged => Extracted::Found {
            code,
            tag: String::new(),
        },
        _ => Extracted::NoBlock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Vec<String> {
        vec!["python".into(), "py".into()]
    }

    fn found(s: &str) -> String {
        match extract_code(s, &tags(), true) {
            Extracted::Found { code, .. } => code,
            other => panic!("expected a block, got {other:?}"),
        }
    }

    #[test]
    fn last_tagged_block_wins() {
        let s = "First:\n```python\na = 1\n```\nThen:\n```py\nb = 2\n```\n```text\nnot this\n```\n";
        assert_eq!(found(s), "b = 2\n");
    }

    #[test]
    fn tagged_beats_untagged_and_untagged_is_a_fallback() {
        assert_eq!(
            found("```\nu = 1\n```\n```Python\nt = 1\n```\n```\nu = 2\n```"),
            "t = 1\n"
        );
        assert_eq!(found("```\nu = 1\n```"), "u = 1\n");
        assert_eq!(
            extract_code("```\nu = 1\n```", &tags(), false),
            Extracted::NoBlock
        );
        assert_eq!(
            extract_code("```rust\nfn main(){}\n```", &tags(), true),
            Extracted::NoBlock
        );
    }

    #[test]
    fn unterminated_fence_is_reported_even_after_a_good_block() {
        let s = "```python\nok = 1\n```\nand more:\n```python\ndef f(:\n";
        assert_eq!(
            extract_code(s, &tags(), true),
            Extracted::Unterminated { line: 5 }
        );
        assert_eq!(
            extract_code("```python", &tags(), true),
            Extracted::Unterminated { line: 1 }
        );
    }

    #[test]
    fn indentation_crlf_tildes_and_long_fences() {
        assert_eq!(
            found("1. code:\n   ```python\r\n   def f():\r\n       return 1\r\n   ```\r\n"),
            "def f():\n    return 1\n"
        );
        assert_eq!(found("~~~python\nx = '```'\n~~~"), "x = '```'\n");
        assert_eq!(
            found("````python\n```\nstill code\n````"),
            "```\nstill code\n"
        );
    }

    #[test]
    fn no_fence_no_block_and_inline_code_is_not_a_fence() {
        assert_eq!(
            extract_code("def f(): return 1", &tags(), true),
            Extracted::NoBlock
        );
        assert_eq!(extract_code("", &tags(), true), Extracted::NoBlock);
        assert_eq!(
            extract_code("use ```x``` here", &tags(), true),
            Extracted::NoBlock
        );
    }

    #[test]
    fn empty_block_is_found_empty() {
        assert_eq!(found("```python\n```"), "");
    }
}
