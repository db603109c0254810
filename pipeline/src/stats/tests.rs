//! Counters, histograms, snapshots and their consistency under concurrent updates.

use super::*;
use std::sync::Arc;

fn verdict(verifier: &str, accepted: bool, reason: &str, error: bool) -> VerdictRecord {
    VerdictRecord {
        verifier: verifier.into(),
        version: "1".into(),
        accepted,
        reason: reason.into(),
        detail: String::new(),
        score: if accepted { 1.0 } else { 0.0 },
        error,
        elapsed_us: 10,
    }
}

#[test]
fn histogram_buckets_are_inclusive_upper_bounds() {
    let mut h = Histogram::new(&[10, 100]);
    for v in [0, 10, 11, 100, 101, 5000] {
        h.observe(v);
    }
    assert_eq!(h.counts, vec![2, 2, 2]);
    assert_eq!(h.count, 6);
    assert_eq!(h.sum, 5222);
}

#[test]
fn histogram_merge_with_other_bounds_refiles_buckets() {
    let mut a = Histogram::new(&[10, 100]);
    let mut b = Histogram::new(&[5, 50, 500]);
    for v in [1, 6, 60, 600] {
        b.observe(v);
    }
    a.merge(&b);
    // 1 (≤5) and 6 (≤50) land in ≤10 and ≤100; 60 (≤500) and 600 (+Inf) above 100.
    assert_eq!(a.counts, vec![1, 1, 2]);
    assert_eq!(a.count, 4);
}

#[test]
fn sample_counts_split_rejects_errors_and_sources() {
    let stats = Stats::new();
    stats.record_problem_started("arith");
    stats.record_sample("arith", &[verdict("exact", true, "", false)], true, 10, 100);
    stats.record_sample(
        "arith",
        &[verdict("exact", false, "wrong_answer", false)],
        false,
        10,
        40,
    );
    stats.record_sample(
        "code",
        &[
            verdict("exact", true, "", false),
            verdict("tests", false, "verifier_timeout", true),
        ],
        false,
        20,
        2000,
    );
    stats.record_sample("code", &[], false, 5, 1);
    stats.record_problem_done("arith");
    stats.record_generation_error("timeout");
    stats.set_queue_depth("verify", 7);
    stats.set_queue_depth("verify", 3);

    let s = stats.snapshot();
    let c = &s.this_run;
    assert_eq!((c.samples, c.accepted, c.rejected), (4, 1, 3));
    assert_eq!((c.problems_started, c.problems_done), (1, 1));
    assert_eq!((c.prompt_tokens, c.completion_tokens), (45, 2141));
    assert_eq!(c.reject_reasons["exact"]["wrong_answer"], 1);
    assert_eq!(c.reject_reasons[NO_VERIFIER][NO_REJECT_REASON], 1);
    assert_eq!(c.verifier_errors["tests"]["verifier_timeout"], 1);
    assert_eq!(c.verifier_error_count(), 1);
    assert_eq!(c.generation_errors["timeout"], 1);
    assert_eq!(c.sources["arith"].accepted, 1);
    assert_eq!(c.sources["arith"].rejected, 1);
    assert_eq!(c.sources["code"].samples, 2);
    assert_eq!(c.completion_tokens_hist.count, 4);
    assert_eq!(s.queue_depth["verify"], 3);
    assert_eq!(c.acceptance_rate(), Some(0.25));
    assert!(!s.resumed);
    assert_eq!(s.total, s.this_run);
}

#[test]
fn previous_totals_only_feed_total() {
    let first = Stats::new();
    first.record_sample("a", &[], true, 1, 2);
    first.record_sample("a", &[verdict("v", false, "r", false)], false, 1, 2);
    let prev = first.snapshot().total;

    let second = Stats::with_previous(prev);
    second.record_sample("b", &[], true, 1, 2);
    let s = second.snapshot();
    assert!(s.resumed);
    assert_eq!(s.this_run.samples, 1);
    assert_eq!(s.total.samples, 3);
    assert_eq!(s.total.accepted, 2);
    assert_eq!(s.total.reject_reasons["v"]["r"], 1);
    assert!(s.this_run.reject_reasons.is_empty());
    assert_eq!(s.total.sources.len(), 2);
    assert_eq!(s.total.completion_tokens_hist.count, 3);
    assert_eq!(second.total_accepted(), 2);
    assert_eq!(second.accepted_for("a"), 1);
    assert_eq!(second.accepted_for("b"), 1);
    assert_eq!(second.accepted_for("c"), 0);
}

#[test]
fn concurrent_updates_stay_consistent() {
    let stats = Arc::new(Stats::new());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let stats = Arc::clone(&stats);
            std::thread::spawn(move || {
                for i in 0..1000 {
                    stats.record_sample(&format!("s{t}"), &[], i % 2 == 0, 1, 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("worker thread panicked");
    }
    let s = stats.snapshot();
    assert_eq!(s.this_run.samples, 4000);
    assert_eq!(s.this_run.accepted + s.this_run.rejected, 4000);
    assert_eq!(s.this_run.sources["s3"].accepted, 500);
}

#[test]
fn snapshot_roundtrips_through_json() {
    let stats = Stats::new();
    stats.record_sample("a", &[verdict("v", false, "r", false)], false, 1, 2);
    let s = stats.snapshot();
    let json = serde_json::to_string(&s).expect("serialize");
    let back: StatsSnapshot = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back.this_run, s.this_run);
    assert!(s.started_at.ends_with('Z'));
}
