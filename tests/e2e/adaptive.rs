//! Adaptive sampling end to end: each stop reason on replayed completions, the records in
//! `problems.jsonl` and the report, and resume with a larger budget (exactly once).

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};

/// Arithmetic problems answered by replay: problem `i`'s sample `k` is right when
/// `right(i, k)`. Sampled 4 at a time under the given `[adaptive]` rule.
fn project(problems: u64, rule: &str, keep_rejected: bool) -> Project {
    let project = Project::new();
    let text = format!(
        r#"
[run]
name = "adaptive"
output = "out"
seed = 11

[limits]
max_problems = {problems}

[model]
kind = "replay"
path = "replay.jsonl"

[sampling]
samples_per_problem = 4

[adaptive]
{rule}

[[sources]]
name = "arith"
type = "arithmetic"
template = "prompts/arithmetic.j2"
difficulty = 1

[[verifiers]]
type = "answer"

[output]
rows_per_shard = 7
keep_rejected = {keep_rejected}
"#
    );
    let cfg_path = project.write("pipeline.toml", &text);
    let config = smelt::config::load(&cfg_path, &[]).unwrap();
    let source = smelt::sources::build(&config.sources[0], &config.base_dir, 11).unwrap();
    let mut lines = Vec::new();
    for i in 0..problems {
        let p = source.problem(i).unwrap();
        let reference = p.reference.clone().unwrap();
        for k in 0..40u64 {
            let completion = if right(i, k) {
                format!("Working it out step by step gives the value.\n\\boxed{{{reference}}}")
            } else {
                "We compute carefully.\nThe result is \\boxed{987654321}".to_string()
            };
            lines.push(
                serde_json::json!({"problem_id": p.id, "completion": completion}).to_string(),
            );
        }
    }
    project.write("replay.jsonl", &(lines.join("\n") + "\n"));
    project
}

/// Four kinds of problem: never right, always right, right one time in 4, one in 16.
fn right(i: u64, k: u64) -> bool {
    match i % 4 {
        0 => false,
        1 => true,
        2 => k.is_multiple_of(4),
        _ => k.is_multiple_of(16),
    }
}

fn records(out: &std::path::Path) -> BTreeMap<String, serde_json::Value> {
    std::fs::read_to_string(out.join("problems.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["problem_id"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

fn run(project: &Project, extra: &[&str]) -> String {
    let mut cmd = smelt();
    cmd.current_dir(project.dir.path())
        .args(["run", "pipeline.toml", "--quiet"])
        .args(extra);
    stderr(&run_ok(&mut cmd))
}

/// (attempts, accepted, stop) of every problem.
fn outcomes(out: &std::path::Path) -> Vec<(u64, u64, String)> {
    records(out)
        .values()
        .map(|r| {
            (
                r["attempts"].as_u64().unwrap(),
                r["accepted"].as_u64().unwrap(),
                r["stop"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn each_problem_stops_for_its_reason() {
    let project = project(8, "k = 4\nmax_attempts = 32", true);
    let log = run(&project, &[]);
    let records = records(&project.out());
    assert_eq!(records.len(), 8, "one record per problem");
    for (id, r) in &records {
        let i: u64 = id.rsplit('-').next().unwrap().parse().unwrap();
        // Never right: Wilson's upper bound for 0/n falls below 0.2 at n = 16. Always right:
        // k = 4 after the first step. One in 4: the 4th accept comes at 16. One in 16: 2/32
        // still has an upper bound above 0.2, so the budget ends it.
        let expected = match i % 4 {
            0 => (16, 0, "never_solved"),
            1 => (4, 4, "k_reached"),
            2 => (16, 4, "k_reached"),
            _ => (32, 2, "max_attempts"),
        };
        let got = (
            r["attempts"].as_u64().unwrap(),
            r["accepted"].as_u64().unwrap(),
            r["stop"].as_str().unwrap(),
        );
        assert_eq!(got, expected, "{id}: {r}");
        let (lo, hi) = (
            r["interval_lower"].as_f64().unwrap(),
            r["interval_upper"].as_f64().unwrap(),
        );
        let rate = r["pass_rate"].as_f64().unwrap();
        assert!(lo <= rate && rate <= hi, "{r}");
    }

    // Every attempt is a row, none twice, and only the attempts the rule asked for.
    let accepted = read_split(&project.out(), "accepted");
    let rejected = read_split(&project.out(), "rejected");
    assert_eq!(accepted.height(), 20);
    assert_eq!(
        accepted.height() + rejected.height(),
        2 * (16 + 4 + 16 + 32)
    );
    let ids: BTreeSet<String> = strings(&accepted, "sample_id")
        .into_iter()
        .chain(strings(&rejected, "sample_id"))
        .collect();
    assert_eq!(ids.len(), 136);
    assert_manifest_matches(&project.out());

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.out().join("report.json")).unwrap())
            .unwrap();
    let s = &report["sampling"];
    assert_eq!(s["problems"], 8);
    assert_eq!(s["attempts"], 136);
    assert_eq!(s["by_stop"]["never_solved"], 2);
    assert_eq!(s["by_stop"]["k_reached"], 4);
    assert_eq!(s["by_stop"]["max_attempts"], 2);
    assert_eq!(s["by_placement"]["below"], 2, "{s}");
    assert_eq!(s["by_placement"]["in"], 2, "{s}");
    assert_eq!(s["histogram"][0], 4, "{s}");
    assert!(
        log.contains("adaptive sampling: 8 problems, 136 attempts, 20 accepted"),
        "{log}"
    );

    // A rule that wants more accepts flags the always-right problems instead.
    let project = self::project(4, "k = 32\nmax_attempts = 32", true);
    run(&project, &[]);
    let records = self::records(&project.out());
    let always = &records[&format!("arith-{}", 1)];
    assert_eq!(always["stop"], "always_solved", "{always}");
    assert_eq!(
        always["attempts"], 16,
        "16/16 is the first count whose bound clears 0.8"
    );
    assert_eq!(always["placement"], "above");
}

#[test]
fn resume_with_a_larger_budget_samples_only_what_is_new() {
    for keep_rejected in [true, false] {
        let straight = project(8, "k = 4\nmax_attempts = 32", keep_rejected);
        run(&straight, &[]);

        let resumed = project(8, "k = 4\nmax_attempts = 16", keep_rejected);
        run(&resumed, &[]);
        let first = outcomes(&resumed.out());
        assert!(
            first
                .iter()
                .any(|o| o == &(16, 1, "max_attempts".to_string())),
            "{first:?}"
        );
        run(&resumed, &["--set", "adaptive.max_attempts=32"]);
        assert_eq!(
            outcomes(&resumed.out()),
            outcomes(&straight.out()),
            "keep_rejected = {keep_rejected}"
        );

        let accepted = strings(&read_split(&resumed.out(), "accepted"), "sample_id");
        let unique: BTreeSet<&String> = accepted.iter().collect();
        assert_eq!(accepted.len(), 20);
        assert_eq!(unique.len(), 20, "no sample twice");
        if keep_rejected {
            assert_eq!(read_split(&resumed.out(), "rejected").height(), 116);
        }
        // A third run finds everything decided and generates nothing.
        let log = run(&resumed, &["--set", "adaptive.max_attempts=32"]);
        assert!(
            log.contains("adaptive sampling: 8 problems, 136 attempts"),
            "{log}"
        );
        assert_eq!(read_split(&resumed.out(), "accepted").height(), 20);
    }
}

#[test]
fn a_rule_that_cannot_hold_is_refused() {
    let project = project(2, "k = 40\nmax_attempts = 32\nconfidence = 1.5", true);
    let out = smelt()
        .current_dir(project.dir.path())
        .args(["validate", "pipeline.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("adaptive.k (40) is more than adaptive.max_attempts (32)"),
        "{err}"
    );
    assert!(err.contains("adaptive.confidence 1.5"), "{err}");
}
