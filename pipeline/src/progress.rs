//! Progress display: a live bar on a terminal, periodic structured log lines otherwise.
//!
//! A ticker thread reads [`Stats`] snapshots; the pipeline never waits on it. In
//! [`ProgressMode::Bar`] log lines written through [`ProgressAwareStderr`] are printed above the
//! bar instead of tearing it. In [`ProgressMode::Log`] each line is a `tracing` event with
//! target `smelt::progress` and numeric fields, so a JSON subscriber emits JSON.

use crate::report::{fmt_int, fmt_pct, fmt_rate};
use crate::stats::{Stats, StatsSnapshot};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the bar is refreshed; log lines come every `interval` instead.
const BAR_REFRESH: Duration = Duration::from_millis(250);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live indicatif bar on stderr.
    Bar,
    /// A `tracing` info event every interval.
    Log,
    /// Nothing.
    Off,
}

impl ProgressMode {
    /// [`ProgressMode::Bar`] when stderr is a terminal and logs are text, otherwise
    /// [`ProgressMode::Log`] (pass `json_logs` for `--log-format json`).
    pub fn detect(json_logs: bool) -> Self {
        if !json_logs && std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Log
        }
    }
}

/// The bar currently on screen, for [`ProgressAwareStderr`].
static ACTIVE_BAR: RwLock<Option<ProgressBar>> = RwLock::new(None);

fn set_active_bar(bar: Option<ProgressBar>) {
    *ACTIVE_BAR.write().unwrap_or_else(PoisonError::into_inner) = bar;
}

/// A `tracing_subscriber` writer for stderr that prints each event above the progress bar
/// while one is shown: `tracing_subscriber::fmt().with_writer(ProgressAwareStderr)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgressAwareStderr;

/// One event's bytes, written out (around the bar) when dropped.
#[derive(Debug, Default)]
pub struct EventWriter {
    buf: Vec<u8>,
}

impl Write for EventWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&self.buf);
            let _ = err.flush();
        };
        let bar = ACTIVE_BAR
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ProgressAwareStderr {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter::default()
    }
}

/// Entry point: see [`Progress::start`].
#[derive(Debug)]
pub struct Progress;

impl Progress {
    /// Starts showing progress of `stats`. `total` is the number of problems expected over
    /// the whole output (e.g. `limits.max_problems`; counted like
    /// `StatsSnapshot::total.problems_done`, so a resumed run starts part-way), `None` when
    /// unknown. `interval` spaces log lines in [`ProgressMode::Log`].
    ///
    /// Starts a thread; the current `tracing` dispatcher is used for the log lines.
    pub fn start(
        stats: Arc<Stats>,
        total: Option<u64>,
        mode: ProgressMode,
        interval: Duration,
    ) -> ProgressHandle {
        Self::start_drawing_to(stats, total, mode, interval, ProgressDrawTarget::stderr())
    }

    fn start_drawing_to(
        stats: Arc<Stats>,
        total: Option<u64>,
        mode: ProgressMode,
        interval: Duration,
        target: ProgressDrawTarget,
    ) -> ProgressHandle {
        let bar = match mode {
            ProgressMode::Bar => Some(new_bar(total, target)),
            ProgressMode::Log | ProgressMode::Off => None,
        };
        if let Some(bar) = &bar {
            set_active_bar(Some(bar.clone()));
        }
        let thread = if mode == ProgressMode::Off {
            None
        } else {
            let (tx, rx) = mpsc::channel::<()>();
            let dispatch = tracing::dispatcher::get_default(|d| d.clone());
            let ticker = Ticker {
                stats: Arc::clone(&stats),
                total,
                bar: bar.clone(),
                interval: interval.max(Duration::from_millis(100)),
                last: None,
            };
            let spawned = std::thread::Builder::new()
                .name("smelt-progress".into())
                .spawn(move || tracing::dispatcher::with_default(&dispatch, || ticker.run(rx)));
            match spawned {
                Ok(handle) => Some((tx, handle)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start the progress display");
                    None
                }
            }
        };
        ProgressHandle {
            stats,
            total,
            mode,
            bar,
            thread,
        }
    }
}

/// A running progress display; [`ProgressHandle::finish`] shows the final state.
#[derive(Debug)]
pub struct ProgressHandle {
    stats: Arc<Stats>,
    total: Option<u64>,
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    thread: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl ProgressHandle {
    fn stop(&mut self) {
        if let Some((tx, handle)) = self.thread.take() {
            drop(tx);
            let _ = handle.join();
        }
    }

    /// Stops the ticker and shows the final numbers (the bar stays on screen, finished; in
    /// log mode one last line is logged).
    pub fn finish(mut self) {
        self.stop();
        let snap = self.stats.snapshot();
        let line = ProgressLine::new(&snap, self.total, None);
        match (&self.bar, self.mode) {
            (Some(bar), _) => {
                update_bar(bar, &line);
                // `finish` would jump to the full length; an interrupted run is not done.
                bar.abandon();
            }
            (None, ProgressMode::Log) => line.log("finished"),
            _ => {}
        }
        set_active_bar(None);
        self.bar = None;
    }
}

impl Drop for ProgressHandle {
    fn drop(&mut self) {
        self.stop();
        if let Some(bar) = self.bar.take() {
            bar.abandon();
            set_active_bar(None);
        }
    }
}

fn new_bar(total: Option<u64>, target: ProgressDrawTarget) -> ProgressBar {
    let template = match total {
        Some(_) => {
            // The bar takes what the rest leaves, so the line fits an 80-column terminal.
            "{spinner:.green} {elapsed_precise} [{wide_bar:.cyan/blue}] {pos}/{len} · {msg}"
        }
        None => "{spinner:.green} {elapsed_precise} {pos} problems · {msg}",
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(total, target);
    bar.set_style(style);
    bar
}

fn update_bar(bar: &ProgressBar, line: &ProgressLine) {
    bar.set_position(line.problems_done);
    bar.set_message(line.bar_message());
    bar.tick();
}

struct Ticker {
    stats: Arc<Stats>,
    total: Option<u64>,
    bar: Option<ProgressBar>,
    interval: Duration,
    /// The previous log line's time and completion tokens, for the recent token rate.
    last: Option<(Instant, u64)>,
}

impl Ticker {
    fn run(mut self, stop: mpsc::Receiver<()>) {
        let period = if self.bar.is_some() {
            BAR_REFRESH
        } else {
            self.interval
        };
        self.last = Some((Instant::now(), 0));
        loop {
            match stop.recv_timeout(period) {
                Err(RecvTimeoutError::Timeout) => {}
                // Stopped (or the handle is gone): the handle draws the final state.
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            let snap = self.stats.snapshot();
            let now = Instant::now();
            let recent = self.last.map(|(t, tokens)| {
                let secs = now.duration_since(t).as_secs_f64();
                crate::stats::per_s(snap.this_run.completion_tokens.saturating_sub(tokens), secs)
            });
            let line = ProgressLine::new(&snap, self.total, recent);
            match &self.bar {
                Some(bar) => update_bar(bar, &line),
                None => {
                    self.last = Some((now, snap.this_run.completion_tokens));
                    line.log("progress");
                }
            }
        }
    }
}

/// The numbers one progress update shows.
#[derive(Debug, Clone, PartialEq)]
struct ProgressLine {
    problems_done: u64,
    problems_total: Option<u64>,
    samples: u64,
    accepted: u64,
    rejected: u64,
    acceptance: Option<f64>,
    /// Completion tokens per second since the last log line (or over the run).
    tok_per_s: f64,
    eta: Option<Duration>,
    queues: String,
}

impl ProgressLine {
    fn new(s: &StatsSnapshot, total: Option<u64>, recent_tok_per_s: Option<f64>) -> Self {
        let done = s.total.problems_done;
        // ETA from this run's average pace: steady over a long run, free of resume jumps.
        let pace = crate::stats::per_s(s.this_run.problems_done, s.elapsed_s);
        let eta = total.and_then(|t| {
            let left = t.saturating_sub(done);
            if left == 0 {
                Some(Duration::ZERO)
            } else if pace > 0.0 {
                Duration::try_from_secs_f64(left as f64 / pace).ok()
            } else {
                None
            }
        });
        let queues = s
            .queue_depth
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        ProgressLine {
            problems_done: done,
            problems_total: total,
            samples: s.total.samples,
            accepted: s.total.accepted,
            rejected: s.total.rejected,
            acceptance: s.total.acceptance_rate(),
            tok_per_s: recent_tok_per_s.unwrap_or_else(|| s.completion_tokens_per_s()),
            eta,
            queues,
        }
    }

    fn bar_message(&self) -> String {
        let mut m = format!(
            "✓ {} ✗ {} ({}) · {} tok/s",
            fmt_int(self.accepted),
            fmt_int(self.rejected),
            fmt_pct(self.acceptance),
            fmt_rate(self.tok_per_s)
        );
        if let Some(eta) = self.eta {
            m.push_str(" · ETA ");
            m.push_str(&fmt_eta(eta));
        }
        m
    }

    fn log(&self, message: &str) {
        let eta = self.eta.map(fmt_eta);
        let acceptance = self.acceptance.map(|a| (a * 1000.0).round() / 1000.0);
        tracing::info!(
            target: "smelt::progress",
            problems_done = self.problems_done,
            problems_total = self.problems_total,
            samples = self.samples,
            accepted = self.accepted,
            rejected = self.rejected,
            acceptance,
            tok_per_s = (self.tok_per_s * 10.0).round() / 10.0,
            eta = eta.as_deref(),
            queues = self.queues.as_str(),
            "{message}"
        );
    }
}

/// `3725 s` → `1h 02m`, `125 s` → `2m 05s`, `7 s` → `7s`.
fn fmt_eta(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

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
}
