//! The user-built binary knows the custom verifier and runs it through the real CLI.

use std::process::Command;

// The test runs the user-built binary; the sandbox rule (clippy.toml) is for generated code.
#[test]
#[allow(clippy::disallowed_methods)]
fn custom_verifier_runs_in_the_user_built_binary() {
    let bin = env!("CARGO_BIN_EXE_my-smelt");
    let list = Command::new(bin)
        .args(["verifier", "list"])
        .output()
        .unwrap();
    let kinds = String::from_utf8_lossy(&list.stdout);
    assert!(kinds.lines().any(|k| k == "max_words"), "{kinds}");
    assert!(
        kinds.lines().any(|k| k == "answer"),
        "built-ins stay: {kinds}"
    );

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("traces.jsonl");
    let long = "word ".repeat(300) + "\\boxed{4}";
    std::fs::write(
        &input,
        format!(
            "{}\n{}\n",
            serde_json::json!({"completion": "2 + 2 = 4, so \\boxed{4}", "reference": "4"}),
            serde_json::json!({"completion": long, "reference": "4"}),
        ),
    )
    .unwrap();
    let out = Command::new(bin)
        .args(["verify", "--verifiers", "answer,max_words", "--input"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["accepted"], true);
    assert_eq!(lines[1]["accepted"], false);
    let verdicts = lines[1]["verdicts"].as_array().unwrap();
    let last = verdicts.last().unwrap();
    assert_eq!(last["verifier"], "max_words");
    assert_eq!(last["reason"], "too_long");
    assert_eq!(last["version"], "1");
}
