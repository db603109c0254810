//! The human-readable form of an [`InspectReport`]: aligned tables, then examples.

use super::InspectReport;
use crate::report::{fmt_int, fmt_pct, label_of};
use std::fmt::Write as _;

/// A plain table: left-aligned first column, right-aligned others.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn write(&self, out: &mut String) {
        let cols = self.header.len();
        let width = |i: usize| {
            self.rows
                .iter()
                .filter_map(|r| r.get(i))
                .chain(self.header.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..cols).map(width).collect();
        for cells in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::from("  ");
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                if i == 0 {
                    let _ = write!(line, "{cell:<w$}");
                } else {
                    let _ = write!(line, "  {cell:>w$}");
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// Width at which example completions are wrapped.
const WRAP: usize = 100;

/// Splits `line` into pieces of at most `width` characters, at spaces where possible.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<char> = line.trim_end().chars().collect();
    while rest.len() > width {
        let cut = rest[..=width]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&i| i > 0)
            .unwrap_or(width);
        out.push(rest[..cut].iter().collect::<String>().trim_end().to_owned());
        let skip = usize::from(rest.get(cut) == Some(&' '));
        rest.drain(..cut + skip);
    }
    out.push(rest.into_iter().collect());
    out
}

fn opt_num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

pub(super) fn text(r: &InspectReport) -> String {
    let mut out = String::new();
    let accepted_shards = r.shards.iter().filter(|s| s.split == "accepted").count();
    let _ = writeln!(out, "run: {}", r.dir.display());
    let _ = writeln!(
        out,
        "shards: {} ({} accepted, {} rejected) · {} rows",
        r.shards.len(),
        accepted_shards,
        r.shards.len() - accepted_shards,
        fmt_int(r.rows)
    );
    if r.shards.is_empty() {
        let _ = writeln!(out, "\nno shards yet.");
        return out;
    }
    let _ = writeln!(
        out,
        "accepted: {} · rejected: {} · acceptance: {}",
        fmt_int(r.accepted),
        fmt_int(r.rejected),
        if r.rejected_kept {
            fmt_pct(r.acceptance_rate)
        } else {
            "– (rejected samples were not kept; see report.json)".to_owned()
        }
    );
    let _ = writeln!(
        out,
        "tokens: {} prompt · {} completion",
        fmt_int(r.prompt_tokens),
        fmt_int(r.completion_tokens)
    );

    let _ = writeln!(out);
    let mut t = Table::new(&[
        "source", "problems", "solved", "samples", "accepted", "rejected", "accept",
    ]);
    for s in &r.sources {
        t.row(vec![
            s.source.clone(),
            fmt_int(s.problems),
            fmt_int(s.problems_solved),
            fmt_int(s.samples),
            fmt_int(s.accepted),
            fmt_int(s.rejected),
            fmt_pct(s.acceptance_rate),
        ]);
    }
    t.write(&mut out);

    if !r.verifiers.is_empty() {
        let _ = writeln!(out);
        let mut t = Table::new(&["verifier", "accepted", "rejected", "errors"]);
        for v in &r.verifiers {
            t.row(vec![
                v.verifier.clone(),
                fmt_int(v.accepted),
                fmt_int(v.rejected),
                fmt_int(v.errors),
            ]);
        }
        t.write(&mut out);
    }

    for (title, list) in [
        ("reject reason", &r.reject_reasons),
        ("verifier error", &r.verifier_errors),
    ] {
        if list.is_empty() {
            continue;
        }
        let total: u64 = list.iter().map(|c| c.count).sum();
        let _ = writeln!(out);
        let mut t = Table::new(&[title, "count", "share"]);
        for c in list {
            t.row(vec![
                label_of(&c.verifier, &c.reason),
                fmt_int(c.count),
                fmt_pct(crate::stats::rate(c.count, total)),
            ]);
        }
        t.write(&mut out);
    }

    if !r.finish_reasons.is_empty() {
        let list: Vec<String> = r
            .finish_reasons
            .iter()
            .map(|f| format!("{} {}", f.name, fmt_int(f.count)))
            .collect();
        let _ = writeln!(out, "\nfinish reasons: {}", list.join(" · "));
    }

    let _ = writeln!(out);
    let counted = r.completion_lengths.first().and_then(|l| l.max) != Some(0.0);
    let mut t = Table::new(&[
        "completion tokens",
        "rows",
        "min",
        "mean",
        "p50",
        "p90",
        "max",
    ]);
    for l in &r.completion_lengths {
        t.row(vec![
            l.rows.clone(),
            fmt_int(l.count),
            opt_num(l.min, 0),
            opt_num(l.mean, 1),
            opt_num(l.p50, 0),
            opt_num(l.p90, 0),
            opt_num(l.max, 0),
        ]);
    }
    if counted {
        t.write(&mut out);
    } else {
        let _ = writeln!(out, "completion tokens: not reported by the generator");
    }

    for (i, e) in r.examples.iter().enumerate() {
        let verdict = if e.accepted { "ACCEPTED" } else { "REJECTED" };
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "── example {} · {} · {} · {}",
            i + 1,
            e.sample_id,
            e.source,
            verdict
        );
        let _ = writeln!(out, "  problem:   {}", e.problem);
        let _ = writeln!(
            out,
            "  answer:    {}   reference: {}",
            e.extracted_answer.as_deref().unwrap_or("(none)"),
            e.reference_answer.as_deref().unwrap_or("(none)")
        );
        if let Some(reason) = &e.first_reject {
            let _ = writeln!(out, "  rejected:  {reason}");
        }
        let _ = writeln!(
            out,
            "  completion ({} tokens, {} chars):",
            fmt_int(e.completion_tokens),
            fmt_int(e.completion_chars)
        );
        for line in e.completion.lines().flat_map(|l| wrap(l, WRAP)) {
            let _ = writeln!(out, "    │ {line}");
        }
    }

    if !r.warnings.is_empty() {
        let _ = writeln!(out);
        for w in &r.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_hard_cuts_long_words() {
        assert_eq!(wrap("short", 10), vec!["short"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("aaa bbb ccc ddd", 7), vec!["aaa bbb", "ccc ddd"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        for piece in wrap(&"word ".repeat(100), 30) {
            assert!(piece.chars().count() <= 30, "{piece:?}");
        }
    }
}
