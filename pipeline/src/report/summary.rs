//! The human summary printed on stderr when a run ends: a per-source table, the largest reject
//! reasons and verifier errors, tokens and throughput.

use super::REPORT_HTML;
use super::{fmt_duration, fmt_int, fmt_pct, fmt_rate, label_of, sorted_labels, RunReport};
use std::fmt::Write as _;

impl RunReport {
    /// The human summary printed on stderr when a run ends.
    pub fn summary_text(&self) -> String {
        let c = &self.this_run;
        let mut out = String::new();
        let duration = fmt_duration(self.duration_s);
        let _ = writeln!(
            out,
            "smelt run `{}` {} after {} (exit {})",
            self.run, self.outcome, duration, self.exit_code
        );
        let _ = writeln!(out, "output: {}", self.output_dir.display());
        let _ = writeln!(out);

        // Per-source table.
        let name_w = c
            .sources
            .keys()
            .map(|k| k.chars().count())
            .chain([6])
            .max()
            .unwrap_or(6);
        let _ = writeln!(
            out,
            "  {:<name_w$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}",
            "source", "problems", "samples", "accepted", "rejected", "accept"
        );
        let row = |out: &mut String, name: &str, p: u64, s: u64, a: u64, r: u64| {
            let _ = writeln!(
                out,
                "  {:<name_w$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}",
                name,
                fmt_int(p),
                fmt_int(s),
                fmt_int(a),
                fmt_int(r),
                fmt_pct(crate::stats::rate(a, s)),
            );
        };
        for (name, s) in &c.sources {
            row(
                &mut out,
                name,
                s.problems_done,
                s.samples,
                s.accepted,
                s.rejected,
            );
        }
        if c.sources.len() != 1 {
            row(
                &mut out,
                "total",
                c.problems_done,
                c.samples,
                c.accepted,
                c.rejected,
            );
        }

        write_label_table(&mut out, "reject reasons", &c.reject_reasons, 8);
        write_label_table(&mut out, "verifier errors", &c.verifier_errors, 8);
        if !c.generation_errors.is_empty() {
            let list: Vec<String> = c
                .generation_errors
                .iter()
                .map(|(k, n)| format!("{k} {}", fmt_int(*n)))
                .collect();
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "  generation errors: {} (those problems stay pending for the next run)",
                list.join(", ")
            );
        }

        let _ = writeln!(out);
        if c.prompt_tokens + c.completion_tokens > 0 {
            let _ = writeln!(
                out,
                "  tokens: {} prompt, {} completion · {} completion tok/s · {} samples/s",
                fmt_int(c.prompt_tokens),
                fmt_int(c.completion_tokens),
                fmt_rate(self.rates.completion_tokens_per_s),
                fmt_rate(self.rates.samples_per_s),
            );
        } else {
            let _ = writeln!(
                out,
                "  tokens: not reported by the generator · {} samples/s",
                fmt_rate(self.rates.samples_per_s),
            );
        }
        if self.resumed {
            let t = &self.total;
            let _ = writeln!(
                out,
                "  all runs on this output: {} samples, {} accepted ({})",
                fmt_int(t.samples),
                fmt_int(t.accepted),
                fmt_pct(t.acceptance_rate()),
            );
        }
        let _ = writeln!(
            out,
            "  report: {}",
            self.output_dir.join(REPORT_HTML).display()
        );
        out
    }
}

/// Appends a `verifier / reason  count` table with the `limit` largest entries.
fn write_label_table(out: &mut String, title: &str, map: &crate::stats::LabelCounts, limit: usize) {
    let rows = sorted_labels(map);
    if rows.is_empty() {
        return;
    }
    let labels: Vec<String> = rows.iter().map(|(v, r, _)| label_of(v, r)).collect();
    let w = labels
        .iter()
        .take(limit)
        .map(|l| l.chars().count())
        .chain([title.len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(out);
    let _ = writeln!(out, "  {title:<w$}  {:>9}", "count");
    for (label, (_, _, n)) in labels.iter().zip(&rows).take(limit) {
        let _ = writeln!(out, "  {label:<w$}  {:>9}", fmt_int(*n));
    }
    if rows.len() > limit {
        let rest: u64 = rows.iter().skip(limit).map(|(_, _, n)| n).sum();
        let more = format!("({} more)", rows.len() - limit);
        let _ = writeln!(out, "  {more:<w$}  {:>9}", fmt_int(rest));
    }
}
