//! What a run counts: problems, samples, accepted and rejected per source, tokens, reject
//! reasons and errors by verifier, and the completion-length histogram.

use super::{Histogram, NO_REJECT_REASON, NO_VERIFIER};
use serde::{Deserialize, Serialize};
use smelt_verifiers::VerdictRecord;
use std::collections::BTreeMap;

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
    pub(super) fn with_source(&mut self, source: &str, f: impl FnOnce(&mut SourceCounts)) {
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
