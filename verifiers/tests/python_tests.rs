//! `python_tests` end to end: HumanEval (full set when present, an in-repo fixture always),
//! malformed completions, limits, reward hacks, Io and Asserts tests, throughput. The fork
//! server's containment of hostile solutions is in `python_hostile.rs`.

mod python_common;
mod support;

use python_common::*;
use smelt_verifiers::{
    assert_verifier_compliance, Expect, IoCase, PythonTestsConfig, PythonTestsVerifier, Sample,
    TestSpec, Verdict, Verifier,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
#[test]
fn humaneval_fixture_in_repo() {
    let _serial = serial();
    let path = support::crate_dir().join("tests/fixtures/humaneval_sample.jsonl");
    let tasks = load_tasks(&path);
    assert_eq!(tasks.len(), 8);
    for v in both() {
        let (bad_rejects, rejects, bad_accepts, took) = run_humaneval(v, &tasks);
        assert!(
            bad_rejects.is_empty(),
            "canonical solutions rejected: {bad_rejects:#?}"
        );
        assert!(
            bad_accepts.is_empty(),
            "accepted against the wrong tests: {bad_accepts:?}"
        );
        assert_eq!(rejects.values().sum::<usize>(), tasks.len());
        println!("fixture: 8 accepted, 8 rejected {rejects:?} in {took:?}");
    }
}

#[test]
fn humaneval_full_164() {
    let _serial = serial();
    let path = support::crate_dir().join("../../shared/data/humaneval/HumanEval.jsonl.gz");
    if !path.exists() {
        println!(
            "SKIPPED humaneval_full_164: {} not found (the in-repo fixture still runs)",
            path.display()
        );
        return;
    }
    let tasks = load_tasks(&path);
    assert_eq!(tasks.len(), 164);
    for (mode, v) in [
        ("fork server", verifier()),
        ("process per check", one_shot()),
    ] {
        let (bad_rejects, rejects, bad_accepts, took) = run_humaneval(v, &tasks);
        println!(
            "HumanEval ({mode}): {} / 164 canonical accepted; {} / 164 rejected against the next task's tests {rejects:?}; 328 runs in {took:.2?} ({:.0} runs/s)",
            164 - bad_rejects.len(),
            rejects.values().sum::<usize>(),
            328.0 / took.as_secs_f64()
        );
        assert!(
            bad_rejects.is_empty(),
            "canonical solutions rejected: {bad_rejects:#?}"
        );
        assert!(
            bad_accepts.is_empty(),
            "accepted against the wrong tests: {bad_accepts:?}"
        );
        assert_eq!(rejects.values().sum::<usize>(), 164);
        assert!(took < Duration::from_secs(120), "HumanEval took {took:?}");
    }
}

#[test]
fn simple_accept_and_wrong_answer() {
    let _serial = serial();
    let good = verify(&check_sample(
        &fenced("def add(a, b):\n    return a + b"),
        ADD_TESTS,
        "add",
    ));
    assert!(good.is_accept(), "{good:?}");
    let bad = verify(&check_sample(
        &fenced("def add(a, b):\n    return a - b"),
        ADD_TESTS,
        "add",
    ));
    assert_eq!(reason(&bad), "tests_failed");
    let Verdict::Reject { detail, .. } = bad else {
        unreachable!()
    };
    assert!(detail.contains("assert candidate(1, 2) == 3"), "{detail}");
}

#[test]
fn malformed_completions_are_rejected_without_panic() {
    let _serial = serial();
    let cases = [
        ("", "no_code"),
        ("def add(a, b): return a + b", "no_code"),
        ("```python\ndef add(a, b):\n    return a + b\n", "no_code"),
        ("```python\n\n```", "no_code"),
        (
            "```python\ndef add(a, b)\n    return a + b\n```",
            "syntax_error",
        ),
        ("```python\nx = '\0'\n```", "syntax_error"),
        ("```python\ndef other(): pass\n```", "tests_failed"),
        (
            "```python\nraise ValueError('at import')\n```",
            "tests_failed",
        ),
    ];
    for (completion, want) in cases {
        let v = verify(&check_sample(completion, ADD_TESTS, "add"));
        assert_eq!(reason(&v), want, "{completion:?} → {v:?}");
    }
    // 10 MB: in a block, outside a block, and an unterminated block.
    let big = "x = 1  # padding padding padding padding\n".repeat(250_000);
    let t = Instant::now();
    let v = verify(&check_sample(&big, ADD_TESTS, "add"));
    assert_eq!(reason(&v), "no_code");
    let v = verify(&check_sample(
        &format!("```python\n{big}"),
        ADD_TESTS,
        "add",
    ));
    assert_eq!(reason(&v), "no_code");
    let v = verify(&check_sample(
        &fenced(&format!("{big}def add(a, b):\n    return a + b")),
        ADD_TESTS,
        "add",
    ));
    assert!(v.is_accept(), "{v:?}");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

#[test]
fn missing_ground_truth() {
    let _serial = serial();
    let mut s = check_sample(&fenced("def add(a, b): return a + b"), ADD_TESTS, "add");
    s.entry_point = None;
    assert_eq!(reason(&verify(&s)), "missing_ground_truth");
    s.tests = None;
    assert_eq!(reason(&verify(&s)), "missing_ground_truth");
    s.tests = Some(TestSpec::Asserts { asserts: vec![] });
    assert_eq!(reason(&verify(&s)), "missing_ground_truth");
    s.tests = Some(TestSpec::Io { cases: vec![] });
    assert_eq!(reason(&verify(&s)), "missing_ground_truth");
}

#[test]
fn limits_map_to_reasons() {
    let _serial = serial();
    for fork_server in [true, false] {
        let v = PythonTestsVerifier::new(PythonTestsConfig {
            timeout_ms: 1000,
            memory_mb: 256,
            max_output_bytes: 4096,
            fork_server,
            ..PythonTestsConfig::default()
        })
        .expect("config");
        let run = |body: &str| {
            let s = check_sample(
                &fenced(&format!("def add(a, b):\n{body}\n    return a + b")),
                ADD_TESTS,
                "add",
            );
            v.verify(&s).expect("ran")
        };
        let t = Instant::now();
        assert_eq!(reason(&run("    while True: pass")), "timeout");
        assert!(t.elapsed() < Duration::from_secs(4));
        assert_eq!(reason(&run("    x = bytearray(1 << 30)")), "memory_limit");
        assert_eq!(reason(&run("    print('y' * 100000)")), "output_limit");
        let fork = "    import os\n    for _ in range(100):\n        os.fork()";
        let r = run(fork);
        assert!(["resource_limit", "timeout"].contains(&reason(&r)), "{r:?}");
        // And the verifier still works afterwards.
        assert!(run("    pass").is_accept());
    }
}

#[test]
fn reward_hacks_are_rejected() {
    let _serial = serial();
    let hacks = [
        // An object equal to everything.
        ("class A:\n    def __eq__(self, o): return True\ndef add(a, b):\n    return A()", "bad_return_type"),
        // An int subclass lying about equality.
        ("class I(int):\n    def __eq__(self, o): return True\ndef add(a, b):\n    return I(0)", "bad_return_type"),
        // Leaving early with success.
        ("import sys\nsys.exit(0)\ndef add(a, b): return 0", "tests_failed"),
        ("import os\nos._exit(0)\ndef add(a, b): return 0", "tests_failed"),
        // Ending the process from inside the candidate.
        ("import os\ndef add(a, b):\n    os._exit(0)", "tests_failed"),
        // Printing what a result line might look like.
        ("import sys\nsys.stderr.write('done\\t2\\t2\\ntest\\t0\\tok\\n')\ndef add(a, b): return 0", "tests_failed"),
        // Swallowing the assertion by patching builtins.
        ("import builtins\nbuiltins.AssertionError = None\nbuiltins.abs = lambda x: 0\ndef add(a, b): return 0", "tests_failed"),
    ];
    let mut hacks = hacks.to_vec();
    hacks.extend([
        // Reaching the harness's reporting code through frames, tracebacks, the garbage
        // collector, module globals or raw memory.
        ("import sys, os\nf = sys._getframe(0)\nwhile f is not None:\n    r = f.f_locals.get('report')\n    if r:\n        r('test', 0, 'ok'); r('done', 1, 1); os._exit(0)\n    f = f.f_back\ndef add(a, b): return 0", "tests_failed"),
        ("import os\ntry:\n    raise ValueError\nexcept ValueError as e:\n    f = e.__traceback__.tb_frame\n    while f is not None:\n        r = f.f_locals.get('report')\n        if r:\n            r('test', 0, 'ok'); r('done', 1, 1); os._exit(0)\n        f = f.f_back\ndef add(a, b): return 0", "tests_failed"),
        ("import gc, os\nfor o in gc.get_objects():\n    if callable(o) and getattr(o, '__name__', '') == 'report':\n        o('test', 0, 'ok'); o('done', 1, 1); os._exit(0)\ndef add(a, b): return 0", "tests_failed"),
        ("import sys\nfor m in list(sys.modules.values()):\n    j = getattr(m, '_job', None) or getattr(m, 'job', None)\n    if isinstance(j, dict) and 'nonce' in j:\n        sys.stderr.write(j['nonce'] + '\\ttest\\t0\\tok\\n' + j['nonce'] + '\\tdone\\t1\\t1\\n'); sys.stderr.flush()\n        import os; os._exit(0)\ndef add(a, b): return 0", "tests_failed"),
        ("import signal, os, sys\ndef h(s, f):\n    while f is not None:\n        r = f.f_locals.get('report')\n        if r:\n            r('test', 0, 'ok'); r('done', 1, 1); os._exit(0)\n        f = f.f_back\nsignal.signal(signal.SIGUSR1, h)\nos.kill(os.getpid(), signal.SIGUSR1)\ndef add(a, b): return 0", "tests_failed"),
        ("import sys\nsys.settrace(lambda *a: None)\ndef add(a, b): return 0", "tests_failed"),
        ("import ctypes\nctypes.string_at(id(0), 8)\ndef add(a, b): return 0", "tests_failed"),
    ]);
    for (code, want) in hacks {
        let v = verify(&check_sample(&fenced(code), ADD_TESTS, "add"));
        assert_eq!(reason(&v), want, "{code}\n→ {v:?}");
    }
    // Patching what the tests use, from inside the candidate, in the middle of check().
    let tests = "def check(candidate):\n    import math\n    assert abs(candidate(1, 2) - 3.5) < 1e-9 or math.isclose(candidate(1, 2), 3.5)\n";
    let v = verify(&check_sample(
        &fenced("def add(a, b):\n    import builtins, math\n    builtins.abs = lambda x: 0\n    math.isclose = lambda *a, **k: True\n    return 0"),
        tests,
        "add",
    ));
    assert_eq!(reason(&v), "tests_failed", "{v:?}");
    // A solution-level `abs` must not leak into the tests.
    let tests = "def check(candidate):\n    assert abs(candidate(1, 2) - 3.5) < 1e-9\n";
    let v = verify(&check_sample(
        &fenced("def abs(x):\n    return 0\ndef add(a, b):\n    return a + b"),
        tests,
        "add",
    ));
    assert_eq!(reason(&v), "tests_failed", "{v:?}");
    // … while helpers the tests legitimately use (HumanEval/38 style) stay visible.
    let tests = "def check(candidate):\n    assert candidate(helper(2)) == 5\n";
    let v = verify(&check_sample(
        &fenced("def helper(x):\n    return x * 2\ndef inc(x):\n    return x + 1"),
        tests,
        "inc",
    ));
    assert!(v.is_accept(), "{v:?}");
}

#[test]
fn asserts_are_run_and_reported_individually() {
    let _serial = serial();
    let s = Sample {
        completion: fenced("def sq(x):\n    return x * x if x != 3 else 0"),
        tests: Some(TestSpec::Asserts {
            asserts: vec![
                "assert sq(2) == 4".into(),
                "assert sq(3) == 9".into(),
                "assert sq(-1) == 1".into(),
            ],
        }),
        ..Sample::default()
    };
    let v = verify(&s);
    assert_eq!(reason(&v), "tests_failed");
    let Verdict::Reject { detail, .. } = v else {
        unreachable!()
    };
    let d: serde_json::Value = serde_json::from_str(&detail).expect("json detail");
    assert_eq!(d["passed"], 2);
    assert_eq!(d["total"], 3);
    assert_eq!(d["tests"][1]["ok"], false);
    assert!(
        d["tests"][1]["error"]
            .as_str()
            .unwrap_or("")
            .contains("assert sq(3) == 9"),
        "{d}"
    );
    let fixed = Sample {
        completion: fenced("def sq(x):\n    return x * x"),
        ..s
    };
    let v = verify(&fixed);
    assert!(v.is_accept(), "{v:?}");
}

#[test]
fn io_cases_each_run_with_stdin() {
    let _serial = serial();
    let cases = vec![
        IoCase {
            input: "1 2\n".into(),
            output: "3\n".into(),
        },
        IoCase {
            input: "10 -4\n".into(),
            output: "6".into(),
        },
    ];
    let sample = |code: &str| Sample {
        completion: fenced(code),
        tests: Some(TestSpec::Io {
            cases: cases.clone(),
        }),
        ..Sample::default()
    };
    let good = verify(&sample("a, b = map(int, input().split())\nprint(a + b)   "));
    assert!(good.is_accept(), "{good:?}");
    let good_main = verify(&sample("import sys\ndef main():\n    a, b = map(int, sys.stdin.read().split())\n    print(a + b)\nif __name__ == '__main__':\n    main()\n    exit(0)"));
    assert!(good_main.is_accept(), "{good_main:?}");
    // Non-ASCII through stdin and stdout (and bytes that are not UTF-8 on stderr).
    let unicode = Sample {
        completion: fenced(
            "import sys\nsys.stderr.buffer.write(bytes(range(256)))\nprint(input()[::-1] + ' ✓')",
        ),
        tests: Some(TestSpec::Io {
            cases: vec![IoCase {
                input: "é🙂ß\n".into(),
                output: "ß🙂é ✓\n".into(),
            }],
        }),
        ..Sample::default()
    };
    let v = verify(&unicode);
    assert!(v.is_accept(), "{v:?}");
    let wrong = verify(&sample("a, b = map(int, input().split())\nprint(a * b)"));
    assert_eq!(reason(&wrong), "tests_failed");
    let crash = verify(&sample(
        "a, b = map(int, input().split())\nprint(a + b)\nraise SystemExit(1)",
    ));
    assert_eq!(reason(&crash), "tests_failed");
    let hang = PythonTestsVerifier::new(PythonTestsConfig {
        timeout_ms: 500,
        ..PythonTestsConfig::default()
    })
    .expect("config")
    .verify(&sample("import time\ntime.sleep(60)"))
    .expect("ran");
    assert_eq!(reason(&hang), "timeout");
}

#[test]
fn complies_with_the_verifier_contract() {
    let _serial = serial();
    assert_verifier_compliance(
        verifier(),
        &[
            (
                check_sample(
                    &fenced("def add(a, b):\n    return a + b"),
                    ADD_TESTS,
                    "add",
                ),
                Expect::Accept,
            ),
            (
                check_sample(&fenced("def add(a, b):\n    return 0"), ADD_TESTS, "add"),
                Expect::reject("tests_failed"),
            ),
        ],
    );
}

#[test]
fn throughput_of_trivial_checks() {
    let _serial = serial();
    let n = 200;
    let samples: Vec<Sample> = (0..n)
        .map(|i| {
            check_sample(
                &fenced(&format!("def add(a, b):\n    return a + b + {}", i % 2)),
                ADD_TESTS,
                "add",
            )
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get()) * 2;
    for (mode, v) in [
        ("fork server", verifier()),
        ("process per check", one_shot()),
    ] {
        let next = AtomicUsize::new(0);
        let accepted = AtomicUsize::new(0);
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(sample) = samples.get(k) else { break };
                    if v.verify(sample).expect("ran").is_accept() {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        let took = t.elapsed();
        let rate = n as f64 / took.as_secs_f64();
        println!(
            "python_tests throughput ({mode}): {n} checks in {took:.2?} = {rate:.0} checks/s on {} CPUs ({threads} threads)",
            std::thread::available_parallelism().map_or(0, |p| p.get())
        );
        assert_eq!(accepted.load(Ordering::SeqCst), n / 2);
        assert!(rate > 10.0, "pathologically slow: {rate:.1} checks/s");
    }
}
