//! The SVG charts: horizontal bars (stacked segments, a label left, a note right) and the
//! completion-length histogram with round ticks. Text stays `<text>`, styled by the page's CSS.

use super::esc;
use crate::report::fmt_int;
use crate::stats::Histogram;
use std::fmt::Write as _;

pub(super) const GREEN: &str = "#2f9e5b";
pub(super) const RED: &str = "#d9534f";
const BLUE: &str = "#3f6fb5";
pub(super) const AMBER: &str = "#d08c1f";

pub(super) fn legend(items: &[(&str, &str)]) -> String {
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
/// One row of a horizontal bar chart: stacked segments `(value, colour)`, a label on the
/// left and a note on the right.
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) segments: Vec<(u64, &'static str)>,
    pub(super) note: String,
}

const CHART_W: f64 = 760.0;
const ROW_H: f64 = 28.0;
const BAR_H: f64 = 18.0;
const LABEL_MAX_CHARS: usize = 34;
const NOTE_W: f64 = 150.0;

/// Cuts `s` to `max` characters, ending in `…` when cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub(super) fn hbar_chart(rows: &[Bar]) -> String {
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
pub(super) fn bucket_label(hist: &Histogram, i: usize) -> String {
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

pub(super) fn histogram_chart(hist: &Histogram) -> String {
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
pub(super) fn nice_ticks(max: u64) -> (u64, u64) {
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
