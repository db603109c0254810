//! Pairing, pass rates and the card on hand-made problems; the whole export over runs written
//! by the real sink, read back with the parquet crate. (The end-to-end test exports a real run
//! and loads it with `datasets`.)

use super::*;
use crate::journal::{Identity, Journal};
use crate::sink::schema::Row;
use crate::sink::{ShardCompression, Sink, SinkConfig};
use arrow::array::{Array, AsArray};
use smelt_verifiers::VerdictRecord;

fn verdict(accepted: bool, reason: &str, error: bool) -> VerdictRecord {
    VerdictRecord {
        verifier: "answer".into(),
        version: "1".into(),
        accepted,
        reason: reason.into(),
        detail: String::new(),
        score: 1.0,
        error,
        elapsed_us: 1,
    }
}

/// Sample `k` of problem `p`; `verdict`: `None` accepted, `Some((reason, error))` rejected.
fn row(p: u64, k: u32, verdict_of: Option<(&str, bool)>) -> Row {
    let accepted = verdict_of.is_none();
    let verdicts = match verdict_of {
        None => vec![verdict(true, "", false)],
        Some((reason, error)) => vec![verdict(true, "", false), {
            let mut v = verdict(false, reason, error);
            v.verifier = "steps".into();
            v
        }],
    };
    Row {
        sample_id: format!("p{p}-s{k}"),
        problem_id: format!("p{p}").into(),
        source: "arith".into(),
        problem_index: p,
        sample_index: k,
        problem: format!("What is {p} + 1?").into(),
        structured: "{}".into(),
        prompt: format!("Solve: What is {p} + 1? Put the answer in \\boxed{{}}.").into(),
        completion: format!(
            "completion {p}/{k} {}",
            if accepted { "right" } else { "wrong" }
        ),
        extracted_answer: Some(if accepted {
            (p + 1).to_string()
        } else {
            "0".into()
        }),
        reference_answer: Some((p + 1).to_string().into()),
        verdicts,
        accepted,
        model_id: "replay".into(),
        sampling: "{}".into(),
        seed: 1,
        template_hash: "t".into(),
        prompt_tokens: 1,
        completion_tokens: 1,
        latency_ms: 0.0,
        finish_reason: "stop".into(),
        created_at_us: 1_700_000_000_000_000,
        smelt_version: "0",
    }
}

/// A run in `dir` written by the real sink: a journal, shards, the manifest.
fn run(dir: &Path, rows: Vec<Row>, keep_rejected: bool) {
    std::fs::create_dir_all(dir).expect("run dir");
    let identity = Identity {
        samples: "s".into(),
        verifiers: "v".into(),
    };
    let journal = Journal::open(dir, &identity).expect("journal opens");
    let config = SinkConfig {
        dir: dir.to_path_buf(),
        run_name: "unit".into(),
        rows_per_shard: 3,
        compression: ShardCompression::Zstd(3),
        keep_rejected,
        max_shard_age: std::time::Duration::from_secs(600),
    };
    let mut sink = Sink::open(config, journal).expect("sink opens");
    for r in rows {
        sink.push(r).expect("pushed");
    }
    sink.flush().expect("flushed");
}

/// Problem 0: 3 accepted, 2 rejected. Problem 1: 1 accepted, 3 rejected (one by a verifier
/// error). Problem 2: only rejected. Problem 3: only accepted.
fn mixed_rows() -> Vec<Row> {
    vec![
        row(0, 0, None),
        row(0, 1, Some(("wrong_answer", false))),
        row(0, 2, None),
        row(0, 3, Some(("false_step", false))),
        row(0, 4, None),
        row(1, 0, Some(("wrong_answer", false))),
        row(1, 1, None),
        row(1, 2, Some(("timeout", true))),
        row(1, 3, Some(("no_answer", false))),
        row(2, 0, Some(("wrong_answer", false))),
        row(2, 1, Some(("wrong_answer", false))),
        row(3, 0, None),
    ]
}

fn options(formats: &[Format]) -> ExportOptions {
    ExportOptions {
        formats: formats.to_vec(),
        conversation: Conversation {
            system: Some("You are careful.".into()),
            user: UserContent::Prompt,
        },
        max_pairs_per_problem: 4,
        seed: 7,
        force: false,
    }
}

fn read(path: &Path) -> Vec<arrow::record_batch::RecordBatch> {
    let file = std::fs::File::open(path).expect("export file");
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect()
}

fn strings(batches: &[arrow::record_batch::RecordBatch], col: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name(col).expect("column").as_string::<i32>();
            (0..c.len())
                .map(|i| c.value(i).to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `(role, content)` of each conversation in a messages column.
fn conversations(
    batches: &[arrow::record_batch::RecordBatch],
    col: &str,
) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for b in batches {
        let list = b.column_by_name(col).expect("column").as_list::<i32>();
        for i in 0..list.len() {
            let v = list.value(i);
            let st = v.as_struct();
            let role = st.column_by_name("role").expect("role").as_string::<i32>();
            let content = st
                .column_by_name("content")
                .expect("content")
                .as_string::<i32>();
            out.push(
                (0..st.len())
                    .map(|j| (role.value(j).to_owned(), content.value(j).to_owned()))
                    .collect(),
            );
        }
    }
    out
}

fn problems_of(rows: Vec<Row>) -> Vec<ProblemRecord> {
    let dir = tempfile::tempdir().expect("temp dir");
    run(dir.path(), rows, true);
    let input = input::RunInput::open(dir.path()).expect("run opens");
    problems::collect(&input, true).expect("collected")
}

#[test]
fn the_normal_quantile_and_wilson_intervals_match_known_values() {
    let z = z_for(0.95);
    assert!((z - 1.959_964).abs() < 1e-6, "{z}");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
    let (lo, hi) = wilson(2, 4, z).expect("interval");
    assert!(close(lo, 0.150_04) && close(hi, 0.849_96), "{lo} {hi}");
    let (lo, hi) = wilson(0, 4, z).expect("interval");
    assert!(close(lo, 0.0) && close(hi, 0.489_90), "{lo} {hi}");
    let (lo, hi) = wilson(4, 4, z).expect("interval");
    assert!(close(lo, 0.510_10) && close(hi, 1.0), "{lo} {hi}");
    let (lo, hi) = wilson(81, 263, z).expect("interval");
    // The textbook example (Wikipedia, "Binomial proportion confidence interval").
    assert!(close(lo, 0.255_29) && close(hi, 0.366_21), "{lo} {hi}");
    assert_eq!(wilson(0, 0, z), None);
    assert_eq!(wilson(5, 4, z), None);
}

#[test]
fn pass_rates_count_every_committed_sample_of_a_problem() {
    let problems = problems_of(mixed_rows());
    let rates = pass_rates(&problems);
    let got: Vec<(&str, u64, u64)> = rates
        .iter()
        .map(|r| {
            (
                problems[r.problem].problem_id.as_str(),
                r.attempts,
                r.accepted,
            )
        })
        .collect();
    assert_eq!(
        got,
        [("p0", 5, 3), ("p1", 4, 1), ("p2", 2, 0), ("p3", 1, 1)]
    );
    assert!((rates[0].pass_rate - 0.6).abs() < 1e-12);
    assert!(rates
        .iter()
        .all(|r| r.lower <= r.pass_rate && r.pass_rate <= r.upper));
}

#[test]
fn pairs_come_from_one_problem_and_use_each_sample_once_per_side_while_possible() {
    let problems = problems_of(mixed_rows());
    let all = pairs(&problems, 4, 7);
    for x in &all {
        let p = &problems[x.problem];
        assert!(p.samples[x.chosen].accepted, "{x:?}");
        assert!(p.samples[x.rejected].is_negative(), "{x:?}");
    }
    let of = |id: &str| -> Vec<Pair> {
        all.iter()
            .copied()
            .filter(|x| problems[x.problem].problem_id == id)
            .collect()
    };
    // p0: 3 accepted, 2 rejected → 3 pairs; every accepted once, the rejected reused once.
    let p0 = of("p0");
    assert_eq!(p0.len(), 3);
    let chosen: HashSet<usize> = p0.iter().map(|x| x.chosen).collect();
    assert_eq!(chosen.len(), 3);
    let rejected: HashSet<usize> = p0.iter().map(|x| x.rejected).collect();
    assert_eq!(rejected.len(), 2);
    // p1: 1 accepted, 2 negatives (the timeout is no negative) → 2 pairs.
    let p1 = of("p1");
    assert_eq!(p1.len(), 2);
    assert!(p1
        .iter()
        .all(|x| problems[x.problem].samples[x.rejected].sample_id != "p1-s2"));
    // p2 (no accepted) and p3 (no rejected) give none.
    assert!(of("p2").is_empty() && of("p3").is_empty());
    // At most N per problem; the same seed gives the same pairs.
    assert_eq!(pairs(&problems, 1, 7).len(), 2);
    assert_eq!(pairs(&problems, 4, 7), all);
    let seeds: HashSet<Vec<Pair>> = (0..16).map(|s| pairs(&problems, 4, s)).collect();
    assert!(seeds.len() > 1, "the seed changes the pairing");
}

#[test]
fn the_card_lists_only_written_configs_the_first_as_default() {
    let summary = ExportSummary {
        run: "demo".into(),
        run_dir: "out/demo".into(),
        to: "export".into(),
        problems: 2,
        accepted_samples: 3,
        rejected_samples: 1,
        rejected_by_errors: 0,
        models: vec!["replay".into()],
        written: vec![
            WrittenConfig {
                format: Format::Sft,
                path: "sft/train-00000-of-00001.parquet".into(),
                rows: 3,
            },
            WrittenConfig {
                format: Format::PassRate,
                path: "pass_rate/train-00000-of-00001.parquet".into(),
                rows: 2,
            },
        ],
        skipped: vec![(Format::Dpo, "no pairs".into())],
        max_pairs_per_problem: 4,
        seed: 0,
        system: false,
        user_is_prompt: true,
    };
    let card = dataset_card(&summary);
    let front = card
        .strip_prefix("---\n")
        .and_then(|c| c.split_once("\n---\n"))
        .map(|(f, _)| f)
        .expect("front matter");
    assert!(
        front.starts_with(
            "configs:\n- config_name: sft\n  default: true\n  data_files:\n  - split: train\n    \
         path: sft/*.parquet\n- config_name: pass_rate\n  data_files:\n  - split: train\n    \
         path: pass_rate/*.parquet\n"
        ),
        "{front}"
    );
    assert!(!front.contains("dpo"), "{front}");
    assert!(card.contains("## `sft` (3 rows)") && card.contains("## `pass_rate` (2 rows)"));
    assert!(card.contains("- `dpo`: no pairs"), "{card}");
}

#[test]
fn an_export_writes_all_three_configs_from_the_committed_shards() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, to) = (dir.path().join("run"), dir.path().join("export"));
    run(&out, mixed_rows(), true);
    let summary = export(&out, &to, &options(&[])).expect("exported");
    let rows = |f: Format| {
        summary
            .written
            .iter()
            .find(|w| w.format == f)
            .map(|w| w.rows)
    };
    assert_eq!(rows(Format::Sft), Some(5));
    assert_eq!(rows(Format::Dpo), Some(5));
    assert_eq!(rows(Format::PassRate), Some(4));
    assert_eq!(summary.rejected_by_errors, 1);

    let sft = read(&to.join("sft").join(FILE_NAME));
    let messages = conversations(&sft, "messages");
    assert_eq!(messages.len(), 5);
    let first = &messages[0];
    assert_eq!(first[0], ("system".into(), "You are careful.".into()));
    assert_eq!(first[1].0, "user");
    assert!(first[1].1.starts_with("Solve: What is 0 + 1?"), "{first:?}");
    assert_eq!(
        first[2],
        ("assistant".into(), "completion 0/0 right".into())
    );
    assert_eq!(
        strings(&sft, "sample_id"),
        ["p0-s0", "p0-s2", "p0-s4", "p1-s1", "p3-s0"]
    );

    let dpo = read(&to.join("dpo").join(FILE_NAME));
    let chosen = conversations(&dpo, "chosen");
    let rejected = conversations(&dpo, "rejected");
    let problem_ids = strings(&dpo, "problem_id");
    for i in 0..chosen.len() {
        assert_eq!(chosen[i].len(), 1);
        assert_eq!(chosen[i][0].0, "assistant");
        let p = problem_ids[i].trim_start_matches('p');
        assert!(
            chosen[i][0].1.starts_with(&format!("completion {p}/")),
            "{chosen:?}"
        );
        assert!(chosen[i][0].1.ends_with("right"));
        assert!(rejected[i][0].1.starts_with(&format!("completion {p}/")));
        assert!(rejected[i][0].1.ends_with("wrong"), "{rejected:?}");
    }
    let prompts = conversations(&dpo, "prompt");
    assert!(prompts.iter().all(|m| m.len() == 2 && m[1].0 == "user"));
    let reasons = strings(&dpo, "rejected_reason");
    assert!(
        reasons.iter().all(|r| r != "timeout" && !r.is_empty()),
        "{reasons:?}"
    );

    let rates = read(&to.join("pass_rate").join(FILE_NAME));
    assert_eq!(strings(&rates, "problem_id"), ["p0", "p1", "p2", "p3"]);
    let card = std::fs::read_to_string(to.join("README.md")).expect("card");
    assert!(card.contains("- config_name: dpo"), "{card}");
    assert!(!std::fs::read_dir(to.join("sft"))
        .expect("dir")
        .flatten()
        .any(|e| e.path().extension().is_some_and(|x| x == "tmp")));
}

#[test]
fn a_non_empty_target_is_refused_unless_forced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, to) = (dir.path().join("run"), dir.path().join("export"));
    run(&out, mixed_rows(), true);
    export(&out, &to, &options(&[])).expect("exported");
    let err = export(&out, &to, &options(&[Format::Sft])).expect_err("not empty");
    assert!(matches!(err, ExportError::NotEmpty { .. }), "{err}");
    let mut forced = options(&[Format::Sft]);
    forced.force = true;
    export(&out, &to, &forced).expect("forced");
    // The earlier export's other configs are gone, and the card lists only sft.
    assert!(!to.join("dpo").join(FILE_NAME).exists());
    let card = std::fs::read_to_string(to.join("README.md")).expect("card");
    assert!(
        card.contains("config_name: sft") && !card.contains("config_name: dpo"),
        "{card}"
    );
    let err = export(&out, &out, &forced).expect_err("into the run");
    assert!(matches!(err, ExportError::IntoRun { .. }), "{err}");
}

#[test]
fn a_damaged_shard_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, to) = (dir.path().join("run"), dir.path().join("export"));
    run(&out, mixed_rows(), true);
    let shard = out.join("data/accepted/part-00000.parquet");
    let mut bytes = std::fs::read(&shard).expect("shard");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&shard, &bytes).expect("damaged");
    let err = export(&out, &to, &options(&[])).expect_err("damaged");
    let msg = err.to_string();
    assert!(
        msg.contains("part-00000.parquet") && msg.contains("SHA-256"),
        "{msg}"
    );
    std::fs::remove_file(&shard).expect("removed");
    let msg = export(&out, &to, &options(&[]))
        .expect_err("missing")
        .to_string();
    assert!(
        msg.contains("part-00000.parquet") && msg.contains("cannot read"),
        "{msg}"
    );
}

#[test]
fn bad_run_directories_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let to = dir.path().join("export");
    let msg = export(dir.path(), &to, &options(&[]))
        .expect_err("no run")
        .to_string();
    assert!(msg.contains("manifest.json"), "{msg}");
    std::fs::create_dir_all(dir.path().join("shards/0000-of-0002")).expect("dirs");
    let msg = export(dir.path(), &to, &options(&[]))
        .expect_err("unmerged")
        .to_string();
    assert!(msg.contains("smelt merge"), "{msg}");
}

#[test]
fn without_rejected_samples_dpo_and_pass_rate_say_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, to) = (dir.path().join("run"), dir.path().join("export"));
    run(&out, mixed_rows(), false);
    let summary = export(&out, &to, &options(&[])).expect("sft still exported");
    assert_eq!(summary.written.len(), 1);
    let skipped: Vec<&str> = summary.skipped.iter().map(|(_, w)| w.as_str()).collect();
    assert!(
        skipped.iter().all(|w| w.contains("keep_rejected")),
        "{skipped:?}"
    );
    let err = export(&out, &dir.path().join("e2"), &options(&[Format::Dpo])).expect_err("no dpo");
    assert!(err.to_string().contains("keep_rejected = false"), "{err}");
}

#[test]
fn the_user_message_can_be_the_bare_problem() {
    let problems = problems_of(vec![row(5, 0, None)]);
    let conv = Conversation {
        system: None,
        user: UserContent::Problem,
    };
    assert_eq!(
        conv.prompt_messages(&problems[0]),
        [("user", "What is 5 + 1?")]
    );
}
