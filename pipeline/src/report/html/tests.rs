//! The HTML page and its chart helpers.

use super::charts::{bucket_label, nice_ticks, truncate};
use super::*;
use crate::stats::Histogram;

#[test]
fn html_is_self_contained_and_escaped() {
    let report = crate::report::tests::sample_report();
    let html = render(&report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    // No script, no external resource.
    for needle in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(needle), "found {needle}");
    }
    // Every opened element is closed.
    for tag in ["section", "div", "svg", "g", "table", "header", "main"] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
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
        crate::report::Outcome::Failed {
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
