//! The numbers one progress update shows, as the bar's message or as one log event.

use crate::report::{fmt_int, fmt_pct, fmt_rate};
use crate::stats::StatsSnapshot;
use std::time::Duration;

/// The numbers one progress update shows.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ProgressLine {
    pub(super) problems_done: u64,
    pub(super) problems_total: Option<u64>,
    pub(super) samples: u64,
    pub(super) accepted: u64,
    pub(super) rejected: u64,
    pub(super) acceptance: Option<f64>,
    /// Completion tokens per second since the last log line (or over the run).
    pub(super) tok_per_s: f64,
    pub(super) eta: Option<Duration>,
    pub(super) queues: String,
}

impl ProgressLine {
    pub(super) fn new(
        s: &StatsSnapshot,
        total: Option<u64>,
        recent_tok_per_s: Option<f64>,
    ) -> Self {
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

    pub(super) fn bar_message(&self) -> String {
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

    pub(super) fn log(&self, message: &str) {
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
pub(super) fn fmt_eta(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
