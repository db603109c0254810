//! Sharded runs on one machine: `--shard I/N` and the schedulers' variables, kills and
//! resumes of one shard, and `smelt merge` giving back the single-process run's samples.

use crate::batch::{contents, project, reference_run, run_cmd};
use crate::common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn merge(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    smelt()
        .arg("merge")
        .arg(out)
        .args(extra)
        .output()
        .expect("spawn smelt merge")
}

#[test]
fn four_shards_merge_into_the_single_run() {
    let expected = reference_run();
    let p = project("");
    for i in 0..4 {
        let shard = format!("{i}/4");
        run_ok(run_cmd(&p, None).args(["--shard", &shard]));
    }
    // Each shard holds its own part, and none holds another's sample.
    let mut total = 0;
    for i in 0..4 {
        let part = p.out().join(format!("shards/000{i}-of-0004"));
        assert_manifest_matches(&part);
        let c = contents(&part);
        assert!(!c.is_empty(), "shard {i} is empty");
        total += c.len();
    }
    assert_eq!(total, expected.len());
    let out = merge(&p.out(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("merged 4 of 4 shards"), "{text}");
    assert_manifest_matches(&p.out());
    assert_eq!(contents(&p.out()), expected);
    // Idempotent: a second merge gives the same dataset.
    run_ok(smelt().arg("merge").arg(p.out()));
    assert_eq!(contents(&p.out()), expected);
    // `smelt inspect` reads the merged dataset like any run.
    let out = run_ok(smelt().arg("inspect").arg(p.out()).arg("--json"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["accepted"],
        expected.values().filter(|v| v.1).count()
    );
}

#[test]
fn a_killed_shard_blocks_the_merge_until_it_resumes() {
    let expected = reference_run();
    let p = project("");
    for i in [0, 1, 3] {
        let shard = format!("{i}/4");
        run_ok(run_cmd(&p, None).args(["--shard", &shard]));
    }
    // Shard 2 comes from a Slurm array task's variables; it is killed after its first commit.
    let part = p.out().join("shards/0002-of-0004");
    let mut child = run_cmd(&p, Some("slow_shard_ms=200"))
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while journal_commits(&part) < 1 {
        assert!(start.elapsed() < Duration::from_secs(60), "no commit");
        assert!(child.try_wait().unwrap().is_none(), "finished too fast");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = merge(&p.out(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("0002-of-0004: did not finish"), "{err}");
    assert!(!p.out().join("manifest.json").exists());
    // What is committed can still be merged on request.
    let out = merge(&p.out(), &["--allow-incomplete", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["complete"], false);
    let partial = contents(&p.out());
    assert!(partial.len() < expected.len());
    assert!(partial.iter().all(|(k, v)| expected.get(k) == Some(v)));
    // Kubernetes' index resumes the shard; the merge is whole and exact.
    run_ok(
        run_cmd(&p, None)
            .env("JOB_COMPLETION_INDEX", "2")
            .env("SMELT_SHARDS", "4"),
    );
    run_ok(smelt().arg("merge").arg(p.out()));
    assert_eq!(contents(&p.out()), expected);
}

#[test]
fn bad_shard_specs_are_usage_errors() {
    let p = project("");
    let out = run_cmd(&p, None).args(["--shard", "4/4"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--shard = `4/4`"), "{}", stderr(&out));
    let out = run_cmd(&p, None)
        .env("JOB_COMPLETION_INDEX", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SMELT_SHARDS"), "{}", stderr(&out));
    // Merging a single-process run's output is refused.
    run_ok(&mut run_cmd(&p, None));
    let out = merge(&p.out(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no shards to merge"),
        "{}",
        stderr(&out)
    );
}

/// Commit lines in a shard's journal (the header excluded).
pub fn journal_commits(dir: &std::path::Path) -> usize {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

/// The deployment templates in `deploy/` agree with what smelt reads: the Indexed Job's
/// `SMELT_SHARDS` equals its `completions`, its pods and the merge Job share one output, and
/// the Slurm script is valid shell that hands its arguments to `smelt run`.
#[test]
#[allow(clippy::disallowed_methods)] // python and bash check the templates; nothing generated runs
fn deployment_templates_are_consistent() {
    let python = std::env::var("SMELT_TEST_PYTHON")
        .expect("SMELT_TEST_PYTHON is not set: run the tests with `make test`");
    let check = r#"
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
merge = yaml.safe_load(open(sys.argv[2]))
spec = job["spec"]
assert job["kind"] == "Job" and spec["completionMode"] == "Indexed", spec
pod = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in pod["env"]}
assert env["SMELT_SHARDS"] == str(spec["completions"]), (env, spec["completions"])
args = pod["args"]
assert args[0] == "run", args
out = args[args.index("--output") + 1]
margs = merge["spec"]["template"]["spec"]["containers"][0]["args"]
assert margs == ["merge", out], (margs, out)
print("ok", spec["completions"], out)
"#;
    let deploy = repo_root().join("deploy");
    let out = std::process::Command::new(python)
        .args(["-c", check])
        .arg(deploy.join("k8s/indexed-job.yaml"))
        .arg(deploy.join("k8s/merge-job.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let script = deploy.join("slurm/smelt-array.sbatch");
    let out = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array="), "{text}");
    assert!(text.contains("run \"$@\""), "{text}");
}
