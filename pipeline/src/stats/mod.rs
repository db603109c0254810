//! Live run statistics: counters the runtime updates, read by progress, metrics and the report.
//!
//! All counts live behind one mutex, so a [`StatsSnapshot`] is always consistent
//! (`accepted + rejected == samples`, per-source sums equal the totals). Updates are a few map
//! lookups per sample — negligible next to generating one — and readers (the progress ticker,
//! a metrics scrape) take a snapshot and work on the copy.
//!
//! "This run" and "total" are kept apart: a resumed run is seeded with the totals of the runs
//! before it ([`Stats::with_previous`]); [`StatsSnapshot::this_run`] counts only what this
//! process did (rates are computed from it), [`StatsSnapshot::total`] adds the previous runs.
//!
//! [`Counts`] (in `counts`) is what is counted, [`Histogram`] the completion-length buckets;
//! this module holds the shared [`Stats`] and its [`StatsSnapshot`].

mod counts;
mod histogram;

pub(crate) use counts::{rate, with_slot};
pub use counts::{Counts, LabelCounts, SourceCounts};
pub use histogram::Histogram;

use serde::{Deserialize, Serialize};
use smelt_verifiers::VerdictRecord;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime};

/// Upper bounds (inclusive) of the completion-length histogram buckets, in tokens; one more
/// bucket counts everything above the last bound.
pub const COMPLETION_TOKEN_BUCKETS: [u64; 10] =
    [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];

/// Verifier name used for a rejected sample that no verifier rejected (for example a policy
/// that needs every verifier to accept, or a sample the runtime refused before verifying).
pub const NO_VERIFIER: &str = "-";
/// Reason used together with [`NO_VERIFIER`].
pub const NO_REJECT_REASON: &str = "not_accepted";

/// A consistent copy of the statistics at one instant (plain data, serializable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// When this run started, RFC 3339 UTC.
    pub started_at: String,
    /// Seconds since this run started.
    pub elapsed_s: f64,
    /// Whether earlier runs on the same output were added in (`total != this_run`).
    pub resumed: bool,
    /// What this process did.
    pub this_run: Counts,
    /// This run plus the runs before it on the same output.
    pub total: Counts,
    /// Items waiting in each stage's input queue, as last set by the runtime.
    pub queue_depth: BTreeMap<String, u64>,
}

impl StatsSnapshot {
    /// Samples per second over this run.
    pub fn samples_per_s(&self) -> f64 {
        per_s(self.this_run.samples, self.elapsed_s)
    }

    /// Generated (completion) tokens per second over this run.
    pub fn completion_tokens_per_s(&self) -> f64 {
        per_s(self.this_run.completion_tokens, self.elapsed_s)
    }

    /// Prompt plus completion tokens per second over this run.
    pub fn tokens_per_s(&self) -> f64 {
        per_s(
            self.this_run.prompt_tokens + self.this_run.completion_tokens,
            self.elapsed_s,
        )
    }
}

pub(crate) fn per_s(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

/// Thread-safe live counters for one run. Share it as `Arc<Stats>`.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    started_at: SystemTime,
    previous: Option<Counts>,
    counts: Mutex<Counts>,
    queue_depth: Mutex<BTreeMap<String, u64>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    /// Fresh counters; the run's clock starts now.
    pub fn new() -> Self {
        Stats {
            started: Instant::now(),
            started_at: SystemTime::now(),
            previous: None,
            counts: Mutex::new(Counts::default()),
            queue_depth: Mutex::new(BTreeMap::new()),
        }
    }

    /// Fresh counters for a resumed run: `previous` (the totals of the runs before, see
    /// [`crate::report::previous_totals`]) is added into [`StatsSnapshot::total`] only.
    pub fn with_previous(previous: Counts) -> Self {
        Stats {
            previous: Some(previous),
            ..Stats::new()
        }
    }

    /// When this run started (wall clock).
    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        // A panic elsewhere while holding the lock leaves the counts valid (each update is a
        // handful of additions), so keep counting rather than propagate the poison.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A problem from `source` entered the pipeline.
    pub fn record_problem_started(&self, source: &str) {
        let mut c = self.lock();
        c.problems_started += 1;
        c.with_source(source, |s| s.problems_started += 1);
    }

    /// All samples of a problem are verified.
    pub fn record_problem_done(&self, source: &str) {
        self.lock().record_problem_done(source);
    }

    /// One verified sample. `verdicts` are the verifier chain's records; `accepted` is the
    /// pipeline's decision (the row's `accepted`). Every non-accepting verdict is counted: a
    /// reject under `reject_reasons[verifier][reason]`, an error under
    /// `verifier_errors[verifier][code]`.
    pub fn record_sample(
        &self,
        source: &str,
        verdicts: &[VerdictRecord],
        accepted: bool,
        prompt_tokens: u32,
        completion_tokens: u32,
    ) {
        self.lock()
            .record_sample(source, verdicts, accepted, prompt_tokens, completion_tokens);
    }

    /// Adds counts gathered elsewhere (a verification thread's batch) in one step, so a
    /// snapshot sees all of the batch or none of it.
    pub fn add(&self, delta: &Counts) {
        self.lock().merge(delta);
    }

    /// The generator failed a request (no sample was produced); `kind` is a stable
    /// snake_case code such as `request` or `timeout`.
    pub fn record_generation_error(&self, kind: &str) {
        *self
            .lock()
            .generation_errors
            .entry(kind.to_owned())
            .or_default() += 1;
    }

    /// Samples accepted over every run on this output (for `limits.target_accepted`).
    pub fn total_accepted(&self) -> u64 {
        let previous = self.previous.as_ref().map_or(0, |p| p.accepted);
        previous + self.lock().accepted
    }

    /// Samples of `source` accepted over every run on this output (for a source's
    /// `target_accepted`).
    pub fn accepted_for(&self, source: &str) -> u64 {
        let previous = self
            .previous
            .as_ref()
            .and_then(|p| p.sources.get(source))
            .map_or(0, |s| s.accepted);
        previous + self.lock().sources.get(source).map_or(0, |s| s.accepted)
    }

    /// Sets the number of items waiting in `stage`'s input queue.
    pub fn set_queue_depth(&self, stage: &str, n: u64) {
        let mut depths = self
            .queue_depth
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        with_slot(&mut depths, stage, |d| *d = n);
    }

    /// A consistent copy of everything counted so far.
    pub fn snapshot(&self) -> StatsSnapshot {
        let this_run = self.lock().clone();
        let queue_depth = self
            .queue_depth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut total = self.previous.clone().unwrap_or_default();
        total.merge(&this_run);
        StatsSnapshot {
            started_at: rfc3339(self.started_at),
            elapsed_s: self.started.elapsed().as_secs_f64(),
            resumed: self.previous.is_some(),
            this_run,
            total,
            queue_depth,
        }
    }
}

/// RFC 3339 UTC with second precision, e.g. `2025-01-31T22:04:05Z`.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests;
