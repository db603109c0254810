//! The progress line's numbers, the log mode's events and the bar.

use super::line::fmt_eta;
use super::stderr::ACTIVE_BAR;
use super::*;
use std::io::Write;
use std::sync::{Mutex, PoisonError};

fn stats_with(done: u64, accepted: u64, rejected: u64) -> Arc<Stats> {
    let stats = Stats::new();
    for _ in 0..done {
        stats.record_problem_started("s");
        stats.record_problem_done("s");
    }
    for _ in 0..accepted {
        stats.record_sample("s", &[], true, 10, 100);
    }
    for _ in 0..rejected {
        stats.record_sample("s", &[], false, 10, 100);
    }
    stats.set_queue_depth("verify", 2);
    Arc::new(stats)
}

#[test]
fn line_numbers_and_eta() {
    let stats = stats_with(10, 3, 1);
    let mut snap = stats.snapshot();
    snap.elapsed_s = 20.0;
    let line = ProgressLine::new(&snap, Some(40), None);
    assert_eq!(line.problems_done, 10);
    assert_eq!(line.acceptance, Some(0.75));
    // 10 problems in 20 s, 30 to go: 60 s.
    assert_eq!(line.eta, Some(Duration::from_secs(60)));
    assert_eq!(line.tok_per_s, 20.0);
    assert_eq!(line.queues, "verify=2");
    let msg = line.bar_message();
    assert!(msg.contains("✓ 3 ✗ 1 (75.0%)"), "{msg}");
    assert!(msg.contains("20.0 tok/s"), "{msg}");
    assert!(msg.ends_with("ETA 1m 00s"), "{msg}");

    let unknown = ProgressLine::new(&snap, None, Some(5.0));
    assert_eq!(unknown.eta, None);
    assert_eq!(unknown.tok_per_s, 5.0);
    assert!(!unknown.bar_message().contains("ETA"));
}

#[test]
fn eta_formats() {
    assert_eq!(fmt_eta(Duration::from_secs(7)), "7s");
    assert_eq!(fmt_eta(Duration::from_secs(125)), "2m 05s");
    assert_eq!(fmt_eta(Duration::from_secs(3725)), "1h 02m");
}

#[test]
fn resumed_progress_counts_all_runs_but_paces_on_this_one() {
    let first = stats_with(30, 0, 0);
    let second = Stats::with_previous(first.snapshot().total);
    for _ in 0..10 {
        second.record_problem_done("s");
    }
    let mut snap = second.snapshot();
    snap.elapsed_s = 10.0;
    let line = ProgressLine::new(&snap, Some(100), None);
    assert_eq!(line.problems_done, 40);
    assert_eq!(line.eta, Some(Duration::from_secs(60)));
}

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

#[test]
fn log_mode_emits_json_lines_periodically_and_at_finish() {
    let buf = Buf::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(buf.clone())
        .finish();
    let stats = stats_with(2, 1, 1);
    tracing::subscriber::with_default(subscriber, || {
        let handle = Progress::start(
            Arc::clone(&stats),
            Some(4),
            ProgressMode::Log,
            Duration::from_millis(100),
        );
        std::thread::sleep(Duration::from_millis(350));
        stats.record_problem_done("s");
        handle.finish();
    });
    let text = String::from_utf8(buf.0.lock().expect("buffer").clone()).expect("utf-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(lines.len() >= 3, "{text}");
    let last = lines.last().expect("final line");
    assert_eq!(last["target"], "smelt::progress");
    assert_eq!(last["fields"]["message"], "finished");
    assert_eq!(last["fields"]["problems_done"], 3);
    assert_eq!(last["fields"]["problems_total"], 4);
    assert_eq!(last["fields"]["accepted"], 1);
    assert_eq!(last["fields"]["acceptance"], 0.5);
    assert_eq!(last["fields"]["queues"], "verify=2");
    assert!(last["fields"]["eta"].is_string(), "{last}");
    assert_eq!(lines[0]["fields"]["message"], "progress");
}

#[test]
fn bar_follows_the_stats_and_finishes() {
    let stats = stats_with(1, 1, 0);
    let handle = Progress::start_drawing_to(
        Arc::clone(&stats),
        Some(10),
        ProgressMode::Bar,
        Duration::from_secs(1),
        ProgressDrawTarget::hidden(),
    );
    let bar = handle.bar.clone().expect("a bar");
    assert!(ACTIVE_BAR.read().expect("lock").is_some());
    // Events written meanwhile go through the bar-aware writer.
    let mut w = ProgressAwareStderr.make_writer_for_test();
    let _ = w.write_all(b"");
    drop(w);
    stats.record_problem_done("s");
    stats.record_sample("s", &[], false, 1, 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while bar.position() != 2 {
        assert!(
            Instant::now() < deadline,
            "the ticker did not update the bar"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    handle.finish();
    assert!(bar.is_finished());
    assert_eq!(bar.position(), 2, "finish keeps the real position");
    assert!(
        bar.message().starts_with("✓ 1 ✗ 1 (50.0%)"),
        "{}",
        bar.message()
    );
    assert!(ACTIVE_BAR.read().expect("lock").is_none());
    Progress::start(stats, Some(1), ProgressMode::Off, Duration::from_secs(1)).finish();
}

impl ProgressAwareStderr {
    fn make_writer_for_test(&self) -> EventWriter {
        tracing_subscriber::fmt::MakeWriter::make_writer(self)
    }
}
