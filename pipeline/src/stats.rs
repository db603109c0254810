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

/// A fixed-bucket histogram. `counts[i]` counts values `<= bounds[i]` (and above the previous
/// bound); the last entry of `counts` counts values above every bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    pub bounds: Vec<u64>,
    pub counts: Vec<u64>,
    pub sum: u64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &[u64]) -> Self {
        Histogram {
            bounds: bounds.to_vec(),
            counts: vec![0; bounds.len() + 1],
            sum: 0,
            count: 0,
        }
    }

    /// The histogram of completion lengths, with [`COMPLETION_TOKEN_BUCKETS`].
    pub fn completion_tokens() -> Self {
        Histogram::new(&COMPLETION_TOKEN_BUCKETS)
    }

    pub fn observe(&mut self, value: u64) {
        let i = self.bounds.partition_point(|&b| b < value);
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum = self.sum.saturating_add(value);
        self.count += 1;
    }

    /// Adds another histogram's counts. Buckets are matched by bound; when the bounds differ
    /// (a snapshot from another smelt version) each of `other`'s buckets is re-filed under the
    /// first bound that covers its own upper bound.
    pub fn merge(&mut self, other: &Histogram) {
        if self.bounds == other.bounds && self.counts.len() == other.counts.len() {
            for (a, b) in self.counts.iter_mut().zip(&other.counts) {
                *a += b;
            }
        } else {
            for (i, &n) in other.counts.iter().enumerate() {
                let upper = other.bounds.get(i).copied().unwrap_or(u64::MAX);
                let j = self.bounds.partition_point(|&b| b < upper);
                if let Some(c) = self.counts.get_mut(j) {
                    *c += n;
                }
            }
        }
        self.sum = self.sum.saturating_add(other.sum);
        self.count += other.count;
    }

    /// Mean of the observed values, if any.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}

/// Counts for one source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCounts {
    pub problems_started: u64,
    pub problems_done: u64,
    pub samples: u64,
    pub accepted: u64,
    pub rejected: u64,
}

impl SourceCounts {
    fn merge(&mut self, o: &SourceCounts) {
        self.problems_started += o.problems_started;
        self.problems_done += o.problems_done;
        self.samples += o.samples;
        self.accepted += o.accepted;
        self.rejected += o.rejected;
    }

    /// `accepted / samples`, or `None` before the first sample.
    pub fn acceptance_rate(&self) -> Option<f64> {
        rate(self.accepted, self.samples)
    }
}

/// A nested count map: outer key (verifier), inner key (reason or error code).
pub type LabelCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// Everything counted over some span of work (this run, or all runs on an output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub problems_started: u64,
    pub problems_done: u64,
    pub samples: u64,
    /// Samples accepted; `accepted + rejected == samples`.
    pub accepted: u64,
    /// Samples not accepted, whatever the cause (a reject or a verifier error).
    pub rejected: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Per source, by source name.
    pub sources: BTreeMap<String, SourceCounts>,
    /// Reject verdicts: verifier → reason → count. A sample rejected by two verifiers counts
    /// under both; a rejected sample no verifier rejected counts under
    /// [`NO_VERIFIER`] / [`NO_REJECT_REASON`].
    pub reject_reasons: LabelCounts,
    /// Verifiers that could not run: verifier → error code → count.
    pub verifier_errors: LabelCounts,
    /// Generation requests that failed (no sample produced; the problem stays pending):
    /// error kind → count.
    pub generation_errors: BTreeMap<String, u64>,
    pub completion_tokens_hist: Histogram,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            problems_started: 0,
            problems_done: 0,
            samples: 0,
            accepted: 0,
            rejected: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            sources: BTreeMap::new(),
            reject_reasons: BTreeMap::new(),
            verifier_errors: BTreeMap::new(),
            generation_errors: BTreeMap::new(),
            completion_tokens_hist: Histogram::completion_tokens(),
        }
    }
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Counts) {
        self.problems_started += other.problems_started;
        self.problems_done += other.problems_done;
        self.samples += other.samples;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        for (name, c) in &other.sources {
            self.sources.entry(name.clone()).or_default().merge(c);
        }
        merge_labels(&mut self.reject_reasons, &other.reject_reasons);
        merge_labels(&mut self.verifier_errors, &other.verifier_errors);
        for (k, n) in &other.generation_errors {
            *self.generation_errors.entry(k.clone()).or_default() += n;
        }
        self.completion_tokens_hist
            .merge(&other.completion_tokens_hist);
    }

    /// `accepted / samples`, or `None` before the first sample.
    pub fn acceptance_rate(&self) -> Option<f64> {
        rate(self.accepted, self.samples)
    }

    /// Total verifier errors over all verifiers and codes.
    pub fn verifier_error_count(&self) -> u64 {
        self.verifier_errors.values().flat_map(|m| m.values()).sum()
    }

    /// Applies `f` to `source`'s counts.
    fn with_source(&mut self, source: &str, f: impl FnOnce(&mut SourceCounts)) {
        with_slot(&mut self.sources, source, f);
    }

    /// One problem done (all its samples verified).
    pub fn record_problem_done(&mut self, source: &str) {
        self.problems_done += 1;
        self.with_source(source, |s| s.problems_done += 1);
    }

    /// One verified sample; see [`Stats::record_sample`].
    pub fn record_sample(
        &mut self,
        source: &str,
        verdicts: &[VerdictRecord],
        accepted: bool,
        prompt_tokens: u32,
        completion_tokens: u32,
    ) {
        self.samples += 1;
        self.prompt_tokens += u64::from(prompt_tokens);
        self.completion_tokens += u64::from(completion_tokens);
        self.completion_tokens_hist
            .observe(u64::from(completion_tokens));
        let mut rejected_by_verifier = false;
        for v in verdicts.iter().filter(|v| !v.accepted) {
            if v.error {
                bump(&mut self.verifier_errors, &v.verifier, &v.reason);
            } else {
                rejected_by_verifier = true;
                bump(&mut self.reject_reasons, &v.verifier, &v.reason);
            }
        }
        if accepted {
            self.accepted += 1;
        } else {
            self.rejected += 1;
            let any_error = verdicts.iter().any(|v| v.error);
            if !rejected_by_verifier && !any_error {
                bump(&mut self.reject_reasons, NO_VERIFIER, NO_REJECT_REASON);
            }
        }
        self.with_source(source, |s| {
            s.samples += 1;
            if accepted {
                s.accepted += 1;
            } else {
                s.rejected += 1;
            }
        });
    }
}

fn merge_labels(into: &mut LabelCounts, from: &LabelCounts) {
    for (outer, inner) in from {
        let slot = into.entry(outer.clone()).or_default();
        for (k, n) in inner {
            *slot.entry(k.clone()).or_default() += n;
        }
    }
}

/// `map[outer][inner] += 1`.
fn bump(map: &mut LabelCounts, outer: &str, inner: &str) {
    with_slot(map, outer, |m| with_slot(m, inner, |n| *n += 1));
}

/// Applies `f` to `map[key]` (inserted as the default first), allocating the key only the
/// first time it is seen: these maps are updated once per sample with a handful of keys.
pub(crate) fn with_slot<V: Default>(
    map: &mut BTreeMap<String, V>,
    key: &str,
    f: impl FnOnce(&mut V),
) {
    match map.get_mut(key) {
        Some(v) => f(v),
        None => f(map.entry(key.to_owned()).or_default()),
    }
}

pub(crate) fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

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
mod tests {
    use super::*;
    use std::sync::Arc;

    fn verdict(verifier: &str, accepted: bool, reason: &str, error: bool) -> VerdictRecord {
        VerdictRecord {
            verifier: verifier.into(),
            version: "1".into(),
            accepted,
            reason: reason.into(),
            detail: String::new(),
            score: if accepted { 1.0 } else { 0.0 },
            error,
            elapsed_us: 10,
        }
    }

    #[test]
    fn histogram_buckets_are_inclusive_upper_bounds() {
        let mut h = Histogram::new(&[10, 100]);
        for v in [0, 10, 11, 100, 101, 5000] {
            h.observe(v);
        }
        assert_eq!(h.counts, vec![2, 2, 2]);
        assert_eq!(h.count, 6);
        assert_eq!(h.sum, 5222);
    }

    #[test]
    fn histogram_merge_with_other_bounds_refiles_buckets() {
        let mut a = Histogram::new(&[10, 100]);
        let mut b = Histogram::new(&[5, 50, 500]);
        for v in [1, 6, 60, 600] {
            b.observe(v);
        }
        a.merge(&b);
        // 1 (≤5) and 6 (≤50) land in ≤10 and ≤100; 60 (≤500) and 600 (+Inf) above 100.
        assert_eq!(a.counts, vec![1, 1, 2]);
        assert_eq!(a.count, 4);
    }

    #[test]
    fn sample_counts_split_rejects_errors_and_sources() {
        let stats = Stats::new();
        stats.record_problem_started("arith");
        stats.record_sample("arith", &[verdict("exact", true, "", false)], true, 10, 100);
        stats.record_sample(
            "arith",
            &[verdict("exact", false, "wrong_answer", false)],
            false,
            10,
            40,
        );
        stats.record_sample(
            "code",
            &[
                verdict("exact", true, "", false),
                verdict("tests", false, "verifier_timeout", true),
            ],
            false,
            20,
            2000,
        );
        stats.record_sample("code", &[], false, 5, 1);
        stats.record_problem_done("arith");
        stats.record_generation_error("timeout");
        stats.set_queue_depth("verify", 7);
        stats.set_queue_depth("verify", 3);

        let s = stats.snapshot();
        let c = &s.this_run;
        assert_eq!((c.samples, c.accepted, c.rejected), (4, 1, 3));
        assert_eq!((c.problems_started, c.problems_done), (1, 1));
        assert_eq!((c.prompt_tokens, c.completion_tokens), (45, 2141));
        assert_eq!(c.reject_reasons["exact"]["wrong_answer"], 1);
        assert_eq!(c.reject_reasons[NO_VERIFIER][NO_REJECT_REASON], 1);
        assert_eq!(c.verifier_errors["tests"]["verifier_timeout"], 1);
        assert_eq!(c.verifier_error_count(), 1);
        assert_eq!(c.generation_errors["timeout"], 1);
        assert_eq!(c.sources["arith"].accepted, 1);
        assert_eq!(c.sources["arith"].rejected, 1);
        assert_eq!(c.sources["code"].samples, 2);
        assert_eq!(c.completion_tokens_hist.count, 4);
        assert_eq!(s.queue_depth["verify"], 3);
        assert_eq!(c.acceptance_rate(), Some(0.25));
        assert!(!s.resumed);
        assert_eq!(s.total, s.this_run);
    }

    #[test]
    fn previous_totals_only_feed_total() {
        let first = Stats::new();
        first.record_sample("a", &[], true, 1, 2);
        first.record_sample("a", &[verdict("v", false, "r", false)], false, 1, 2);
        let prev = first.snapshot().total;

        let second = Stats::with_previous(prev);
        second.record_sample("b", &[], true, 1, 2);
        let s = second.snapshot();
        assert!(s.resumed);
        assert_eq!(s.this_run.samples, 1);
        assert_eq!(s.total.samples, 3);
        assert_eq!(s.total.accepted, 2);
        assert_eq!(s.total.reject_reasons["v"]["r"], 1);
        assert!(s.this_run.reject_reasons.is_empty());
        assert_eq!(s.total.sources.len(), 2);
        assert_eq!(s.total.completion_tokens_hist.count, 3);
        assert_eq!(second.total_accepted(), 2);
        assert_eq!(second.accepted_for("a"), 1);
        assert_eq!(second.accepted_for("b"), 1);
        assert_eq!(second.accepted_for("c"), 0);
    }

    #[test]
    fn concurrent_updates_stay_consistent() {
        let stats = Arc::new(Stats::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let stats = Arc::clone(&stats);
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        stats.record_sample(&format!("s{t}"), &[], i % 2 == 0, 1, 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("worker thread panicked");
        }
        let s = stats.snapshot();
        assert_eq!(s.this_run.samples, 4000);
        assert_eq!(s.this_run.accepted + s.this_run.rejected, 4000);
        assert_eq!(s.this_run.sources["s3"].accepted, 500);
    }

    #[test]
    fn snapshot_roundtrips_through_json() {
        let stats = Stats::new();
        stats.record_sample("a", &[verdict("v", false, "r", false)], false, 1, 2);
        let s = stats.snapshot();
        let json = serde_json::to_string(&s).expect("serialize");
        let back: StatsSnapshot = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back.this_run, s.this_run);
        assert!(s.started_at.ends_with('Z'));
    }
}
