//! Tests for `smelt inspect`, on shards written by the sink's shard writer.

use super::examples::shorten;
use super::*;
use crate::sink::schema::Row;
use smelt_verifiers::VerdictRecord;

/// Writes `rows` as one Parquet shard with the declared schema.
fn write_shard(path: &Path, rows: &[Row]) {
    crate::sink::shard::write_shard(path, rows, crate::sink::ShardCompression::Zstd(3))
        .expect("write shard");
}

fn verdict(verifier: &str, accepted: bool, reason: &str, error: bool) -> VerdictRecord {
    VerdictRecord {
        verifier: verifier.into(),
        version: "1".into(),
        accepted,
        reason: reason.into(),
        detail: "detail".into(),
        score: if accepted { 1.0 } else { 0.0 },
        error,
        elapsed_us: 42,
    }
}

fn row(
    source: &str,
    problem: u64,
    sample: u32,
    accepted: bool,
    verdicts: Vec<VerdictRecord>,
    tokens: u32,
) -> Row {
    Row {
        sample_id: format!("{source}-{problem}#{sample}"),
        problem_id: format!("{source}-{problem}").into(),
        source: source.into(),
        problem_index: problem,
        sample_index: sample,
        problem: format!("What is {problem} +\n {problem}?").into(),
        structured: "{}".into(),
        prompt: "prompt".into(),
        completion: format!(
            "Let me think.\n{}\nThe answer is {}.",
            "step ".repeat(tokens as usize / 4),
            problem * 2
        ),
        extracted_answer: Some((problem * 2).to_string()),
        reference_answer: Some((problem * 2).to_string().into()),
        verdicts,
        accepted,
        model_id: "tiny".into(),
        sampling: "{}".into(),
        seed: 7,
        template_hash: "abc".into(),
        prompt_tokens: 20,
        completion_tokens: tokens,
        latency_ms: 12.5,
        finish_reason: if tokens >= 500 {
            "length".into()
        } else {
            "stop".into()
        },
        created_at_us: 1_700_000_000_000_000,
        smelt_version: "0.1.0",
    }
}

/// A run dir with an accepted and a rejected shard, a leftover half-written shard that the
/// manifest does not list, and a manifest in the sink's format.
fn run_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = || vec![verdict("exact", true, "", false)];
    let accepted = vec![
        row("arith", 0, 0, true, ok(), 100),
        row("arith", 0, 1, true, ok(), 200),
        row("arith", 1, 0, true, ok(), 300),
        row(
            "linear",
            0,
            0,
            true,
            vec![
                verdict("exact", true, "", false),
                verdict("smt", true, "", false),
            ],
            400,
        ),
    ];
    let rejected = vec![
        row(
            "arith",
            2,
            0,
            false,
            vec![verdict("exact", false, "wrong_answer", false)],
            50,
        ),
        row(
            "arith",
            2,
            1,
            false,
            vec![verdict("exact", false, "no_answer", false)],
            600,
        ),
        row(
            "linear",
            1,
            0,
            false,
            vec![
                verdict("exact", true, "", false),
                verdict("smt", false, "verifier_timeout", true),
            ],
            500,
        ),
        row("linear", 2, 0, false, vec![], 10),
        row(
            "linear",
            0,
            1,
            false,
            vec![verdict("exact", false, "wrong_answer", false)],
            20,
        ),
    ];
    write_shard(
        &dir.path().join("data/accepted/part-00000.parquet"),
        &accepted,
    );
    write_shard(
        &dir.path().join("data/rejected/part-00000.parquet"),
        &rejected,
    );
    // Not in the manifest: must be ignored.
    write_shard(
        &dir.path().join("data/accepted/part-00001.parquet"),
        &accepted,
    );
    let manifest = serde_json::json!({
        "run": "test",
        "shards": [
            {"path": "data/accepted/part-00000.parquet", "rows": 4, "sha256": "00", "split": "accepted"},
            {"path": "data/rejected/part-00000.parquet", "rows": 5, "sha256": "00", "split": "rejected"},
        ],
    });
    std::fs::write(dir.path().join(MANIFEST), manifest.to_string()).expect("manifest");
    dir
}

#[test]
fn totals_sources_reasons_and_lengths() {
    let dir = run_dir();
    let r = inspect(dir.path(), 3).expect("inspect");
    assert_eq!((r.rows, r.accepted, r.rejected), (9, 4, 5));
    assert!(r.rejected_kept);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.shards.len(), 2);
    assert_eq!(r.prompt_tokens, 180);
    assert_eq!(
        r.completion_tokens,
        100 + 200 + 300 + 400 + 50 + 600 + 500 + 10 + 20
    );

    let arith = &r.sources[0];
    assert_eq!(arith.source, "arith");
    assert_eq!((arith.samples, arith.accepted, arith.rejected), (5, 3, 2));
    assert_eq!((arith.problems, arith.problems_solved), (3, 2));
    assert_eq!(arith.acceptance_rate, Some(0.6));
    let linear = &r.sources[1];
    assert_eq!((linear.samples, linear.accepted), (4, 1));
    assert_eq!((linear.problems, linear.problems_solved), (3, 1));

    let exact = r
        .verifiers
        .iter()
        .find(|v| v.verifier == "exact")
        .expect("exact");
    assert_eq!((exact.accepted, exact.rejected, exact.errors), (5, 3, 0));
    let smt = r
        .verifiers
        .iter()
        .find(|v| v.verifier == "smt")
        .expect("smt");
    assert_eq!((smt.accepted, smt.rejected, smt.errors), (1, 0, 1));
    assert_eq!(
        r.reject_reasons,
        vec![
            ReasonCount {
                verifier: "exact".into(),
                reason: "wrong_answer".into(),
                count: 2
            },
            ReasonCount {
                verifier: "exact".into(),
                reason: "no_answer".into(),
                count: 1
            },
        ]
    );
    assert_eq!(r.verifier_errors.len(), 1);
    assert_eq!(r.verifier_errors[0].reason, "verifier_timeout");
    assert_eq!(
        r.finish_reasons[0],
        NamedCount {
            name: "stop".into(),
            count: 7
        }
    );
    assert_eq!(
        r.finish_reasons[1],
        NamedCount {
            name: "length".into(),
            count: 2
        }
    );

    let all = &r.completion_lengths[0];
    assert_eq!(all.rows, "all");
    assert_eq!(all.count, 9);
    assert_eq!(all.min, Some(10.0));
    assert_eq!(all.max, Some(600.0));
    assert_eq!(all.p50, Some(200.0));
    assert!((all.mean.expect("mean") - 2180.0 / 9.0).abs() < 1e-9);
    assert_eq!(r.completion_lengths[1].rows, "accepted");
    assert_eq!(r.completion_lengths[1].max, Some(400.0));
    assert_eq!(r.completion_lengths[2].rows, "rejected");
    assert_eq!(r.completion_lengths[2].count, 5);
}

#[test]
fn examples_mix_accepted_and_rejected() {
    let dir = run_dir();
    let r = inspect(dir.path(), 3).expect("inspect");
    assert_eq!(r.examples.len(), 3);
    assert_eq!(
        r.examples.iter().map(|e| e.accepted).collect::<Vec<_>>(),
        vec![true, true, false]
    );
    let first = &r.examples[0];
    assert_eq!(first.sample_id, "arith-0#0");
    assert_eq!(first.problem, "What is 0 + 0?");
    assert_eq!(first.first_reject, None);
    let rejected = &r.examples[2];
    assert_eq!(rejected.sample_id, "arith-2#0");
    assert_eq!(
        rejected.first_reject.as_deref(),
        Some("exact / wrong_answer")
    );
    assert_eq!(rejected.extracted_answer.as_deref(), Some("4"));

    let none = inspect(dir.path(), 0).expect("inspect");
    assert!(none.examples.is_empty());
    let many = inspect(dir.path(), 50).expect("inspect");
    assert_eq!(many.examples.len(), 9);
    // The timeout row: the first non-accepting verdict is the error.
    let timeout = many
        .examples
        .iter()
        .find(|e| e.sample_id == "linear-1#0")
        .expect("row");
    assert_eq!(
        timeout.first_reject.as_deref(),
        Some("smt / verifier_timeout")
    );
}

#[test]
fn long_completions_are_shortened_head_and_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut long = row("arith", 0, 0, true, vec![], 8000);
    long.completion = format!("START {} END", "x".repeat(5000));
    write_shard(
        &dir.path().join("data/accepted/part-00000.parquet"),
        &[long],
    );
    std::fs::write(
        dir.path().join(MANIFEST),
        r#"{"shards":[{"path":"data/accepted/part-00000.parquet","rows":1,"sha256":"","split":"accepted"}]}"#,
    )
    .expect("manifest");
    let r = inspect(dir.path(), 1).expect("inspect");
    let e = &r.examples[0];
    assert!(e.completion.starts_with("START"));
    assert!(e.completion.ends_with("END"));
    assert!(e.completion.contains(" … "));
    assert!(e.completion.chars().count() < 700);
    assert_eq!(e.completion_chars, 5010);
    assert!(!r.rejected_kept);
    assert!(r.render_text().contains("rejected samples were not kept"));
}

#[test]
fn text_report_reads_well() {
    let dir = run_dir();
    let text = inspect(dir.path(), 2).expect("inspect").render_text();
    for needle in [
        "shards: 2 (1 accepted, 1 rejected) · 9 rows",
        "acceptance: 44.4%",
        "exact / wrong_answer",
        "smt / verifier_timeout",
        "finish reasons: stop 7 · length 2",
        "── example 1 · arith-0#0 · arith · ACCEPTED",
        "── example 2 · arith-2#0 · arith · REJECTED",
        "rejected:  exact / wrong_answer",
        "    │ The answer is 0.",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Columns line up: every line of the source table has the same width.
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("source"))
        .take(3)
        .collect();
    assert_eq!(table.len(), 3);
    assert!(
        table
            .iter()
            .all(|l| l.chars().count() == table[0].chars().count()),
        "{table:#?}"
    );
}

#[test]
fn json_output_serializes() {
    let dir = run_dir();
    let r = inspect(dir.path(), 1).expect("inspect");
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["rows"], 9);
    assert_eq!(v["sources"][0]["source"], "arith");
    assert_eq!(v["reject_reasons"][0]["reason"], "wrong_answer");
    assert_eq!(v["completion_lengths"][0]["p90"], 500.0);
    assert_eq!(v["examples"].as_array().map(Vec::len), Some(1));
}

#[test]
fn empty_manifest_is_an_empty_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(MANIFEST), r#"{"shards":[]}"#).expect("manifest");
    let r = inspect(dir.path(), 3).expect("inspect");
    assert_eq!(r.rows, 0);
    assert!(r.render_text().contains("no shards yet"));
}

#[test]
fn errors_name_the_path() {
    let missing = Path::new("/nonexistent/smelt-run");
    let err = inspect(missing, 3).expect_err("missing dir");
    assert!(matches!(err, InspectError::MissingDir { .. }));
    assert!(err.to_string().contains("/nonexistent/smelt-run"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let err = inspect(dir.path(), 3).expect_err("no manifest");
    assert!(matches!(err, InspectError::MissingManifest { .. }), "{err}");
    assert!(err.to_string().contains("manifest.json"), "{err}");

    std::fs::write(dir.path().join(MANIFEST), "{not json").expect("manifest");
    let err = inspect(dir.path(), 3).expect_err("bad manifest");
    assert!(matches!(err, InspectError::BadManifest { .. }), "{err}");

    let escape = r#"{"shards":[{"path":"../elsewhere.parquet","rows":1,"split":"accepted"}]}"#;
    std::fs::write(dir.path().join(MANIFEST), escape).expect("manifest");
    let err = inspect(dir.path(), 3).expect_err("path outside");
    assert!(matches!(err, InspectError::BadManifest { .. }), "{err}");

    let listed =
        r#"{"shards":[{"path":"data/accepted/part-00000.parquet","rows":1,"split":"accepted"}]}"#;
    std::fs::write(dir.path().join(MANIFEST), listed).expect("manifest");
    let err = inspect(dir.path(), 3).expect_err("missing shard");
    assert!(matches!(err, InspectError::MissingShard { .. }), "{err}");
    assert!(err.to_string().contains("part-00000.parquet"), "{err}");

    let shard = dir.path().join("data/accepted/part-00000.parquet");
    std::fs::create_dir_all(shard.parent().expect("parent")).expect("dir");
    std::fs::write(&shard, b"PAR1 this is not parquet").expect("garbage");
    let err = inspect(dir.path(), 3).expect_err("unreadable shard");
    assert!(matches!(err, InspectError::Shard { .. }), "{err}");
    assert!(err.to_string().contains("part-00000.parquet"), "{err}");
}

#[test]
fn row_count_mismatch_is_a_warning() {
    let dir = run_dir();
    let manifest =
        r#"{"shards":[{"path":"data/accepted/part-00000.parquet","rows":5,"split":"accepted"}]}"#;
    std::fs::write(dir.path().join(MANIFEST), manifest).expect("manifest");
    let r = inspect(dir.path(), 0).expect("inspect");
    assert_eq!(r.rows, 4);
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("the manifest says 5"));
}

#[test]
fn shorten_keeps_short_text() {
    assert_eq!(shorten("abc", 10), "abc");
    let s = shorten(&"a".repeat(100), 30);
    assert!(s.starts_with("aaaa") && s.contains(" … "));
}

#[test]
fn missing_token_counts_are_said_not_tabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut replayed = row("arith", 0, 0, true, vec![], 0);
    replayed.completion = format!("{} The answer is 0.", "word ".repeat(60));
    write_shard(
        &dir.path().join("data/accepted/part-00000.parquet"),
        &[replayed],
    );
    std::fs::write(
        dir.path().join(MANIFEST),
        r#"{"shards":[{"path":"data/accepted/part-00000.parquet","rows":1,"split":"accepted"}]}"#,
    )
    .expect("manifest");
    let text = inspect(dir.path(), 1).expect("inspect").render_text();
    assert!(
        text.contains("completion tokens: not reported by the generator"),
        "{text}"
    );
    assert!(!text.contains("p90"), "{text}");
    // The 300-character completion is wrapped.
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("    │ ")).collect();
    assert!(lines.len() >= 3, "{text}");
    assert!(lines.iter().all(|l| l.chars().count() <= 106), "{text}");
}
