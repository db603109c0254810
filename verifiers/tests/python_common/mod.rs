//! Shared by the `python_tests` integration tests: the verifiers in both execution modes,
//! samples, and the HumanEval runner.
#![allow(dead_code)] // each test crate uses its own part

use flate2::read::GzDecoder;
use serde::Deserialize;
use smelt_verifiers::{
    PythonTestsConfig, PythonTestsVerifier, Sample, TestSpec, Verdict, Verifier,
};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub prompt: String,
    pub entry_point: String,
    pub canonical_solution: String,
    pub test: String,
}

/// The default verifier (fork server).
pub fn verifier() -> &'static PythonTestsVerifier {
    static V: OnceLock<PythonTestsVerifier> = OnceLock::new();
    V.get_or_init(|| {
        PythonTestsVerifier::new(PythonTestsConfig {
            timeout_ms: 5000,
            ..PythonTestsConfig::default()
        })
        .expect("config")
    })
}

/// One fresh interpreter per check.
pub fn one_shot() -> &'static PythonTestsVerifier {
    static V: OnceLock<PythonTestsVerifier> = OnceLock::new();
    V.get_or_init(|| {
        PythonTestsVerifier::new(PythonTestsConfig {
            timeout_ms: 5000,
            fork_server: false,
            ..PythonTestsConfig::default()
        })
        .expect("config")
    })
}

/// Both execution modes.
pub fn both() -> [&'static PythonTestsVerifier; 2] {
    [verifier(), one_shot()]
}

/// Runs this file's tests one at a time. Each check has a wall-clock limit, and on a 2-core
/// machine the heavy tests (all of HumanEval on a pool of threads, compiling a 10 MB program,
/// burning CPU until a timeout) starved the others past their limits when run in parallel:
/// a canonical solution timed out, a memory hog hit the timeout before the memory limit.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn fenced(code: &str) -> String {
    format!("Here is the solution:\n\n```python\n{code}\n```\n")
}

pub fn check_sample(completion: &str, tests: &str, entry: &str) -> Sample {
    Sample {
        id: "t".into(),
        completion: completion.into(),
        tests: Some(TestSpec::Check { code: tests.into() }),
        entry_point: Some(entry.into()),
        ..Sample::default()
    }
}

pub fn reason(v: &Verdict) -> &str {
    match v {
        Verdict::Accept { .. } => "ACCEPT",
        Verdict::Reject { reason, .. } => reason,
    }
}

/// Verifies in both modes, which must agree on the reason; returns the fork server's verdict.
pub fn verify(s: &Sample) -> Verdict {
    let forked = verifier().verify(s).expect("fork server ran");
    let fresh = one_shot().verify(s).expect("one-shot ran");
    assert_eq!(
        reason(&forked),
        reason(&fresh),
        "the modes disagree on {:?}: {forked:?} vs {fresh:?}",
        s.completion.chars().take(300).collect::<String>()
    );
    forked
}

pub fn load_tasks(path: &std::path::Path) -> Vec<Task> {
    let file = std::fs::File::open(path).expect("open");
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(std::io::BufReader::new(GzDecoder::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    reader
        .lines()
        .map(|l| serde_json::from_str(&l.expect("line")).expect("task json"))
        .collect()
}

/// Every task's canonical solution against its own tests, then against the next task's tests
/// (with its own entry point), on a pool of threads. Returns (accepted, rejected-by-reason, time).
pub fn run_humaneval(
    v: &PythonTestsVerifier,
    tasks: &[Task],
) -> (Vec<String>, BTreeMap<String, usize>, Vec<String>, Duration) {
    let n = tasks.len();
    let jobs: Vec<(usize, bool)> = (0..n).flat_map(|i| [(i, true), (i, false)]).collect();
    let next = AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get()) * 2;
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(i, own)) = jobs.get(k) else { break };
                let task = &tasks[i];
                let tests = if own {
                    &task.test
                } else {
                    &tasks[(i + 1) % n].test
                };
                let code = format!("{}{}", task.prompt, task.canonical_solution);
                let r = v
                    .verify(&check_sample(&fenced(&code), tests, &task.entry_point))
                    .expect("verifier ran");
                results.lock().expect("lock").push((i, own, r));
            });
        }
    });
    let took = t.elapsed();
    let mut wrongly_rejected = Vec::new();
    let mut rejected = BTreeMap::new();
    let mut wrongly_accepted = Vec::new();
    for (i, own, v) in results.into_inner().expect("lock") {
        match (own, &v) {
            (true, Verdict::Accept { .. }) => {}
            (true, _) => wrongly_rejected.push(format!("{}: {v:?}", tasks[i].task_id)),
            (false, Verdict::Accept { .. }) => wrongly_accepted.push(tasks[i].task_id.clone()),
            (false, _) => *rejected.entry(reason(&v).to_owned()).or_insert(0) += 1,
        }
    }
    (wrongly_rejected, rejected, wrongly_accepted, took)
}

/// Tests of `add(a, b)`.
pub const ADD_TESTS: &str =
    "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n";
