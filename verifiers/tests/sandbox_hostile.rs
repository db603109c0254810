//! Hostile programs against the sandbox: each must be contained, the host unaffected, no
//! process left behind, and the test quick.
//!
//! Stray detection: every run carries a unique marker in its environment; after the run the
//! test scans /proc for any process whose environment or command line holds it.

use smelt_verifiers::sandbox::{
    ExitStatus, Limits, RunOutput, RunSpec, SandboxConfig, SandboxPool,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn marker() -> String {
    format!(
        "smelt-hostile-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

fn pool() -> SandboxPool {
    SandboxPool::new(SandboxConfig::default()).expect("config")
}

fn no_namespace_pool() -> SandboxPool {
    SandboxPool::new(SandboxConfig {
        namespaces: false,
        ..SandboxConfig::default()
    })
    .expect("config")
}

fn limits(timeout_ms: u64) -> Limits {
    Limits {
        timeout: Duration::from_millis(timeout_ms),
        cpu_secs: 5,
        memory_bytes: 512 << 20,
        max_processes: 32,
        max_file_bytes: 4 << 20,
        max_open_files: 64,
        max_output_bytes: 64 << 10,
    }
}

fn python(code: &str, mark: &str, timeout_ms: u64) -> RunSpec {
    RunSpec {
        program: "python3".into(),
        args: vec!["-I".into(), "-S".into(), "main.py".into(), mark.into()],
        env: vec![("SMELT_TEST_MARKER".into(), mark.into())],
        files: vec![("main.py".into(), code.as_bytes().to_vec())],
        limits: limits(timeout_ms),
        ..RunSpec::default()
    }
}

/// Processes (pid, uid line) whose environ or cmdline contains `mark`.
fn processes_with(mark: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let hit = ["environ", "cmdline"].iter().any(|f| {
            std::fs::read(format!("/proc/{pid}/{f}"))
                .map(|b| b.windows(mark.len()).any(|w| w == mark.as_bytes()))
                .unwrap_or(false)
        });
        if hit {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let state = status
                .lines()
                .find(|l| l.starts_with("State:"))
                .unwrap_or("");
            found.push(format!("{pid} {state}"));
        }
    }
    found
}

fn assert_no_strays(mark: &str) {
    // SIGKILL delivery and reaping by the kernel are immediate; allow a moment regardless.
    let t = Instant::now();
    loop {
        let left = processes_with(mark);
        if left.is_empty() {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "stray processes with marker {mark}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(pool: &SandboxPool, code: &str, timeout_ms: u64) -> (RunOutput, Duration) {
    let mark = marker();
    let t = Instant::now();
    let out = pool
        .run(&python(code, &mark, timeout_ms))
        .expect("sandbox ran");
    let took = t.elapsed();
    assert_no_strays(&mark);
    (out, took)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_plain_program_runs_and_sees_its_input() {
    let pool = pool();
    let mut spec = python(
        "import sys\nprint(sys.stdin.read().upper())\nopen('out.txt','w').write('ok')\nprint(open('out.txt').read())",
        &marker(),
        5000,
    );
    spec.stdin = b"hello sandbox".to_vec();
    let out = pool.run(&spec).expect("run");
    assert!(out.success(), "{out:?} {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "HELLO SANDBOX\nok\n");
}

#[test]
fn exit_codes_and_signals_are_reported() {
    let pool = pool();
    let (out, _) = run(&pool, "import sys; sys.exit(3)", 5000);
    assert_eq!(out.status, ExitStatus::Exited(3));
    assert!(!out.success());
    let (out, _) = run(
        &pool,
        "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)",
        5000,
    );
    // PID 1 of a namespace ignores self-sent signals without handlers; either way not success.
    assert!(!out.success() || out.status == ExitStatus::Exited(0) && out.stdout.is_empty());
    let (out, _) = run(&pool, "import ctypes; ctypes.string_at(0)", 5000);
    assert_eq!(
        out.status,
        ExitStatus::Signaled(11),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn fork_bomb_is_contained() {
    for pool in [pool(), no_namespace_pool()] {
        let code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n";
        let (out, took) = run(&pool, code, 1500);
        assert!(out.timed_out, "{out:?}");
        assert!(took < Duration::from_secs(6), "took {took:?}");
        // The host can still start processes.
        let (ok, _) = run(&pool, "print('alive')", 5000);
        assert_eq!(text(&ok.stdout), "alive\n");
    }
}

#[test]
fn memory_hog_hits_the_address_space_limit() {
    let pool = pool();
    let (out, took) = run(&pool, "x = bytearray(2 << 30)\nprint('allocated')", 5000);
    assert!(!out.success());
    assert!(!text(&out.stdout).contains("allocated"));
    assert!(
        text(&out.stderr).contains("MemoryError"),
        "{}",
        text(&out.stderr)
    );
    assert!(took < Duration::from_secs(3));
    let (out, _) = run(
        &pool,
        "l = []\nwhile True:\n    l.append(' ' * 10**6)",
        5000,
    );
    assert!(
        text(&out.stderr).contains("MemoryError"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn infinite_loop_times_out_and_cpu_limit_applies() {
    let pool = pool();
    let (out, took) = run(&pool, "while True:\n    pass", 700);
    assert!(out.timed_out);
    assert!(took < Duration::from_secs(3), "took {took:?}");

    let mark = marker();
    let mut spec = python("while True:\n    pass", &mark, 10_000);
    spec.limits.cpu_secs = 1;
    let out = pool.run(&spec).expect("run");
    assert_no_strays(&mark);
    assert!(out.cpu_limit_exceeded, "{out:?}");
    assert!(!out.timed_out);
    assert!(out.wall_time < Duration::from_secs(5));
}

#[test]
fn sleep_1000_is_killed_at_the_deadline() {
    let pool = pool();
    let mark = marker();
    let spec = RunSpec {
        program: "sleep".into(),
        args: vec!["1000".into()],
        env: vec![("SMELT_TEST_MARKER".into(), mark.clone())],
        limits: limits(300),
        ..RunSpec::default()
    };
    let t = Instant::now();
    let out = pool.run(&spec).expect("run");
    assert!(out.timed_out);
    assert_eq!(out.status, ExitStatus::Signaled(9));
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_no_strays(&mark);
}

#[test]
fn no_network_not_even_loopback() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let code = format!(
        r#"
import socket
for host, port in [("127.0.0.1", {port}), ("192.0.2.1", 80)]:
    try:
        s = socket.create_connection((host, port), timeout=1)
        print("CONNECTED", host)
    except OSError as e:
        print("BLOCKED", host, e.errno)
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x", ("127.0.0.1", {port}))
    print("UDP SENT")
except OSError as e:
    print("UDP BLOCKED", e.errno)
"#
    );
    for pool in [pool(), no_namespace_pool()] {
        let (out, took) = run(&pool, &code, 5000);
        let stdout = text(&out.stdout);
        assert!(!stdout.contains("CONNECTED"), "{stdout}");
        assert!(!stdout.contains("UDP SENT"), "{stdout}");
        assert_eq!(
            stdout.matches("BLOCKED").count(),
            3,
            "{stdout} {}",
            text(&out.stderr)
        );
        assert!(took < Duration::from_secs(4));
        assert!(listener.accept().is_err(), "the listener saw a connection");
    }
}

#[test]
fn no_writes_outside_the_work_dir() {
    let tag = marker();
    let targets = [
        format!("/tmp/pwned-{tag}"),
        format!("/var/tmp/pwned-{tag}"),
        format!("/dev/shm/pwned-{tag}"),
        format!("/root/pwned-{tag}"),
        format!("/pwned-{tag}"),
    ];
    let code = format!(
        "import os\nfor p in {targets:?}:\n    try:\n        open(p, 'w').write('x')\n        print('WROTE', p)\n    except OSError as e:\n        print('DENIED', p, e.errno)\ntry:\n    os.mkdir('../escape-{tag}')\n    print('WROTE parent')\nexcept OSError as e:\n    print('DENIED parent', e.errno)\n"
    );
    for pool in [pool(), no_namespace_pool()] {
        let (out, _) = run(&pool, &code, 5000);
        let stdout = text(&out.stdout);
        assert!(!stdout.contains("WROTE"), "{stdout}");
        assert_eq!(
            stdout.matches("DENIED").count(),
            6,
            "{stdout} {}",
            text(&out.stderr)
        );
        for t in &targets {
            assert!(!std::path::Path::new(t).exists(), "{t} was created");
        }
    }
}

#[test]
fn no_reads_of_files_outside() {
    use std::os::unix::fs::PermissionsExt;
    let tag = marker();
    let secret = std::env::temp_dir().join(format!("smelt-secret-{tag}"));
    std::fs::write(&secret, format!("TOPSECRET-{tag}")).expect("write secret");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let public = std::env::temp_dir().join(format!("smelt-public-{tag}"));
    std::fs::write(&public, format!("PUBLIC-{tag}")).expect("write public");
    std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let code = format!(
        "for p in [{:?}, {:?}, '/root/.bashrc', '/etc/shadow']:\n    try:\n        print('READ', p, open(p).read()[:200])\n    except OSError as e:\n        print('DENIED', p, e.errno)\n",
        secret.display().to_string(),
        public.display().to_string()
    );
    let (out, _) = run(&pool(), &code, 5000);
    let stdout = text(&out.stdout);
    let _ = std::fs::remove_file(&secret);
    let _ = std::fs::remove_file(&public);
    assert!(!stdout.contains("TOPSECRET"), "{stdout}");
    assert!(
        !stdout.contains("PUBLIC-"),
        "Landlock should hide {public:?}: {stdout}"
    );
    assert!(!stdout.contains("READ"), "{stdout}");
    assert_eq!(stdout.matches("DENIED").count(), 4, "{stdout}");
}

#[test]
fn printing_a_gigabyte_is_cut_off() {
    let pool = pool();
    for stream in ["stdout", "stderr"] {
        let code = format!(
            "import sys\nb = 'x' * 65536\nfor _ in range(16384):\n    sys.{stream}.write(b)\n"
        );
        let (out, took) = run(&pool, &code, 20_000);
        assert!(out.output_limit_exceeded, "{stream}: {out:?}");
        let (buf, trunc) = if stream == "stdout" {
            (&out.stdout, out.stdout_truncated)
        } else {
            (&out.stderr, out.stderr_truncated)
        };
        assert!(trunc);
        assert_eq!(buf.len(), 64 << 10);
        assert!(took < Duration::from_secs(3), "took {took:?}");
    }
}

#[test]
fn filling_the_disk_is_bounded() {
    let code = "import os\nn = 0\ntry:\n    for i in range(100000):\n        with open(f'f{i}', 'wb') as f:\n            f.write(b'x' * (1 << 20))\n        n += 1\nexcept OSError as e:\n    print('STOPPED', n, e.errno)\n";
    let (out, took) = run(&pool(), code, 10_000);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("STOPPED"),
        "{stdout} {}",
        text(&out.stderr)
    );
    let n: usize = stdout
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(n <= 64, "wrote {n} MiB");
    assert!(took < Duration::from_secs(5));
}

#[test]
fn killing_the_parent_is_impossible() {
    let me = std::process::id();
    // SAFETY: getpgrp has no preconditions.
    let pgid = unsafe { nix::libc::getpgrp() };
    let code = format!(
        "import os, signal\nfor f in [lambda: os.kill(os.getppid(), 9), lambda: os.kill({me}, 9), lambda: os.killpg({pgid}, 9), lambda: os.kill(1, 9), lambda: os.kill(-1, 9)]:\n    try:\n        f()\n    except OSError as e:\n        print('DENIED', e.errno)\nprint('DONE')\n"
    );
    for pool in [pool(), no_namespace_pool()] {
        let (out, took) = run(&pool, &code, 5000);
        // We are still here, which is the point; the run ended on its own.
        let stdout = text(&out.stdout);
        println!("{stdout}");
        assert!(stdout.ends_with("DONE\n"), "{stdout} {}", text(&out.stderr));
        assert!(stdout.matches("DENIED").count() >= 3, "{stdout}");
        assert!(!out.timed_out);
        assert!(took < Duration::from_secs(3));
    }
}

#[test]
fn setsid_double_fork_escape_is_reaped() {
    let code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(1000)\n    os._exit(0)\nprint('parent done')\n";
    for pool in [pool(), no_namespace_pool()] {
        let (out, took) = run(&pool, code, 3000);
        assert!(took < Duration::from_secs(3), "took {took:?}");
        assert!(
            text(&out.stdout).contains("parent done"),
            "{out:?} {}",
            text(&out.stderr)
        );
    }
    // The same, with the original process hanging around until the deadline.
    let code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(1000)\n    os._exit(0)\ntime.sleep(1000)\n";
    for pool in [pool(), no_namespace_pool()] {
        let (out, took) = run(&pool, code, 500);
        assert!(out.timed_out);
        assert!(took < Duration::from_secs(3));
    }
}

#[test]
fn runs_are_parallel_but_bounded() {
    let pool = SandboxPool::new(SandboxConfig {
        max_parallel: 3,
        ..SandboxConfig::default()
    })
    .expect("config");
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                let (out, _) = run(&pool, "import time; time.sleep(0.4)", 5000);
                assert!(out.success());
            });
        }
    });
    let took = t.elapsed();
    // Six 0.4 s sleeps three at a time: two waves, not one and not six.
    assert!(took >= Duration::from_millis(800), "not bounded: {took:?}");
    assert!(took < Duration::from_millis(2400), "not parallel: {took:?}");
}

#[test]
fn layers_are_reported() {
    let layers = pool().layers().expect("layers");
    if nix::unistd::geteuid().is_root() {
        assert!(layers.uid_drop);
    }
    println!("sandbox layers here: {layers:?}");
}
