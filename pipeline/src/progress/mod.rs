//! Progress display: a live bar on a terminal, periodic structured log lines otherwise.
//!
//! A ticker thread reads [`Stats`] snapshots; the pipeline never waits on it. In
//! [`ProgressMode::Bar`] log lines written through [`ProgressAwareStderr`] are printed above the
//! bar instead of tearing it. In [`ProgressMode::Log`] each line is a `tracing` event with
//! target `smelt::progress` and numeric fields, so a JSON subscriber emits JSON.
//!
//! `line` holds the numbers one update shows; `stderr` keeps log lines
//! above the bar.

mod line;
mod stderr;

pub use stderr::{EventWriter, ProgressAwareStderr};

use crate::stats::Stats;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use line::ProgressLine;
use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use stderr::set_active_bar;

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

#[cfg(test)]
mod tests;
