//! Prometheus metrics: the text exposition format (0.0.4) of a [`StatsSnapshot`], served on
//! `GET /metrics` ([`MetricsServer`], `--metrics-addr`) and/or written to a node-exporter
//! textfile ([`TextfileWriter`], `--metrics-textfile`).
//!
//! The endpoint is a minimal HTTP/1.1 responder on a tokio `TcpListener`: one route, one
//! response per connection. An HTTP framework would add a dependency tree for that; the
//! request line is all we need to read.
//!
//! Counters count this process (the Prometheus convention: they restart at zero with the
//! process, and `rate()` handles the reset); totals over resumed runs are in the report.

use crate::stats::{Stats, StatsSnapshot};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `Content-Type` of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serving or writing metrics failed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write metrics textfile {path}: {source}")]
    Textfile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Escapes a label value: backslash, double quote and line feed.
fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes `# HELP` and `# TYPE` for one metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one sample line.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Renders a snapshot in the Prometheus text exposition format 0.0.4.
pub fn render(s: &StatsSnapshot) -> String {
    let c = &s.this_run;
    let mut out = String::with_capacity(4096);

    family(
        &mut out,
        "smelt_problems_started_total",
        "counter",
        "Problems that entered the pipeline.",
    );
    sample(
        &mut out,
        "smelt_problems_started_total",
        &[],
        c.problems_started,
    );

    family(
        &mut out,
        "smelt_problems_total",
        "counter",
        "Problems whose samples were all verified and written.",
    );
    sample(&mut out, "smelt_problems_total", &[], c.problems_done);

    family(
        &mut out,
        "smelt_samples_total",
        "counter",
        "Samples verified, by source.",
    );
    for (source, sc) in &c.sources {
        sample(
            &mut out,
            "smelt_samples_total",
            &[("source", source)],
            sc.samples,
        );
    }

    family(
        &mut out,
        "smelt_accepted_total",
        "counter",
        "Samples accepted, by source.",
    );
    for (source, sc) in &c.sources {
        sample(
            &mut out,
            "smelt_accepted_total",
            &[("source", source)],
            sc.accepted,
        );
    }

    family(
        &mut out,
        "smelt_rejected_total",
        "counter",
        "Reject verdicts, by verifier and reason.",
    );
    for (verifier, reasons) in &c.reject_reasons {
        for (reason, n) in reasons {
            sample(
                &mut out,
                "smelt_rejected_total",
                &[("verifier", verifier), ("reason", reason)],
                n,
            );
        }
    }

    family(
        &mut out,
        "smelt_verifier_errors_total",
        "counter",
        "Verifier runs that could not produce a verdict, by verifier and error code.",
    );
    for (verifier, codes) in &c.verifier_errors {
        for (code, n) in codes {
            sample(
                &mut out,
                "smelt_verifier_errors_total",
                &[("verifier", verifier), ("code", code)],
                n,
            );
        }
    }

    family(
        &mut out,
        "smelt_generation_errors_total",
        "counter",
        "Generation requests that failed (the problem stays pending), by kind.",
    );
    for (kind, n) in &c.generation_errors {
        sample(
            &mut out,
            "smelt_generation_errors_total",
            &[("kind", kind)],
            n,
        );
    }

    family(
        &mut out,
        "smelt_tokens_total",
        "counter",
        "Tokens processed, by kind (prompt or completion).",
    );
    sample(
        &mut out,
        "smelt_tokens_total",
        &[("kind", "prompt")],
        c.prompt_tokens,
    );
    sample(
        &mut out,
        "smelt_tokens_total",
        &[("kind", "completion")],
        c.completion_tokens,
    );

    let h = &c.completion_tokens_hist;
    family(
        &mut out,
        "smelt_completion_tokens",
        "histogram",
        "Generated tokens per sample.",
    );
    let mut cumulative = 0u64;
    for (i, n) in h.counts.iter().enumerate() {
        cumulative += n;
        let le = h
            .bounds
            .get(i)
            .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
        sample(
            &mut out,
            "smelt_completion_tokens_bucket",
            &[("le", &le)],
            cumulative,
        );
    }
    sample(&mut out, "smelt_completion_tokens_sum", &[], h.sum);
    sample(&mut out, "smelt_completion_tokens_count", &[], h.count);

    family(
        &mut out,
        "smelt_queue_depth",
        "gauge",
        "Items waiting in each stage's input queue.",
    );
    for (stage, n) in &s.queue_depth {
        sample(&mut out, "smelt_queue_depth", &[("stage", stage)], n);
    }

    family(
        &mut out,
        "smelt_start_time_seconds",
        "gauge",
        "Start time of this run, seconds since the Unix epoch.",
    );
    let start = chrono::DateTime::parse_from_rfc3339(&s.started_at)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    sample(&mut out, "smelt_start_time_seconds", &[], start);
    out
}

/// The `GET /metrics` endpoint, serving until dropped or [`MetricsServer::shutdown`].
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` and serves in a background task (call from within a tokio runtime).
    /// Binding fails fast, so a taken port is reported before the run starts.
    pub async fn start(addr: SocketAddr, stats: Arc<Stats>) -> Result<Self, MetricsError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| MetricsError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MetricsError::Bind { addr, source })?;
        let task = tokio::spawn(accept_loop(listener, stats));
        tracing::info!(%addr, "serving Prometheus metrics on http://{addr}/metrics");
        Ok(MetricsServer { addr, task })
    }

    /// The bound address (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, stats: Arc<Stats>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let stats = Arc::clone(&stats);
                tokio::spawn(async move {
                    // A scrape that stalls or drops is the scraper's problem; never ours.
                    let _ = tokio::time::timeout(
                        Duration::from_secs(10),
                        handle_connection(stream, &stats),
                    )
                    .await;
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Largest request head read; anything longer is answered 431.
const MAX_HEAD: usize = 8 * 1024;

async fn handle_connection(mut stream: TcpStream, stats: &Stats) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_complete = loop {
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            break true;
        }
        if buf.len() > MAX_HEAD {
            break false;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break !buf.is_empty();
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let response = if head_complete {
        respond(&buf, stats)
    } else if buf.len() > MAX_HEAD {
        simple(
            431,
            "Request Header Fields Too Large",
            "request head too large\n",
            false,
        )
    } else {
        return Ok(());
    };
    stream.write_all(&response).await?;
    stream.shutdown().await
}

/// The full response to one request head.
fn respond(head: &[u8], stats: &Stats) -> Vec<u8> {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return simple(400, "Bad Request", "bad request\n", false);
    };
    if !version.starts_with("HTTP/1.") {
        return simple(400, "Bad Request", "bad request\n", false);
    }
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return simple(405, "Method Not Allowed", "only GET\n", false);
    }
    let path = target.split(['?', '#']).next().unwrap_or_default();
    match path {
        "/metrics" => {
            let body = render(&stats.snapshot());
            response(200, "OK", CONTENT_TYPE, body.as_bytes(), head_only)
        }
        "/" => simple(200, "OK", "smelt metrics: GET /metrics\n", head_only),
        _ => simple(
            404,
            "Not Found",
            "not found; metrics are at /metrics\n",
            head_only,
        ),
    }
}

fn simple(code: u16, reason: &str, body: &str, head_only: bool) -> Vec<u8> {
    response(
        code,
        reason,
        "text/plain; charset=utf-8",
        body.as_bytes(),
        head_only,
    )
}

fn response(code: u16, reason: &str, content_type: &str, body: &[u8], head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if code == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

/// Writes the exposition to a node-exporter textfile (name it `*.prom`), atomically, every
/// interval and once more on [`TextfileWriter::finish`]. Runs on its own thread, so a slow
/// disk never stalls the pipeline.
#[derive(Debug)]
pub struct TextfileWriter {
    path: PathBuf,
    stats: Arc<Stats>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Writes the current metrics of `stats` to `path` atomically.
pub fn write_textfile(path: &Path, stats: &Stats) -> Result<(), MetricsError> {
    crate::report::write_atomic(path, render(&stats.snapshot()).as_bytes()).map_err(|source| {
        MetricsError::Textfile {
            path: path.to_owned(),
            source,
        }
    })
}

impl TextfileWriter {
    /// Writes the file once now (so a bad path fails before the run starts), then every
    /// `interval`. Later write failures are logged as warnings, once until they recover.
    pub fn start(
        path: PathBuf,
        stats: Arc<Stats>,
        interval: Duration,
    ) -> Result<Self, MetricsError> {
        write_textfile(&path, &stats)?;
        let (tx, rx) = mpsc::channel::<()>();
        let thread = {
            let (file, stats) = (path.clone(), Arc::clone(&stats));
            std::thread::Builder::new()
                .name("smelt-metrics-textfile".into())
                .spawn(move || {
                    let mut failing = false;
                    while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                        match write_textfile(&file, &stats) {
                            Ok(()) if failing => {
                                failing = false;
                                tracing::info!(path = %file.display(), "metrics textfile writable again");
                            }
                            Ok(()) => {}
                            Err(e) if !failing => {
                                failing = true;
                                tracing::warn!(error = %e, "metrics textfile not updated");
                            }
                            Err(_) => {}
                        }
                    }
                })
                .map_err(|source| MetricsError::Textfile {
                    path: path.clone(),
                    source,
                })?
        };
        Ok(TextfileWriter {
            path,
            stats,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    fn stop_thread(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops the periodic writes and writes the final values.
    pub fn finish(mut self) -> Result<(), MetricsError> {
        self.stop_thread();
        write_textfile(&self.path, &self.stats)
    }
}

impl Drop for TextfileWriter {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smelt_verifiers::VerdictRecord;
    use std::collections::BTreeMap;
    use std::io::{Read, Write};

    /// One parsed sample line: name, labels, value.
    type Sample = (String, BTreeMap<String, String>, f64);

    /// A strict-enough parser of the text format: checks that every sample belongs to a
    /// family announced by `# HELP` and `# TYPE`, and unescapes label values.
    fn parse(text: &str) -> Vec<Sample> {
        let mut typed: BTreeMap<String, String> = BTreeMap::new();
        let mut helped = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for line in text.lines() {
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
            assert!(
                typed.contains_key(name) || typed.get(base).is_some_and(|k| k == "histogram"),
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
            find(samples, "smelt_completion_tokens_bucket", &[("le", "64")]),
            Some(1.0)
        );
        assert_eq!(
            find(samples, "smelt_completion_tokens_bucket", &[("le", "128")]),
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

        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        assert!(post.contains("Allow: GET, HEAD"));

        // Live: a later scrape sees later counts.
        stats.record_problem_done("arith");
        let again =
            tokio::task::spawn_blocking(move || http(addr, "GET /metrics HTTP/1.1\r\n\r\n"))
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
        let writer =
            TextfileWriter::start(path.clone(), Arc::clone(&stats), Duration::from_millis(20))
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
}
