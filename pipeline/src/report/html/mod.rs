//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched),
//! readable offline and printable.
//!
//! This module lays the page out (header, key-figure cards, one section per chart);
//! [`charts`] draws the SVG charts, [`tables`] the per-source table, [`style`] holds the CSS.
//!
//! The charts are hand-written SVG rather than drawn with `plotters`' SVG backend: there are
//! two simple kinds (stacked horizontal bars and a histogram) in about 200 lines, and they
//! leave text to the browser as `<text>` styled by the page's CSS. plotters lays out labels,
//! ticks and margins from font metrics, which needs its `ttf` feature (font-kit, fontconfig on
//! Linux) or a font file registered at run time through `ab_glyph`, so a dependency tree and a
//! font the offline page does not otherwise need.

mod charts;
mod style;
mod tables;

use super::{fmt_duration, fmt_int, fmt_pct, fmt_rate, label_of, sorted_labels, RunReport};
use charts::{hbar_chart, histogram_chart, legend, Bar, AMBER, GREEN, RED};
use std::fmt::Write as _;
use style::STYLE;
use tables::source_table;

/// At most this many bars in the reject-reason chart; the rest are summed in one bar.
const MAX_REASON_BARS: usize = 15;

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(r: &RunReport) -> String {
    let c = &r.this_run;
    let mut h = String::with_capacity(32 * 1024);
    let title = format!("smelt · {}", r.run);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(&title)
    );

    // Header.
    let badge_class = match r.outcome {
        super::Outcome::Finished => "ok",
        super::Outcome::Budget { .. } => "info",
        super::Outcome::Interrupted => "warn",
        super::Outcome::Failed { .. } => "bad",
    };
    let duration = fmt_duration(r.duration_s);
    let _ = write!(
        h,
        "<header><h1>{}</h1><span class=\"badge {badge_class}\">{}</span>\
         <p class=\"sub\">{} → {} · {} · exit code {} · <code>{}</code></p>",
        esc(&r.run),
        esc(&r.outcome.to_string()),
        esc(&human_time(&r.started_at)),
        esc(&human_time(&r.finished_at)),
        esc(&duration),
        r.exit_code,
        esc(&r.output_dir.display().to_string()),
    );
    if r.resumed {
        let _ = write!(
            h,
            "<p class=\"sub\">Resumed run: figures are for this run; \
             all runs on this output: {} samples, {} accepted ({}).</p>",
            fmt_int(r.total.samples),
            fmt_int(r.total.accepted),
            fmt_pct(r.total.acceptance_rate()),
        );
    }
    h.push_str("</header>\n");

    // Key figures.
    h.push_str("<div class=\"cards\">");
    card(&mut h, "Samples", &fmt_int(c.samples), "");
    card(
        &mut h,
        "Accepted",
        &fmt_int(c.accepted),
        &format!("{} of samples", fmt_pct(c.acceptance_rate())),
    );
    card(
        &mut h,
        "Problems",
        &fmt_int(c.problems_done),
        &format!("{} started", fmt_int(c.problems_started)),
    );
    if c.completion_tokens > 0 {
        card(
            &mut h,
            "Throughput",
            &format!("{} tok/s", fmt_rate(r.rates.completion_tokens_per_s)),
            &format!("{} samples/s", fmt_rate(r.rates.samples_per_s)),
        );
    } else {
        card(
            &mut h,
            "Throughput",
            &format!("{} samples/s", fmt_rate(r.rates.samples_per_s)),
            "no token counts",
        );
    }
    card(
        &mut h,
        "Tokens",
        &fmt_int(c.completion_tokens),
        &format!("generated · {} prompt", fmt_int(c.prompt_tokens)),
    );
    let errors = c.verifier_error_count() + c.generation_errors.values().sum::<u64>();
    card(&mut h, "Errors", &fmt_int(errors), "verifier + generation");
    h.push_str("</div>\n");

    // Acceptance by source.
    h.push_str("<section><h2>Acceptance by source</h2>");
    if c.sources.is_empty() {
        h.push_str("<p class=\"empty\">No samples.</p>");
    } else {
        let rows: Vec<Bar> = c
            .sources
            .iter()
            .map(|(name, s)| Bar {
                label: name.clone(),
                segments: vec![(s.accepted, GREEN), (s.rejected, RED)],
                note: format!(
                    "{} / {} · {}",
                    fmt_int(s.accepted),
                    fmt_int(s.samples),
                    fmt_pct(s.acceptance_rate())
                ),
            })
            .collect();
        h.push_str(&legend(&[(GREEN, "accepted"), (RED, "rejected")]));
        h.push_str(&hbar_chart(&rows));
        source_table(&mut h, c);
    }
    h.push_str("</section>\n");

    // Reject reasons.
    h.push_str("<section><h2>Reject reasons</h2>");
    let reasons = sorted_labels(&c.reject_reasons);
    if reasons.is_empty() {
        h.push_str("<p class=\"empty\">No rejects.</p>");
    } else {
        let total: u64 = reasons.iter().map(|(_, _, n)| n).sum();
        let mut rows: Vec<Bar> = reasons
            .iter()
            .take(MAX_REASON_BARS)
            .map(|(v, reason, n)| Bar {
                label: label_of(v, reason),
                segments: vec![(*n, RED)],
                note: format!(
                    "{} · {}",
                    fmt_int(*n),
                    fmt_pct(crate::stats::rate(*n, total))
                ),
            })
            .collect();
        if reasons.len() > MAX_REASON_BARS {
            let rest: u64 = reasons.iter().skip(MAX_REASON_BARS).map(|r| r.2).sum();
            rows.push(Bar {
                label: format!("{} other reasons", reasons.len() - MAX_REASON_BARS),
                segments: vec![(rest, "#999")],
                note: fmt_int(rest),
            });
        }
        h.push_str(
            "<p class=\"note\">Reject verdicts by verifier and reason (a sample rejected \
             by two verifiers counts under both).</p>",
        );
        h.push_str(&hbar_chart(&rows));
    }
    h.push_str("</section>\n");

    // Errors, only when there are any.
    let verr = sorted_labels(&c.verifier_errors);
    if !verr.is_empty() || !c.generation_errors.is_empty() {
        h.push_str(
            "<section><h2>Errors</h2><p class=\"note\">Verifiers that could not run \
                    (the sample counts as rejected) and failed generation requests.</p>",
        );
        let rows: Vec<Bar> = verr
            .iter()
            .map(|(v, code, n)| Bar {
                label: label_of(v, code),
                segments: vec![(*n, AMBER)],
                note: fmt_int(*n),
            })
            .chain(c.generation_errors.iter().map(|(kind, n)| Bar {
                label: format!("generation / {kind}"),
                segments: vec![(*n, AMBER)],
                note: fmt_int(*n),
            }))
            .collect();
        h.push_str(&hbar_chart(&rows));
        h.push_str("</section>\n");
    }

    // Completion lengths.
    h.push_str("<section><h2>Completion length</h2>");
    let hist = &c.completion_tokens_hist;
    if hist.count == 0 {
        h.push_str("<p class=\"empty\">No completions.</p>");
    } else if hist.sum == 0 {
        h.push_str("<p class=\"empty\">The generator reported no token counts.</p>");
    } else {
        let _ = write!(
            h,
            "<p class=\"note\">Generated tokens per sample · {} samples · mean {:.0} tokens.</p>",
            fmt_int(hist.count),
            hist.mean().unwrap_or(0.0)
        );
        h.push_str(&histogram_chart(hist));
    }
    h.push_str("</section>\n");

    let _ = writeln!(
        h,
        "<footer>smelt {} · all numbers are also in <code>report.json</code> · \
         inspect the data with <code>smelt inspect {}</code></footer>",
        esc(&r.smelt_version),
        esc(&r.output_dir.display().to_string()),
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

fn card(h: &mut String, title: &str, value: &str, sub: &str) {
    let _ = write!(
        h,
        "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div>\
         <div class=\"s\">{}</div></div>",
        esc(title),
        esc(value),
        esc(sub)
    );
}
/// `2025-01-31T22:04:05Z` → `2025-01-31 22:04:05 UTC` (other text is kept).
fn human_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

#[cfg(test)]
mod tests;
