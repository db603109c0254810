//! The output loads wherever users load data: every config the dataset card lists loads with
//! Hugging Face `datasets`, polars and DuckDB, for runs with accepted and rejected rows, only
//! accepted rows, and only rejected rows. `make test` provides the Python loaders
//! (`SMELT_TEST_PYTHON`, a virtual environment with pinned versions).

use crate::common::*;

/// Which problems get a right answer.
#[derive(Clone, Copy)]
enum Mix {
    Both,
    OnlyRight,
    OnlyWrong,
}

fn run_with(mix: Mix) -> Project {
    let project = Project::new();
    let config = r#"
[run]
name = "loaders"
output = "out"

[limits]
max_problems = 12

[model]
kind = "replay"
path = "replay.jsonl"

[[sources]]
name = "arith"
type = "arithmetic"
template = "prompts/arithmetic.j2"
difficulty = 1

[[verifiers]]
type = "answer"

[output]
rows_per_shard = 5
"#;
    let cfg_path = project.write("pipeline.toml", config);
    let config = smelt::config::load(&cfg_path, &[]).expect("config");
    let source = smelt::sources::build(&config.sources[0], &config.base_dir, 0).expect("source");
    let mut lines = Vec::new();
    for i in 0..12u64 {
        let p = source.problem(i).expect("problem");
        let right = match mix {
            Mix::Both => i % 2 == 0,
            Mix::OnlyRight => true,
            Mix::OnlyWrong => false,
        };
        let answer = if right {
            p.reference.clone().expect("reference")
        } else {
            "987654321".to_owned()
        };
        let completion = format!("Step by step.\nThe answer is \\boxed{{{answer}}}");
        lines.push(serde_json::json!({"problem_id": p.id, "completion": completion}).to_string());
    }
    project.write("replay.jsonl", &(lines.join("\n") + "\n"));
    let out =
        run_ok(
            smelt()
                .current_dir(project.dir.path())
                .args(["run", "pipeline.toml", "--quiet"]),
        );
    assert!(stderr(&out).contains("finished"), "{}", stderr(&out));
    project
}

// The loaders are the users' Python libraries; the sandbox rule (clippy.toml) is for generated code.
#[allow(clippy::disallowed_methods)]
fn load(project: &Project) -> serde_json::Value {
    let python = std::env::var("SMELT_TEST_PYTHON")
        .expect("SMELT_TEST_PYTHON is not set: run the tests with `make test`");
    let script = repo_root().join("tests/e2e/load_output.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(project.out())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "loading {} failed:\n{}",
        project.out().display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the loader prints JSON")
}

/// Each listed config loads with all three loaders, with the manifest's row count.
fn assert_configs(project: &Project, expected: &[(&str, u64, bool)], default_rows: u64) {
    let seen = load(project);
    let configs = seen["configs"].as_object().expect("configs");
    let names: Vec<&str> = configs.keys().map(String::as_str).collect();
    let want: Vec<&str> = expected.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(names, want, "{seen}");
    for (name, rows, accepted) in expected {
        let c = &configs[*name];
        for loader in ["datasets", "polars", "duckdb"] {
            assert_eq!(
                c[loader].as_u64(),
                Some(*rows),
                "{name} via {loader}: {seen}"
            );
        }
        assert_eq!(
            c["accepted_values"],
            serde_json::json!([accepted]),
            "{seen}"
        );
        let columns = c["columns"].as_array().expect("columns");
        assert!(columns.iter().any(|v| v == "completion"), "{seen}");
    }
    assert_eq!(seen["default_rows"].as_u64(), Some(default_rows), "{seen}");
}

#[test]
fn accepted_and_rejected_configs_both_load() {
    let project = run_with(Mix::Both);
    assert_configs(
        &project,
        &[("accepted", 6, true), ("rejected", 6, false)],
        6,
    );
}

#[test]
fn a_run_with_only_accepted_rows_loads() {
    let project = run_with(Mix::OnlyRight);
    assert_configs(&project, &[("accepted", 12, true)], 12);
}

#[test]
fn a_run_with_only_rejected_rows_loads() {
    let project = run_with(Mix::OnlyWrong);
    assert_configs(&project, &[("rejected", 12, false)], 12);
}
