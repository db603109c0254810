use super::*;
use crate::stats::Stats;
use smelt_verifiers::VerdictRecord;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// One parsed sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A strict-enough parser of the text format: checks that every sample belongs to a
/// family announced by `# HELP` and `# TYPE`, and unescapes label values.
fn parse(text: &str) -> Vec<Sample> {
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut helped = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "OpenMetrics ends with # EOF");
    for &line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().expect("help name");
            helped.insert(name.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let name = it.next().expect("type name");
            let kind = it.next().expect("type kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            typed.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let (name, rest) = match line.find('{') {
            Some(i) => (&line[..i], &line[i..]),
            None => {
                let (n, v) = line.split_once(' ').expect("value");
                out.push((n.to_owned(), BTreeMap::new(), v.parse().expect("number")));
                continue;
            }
        };
        let mut labels = BTreeMap::new();
        let mut chars = rest[1..].chars().peekable();
        loop {
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut value = String::new();
            loop {
                match chars.next().expect("unterminated label") {
                    '\\' => match chars.next().expect("escape") {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        c => panic!("bad escape \\{c} in {line}"),
                    },
                    '"' => break,
                    '\n' => panic!("raw newline"),
                    c => value.push(c),
                }
            }
            labels.insert(key, value);
            match chars.next() {
                Some(',') => continue,
                Some('}') => break,
                other => panic!("unexpected {other:?} in {line}"),
            }
        }
        let value: String = chars.collect();
        let value = value.trim().parse().expect("number");
        let base = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        let counter = name.strip_suffix("_total").unwrap_or_default();
        assert!(
            typed.contains_key(name)
                || typed.get(base).is_some_and(|k| k == "histogram")
                || typed.get(counter).is_some_and(|k| k == "counter"),
            "sample without TYPE: {line}"
        );
        out.push((name.to_owned(), labels, value));
    }
    out
}

fn find(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.2)
}

fn stats() -> Arc<Stats> {
    let stats = Stats::new();
    let reject = VerdictRecord {
        verifier: "exact".into(),
        version: "1".into(),
        accepted: false,
        reason: "wrong \"answer\"\\\nline".into(),
        detail: String::new(),
        score: 0.0,
        error: false,
        elapsed_us: 1,
    };
    let error = VerdictRecord {
        verifier: "smt".into(),
        reason: "verifier_timeout".into(),
        error: true,
        ..reject.clone()
    };
    stats.record_problem_started("arith");
    stats.record_sample("arith", &[], true, 11, 100);
    stats.record_sample("arith", &[reject], false, 11, 3000);
    stats.record_sample("lin", &[error], false, 7, 40);
    stats.record_problem_done("arith");
    stats.set_queue_depth("verify", 5);
    Arc::new(stats)
}

fn check(samples: &[Sample]) {
    assert_eq!(find(samples, "smelt_problems_total", &[]), Some(1.0));
    assert_eq!(
        find(samples, "smelt_problems_started_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        find(samples, "smelt_samples_total", &[("source", "arith")]),
        Some(2.0)
    );
    assert_eq!(
        find(samples, "smelt_accepted_total", &[("source", "arith")]),
        Some(1.0)
    );
    assert_eq!(
        find(samples, "smelt_accepted_total", &[("source", "lin")]),
        Some(0.0)
    );
    assert_eq!(
        find(
            samples,
            "smelt_rejected_total",
            &[
                ("verifier", "exact"),
                ("reason", "wrong \"answer\"\\\nline")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        find(
            samples,
            "smelt_verifier_errors_total",
            &[("verifier", "smt"), ("code", "verifier_timeout")]
        ),
        Some(1.0)
    );
    assert_eq!(
        find(samples, "smelt_tokens_total", &[("kind", "prompt")]),
        Some(29.0)
    );
    assert_eq!(
        find(samples, "smelt_tokens_total", &[("kind", "completion")]),
        Some(3140.0)
    );
    assert_eq!(
        find(samples, "smelt_queue_depth", &[("stage", "verify")]),
        Some(5.0)
    );
    assert_eq!(
        find(samples, "smelt_completion_tokens_bucket", &[("le", "64.0")]),
        Some(1.0)
    );
    assert_eq!(
        find(
            samples,
            "smelt_completion_tokens_bucket",
            &[("le", "128.0")]
        ),
        Some(2.0)
    );
    assert_eq!(
        find(samples, "smelt_completion_tokens_bucket", &[("le", "+Inf")]),
        Some(3.0)
    );
    assert_eq!(
        find(samples, "smelt_completion_tokens_count", &[]),
        Some(3.0)
    );
    assert!(find(samples, "smelt_start_time_seconds", &[]).is_some_and(|t| t > 1.6e9));
}

#[test]
fn exposition_parses_and_escapes_labels() {
    let text = render(&stats().snapshot());
    assert!(
        text.contains(r#"reason="wrong \"answer\"\\\nline""#),
        "{text}"
    );
    check(&parse(&text));
}

/// Sends `request` over a raw socket and returns the whole response.
fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_serves_metrics_over_tcp() {
    let stats = stats();
    let server = MetricsServer::start("127.0.0.1:0".parse().expect("addr"), Arc::clone(&stats))
        .await
        .expect("bind");
    let addr = server.local_addr();
    let (ok, head, missing, post) = tokio::task::spawn_blocking(move || {
        (
            http(
                addr,
                "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
            ),
            http(addr, "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n"),
            http(addr, "GET /nope HTTP/1.1\r\n\r\n"),
            http(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
        )
    })
    .await
    .expect("client thread");

    let (headers, body) = ok.split_once("\r\n\r\n").expect("header end");
    assert!(headers.starts_with("HTTP/1.1 200 OK\r\n"), "{headers}");
    assert!(headers.contains(&format!("Content-Type: {CONTENT_TYPE}")));
    assert!(headers.contains(&format!("Content-Length: {}", body.len())));
    check(&parse(body));

    // hyper answers an HTTP/1.0 request in HTTP/1.0.
    assert!(head.starts_with("HTTP/1.0 200 OK"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    assert!(post.contains("Allow: GET, HEAD"));

    // Live: a later scrape sees later counts.
    stats.record_problem_done("arith");
    let again = tokio::task::spawn_blocking(move || http(addr, "GET /metrics HTTP/1.1\r\n\r\n"))
        .await
        .expect("client thread");
    assert!(again.contains("\nsmelt_problems_total 2\n"), "{again}");
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_port_is_a_bind_error() {
    let first = MetricsServer::start("127.0.0.1:0".parse().expect("addr"), stats())
        .await
        .expect("bind");
    let err = MetricsServer::start(first.local_addr(), stats())
        .await
        .expect_err("port is taken");
    assert!(matches!(err, MetricsError::Bind { .. }));
    assert!(err.to_string().contains(&first.local_addr().to_string()));
}

#[test]
fn textfile_is_written_now_periodically_and_at_the_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("smelt.prom");
    let stats = stats();
    let writer = TextfileWriter::start(path.clone(), Arc::clone(&stats), Duration::from_millis(20))
        .expect("start");
    check(&parse(
        &std::fs::read_to_string(&path).expect("first write"),
    ));

    stats.record_problem_done("arith");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&path).expect("read");
        if text.contains("\nsmelt_problems_total 2\n") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no periodic update");
        std::thread::sleep(Duration::from_millis(10));
    }

    stats.record_problem_done("arith");
    writer.finish().expect("final write");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("\nsmelt_problems_total 3\n"), "{text}");
    // Only the .prom file is left: the temp files were renamed away.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("smelt.prom")]);
}

#[test]
fn textfile_in_a_missing_directory_fails_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing").join("smelt.prom");
    let err = TextfileWriter::start(path, stats(), Duration::from_secs(1)).expect_err("fails");
    assert!(err.to_string().contains("smelt.prom"), "{err}");
}
