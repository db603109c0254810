//! Reading a proposal out of a model's completion.

use super::{equation::to_smtlib, Rejection};

/// A model-proposed problem: its natural-language text and its formal statement (SMT-LIB 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub text: String,
    pub smt: String,
    /// The equation the model wrote, when it used the structured form (`smt` is then its
    /// translation, see [`super::equation`]).
    pub equation: Option<String>,
}

/// Longest proposal text or statement read, in bytes (a runaway completion is not a problem).
const MAX_PART: usize = 8_000;

/// Reads `Problem: <text>` then either `SMT: <statement>` or `Equation: <equation>` (markers
/// at the start of a line, any case; whichever comes first). The SMT-LIB may span lines and
/// sit in a ``` fence; anything after its last balanced `)` is ignored. An equation is the
/// rest of its line (a closing `.` or backticks dropped). Text before `Problem:` is ignored.
pub fn parse_proposal(completion: &str) -> Result<Proposal, Rejection> {
    let unparsable = |d: &str| Rejection::new("unparsable", d.to_string());
    let problem_at =
        marker(completion, "problem:").ok_or_else(|| unparsable("no `Problem:` line"))?;
    let after_problem = &completion[problem_at..];
    let form = [("smt:", false), ("equation:", true)]
        .into_iter()
        .filter_map(|(m, eq)| marker(after_problem, m).map(|at| (at, m.len(), eq)))
        .min();
    let Some((at, marker_len, is_equation)) = form else {
        return Err(unparsable(
            "no `SMT:` or `Equation:` line after the problem",
        ));
    };
    let text = after_problem[..at - marker_len].trim();
    let text = text.trim_end_matches("```").trim();
    if text.is_empty() {
        return Err(unparsable("the problem text is empty"));
    }
    let rest = &after_problem[at..];
    let (smt, equation) = if is_equation {
        let line = rest.lines().next().unwrap_or("").trim();
        let line = line.trim_matches('`').trim().trim_end_matches('.').trim();
        if line.is_empty() {
            return Err(unparsable("the equation is empty"));
        }
        let smt = to_smtlib(line).map_err(|e| unparsable(&e))?;
        (smt, Some(line.to_string()))
    } else {
        (statement(rest), None)
    };
    if smt.is_empty() {
        return Err(unparsable("the SMT-LIB statement is empty"));
    }
    if text.len() > MAX_PART || smt.len() > MAX_PART {
        return Err(unparsable("the proposal is longer than 8,000 bytes"));
    }
    Ok(Proposal {
        text: text.to_string(),
        smt,
        equation,
    })
}

/// The byte offset just after `marker` (lowercase) at the start of a line of `s`.
fn marker(s: &str, marker: &str) -> Option<usize> {
    let mut offset = 0;
    for line in s.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let head = trimmed.get(..marker.len());
        if head.is_some_and(|h| h.eq_ignore_ascii_case(marker)) {
            return Some(offset + lead + marker.len());
        }
        offset += line.len();
    }
    None
}

/// The statement: fences removed, cut after the last complete top-level form before any
/// prose (an unbalanced statement is kept whole, for Z3 to refuse with its message).
fn statement(rest: &str) -> String {
    let body: String = rest
        .lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n");
    let (mut depth, mut end) = (0i64, None);
    for (i, c) in body.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    break;
                }
                if depth == 0 {
                    end = Some(i + 1);
                }
            }
            c if depth == 0 && end.is_some() && !c.is_whitespace() => break,
            _ => {}
        }
    }
    match end {
        Some(e) if depth <= 0 || body[e..].trim().is_empty() => body[..e].trim().to_string(),
        _ => body.trim().to_string(),
    }
}
