//! Numbers and labels for people, shared by the summary, the HTML page and `smelt inspect`.

use crate::stats::NO_VERIFIER;
use std::time::Duration;

/// `verifier / reason`, or just the reason for rejects no verifier made.
pub(crate) fn label_of(verifier: &str, reason: &str) -> String {
    if verifier == NO_VERIFIER {
        reason.to_owned()
    } else {
        format!("{verifier} / {reason}")
    }
}

/// Flattens a label map into `(verifier, reason, count)`, largest count first.
pub(crate) fn sorted_labels(map: &crate::stats::LabelCounts) -> Vec<(&str, &str, u64)> {
    let mut rows: Vec<(&str, &str, u64)> = map
        .iter()
        .flat_map(|(v, inner)| inner.iter().map(move |(r, n)| (v.as_str(), r.as_str(), *n)))
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (a.0, a.1).cmp(&(b.0, b.1))));
    rows
}

/// `1234567` → `1,234,567`.
pub(crate) fn fmt_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `Some(0.625)` → `62.5%`, `None` → `–`.
pub(crate) fn fmt_pct(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "–".to_owned(),
    }
}

/// A duration for people: `7.25` → `7.2s`, `5400.0` → `1h 30m`.
pub(crate) fn fmt_duration(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        humantime::format_duration(Duration::from_secs(secs as u64)).to_string()
    }
}

/// A rate for people: `1234.5` → `1,235`, `45.67` → `45.7`, `0.123` → `0.12`.
pub(crate) fn fmt_rate(x: f64) -> String {
    if x >= 100.0 {
        fmt_int(x.round() as u64)
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}
