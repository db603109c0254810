//! The report types, files and summary.

use super::*;
use crate::stats::Stats;
use smelt_verifiers::VerdictRecord;

fn reject(verifier: &str, reason: &str, error: bool) -> VerdictRecord {
    VerdictRecord {
        verifier: verifier.into(),
        version: "1".into(),
        accepted: false,
        reason: reason.into(),
        detail: "d".into(),
        score: 0.0,
        error,
        elapsed_us: 5,
    }
}

pub(super) fn sample_report() -> RunReport {
    let stats = Stats::new();
    for i in 0..40u32 {
        stats.record_problem_started("arith");
        stats.record_sample("arith", &[], i % 4 != 0, 60, 50 + i * 30);
        stats.record_problem_done("arith");
    }
    for i in 0..12u32 {
        stats.record_problem_started("linear_<systems>");
        let v = match i % 3 {
            0 => vec![reject("exact_answer", "wrong_answer", false)],
            1 => vec![reject("smt", "verifier_timeout", true)],
            _ => vec![],
        };
        stats.record_sample("linear_<systems>", &v, i % 3 == 2, 80, 300 + i * 100);
        stats.record_problem_done("linear_<systems>");
    }
    stats.record_generation_error("timeout");
    RunReport::new(
        "nightly \"run\"",
        "outputs/nightly",
        &stats.snapshot(),
        Outcome::Budget {
            budget: Budget::MaxDuration,
        },
        3,
    )
}

#[test]
fn outcome_serializes_with_a_status_tag() {
    let json = serde_json::to_value(Outcome::Budget {
        budget: Budget::TargetAccepted,
    })
    .expect("serialize");
    assert_eq!(
        json,
        serde_json::json!({"status": "budget", "budget": "target_accepted"})
    );
    let json = serde_json::to_value(Outcome::Failed {
        message: "disk full".into(),
    })
    .expect("serialize");
    assert_eq!(
        json,
        serde_json::json!({"status": "failed", "message": "disk full"})
    );
    assert_eq!(
        serde_json::to_value(Outcome::Interrupted).expect("serialize"),
        serde_json::json!({"status": "interrupted"})
    );
    let back: Outcome =
        serde_json::from_value(serde_json::json!({"status": "finished"})).expect("parse");
    assert_eq!(back, Outcome::Finished);
}

#[test]
fn json_is_written_atomically_and_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = sample_report();
    let path = report.write_json(dir.path()).expect("write");
    assert_eq!(path, dir.path().join("report.json"));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
    let back = RunReport::read_json(dir.path()).expect("read");
    // serde_json parses floats to within an ulp, not always exactly: compare the rest.
    assert_eq!(back.this_run, report.this_run);
    assert_eq!(back.total, report.total);
    assert_eq!(back.outcome, report.outcome);
    assert_eq!(
        (&back.run, &back.started_at, back.exit_code),
        (&report.run, &report.started_at, report.exit_code)
    );
    assert!((back.duration_s - report.duration_s).abs() <= 1e-9 * report.duration_s.max(1.0));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(v["outcome"]["status"], "budget");
    assert_eq!(v["this_run"]["samples"], 52);
    assert_eq!(v["this_run"]["sources"]["arith"]["accepted"], 30);
    assert_eq!(
        v["this_run"]["reject_reasons"]["exact_answer"]["wrong_answer"],
        4
    );
    assert_eq!(
        v["this_run"]["verifier_errors"]["smt"]["verifier_timeout"],
        4
    );
    assert!(v["started_at"].as_str().is_some_and(|s| s.ends_with('Z')));
}

#[test]
fn read_json_names_the_path_on_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = RunReport::read_json(dir.path()).expect_err("missing");
    assert!(err.to_string().contains("report.json"), "{err}");
    std::fs::write(dir.path().join("report.json"), "{").expect("write");
    let err = RunReport::read_json(dir.path()).expect_err("garbage");
    assert!(matches!(err, ReportError::Parse { .. }), "{err}");
}

#[test]
fn summary_has_sources_totals_and_reasons() {
    let text = sample_report().summary_text();
    assert!(
        text.starts_with("smelt run `nightly \"run\"` stopped at budget max_duration after"),
        "{text}"
    );
    assert!(text.contains("arith"), "{text}");
    assert!(text.contains("75.0%"), "{text}");
    assert!(text.contains("total"), "{text}");
    assert!(text.contains("exact_answer / wrong_answer"), "{text}");
    assert!(text.contains("smt / verifier_timeout"), "{text}");
    assert!(text.contains("generation errors: timeout 1"), "{text}");
    assert!(text.contains("report.html"), "{text}");
    assert!(text.contains("  tokens: 3,360 prompt,"), "{text}");

    let empty = RunReport::new("r", "o", &Stats::new().snapshot(), Outcome::Finished, 0);
    let text = empty.summary_text();
    assert!(
        text.contains("tokens: not reported by the generator"),
        "{text}"
    );
}

#[test]
fn previous_totals_trust_the_journal_for_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut state = crate::journal::State::default();
    assert_eq!(previous_totals(dir.path(), &state), None);

    state.commits = 2;
    state.accepted.insert("arith".into(), 7);
    state.rejected.insert("arith".into(), 3);
    // No report yet (the previous run was killed): counts from the journal alone.
    let c = previous_totals(dir.path(), &state).expect("resumed");
    assert_eq!((c.samples, c.accepted, c.rejected), (10, 7, 3));
    assert_eq!(c.sources["arith"].samples, 10);
    assert_eq!(c.completion_tokens, 0);

    // With a report: its tokens and reasons, the journal's counts.
    let report = sample_report();
    report.write_json(dir.path()).expect("write");
    let c = previous_totals(dir.path(), &state).expect("resumed");
    assert_eq!((c.samples, c.accepted, c.rejected), (10, 7, 3));
    assert_eq!(c.sources["arith"].accepted, 7);
    assert_eq!(c.sources["linear_<systems>"].samples, 0);
    assert_eq!(c.completion_tokens, report.total.completion_tokens);
    assert_eq!(c.reject_reasons, report.total.reject_reasons);
}

#[test]
fn numbers_format_for_humans() {
    assert_eq!(fmt_int(0), "0");
    assert_eq!(fmt_int(999), "999");
    assert_eq!(fmt_int(1000), "1,000");
    assert_eq!(fmt_int(1234567), "1,234,567");
    assert_eq!(fmt_pct(Some(0.625)), "62.5%");
    assert_eq!(fmt_pct(None), "–");
    assert_eq!(fmt_duration(7.25), "7.2s");
    assert_eq!(fmt_duration(5400.4), "1h 30m");
    assert_eq!(fmt_rate(1234.5), "1,235");
    assert_eq!(fmt_rate(45.67), "45.7");
    assert_eq!(fmt_rate(0.123), "0.12");
}
