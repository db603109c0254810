//! The spine: config → sources → replay/engine → verify → shards → inspect, and bad input.

use crate::common::*;
use std::collections::BTreeSet;

/// A config over two generator sources with a replay model.
fn replay_config(replay: &str, extra: &str) -> String {
    format!(
        r#"
[run]
name = "e2e"
output = "out"
seed = 7

[limits]
max_problems = 24

[model]
kind = "replay"
path = "{replay}"

[[sources]]
name = "arith"
type = "arithmetic"
template = "prompts/arithmetic.j2"
difficulty = 2

[[sources]]
name = "lin"
type = "linear_equation"
template = "prompts/linear.j2"

[[verifiers]]
type = "answer"

[[verifiers]]
type = "steps"

[output]
rows_per_shard = 5
{extra}
"#
    )
}

/// Writes replay completions for the first `n` problems of each source: problems whose index
/// is divisible by 3 get a wrong answer, index ≡ 1 (mod 3) a right answer after a false step,
/// the rest a right answer. Returns the problem ids expected to be accepted.
fn write_replay(project: &Project, config_text: &str, n: u64) -> BTreeSet<String> {
    let cfg_path = project.write("pipeline.toml", config_text);
    let config = smelt::config::load(&cfg_path, &[]).unwrap();
    let mut lines = Vec::new();
    let mut good = BTreeSet::new();
    for entry in &config.sources {
        let source = smelt::sources::build(entry, &config.base_dir, config.run.seed).unwrap();
        for i in 0..n {
            let p = source.problem(i).unwrap();
            let reference = p.reference.clone().unwrap();
            let completion = match i % 3 {
                0 => "We compute carefully.\nThe result is \\boxed{987654321}".to_string(),
                1 => format!("First, 2 + 2 = 5.\nSo the answer is \\boxed{{{reference}}}"),
                _ => {
                    good.insert(p.id.clone());
                    format!("Working it out step by step gives the value.\n\\boxed{{{reference}}}")
                }
            };
            lines.push(
                serde_json::json!({"problem_id": p.id, "completion": completion}).to_string(),
            );
        }
    }
    project.write("replay.jsonl", &(lines.join("\n") + "\n"));
    good
}

#[test]
fn replay_accepts_exactly_the_right_completions() {
    let project = Project::new();
    let text = replay_config("replay.jsonl", "");
    let good = write_replay(&project, &text, 40);
    let out =
        run_ok(
            smelt()
                .current_dir(project.dir.path())
                .args(["run", "pipeline.toml", "--quiet"]),
        );
    assert!(stderr(&out).contains("finished"), "{}", stderr(&out));

    let accepted = read_split(&project.out(), "accepted");
    let rejected = read_split(&project.out(), "rejected");
    assert_eq!(
        accepted.height() + rejected.height(),
        24,
        "one sample per scheduled problem"
    );
    let accepted_ids: BTreeSet<String> = strings(&accepted, "problem_id").into_iter().collect();
    let scheduled: BTreeSet<String> = strings(&accepted, "problem_id")
        .into_iter()
        .chain(strings(&rejected, "problem_id"))
        .collect();
    let expected: BTreeSet<String> = good.intersection(&scheduled).cloned().collect();
    assert!(!expected.is_empty());
    assert_eq!(accepted_ids, expected);

    // Rejected rows carry a reason from the verifier that rejected them.
    let reasons: BTreeSet<String> = rejected
        .column("verdicts")
        .unwrap()
        .list()
        .unwrap()
        .into_iter()
        .map(|v| {
            let v = v.expect("verdicts present");
            let s = v.struct_().unwrap().clone();
            let reason = s.field_by_name("reason").unwrap();
            let accepted = s.field_by_name("accepted").unwrap();
            let i = accepted
                .bool()
                .unwrap()
                .into_iter()
                .position(|a| a == Some(false))
                .expect("a reject");
            reason.str().unwrap().get(i).unwrap().to_owned()
        })
        .collect();
    assert!(reasons.contains("wrong_answer"), "{reasons:?}");
    assert!(reasons.contains("false_step"), "{reasons:?}");

    // Declared schema, not inferred.
    let names: Vec<String> = accepted
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let declared: Vec<String> = smelt::sink::schema::schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| n != "created_at") // read separately, see common::read_split
        .collect();
    assert_eq!(names, declared);
    assert_manifest_matches(&project.out());
    assert!(project.out().join("README.md").exists(), "dataset card");
    assert!(project.out().join("report.json").exists());
    assert!(project.out().join("report.html").exists());

    // inspect agrees with the shards.
    let out = run_ok(smelt().args(["inspect", "--json"]).arg(project.out()));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = report.to_string();
    assert!(text.contains(&format!("{}", accepted.height())), "{text}");
}

#[test]
fn gsm8k_reference_solutions_are_accepted() {
    let (path, min_rows) = match shared_data("gsm8k/train.jsonl") {
        Some(p) => (p, 7000),
        None => {
            eprintln!("../shared/data/gsm8k absent: using the in-repo fixture");
            (
                repo_root().join("pipeline/tests/fixtures/gsm8k_mini.jsonl"),
                10,
            )
        }
    };
    let project = Project::new();
    let path = path.display().to_string();
    project.write(
        "pipeline.toml",
        &format!(
            r#"
[run]
name = "gsm8k"
output = "out"

[model]
kind = "replay"
path = "{path}"
completion_field = "answer"
key_prefix = "gsm8k"

[[sources]]
name = "gsm8k"
type = "jsonl"
path = "{path}"
question_field = "question"
answer_field = "answer"
answer_after = '####'
template = "prompts/gsm8k.j2"

[[verifiers]]
type = "answer"

[output]
rows_per_shard = 2000
keep_rejected = true
"#
        ),
    );
    run_ok(
        smelt()
            .current_dir(project.dir.path())
            .args(["run", "pipeline.toml", "--quiet"]),
    );
    let accepted = read_split(&project.out(), "accepted").height();
    let rejected = read_split(&project.out(), "rejected").height();
    let total = accepted + rejected;
    assert!(total >= min_rows, "{total} rows");
    let rate = accepted as f64 / total as f64;
    eprintln!(
        "gsm8k replay: {accepted}/{total} accepted ({:.3}%)",
        rate * 100.0
    );
    assert!(rate >= 0.995, "acceptance {rate}");
}

#[test]
fn validate_checks_without_a_model() {
    let project = Project::new();
    let text = replay_config("replay.jsonl", "").replace(
        "kind = \"replay\"\npath = \"replay.jsonl\"",
        "kind = \"mistralrs\"\nid = \"/nonexistent/model\"",
    );
    project.write("pipeline.toml", &text);
    let out = run_ok(
        smelt()
            .current_dir(project.dir.path())
            .args(["validate", "pipeline.toml"]),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ok: 2 source(s), 2 verifier(s)"),
        "{stdout}"
    );
}

#[test]
fn render_prints_the_exact_prompt() {
    let project = Project::new();
    let text = replay_config("replay.jsonl", "");
    project.write("pipeline.toml", &text);
    let out = run_ok(smelt().current_dir(project.dir.path()).args([
        "render",
        "pipeline.toml",
        "--index",
        "3",
        "--source",
        "lin",
    ]));
    let config = smelt::config::load(&project.path("pipeline.toml"), &[]).unwrap();
    let source = smelt::sources::build(&config.sources[1], &config.base_dir, 7).unwrap();
    let problem = source.problem(3).unwrap();
    let prompt = String::from_utf8_lossy(&out.stdout);
    assert!(prompt.contains(&problem.text), "{prompt}");
}

fn expect_failure(project: &Project, args: &[&str], needles: &[&str]) -> i32 {
    let out = smelt()
        .current_dir(project.dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "expected failure for {args:?}");
    let err = stderr(&out);
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
    out.status.code().unwrap_or(-1)
}

#[test]
fn bad_input_gives_clear_errors() {
    let project = Project::new();
    let good = replay_config("replay.jsonl", "");

    project.write("bad.toml", "[run\nname = 1\n");
    expect_failure(&project, &["validate", "bad.toml"], &["bad.toml", "line 1"]);

    project.write(
        "unknown.toml",
        &good.replace("seed = 7", "seed = 7\ntemprature = 1"),
    );
    let code = expect_failure(
        &project,
        &["validate", "unknown.toml"],
        &["unknown.toml", "line 6", "temprature"],
    );
    assert_eq!(code, 2, "an invalid config exits 2");

    project.write(
        "verifier.toml",
        &good.replace("type = \"steps\"", "type = \"steps\"\nbogus = 3"),
    );
    expect_failure(
        &project,
        &["validate", "verifier.toml"],
        &["verifiers[1]", "bogus", "line"],
    );

    project.write(
        "missing_model.toml",
        &good.replace(
            "kind = \"replay\"\npath = \"replay.jsonl\"",
            "kind = \"mistralrs\"\nid = \"/nonexistent/model-dir\"",
        ),
    );
    expect_failure(
        &project,
        &["run", "missing_model.toml", "--quiet"],
        &["/nonexistent/model-dir"],
    );

    project.write("prompts/typo.j2", "Solve: {{ problme }}\n");
    project.write(
        "typo.toml",
        &good.replace("prompts/linear.j2", "prompts/typo.j2"),
    );
    expect_failure(
        &project,
        &["validate", "typo.toml"],
        &["typo.j2", "problme"],
    );

    project.write(
        "nofile.toml",
        &good.replace(
            "type = \"linear_equation\"",
            "type = \"jsonl\"\npath = \"missing.jsonl\"",
        ),
    );
    expect_failure(&project, &["validate", "nofile.toml"], &["missing.jsonl"]);

    project.write(
        "rows.jsonl",
        "{\"question\": \"1+1?\", \"answer\": \"#### 2\"}\n{\"question\": \"2+2?\"}\n",
    );
    project.write(
        "rows.toml",
        &good.replace(
            "type = \"linear_equation\"",
            "type = \"jsonl\"\npath = \"rows.jsonl\"\nanswer_after = \"####\"",
        ),
    );
    expect_failure(
        &project,
        &["validate", "rows.toml"],
        &["rows.jsonl", "2", "answer"],
    );
}

#[test]
fn a_failed_run_leaves_committed_shards_intact() {
    let project = Project::new();
    let text = replay_config("replay.jsonl", "");
    write_replay(&project, &text, 40);
    run_ok(
        smelt()
            .current_dir(project.dir.path())
            .args(["run", "pipeline.toml", "--quiet"]),
    );
    let before = std::fs::read(project.out().join("manifest.json")).unwrap();
    // A second run with a broken template must fail before touching anything.
    project.write("prompts/linear.j2", "{{ nope }}");
    let out = smelt()
        .current_dir(project.dir.path())
        .args(["run", "pipeline.toml", "--quiet"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read(project.out().join("manifest.json")).unwrap(),
        before
    );
    assert_manifest_matches(&project.out());
}
