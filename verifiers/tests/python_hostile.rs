//! `python_tests`: the fork server contains hostile solutions (network, files, processes,
//! signals), and leaves no process behind.

mod python_common;

use python_common::*;
use smelt_verifiers::{IoCase, PythonTestsConfig, PythonTestsVerifier, Sample, TestSpec, Verifier};
use std::time::{Duration, Instant};

/// Processes whose command line holds `mark`.
fn processes_with(mark: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|b| b.windows(mark.len()).any(|w| w == mark.as_bytes()))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn fork_server_contains_hostile_solutions() {
    let _serial = serial();
    let v = PythonTestsVerifier::new(PythonTestsConfig {
        timeout_ms: 1500,
        ..PythonTestsConfig::default()
    })
    .expect("config");
    let tag = format!("smelt-fork-hostile-{}", std::process::id());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let secret = std::env::temp_dir().join(format!("{tag}-secret"));
    std::fs::write(&secret, "TOPSECRET").expect("secret");
    let add = "def add(a, b):\n    return a + b\n";
    // Probes of the sandbox itself run as Io programs (no audit hook in that mode): each prints
    // CONTAINED only when every attack in it failed, so an accept means "contained".
    let io =
        |attacks: &str| format!("ok = True\n{attacks}\nprint('CONTAINED' if ok else 'ESCAPED')\n");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "leftover process (double fork, setsid, exec)",
            format!("import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.execv('/usr/bin/python3', ['python3', '-c', 'import time; time.sleep(1000)', '{tag}'])\n    os._exit(0)\n{add}"),
            "ACCEPT",
        ),
        (
            "leftover process while the check hangs",
            format!("import os, time\nif os.fork() == 0:\n    os.setsid()\n    os.execv('/usr/bin/python3', ['python3', '-c', 'import time; time.sleep(1000)', '{tag}'])\ntime.sleep(1000)\n{add}"),
            "timeout",
        ),
        (
            "signals to the server and everything else",
            // Landlock ABI 6 scopes signals: not one of these may be delivered.
            io("import os\nfor f in (lambda: os.kill(1, 9), lambda: os.kill(os.getppid(), 9), lambda: os.kill(-1, 9), lambda: os.kill(1, 2), lambda: os.kill(1, 19)):\n    try:\n        f()\n        ok = False\n    except OSError:\n        pass"),
            "ACCEPT",
        ),
        (
            "writes outside the scratch dir",
            io(&format!("for p in ['../x', '../../x', '/tmp/{tag}-pwned', '/dev/shm/{tag}-pwned', '/var/tmp/{tag}-pwned']:\n    try:\n        open(p, 'w').write('x')\n        ok = False\n    except OSError:\n        pass")),
            "ACCEPT",
        ),
        (
            "reads outside",
            io(&format!("for p in ['{}', '/root/.bashrc', '/etc/shadow', '../zygote.py']:\n    try:\n        open(p).read()\n        ok = False\n    except OSError:\n        pass", secret.display())),
            "ACCEPT",
        ),
        (
            "network, loopback included",
            io(&format!("import socket\nfor h, p in [('127.0.0.1', {port}), ('192.0.2.1', 80)]:\n    try:\n        socket.create_connection((h, p), timeout=1)\n        ok = False\n    except OSError:\n        pass")),
            "ACCEPT",
        ),
        (
            "the server's file descriptors",
            // Every open fd must be one of the check's own stdio pipes (the harness keeps a
            // dup of stderr); the server's job channel must not be reachable.
            io("import os\nown = {(os.fstat(f).st_dev, os.fstat(f).st_ino) for f in (0, 1, 2)}\nfor fd in range(3, 4096):\n    try:\n        st = os.fstat(fd)\n    except OSError:\n        continue\n    if (st.st_dev, st.st_ino) not in own:\n        ok = False"),
            "ACCEPT",
        ),
        (
            "ptrace and the server's memory",
            io("import ctypes\nlibc = ctypes.CDLL(None)\nif libc.ptrace(16, 1, 0, 0) == 0:\n    ok = False\ntry:\n    open('/proc/1/mem', 'rb')\n    ok = False\nexcept OSError:\n    pass"),
            "ACCEPT",
        ),
    ];
    let scoped = v.pool().layers().expect("layers").landlock_abi >= Some(6);
    for (what, code, want) in &cases {
        if what.starts_with("signals") && !scoped {
            println!("skipping {what:?}: Landlock ABI < 6 cannot scope signals here");
            continue;
        }
        let t = Instant::now();
        let sample = if code.contains("print('CONTAINED'") {
            Sample {
                completion: fenced(code),
                tests: Some(TestSpec::Io {
                    cases: vec![IoCase {
                        input: String::new(),
                        output: "CONTAINED".into(),
                    }],
                }),
                ..Sample::default()
            }
        } else {
            check_sample(&fenced(code), ADD_TESTS, "add")
        };
        let r = v.verify(&sample).expect("verifier ran");
        assert_eq!(reason(&r), *want, "{what}: {r:?}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{what}: {:?}",
            t.elapsed()
        );
        let left = processes_with(&tag);
        assert!(
            left.is_empty(),
            "{what}: processes outlived the check: {left:?}"
        );
        // The next check on the same servers is unaffected.
        let ok = v
            .verify(&check_sample(&fenced(add), ADD_TESTS, "add"))
            .expect("verifier ran");
        assert!(ok.is_accept(), "after {what}: {ok:?}");
    }
    assert!(listener.accept().is_err(), "the listener saw a connection");
    for p in ["/tmp", "/dev/shm", "/var/tmp"] {
        assert!(!std::path::Path::new(&format!("{p}/{tag}-pwned")).exists());
    }
    let _ = std::fs::remove_file(&secret);
}
