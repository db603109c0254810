//! A real one-machine Slurm cluster (`deploy/slurm/local-cluster.sh`): the repo's array
//! template runs smelt on replay as 4 tasks, `smelt merge` gives back the single-process run's
//! samples; then a task is cancelled mid-run (`scancel`), resubmitted, and merged again.
//!
//! Skips when Slurm is not installed, unless `SMELT_REQUIRE_SLURM=1` (`.ci/run` installs it
//! and sets that), so a machine without Slurm still runs every other test.

use crate::batch::{contents, project, reference_run};
use crate::common::*;
use crate::shards::journal_commits;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A running cluster, stopped on drop.
struct Cluster {
    dir: tempfile::TempDir,
    script: PathBuf,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let installed = ["slurmctld", "slurmd", "munged", "sbatch"]
            .iter()
            .all(|p| which(p));
        if !installed {
            assert!(
                std::env::var("SMELT_REQUIRE_SLURM").as_deref() != Ok("1"),
                "SMELT_REQUIRE_SLURM=1 but Slurm is not installed (slurmctld slurmd \
                 slurm-client munge)"
            );
            eprintln!("skipping: Slurm is not installed (apt-get install slurmctld slurmd slurm-client munge)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = repo_root().join("deploy/slurm/local-cluster.sh");
        let out = shell(&script)
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cluster did not start:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        Some(Cluster { dir, script })
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = shell(program);
        c.env("SLURM_CONF", self.dir.path().join("slurm.conf"));
        c
    }

    /// Submits the repo's array template; returns the job id.
    fn submit(&self, project: &Project, array: &str, env: &str, args: &[&str]) -> String {
        let out = self
            .cmd("sbatch")
            .current_dir(project.dir.path())
            .args(["--parsable", "--cpus-per-task=1"])
            .arg(format!("--array={array}"))
            .arg(format!(
                "--export=ALL,SMELT={},SMELT_LOG=warn{env}",
                env!("CARGO_BIN_EXE_smelt")
            ))
            .arg(repo_root().join("deploy/slurm/smelt-array.sbatch"))
            .arg("pipeline.toml")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "sbatch: {}", stderr(&out));
        let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        id.split(';').next().unwrap_or_default().to_owned()
    }

    /// Waits until no task of `job` is queued or running.
    fn wait(&self, job: &str) {
        let start = Instant::now();
        loop {
            let out = self.cmd("squeue").args(["-h", "-j", job]).output().unwrap();
            if out.status.success() && out.stdout.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "job {job} still queued: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = shell(&self.script)
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

// The test drives the scheduler's own programs; generated code never runs here.
#[allow(clippy::disallowed_methods)]
fn shell(program: impl AsRef<std::ffi::OsStr>) -> Command {
    Command::new(program)
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join(program).is_file())
            || ["/usr/sbin", "/sbin"]
                .iter()
                .any(|d| Path::new(d).join(program).is_file())
    })
}

fn merge_ok(out: &Path) {
    run_ok(smelt().arg("merge").arg(out));
}

#[test]
fn slurm_array_merges_exactly_once_through_a_cancel_and_resubmit() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let expected = reference_run();
    let p = project("");

    // 1. A 4-task array; merged, it is the single-process run.
    let job = cluster.submit(&p, "0-3", "", &[]);
    cluster.wait(&job);
    for i in 0..4 {
        let log =
            std::fs::read_to_string(p.path(&format!("smelt-{job}_{i}.log"))).unwrap_or_default();
        let part = p.out().join(format!("shards/000{i}-of-0004"));
        assert!(
            part.join("outcome.json").is_file(),
            "task {i} did not finish:\n{log}"
        );
    }
    merge_ok(&p.out());
    assert_eq!(contents(&p.out()), expected);

    // 2. Again into another output, slowly; task 2 is cancelled after its first commit.
    let job = cluster.submit(
        &p,
        "0-3",
        ",SMELT_FAULT=slow_shard_ms=150",
        &["--output", "out2"],
    );
    let out2 = p.path("out2");
    let part = out2.join("shards/0002-of-0004");
    let start = Instant::now();
    while journal_commits(&part) < 1 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "task 2 never committed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = cluster
        .cmd("scancel")
        .arg(format!("{job}_2"))
        .output()
        .unwrap();
    assert!(out.status.success(), "scancel: {}", stderr(&out));
    cluster.wait(&job);
    let outcome = std::fs::read_to_string(part.join("outcome.json")).unwrap_or_default();
    assert!(
        !outcome.contains("\"finished\""),
        "the cancel came too late: {outcome}"
    );
    let refused = smelt().arg("merge").arg(&out2).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("0002-of-0004"),
        "{}",
        stderr(&refused)
    );

    // 3. Resubmitted alone (an array of one to Slurm, so the shard is spelled out): it
    // resumes, and the merge is the single-process run again — nothing lost, nothing twice.
    let job = cluster.submit(&p, "2", ",SMELT_SHARD=2/4", &["--output", "out2"]);
    cluster.wait(&job);
    assert!(
        std::fs::read_to_string(part.join("outcome.json"))
            .unwrap_or_default()
            .contains("\"finished\""),
        "the resubmitted task did not finish: {}",
        std::fs::read_to_string(p.path(&format!("smelt-{job}_2.log"))).unwrap_or_default()
    );
    merge_ok(&out2);
    assert_eq!(contents(&out2), expected);
}
