//! `smelt export` on real (replayed) runs: the SFT, DPO and pass-rate files read back and
//! compared with the run's own rows, a sharded run refused until merged, and every config
//! loaded with Hugging Face `datasets` (`SMELT_TEST_PYTHON`).

use crate::common::*;
use arrow::array::{Array, AsArray};
use arrow::record_batch::RecordBatch;
use std::collections::BTreeMap;
use std::path::Path;

const PROBLEMS: u64 = 8;
const SAMPLES: u64 = 4;

/// Right answers of problem `i`: samples `k < i % 5` are right, the rest wrong, so problems
/// have 0 to 4 accepted samples of 4.
fn right(i: u64, k: u64) -> bool {
    k < i % 5
}

/// A replayed run with accepted and rejected samples (`keep_rejected` is on by default).
fn project() -> Project {
    let project = Project::new();
    let config = format!(
        r#"
[run]
name = "export-demo"
output = "out"

[limits]
max_problems = {PROBLEMS}

[model]
kind = "replay"
path = "replay.jsonl"

[sampling]
samples_per_problem = {SAMPLES}

[[sources]]
name = "arith"
type = "arithmetic"
template = "prompts/arithmetic.j2"
difficulty = 1

[[verifiers]]
type = "answer"

[output]
rows_per_shard = 5
keep_rejected = true
"#
    );
    let cfg_path = project.write("pipeline.toml", &config);
    let config = smelt::config::load(&cfg_path, &[]).expect("config");
    let source = smelt::sources::build(&config.sources[0], &config.base_dir, 0).expect("source");
    let mut lines = Vec::new();
    for i in 0..PROBLEMS {
        let p = source.problem(i).expect("problem");
        for k in 0..SAMPLES {
            let answer = if right(i, k) {
                p.reference.clone().expect("reference")
            } else {
                "987654321".to_owned()
            };
            let completion = format!("Sample {k}.\nThe answer is \\boxed{{{answer}}}");
            lines.push(
                serde_json::json!({"problem_id": p.id, "completion": completion}).to_string(),
            );
        }
    }
    project.write("replay.jsonl", &(lines.join("\n") + "\n"));
    project
}

fn run(project: &Project, extra: &[&str]) {
    let out = run_ok(
        smelt()
            .current_dir(project.dir.path())
            .args(["run", "pipeline.toml", "--quiet"])
            .args(extra),
    );
    assert!(stderr(&out).contains("finished"), "{}", stderr(&out));
}

fn export(from: &Path, to: &Path, extra: &[&str]) -> std::process::Output {
    smelt()
        .arg("export")
        .arg(from)
        .arg("--to")
        .arg(to)
        .args(extra)
        .output()
        .expect("spawn smelt export")
}

fn read(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn column_names(batches: &[RecordBatch]) -> Vec<String> {
    batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn texts(batches: &[RecordBatch], col: &str) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let c = b.column_by_name(col).unwrap().as_string::<i32>();
        out.extend((0..c.len()).map(|i| c.value(i).to_owned()));
    }
    out
}

fn numbers(batches: &[RecordBatch], col: &str) -> Vec<f64> {
    use arrow::datatypes::{Float64Type, UInt64Type};
    let mut out = Vec::new();
    for b in batches {
        let c = b.column_by_name(col).unwrap();
        if let Some(c) = c.as_primitive_opt::<UInt64Type>() {
            out.extend(c.values().iter().map(|&v| v as f64));
        } else {
            out.extend(c.as_primitive::<Float64Type>().values().iter().copied());
        }
    }
    out
}

/// Each row's conversation as `(role, content)` pairs.
fn conversations(batches: &[RecordBatch], col: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for b in batches {
        let list = b.column_by_name(col).unwrap().as_list::<i32>();
        for i in 0..list.len() {
            let item = list.value(i);
            let st = item.as_struct();
            let role = st.column_by_name("role").unwrap().as_string::<i32>();
            let content = st.column_by_name("content").unwrap().as_string::<i32>();
            out.push(
                (0..st.len())
                    .map(|j| (role.value(j).to_owned(), content.value(j).to_owned()))
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn export_writes_sft_dpo_and_pass_rate_from_a_run() {
    let p = project();
    run(&p, &[]);
    let accepted = read_split(&p.out(), "accepted");
    let rejected = read_split(&p.out(), "rejected");
    // sample_id → (problem_id, completion, prompt) of the run's rows.
    let mut rows: BTreeMap<String, (String, String, String, bool)> = BTreeMap::new();
    for (df, ok) in [(&accepted, true), (&rejected, false)] {
        let ids = strings(df, "sample_id");
        let problems = strings(df, "problem_id");
        let completions = strings(df, "completion");
        let prompts = strings(df, "prompt");
        for i in 0..ids.len() {
            rows.insert(
                ids[i].clone(),
                (
                    problems[i].clone(),
                    completions[i].clone(),
                    prompts[i].clone(),
                    ok,
                ),
            );
        }
    }
    let to = p.path("export");
    let out = export(
        &p.out(),
        &to,
        &["--system", "Think step by step.", "--seed", "3"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("sft: 13 rows") && text.contains("pass_rate: 8 rows"),
        "{text}"
    );

    // SFT: every accepted sample once, system / user (the run's prompt) / assistant.
    let sft = read(&to.join("sft/train-00000-of-00001.parquet"));
    assert_eq!(
        column_names(&sft),
        [
            "messages",
            "sample_id",
            "problem_id",
            "source",
            "problem_index",
            "sample_index",
            "reference_answer",
            "extracted_answer",
            "model_id"
        ]
    );
    let ids = texts(&sft, "sample_id");
    let mut want: Vec<&String> = rows.iter().filter(|(_, r)| r.3).map(|(id, _)| id).collect();
    let mut got: Vec<&String> = ids.iter().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    for (id, messages) in ids.iter().zip(conversations(&sft, "messages")) {
        let (_, completion, prompt, _) = &rows[id];
        let roles: Vec<&str> = messages.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant"]);
        assert_eq!(messages[0].1, "Think step by step.");
        assert_eq!(&messages[1].1, prompt);
        assert_eq!(&messages[2].1, completion);
    }

    // DPO: chosen accepted, rejected not, both of the pair's problem, under the same prompt.
    let dpo = read(&to.join("dpo/train-00000-of-00001.parquet"));
    let names = column_names(&dpo);
    assert_eq!(&names[..3], ["prompt", "chosen", "rejected"]);
    let problem_ids = texts(&dpo, "problem_id");
    let chosen_ids = texts(&dpo, "chosen_sample_id");
    let rejected_ids = texts(&dpo, "rejected_sample_id");
    let chosen = conversations(&dpo, "chosen");
    let rejected = conversations(&dpo, "rejected");
    let prompts = conversations(&dpo, "prompt");
    // min(4, max(accepted, rejected)) per problem with both: 3 + 2 + 3 + 3 + 2.
    assert_eq!(problem_ids.len(), 13);
    for i in 0..problem_ids.len() {
        let c = &rows[&chosen_ids[i]];
        let r = &rows[&rejected_ids[i]];
        assert!(c.3 && !r.3, "pair {i}: chosen accepted, rejected not");
        assert_eq!((&c.0, &r.0), (&problem_ids[i], &problem_ids[i]));
        assert_eq!(chosen[i], [("assistant".to_owned(), c.1.clone())]);
        assert_eq!(rejected[i], [("assistant".to_owned(), r.1.clone())]);
        assert_eq!(prompts[i][1], ("user".to_owned(), c.2.clone()));
    }
    assert!(texts(&dpo, "rejected_reason")
        .iter()
        .all(|r| r == "wrong_answer"));

    // Pass rates: the run's counts per problem.
    let rates = read(&to.join("pass_rate/train-00000-of-00001.parquet"));
    let mut counts: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (pid, _, _, ok) in rows.values() {
        let e = counts.entry(pid.clone()).or_default();
        e.0 += 1.0;
        e.1 += f64::from(u8::from(*ok));
    }
    let pids = texts(&rates, "problem_id");
    let (attempts, acc, rate) = (
        numbers(&rates, "attempts"),
        numbers(&rates, "accepted"),
        numbers(&rates, "pass_rate"),
    );
    let (lower, upper) = (
        numbers(&rates, "wilson_lower"),
        numbers(&rates, "wilson_upper"),
    );
    assert_eq!(pids.len(), counts.len());
    for i in 0..pids.len() {
        assert_eq!((attempts[i], acc[i]), counts[&pids[i]], "{}", pids[i]);
        assert!((rate[i] - acc[i] / attempts[i]).abs() < 1e-12);
        assert!(lower[i] <= rate[i] && rate[i] <= upper[i] && upper[i] - lower[i] > 0.3);
    }

    let card = std::fs::read_to_string(to.join("README.md")).unwrap();
    for config in ["sft", "dpo", "pass_rate"] {
        assert!(
            card.contains(&format!("- config_name: {config}\n")),
            "{card}"
        );
        assert!(
            card.contains(&format!("path: {config}/*.parquet")),
            "{card}"
        );
    }

    // A second export into the same directory is refused, with --force it replaces it.
    let again = export(&p.out(), &to, &["--format", "sft"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
    let forced = export(
        &p.out(),
        &to,
        &["--format", "dpo", "--max-pairs-per-problem", "1", "--force"],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(
        texts(
            &read(&to.join("dpo/train-00000-of-00001.parquet")),
            "problem_id"
        )
        .len(),
        5
    );
    assert!(!to.join("sft/train-00000-of-00001.parquet").exists());

    load_with_datasets(&p, &p.path("export-all"));
}

/// Every config loads with `datasets.load_dataset(dir, config)` and shows its columns.
// The loaders are the users' Python libraries; the sandbox rule (clippy.toml) is for generated code.
#[allow(clippy::disallowed_methods)]
fn load_with_datasets(p: &Project, to: &Path) {
    let out = export(&p.out(), to, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let Ok(python) = std::env::var("SMELT_TEST_PYTHON") else {
        eprintln!("SMELT_TEST_PYTHON is not set: skipping the `datasets` load of the export (`make test` sets it)");
        return;
    };
    let script = repo_root().join("tests/e2e/load_export.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(to)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "loading {} failed:\n{}",
        to.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        seen["configs"],
        serde_json::json!(["sft", "dpo", "pass_rate"]),
        "{seen}"
    );
    assert_eq!(seen["sft"]["rows"], 13, "{seen}");
    assert_eq!(
        seen["sft"]["roles"],
        serde_json::json!(["user", "assistant"]),
        "{seen}"
    );
    assert_eq!(seen["dpo"]["rows"], 13, "{seen}");
    assert_eq!(
        seen["dpo"]["chosen_roles"],
        serde_json::json!(["assistant"]),
        "{seen}"
    );
    assert_eq!(seen["pass_rate"]["rows"], 8, "{seen}");
    let cols = |c: &str| seen[c]["columns"].as_array().cloned().unwrap_or_default();
    assert!(cols("sft").iter().any(|v| v == "messages"), "{seen}");
    for c in ["prompt", "chosen", "rejected"] {
        assert!(cols("dpo").iter().any(|v| v == c), "{seen}");
    }
    for c in ["pass_rate", "wilson_lower", "wilson_upper", "attempts"] {
        assert!(cols("pass_rate").iter().any(|v| v == c), "{seen}");
    }
    assert_eq!(seen["pass_rate"]["accepted_sum"], 13, "{seen}");
}

#[test]
fn a_sharded_run_exports_after_its_merge() {
    let p = project();
    for shard in ["0/2", "1/2"] {
        run(&p, &["--shard", shard]);
    }
    let to = p.path("export");
    let out = export(&p.out(), &to, &["--format", "sft"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("smelt merge"), "{}", stderr(&out));
    run_ok(smelt().arg("merge").arg(p.out()));
    let out = export(&p.out(), &to, &["--format", "sft,pass_rate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        texts(
            &read(&to.join("sft/train-00000-of-00001.parquet")),
            "sample_id"
        )
        .len(),
        13
    );
    assert_eq!(
        texts(
            &read(&to.join("pass_rate/train-00000-of-00001.parquet")),
            "problem_id"
        )
        .len(),
        8
    );
    assert!(!to.join("dpo").exists());
}

#[test]
fn export_names_a_damaged_shard() {
    let p = project();
    run(&p, &[]);
    let shard = p.out().join("data/rejected/part-00000.parquet");
    let mut bytes = std::fs::read(&shard).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    std::fs::write(&shard, bytes).unwrap();
    let out = export(&p.out(), &p.path("export"), &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("data/rejected/part-00000.parquet") && err.contains("SHA-256"),
        "{err}"
    );
    assert!(!p.path("export/README.md").exists());
}
