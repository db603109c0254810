//! `smelt verify` on trace files, `smelt verifier check`, and a verifier that crashes mid-run.

use crate::common::*;
use std::io::Write;

#[test]
fn verify_writes_one_verdict_line_per_row_and_survives_bad_rows() {
    let project = Project::new();
    let path = project.path("traces.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    let rows = [
        serde_json::json!({"problem": "2+3?", "completion": "2 + 3 = 5, so \\boxed{5}", "reference": "5"}).to_string(),
        serde_json::json!({"problem": "2+3?", "completion": "2 + 3 = 6, so \\boxed{5}", "reference": "5"}).to_string(),
        serde_json::json!({"problem": "2+3?", "completion": "", "reference": "5"}).to_string(),
        serde_json::json!({"problem": "2+3?", "completion": "\\boxed{5", "reference": "5"}).to_string(),
        serde_json::json!({"problem": "x?", "solution": "so x = \\boxed{3}", "reference": "3",
                           "constraints": "(declare-const x Int) (assert (= (* 2 x) 6))"}).to_string(),
        "{ not json".to_string(),
    ];
    for r in &rows {
        writeln!(f, "{r}").unwrap();
    }
    f.write_all(b"{\"completion\": \"\xff\xfe\"}\n").unwrap();
    let big = "7 ".repeat(5_000_000);
    writeln!(
        f,
        "{}",
        serde_json::json!({"completion": big, "reference": "7"})
    )
    .unwrap();
    drop(f);

    let out = run_ok(
        smelt()
            .args(["verify", "--verifiers", "answer,steps", "--all", "--input"])
            .arg(&path),
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8, "one line per row");
    let accepted: Vec<bool> = lines
        .iter()
        .map(|l| l["accepted"].as_bool().unwrap())
        .collect();
    assert_eq!(
        accepted,
        [true, false, false, false, false, false, false, false]
    );
    let reasons = |i: usize| -> Vec<String> {
        lines[i]["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["reason"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(reasons(1), ["", "false_step"], "right answer, false step");
    assert!(reasons(2).contains(&"no_answer".to_string()));
    assert!(
        reasons(3).contains(&"no_answer".to_string()),
        "unbalanced \\boxed{{"
    );
    assert!(
        lines[4]["verdicts"].as_array().unwrap().is_empty() || lines[4].get("error").is_some(),
        "no completion column"
    );
    assert!(lines[5]["error"].as_str().unwrap().contains("line 6"));
    assert!(lines[6]["error"].as_str().unwrap().contains("UTF-8"));
    for v in lines[7]["verdicts"].as_array().unwrap() {
        assert!(!v["verifier"].as_str().unwrap().is_empty());
    }
    assert!(stderr(&out).contains("verified"), "{}", stderr(&out));

    // --field maps a column; smt uses the row's constraints.
    let out = run_ok(
        smelt()
            .args([
                "verify",
                "--verifiers",
                "answer,smt",
                "--field",
                "completion=solution",
                "--input",
            ])
            .arg(&path),
    );
    let line4: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().nth(4).unwrap()).unwrap();
    assert_eq!(line4["accepted"], true, "{line4}");
}

#[test]
fn verify_fails_only_when_it_cannot_run() {
    let out = smelt()
        .args(["verify", "--input", "/nonexistent/traces.jsonl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/nonexistent/traces.jsonl"));
    let project = Project::new();
    let path = project.write("t.jsonl", "{\"completion\": \"1\"}\n");
    let out = smelt()
        .args(["verify", "--verifiers", "answer,nosuch", "--input"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
}

#[test]
fn verifier_check_passes_the_python_example() {
    let example = repo_root().join("examples/external_verifier.py");
    let out = smelt()
        .args(["verifier", "check", "--", "python3"])
        .arg(&example)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let project = Project::new();
    let garbage = project.write(
        "garbage.py",
        "import sys\nfor line in sys.stdin:\n    print('hello?', flush=True)\n",
    );
    let out = smelt()
        .args(["verifier", "check", "--", "python3"])
        .arg(&garbage)
        .output()
        .unwrap();
    assert!(!out.status.success(), "garbage must not conform");
}

#[test]
fn a_verifier_that_crashes_mid_run_is_restarted_and_nothing_is_lost() {
    let project = Project::new();
    // Answers like the example verifier, but exits after every 7th request (a crash).
    project.write(
        "flaky.py",
        r#"import json, sys
n = 0
for i, line in enumerate(sys.stdin):
    msg = json.loads(line)
    if i == 0:
        print(json.dumps({"protocol": 1, "name": "flaky", "version": "1"}), flush=True)
        continue
    n += 1
    if n % 7 == 0:
        sys.exit(3)
    ok = "boxed" in msg["sample"]["completion"]
    print(json.dumps({"id": msg["id"], "accepted": ok, "reason": "" if ok else "no_box"}), flush=True)
"#,
    );
    let mut lines = Vec::new();
    for i in 0..30 {
        lines.push(
            serde_json::json!({"problem_id": format!("arith-{i}"), "completion": "so \\boxed{1}"})
                .to_string(),
        );
    }
    project.write("replay.jsonl", &(lines.join("\n") + "\n"));
    project.write(
        "pipeline.toml",
        r#"
[run]
name = "flaky"
output = "out"

[limits]
max_problems = 30

[model]
kind = "replay"
path = "replay.jsonl"

[[sources]]
name = "arith"
type = "arithmetic"
template = "prompts/arithmetic.j2"

[[verifiers]]
type = "external"
command = ["python3", "flaky.py"]
max_restarts = 100
timeout_ms = 10000
"#,
    );
    let out =
        run_ok(
            smelt()
                .current_dir(project.dir.path())
                .args(["run", "pipeline.toml", "--quiet"]),
        );
    assert!(stderr(&out).contains("finished"), "{}", stderr(&out));
    let accepted = read_split(&project.out(), "accepted").height();
    let rejected = read_split(&project.out(), "rejected");
    assert_eq!(accepted + rejected.height(), 30, "every sample recorded");
    // Samples whose request hit a crash carry a verifier error, never an accept.
    let errors = rejected
        .column("verdicts")
        .unwrap()
        .list()
        .unwrap()
        .into_iter()
        .filter(|v| {
            let s = v.as_ref().unwrap().struct_().unwrap().clone();
            s.field_by_name("error")
                .unwrap()
                .bool()
                .unwrap()
                .into_iter()
                .any(|e| e == Some(true))
        })
        .count();
    assert_eq!(
        errors,
        rejected.height(),
        "rejections here come only from crashes"
    );
    assert!(
        accepted >= 20,
        "restarts keep the run going: {accepted} accepted"
    );
}
