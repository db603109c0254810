//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched),
//! readable offline and printable.

use super::{fmt_duration, fmt_int, fmt_pct, fmt_rate, label_of, sorted_labels, RunReport};
use crate::stats::{Counts, Histogram};
use std::fmt::Write as _;

const GREEN: &str = "#2f9e5b";
const RED: &str = "#d9534f";
const BLUE: &str = "#3f6fb5";
const AMBER: &str = "#d08c1f";

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

fn legend(items: &[(&str, &str)]) -> String {
    let mut s = String::from("<div class=\"legend\">");
    for (color, name) in items {
        let _ = write!(
            s,
            "<span><i style=\"background:{color}\"></i>{}</span>",
            esc(name)
        );
    }
    s.push_str("</div>");
    s
}

fn source_table(h: &mut String, c: &Counts) {
    h.push_str(
        "<table><thead><tr><th>source</th><th>problems</th><th>samples</th>\
         <th>accepted</th><th>rejected</th><th>acceptance</th></tr></thead><tbody>",
    );
    for (name, s) in &c.sources {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            fmt_int(s.problems_done),
            fmt_int(s.samples),
            fmt_int(s.accepted),
            fmt_int(s.rejected),
            fmt_pct(s.acceptance_rate())
        );
    }
    if c.sources.len() > 1 {
        let _ = write!(
            h,
            "<tr class=\"total\"><td>total</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            fmt_int(c.problems_done),
            fmt_int(c.samples),
            fmt_int(c.accepted),
            fmt_int(c.rejected),
            fmt_pct(c.acceptance_rate())
        );
    }
    h.push_str("</tbody></table>");
}

/// One row of a horizontal bar chart: stacked segments `(value, colour)`, a label on the
/// left and a note on the right.
struct Bar {
    label: String,
    segments: Vec<(u64, &'static str)>,
    note: String,
}

const CHART_W: f64 = 760.0;
const ROW_H: f64 = 28.0;
const BAR_H: f64 = 18.0;
const LABEL_MAX_CHARS: usize = 34;
const NOTE_W: f64 = 150.0;

/// Cuts `s` to `max` characters, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn hbar_chart(rows: &[Bar]) -> String {
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count().min(LABEL_MAX_CHARS))
        .max()
        .unwrap_or(0);
    // ~7.2 px per character at 13 px.
    let label_w = (longest as f64 * 7.2 + 16.0).clamp(80.0, 270.0);
    let bar_w = CHART_W - label_w - NOTE_W;
    let max = rows
        .iter()
        .map(|r| r.segments.iter().map(|s| s.0).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let height = ROW_H * rows.len() as f64 + 4.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {CHART_W} {height}\" width=\"{CHART_W}\" \
         height=\"{height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, row) in rows.iter().enumerate() {
        let y = i as f64 * ROW_H + 2.0;
        let mid = y + ROW_H / 2.0;
        let _ = write!(
            s,
            "<g><title>{}: {}</title><text x=\"{:.1}\" y=\"{mid:.1}\" class=\"lbl\" \
             text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
            esc(&row.label),
            esc(&row.note),
            label_w - 10.0,
            esc(&truncate(&row.label, LABEL_MAX_CHARS))
        );
        // Track behind the bar, so short bars still read as a fraction of the scale.
        let _ = write!(
            s,
            "<rect x=\"{label_w:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{BAR_H}\" \
             rx=\"3\" fill=\"#f0f1f4\"/>",
            mid - BAR_H / 2.0
        );
        let mut x = label_w;
        for (value, color) in &row.segments {
            let w = *value as f64 / max * bar_w;
            if w > 0.0 {
                let _ = write!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" \
                     fill=\"{color}\"/>",
                    mid - BAR_H / 2.0,
                    w.max(1.0)
                );
            }
            x += w;
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{mid:.1}\" class=\"num\" dominant-baseline=\"middle\">{}</text></g>",
            label_w + bar_w + 10.0,
            esc(&row.note)
        );
    }
    s.push_str("</svg>");
    s
}

/// Bucket label: `≤64`, or `>16384` for the overflow bucket.
fn bucket_label(hist: &Histogram, i: usize) -> String {
    match hist.bounds.get(i) {
        Some(b) => format!("≤{}", compact(*b)),
        None => format!(
            ">{}",
            hist.bounds.last().map_or("0".into(), |b| compact(*b))
        ),
    }
}

/// `16384` → `16k`, `512` → `512`.
fn compact(n: u64) -> String {
    if n >= 1024 && n.is_multiple_of(1024) {
        format!("{}k", n / 1024)
    } else {
        n.to_string()
    }
}

fn histogram_chart(hist: &Histogram) -> String {
    // Show the buckets from the first to the last non-empty one (at least four).
    let first = hist.counts.iter().position(|&n| n > 0).unwrap_or(0);
    let last = hist.counts.iter().rposition(|&n| n > 0).unwrap_or(0);
    let (mut lo, mut hi) = (first, last);
    while hi - lo + 1 < 4 && (lo > 0 || hi + 1 < hist.counts.len()) {
        if hi + 1 < hist.counts.len() {
            hi += 1;
        } else {
            lo -= 1;
        }
    }
    let buckets: Vec<usize> = (lo..=hi).collect();
    let highest = buckets
        .iter()
        .map(|&i| hist.counts.get(i).copied().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let (step, ticks) = nice_ticks(highest);
    let max = (step * ticks) as f64;
    let (left, top, bottom) = (56.0, 22.0, 40.0);
    let plot_h = 200.0;
    let plot_w = CHART_W - left - 10.0;
    let slot = plot_w / buckets.len() as f64;
    let bar = (slot * 0.78).min(90.0);
    let height = top + plot_h + bottom;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {CHART_W} {height}\" width=\"{CHART_W}\" \
         height=\"{height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for q in 0..=ticks {
        let y = top + plot_h - plot_h * q as f64 / ticks as f64;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\" class=\"axis\" text-anchor=\"end\" \
             dominant-baseline=\"middle\">{}</text>",
            left + plot_w,
            left - 6.0,
            fmt_int(step * q)
        );
    }
    for (k, &i) in buckets.iter().enumerate() {
        let n = hist.counts.get(i).copied().unwrap_or(0);
        let x = left + slot * k as f64 + (slot - bar) / 2.0;
        let bh = n as f64 / max * plot_h;
        let y = top + plot_h - bh;
        let label = bucket_label(hist, i);
        let _ = write!(
            s,
            "<g><title>{} tokens: {} samples</title>\
             <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" rx=\"2\" \
             fill=\"{BLUE}\"/>",
            esc(&label),
            fmt_int(n)
        );
        if n > 0 {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"num\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                y - 5.0,
                fmt_int(n)
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text></g>",
            x + bar / 2.0,
            top + plot_h + 18.0,
            esc(&label)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">completion tokens</text>",
        left + plot_w / 2.0,
        height - 4.0
    );
    s.push_str("</svg>");
    s
}

/// A round tick step (1, 2, 2.5 or 5 × 10ⁿ) and the number of steps (about five) that
/// cover `max` counts.
fn nice_ticks(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let raw = max as f64 / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        // Counts are whole: skip 2.5 on the units scale.
        .find(|&s| s >= raw && s.fract() == 0.0)
        .unwrap_or(10.0 * magnitude)
        .max(1.0)
        .round() as u64;
    (step, max.div_ceil(step).max(1))
}

/// `2025-01-31T22:04:05Z` → `2025-01-31 22:04:05 UTC` (other text is kept).
fn human_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d2330;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 840px; margin: 0 auto; padding: 28px 20px 40px; }
header h1 { display: inline-block; margin: 0 12px 4px 0; font-size: 24px; vertical-align: middle; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12px;
  font-weight: 600; vertical-align: middle; }
.badge.ok { background: #dff3e6; color: #1d6b3c; }
.badge.info { background: #e2ebf8; color: #2b5592; }
.badge.warn { background: #fbefd9; color: #86570f; }
.badge.bad { background: #f9dedd; color: #8f2522; }
.sub { margin: 2px 0; color: #5b6475; font-size: 13px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #eceef2; padding: 1px 5px; border-radius: 4px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 20px 0; }
.card { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: 12px 14px; }
.card .k { color: #5b6475; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 22px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .s { color: #5b6475; font-size: 12px; }
section { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: 16px 18px;
  margin: 14px 0; }
h2 { font-size: 16px; margin: 0 0 10px; }
.note, .empty { color: #5b6475; font-size: 13px; margin: 0 0 10px; }
.legend { font-size: 12px; color: #5b6475; margin-bottom: 6px; }
.legend span { margin-right: 14px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; vertical-align: -1px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg .lbl { font-size: 13px; fill: #1d2330; }
svg .num { font-size: 12px; fill: #5b6475; font-variant-numeric: tabular-nums; }
svg .axis { font-size: 11px; fill: #7a8394; }
svg .grid { stroke: #eceef2; stroke-width: 1; }
table { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 13px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid #eceef2; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { color: #5b6475; font-weight: 600; font-size: 12px; }
tr.total td { font-weight: 650; border-top: 1px solid #cfd4dc; }
footer { color: #7a8394; font-size: 12px; margin-top: 18px; text-align: center; }
@media print { body { background: #fff; } section, .card { break-inside: avoid; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_self_contained_and_escaped() {
        let report = super::super::tests::sample_report();
        let html = render(&report);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
        // No script, no external resource.
        for needle in ["<script", "src=", "href=", "@import", "url("] {
            assert!(!html.contains(needle), "found {needle}");
        }
        // Every opened element is closed.
        for tag in ["section", "div", "svg", "g", "table", "header", "main"] {
            let open = html.matches(&format!("<{tag}>")).count()
                + html.matches(&format!("<{tag} ")).count();
            let close = html.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "<{tag}> opened {open} times, closed {close}");
        }
        // Names from configs and verifiers are escaped.
        assert!(html.contains("linear_&lt;systems&gt;"));
        assert!(!html.contains("linear_<systems>"));
        assert!(html.contains("nightly &quot;run&quot;"));
        // Three charts: acceptance, reasons, histogram — plus the errors chart.
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(html.contains("exact_answer / wrong_answer"));
        assert!(html.contains("smt / verifier_timeout"));
    }

    #[test]
    fn empty_report_renders_placeholders() {
        let stats = crate::stats::Stats::new();
        let report = RunReport::new(
            "empty",
            "outputs/empty",
            &stats.snapshot(),
            super::super::Outcome::Failed {
                message: "model not found".into(),
            },
            2,
        );
        let html = render(&report);
        assert!(html.contains("No samples."));
        assert!(html.contains("No rejects."));
        assert!(html.contains("No completions."));
        assert!(html.contains("failed: model not found"));
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn labels_truncate_and_buckets_read() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        let h = Histogram::new(&[64, 1024]);
        assert_eq!(bucket_label(&h, 0), "≤64");
        assert_eq!(bucket_label(&h, 1), "≤1k");
        assert_eq!(bucket_label(&h, 2), ">1k");
        assert_eq!(nice_ticks(1063), (250, 5));
        assert_eq!(nice_ticks(3), (1, 3));
        assert_eq!(nice_ticks(0), (1, 1));
        assert_eq!(nice_ticks(40), (10, 4));
        assert_eq!(nice_ticks(12), (5, 3));
        assert_eq!(
            human_time("2025-01-31T22:04:05Z"),
            "2025-01-31 22:04:05 UTC"
        );
    }
}
