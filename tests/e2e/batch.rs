//! The overnight batch job: exactly-once resume under kill -9, signals, locks, budgets, faults.

use crate::common::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const PROBLEMS: u64 = 400;

/// sample_id → (completion, accepted, split).
pub type Contents = BTreeMap<String, (String, bool, String)>;

fn config(extra_limits: &str) -> String {
    format!(
        r#"
[run]
name = "batch"
output = "out"
seed = 11

[limits]
max_problems = {PROBLEMS}
{extra_limits}

[model]
kind = "replay"
path = "replay.jsonl"

[sampling]
samples_per_problem = 2

[[sources]]
name = "arith"
type = "arithmetic"
template = "prompts/arithmetic.j2"

[[sources]]
name = "lin"
type = "linear_equation"
template = "prompts/linear.j2"

[[verifiers]]
type = "answer"

[output]
rows_per_shard = 20
"#
    )
}

/// Two completions per problem: the first right, the second wrong.
pub fn project(extra_limits: &str) -> Project {
    let project = Project::new();
    let cfg = project.write("pipeline.toml", &config(extra_limits));
    let config = smelt::config::load(&cfg, &[]).unwrap();
    let mut lines = Vec::new();
    for entry in &config.sources {
        let source = smelt::sources::build(entry, &config.base_dir, config.run.seed).unwrap();
        for i in 0..PROBLEMS {
            let p = source.problem(i).unwrap();
            let r = p.reference.unwrap();
            lines.push(
                serde_json::json!({"problem_id": p.id, "completion": format!("so \\boxed{{{r}}}")})
                    .to_string(),
            );
            lines.push(
                serde_json::json!({"problem_id": p.id, "completion": "so \\boxed{123456789}"})
                    .to_string(),
            );
        }
    }
    project.write("replay.jsonl", &(lines.join("\n") + "\n"));
    project
}

pub fn run_cmd(project: &Project, fault: Option<&str>) -> Command {
    let mut cmd = smelt();
    cmd.current_dir(project.dir.path())
        .args(["run", "pipeline.toml", "--quiet"]);
    if let Some(f) = fault {
        cmd.env("SMELT_FAULT", f);
    }
    cmd
}

/// sample_id → (completion, accepted, first verdict reason), over both splits.
pub fn contents(out: &Path) -> Contents {
    let mut all = BTreeMap::new();
    for split in ["accepted", "rejected"] {
        let df = read_split(out, split);
        if df.height() == 0 {
            continue;
        }
        let ids = strings(&df, "sample_id");
        let completions = strings(&df, "completion");
        let accepted: Vec<bool> = df
            .column("accepted")
            .unwrap()
            .bool()
            .unwrap()
            .into_iter()
            .map(|b| b.unwrap())
            .collect();
        for i in 0..ids.len() {
            let dup = all.insert(
                ids[i].clone(),
                (completions[i].clone(), accepted[i], split.to_owned()),
            );
            assert!(dup.is_none(), "sample {} written twice", ids[i]);
        }
    }
    all
}

pub fn reference_run() -> Contents {
    let p = project("");
    run_ok(&mut run_cmd(&p, None));
    let c = contents(&p.out());
    assert_eq!(c.len() as u64, PROBLEMS * 2);
    c
}

/// A tiny deterministic generator for kill delays.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn kill_9_at_random_points_then_resume_is_exactly_once() {
    let expected = reference_run();
    let p = project("");
    let mut rng = Lcg(2026);
    let mut kills = 0;
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(
            attempts < 200,
            "never finished; last stderr:\n{}",
            std::fs::read_to_string(p.path("last_stderr.txt")).unwrap_or_default()
        );
        // Slow shard writes widen every window; every 5th attempt also aborts right before a
        // journal append (a renamed shard that no commit names).
        let fault = if attempts % 5 == 0 {
            format!("slow_shard_ms=15,exit_before_journal={}", 1 + rng.next(6))
        } else {
            "slow_shard_ms=15".to_string()
        };
        let mut child = run_cmd(&p, Some(&fault))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(rng.next(400));
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if start.elapsed() >= delay && kills < 20 {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        // Whatever happened, what is committed must be readable and listed exactly.
        if p.out().join("manifest.json").exists() {
            assert_manifest(&p.out(), false);
            contents(&p.out());
        }
        if let Some(s) = status {
            if s.success() && kills >= 20 {
                break;
            }
            if s.success() {
                // Finished before 20 kills: start over, so every kill lands on a run with work.
                std::fs::remove_dir_all(p.out()).unwrap();
            }
        }
    }
    let got = contents(&p.out());
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        got, expected,
        "resumed output differs from an uninterrupted run"
    );
    eprintln!("{kills} kills over {attempts} attempts");
}

#[test]
fn sigterm_commits_everything_verified() {
    let p = project("");
    // Twice the default problems, a slow sink: generation is still going at the signal.
    let child = run_cmd(&p, Some("slow_shard_ms=100"))
        .args(["--max-problems", "800"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "interrupted exit code; stderr:\n{}",
        stderr(&out)
    );
    assert_manifest_matches(&p.out());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.out().join("report.json")).unwrap())
            .unwrap();
    let verified = report["this_run"]["samples"].as_u64().unwrap();
    let committed = contents(&p.out()).len() as u64;
    assert!(
        verified > 0 && verified < 1600,
        "stopped midway: {verified}"
    );
    assert_eq!(
        committed, verified,
        "everything verified before the signal is committed"
    );
    // Resume finishes the rest, exactly once.
    let mut resume = run_cmd(&p, None);
    resume.args(["--max-problems", "800"]);
    run_ok(&mut resume);
    assert_eq!(contents(&p.out()).len() as u64, 1600);
}

#[test]
fn second_run_on_a_locked_dir_fails_fast_and_stale_lock_is_taken_over() {
    let p = project("");
    let mut first = run_cmd(&p, Some("slow_shard_ms=100"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = p.out().join(".lock");
    let start = Instant::now();
    while std::fs::read_to_string(&lock)
        .map(|s| s.trim() != first.id().to_string())
        .unwrap_or(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = Instant::now();
    let second = run_cmd(&p, None).output().unwrap();
    assert!(!second.status.success());
    assert!(t.elapsed() < Duration::from_secs(5), "fails fast");
    assert!(
        stderr(&second).contains(&format!("pid {}", first.id())),
        "{}",
        stderr(&second)
    );
    first.kill().unwrap();
    first.wait().unwrap();
    // The killed run's lock file remains with its pid: a stale lock, taken over.
    assert!(lock.exists());
    run_ok(&mut run_cmd(&p, None));
    assert_eq!(contents(&p.out()).len() as u64, PROBLEMS * 2);
}

#[test]
fn disk_full_fails_clearly_and_loses_nothing_committed() {
    let expected = reference_run();
    let p = project("");
    let out = run_cmd(&p, Some("fail_shard_write=4")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("No space left on device"),
        "{}",
        stderr(&out)
    );
    assert_manifest_matches(&p.out());
    let partial = contents(&p.out());
    assert!(!partial.is_empty(), "the first shards were committed");
    run_ok(&mut run_cmd(&p, None));
    assert_eq!(contents(&p.out()), expected);
}

#[test]
fn unwritable_output_is_a_clear_error() {
    let p = project("");
    p.write("blocker", "a file, not a directory");
    let out = smelt()
        .current_dir(p.dir.path())
        .args(["run", "pipeline.toml", "--quiet", "--output", "blocker/out"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("blocker/out"), "{}", stderr(&out));
}

#[test]
fn changed_identity_is_refused_unless_forced() {
    let p = project("");
    run_ok(&mut run_cmd(&p, None));
    let cfg = std::fs::read_to_string(p.path("pipeline.toml")).unwrap();
    p.write(
        "pipeline.toml",
        &cfg.replace(
            "samples_per_problem = 2",
            "samples_per_problem = 2\ntemperature = 0.1",
        ),
    );
    let out = run_cmd(&p, None).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force-new"), "{}", stderr(&out));
    let mut forced = run_cmd(&p, None);
    forced.arg("--force-new");
    run_ok(&mut forced);
    assert!(p.out().join("superseded").exists());
    assert_eq!(contents(&p.out()).len() as u64, PROBLEMS * 2);
}

#[test]
fn target_and_duration_budgets_stop_cleanly() {
    let p = project("");
    let mut cmd = run_cmd(&p, None);
    cmd.args(["--target-accepted", "50"]);
    let out = run_ok(&mut cmd);
    assert!(
        stderr(&out).contains("target of 50 accepted"),
        "{}",
        stderr(&out)
    );
    let accepted = read_split(&p.out(), "accepted").height();
    assert!(accepted >= 50, "{accepted}");

    let p = project("");
    let mut cmd = run_cmd(&p, Some("slow_shard_ms=100"));
    cmd.args([
        "--max-duration",
        "1s",
        "--grace",
        "1s",
        "--max-problems",
        "800",
    ]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("max duration"), "{}", stderr(&out));
    assert_manifest_matches(&p.out());
}
