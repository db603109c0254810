//! Verification-driven sampling: per problem, sample in steps until a stopping rule holds.
//!
//! A problem is sampled `sampling.samples_per_problem` completions at a time. After each step
//! the verified outcomes so far give a pass rate and its confidence interval, and the problem
//! stops at the first of:
//! - `never_solved`: the interval's upper bound is below `band.low` (it costs no more tokens);
//! - `always_solved`: the lower bound is above `band.high` (flagged: too easy to teach);
//! - `k_reached`: `k` samples were accepted;
//! - `max_attempts`: `max_attempts` completions were generated.
//!
//! Outcomes are replayed from the journal on resume, so a resumed problem continues where it
//! stopped, and raising `max_attempts` or `k` later samples more of the problems it stopped.

pub mod interval;
pub mod record;
#[cfg(test)]
mod tests;

pub use interval::{Interval, IntervalKind};
pub use record::{Ledger, ProblemRecord, SamplingSummary};

use serde::{Deserialize, Serialize};

/// The `[adaptive]` section of a pipeline config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveConfig {
    /// Stop a problem once this many of its samples were accepted.
    #[serde(default = "default_k")]
    pub k: u64,
    /// Never generate more than this many completions for one problem.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u64,
    /// The interval that bounds the pass rate.
    #[serde(default)]
    pub interval: IntervalKind,
    /// Two-sided confidence of the interval.
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// The learnability band: problems provably below it stop early, above it are flagged.
    #[serde(default)]
    pub band: Band,
}

/// Pass rates between `low` and `high` teach the model something (0.2–0.8 by default, the
/// band Absolute Zero, DAPO and prime-rl filter on).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[serde(default = "default_low")]
    pub low: f64,
    #[serde(default = "default_high")]
    pub high: f64,
}

fn default_k() -> u64 {
    4
}
fn default_max_attempts() -> u64 {
    32
}
fn default_confidence() -> f64 {
    0.95
}
fn default_low() -> f64 {
    0.2
}
fn default_high() -> f64 {
    0.8
}

impl Default for Band {
    fn default() -> Self {
        Band {
            low: default_low(),
            high: default_high(),
        }
    }
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig {
            k: default_k(),
            max_attempts: default_max_attempts(),
            interval: IntervalKind::default(),
            confidence: default_confidence(),
            band: Band::default(),
        }
    }
}

impl AdaptiveConfig {
    /// Pure validation: one message per problem, naming the field.
    pub fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if self.k == 0 {
            errors.push("adaptive.k must be at least 1".to_string());
        }
        if self.max_attempts == 0 {
            errors.push("adaptive.max_attempts must be at least 1".to_string());
        }
        if self.k > self.max_attempts {
            errors.push(format!(
                "adaptive.k ({}) is more than adaptive.max_attempts ({}): no problem could reach it",
                self.k, self.max_attempts
            ));
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            errors.push(format!(
                "adaptive.confidence {}: must be strictly between 0 and 1 (e.g. 0.95)",
                self.confidence
            ));
        }
        let Band { low, high } = self.band;
        if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low >= high {
            errors.push(format!(
                "adaptive.band: low {low} and high {high} must satisfy 0 <= low < high <= 1"
            ));
        }
        errors
    }

    /// The pass-rate interval of a tally.
    pub fn interval_of(&self, tally: Tally) -> Interval {
        self.interval
            .interval(tally.accepted, tally.attempts, self.confidence)
    }

    /// Whether the problem stops after `tally`, and why.
    pub fn decide(&self, tally: Tally) -> Option<Stop> {
        if tally.attempts == 0 {
            return None;
        }
        let i = self.interval_of(tally);
        if i.upper < self.band.low {
            Some(Stop::NeverSolved)
        } else if i.lower > self.band.high {
            Some(Stop::AlwaysSolved)
        } else if tally.accepted >= self.k {
            Some(Stop::KReached)
        } else if tally.attempts >= self.max_attempts {
            Some(Stop::MaxAttempts)
        } else {
            None
        }
    }

    /// Where the pass rate lies relative to the band, as far as the interval can tell.
    pub fn placement(&self, tally: Tally) -> Placement {
        let i = self.interval_of(tally);
        if i.upper < self.band.low {
            Placement::Below
        } else if i.lower > self.band.high {
            Placement::Above
        } else {
            let p = tally.pass_rate();
            if p >= self.band.low && p <= self.band.high {
                Placement::In
            } else {
                Placement::Undecided
            }
        }
    }
}

/// Verified outcomes of one problem so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub attempts: u64,
    pub accepted: u64,
}

impl Tally {
    pub fn add(&mut self, accepted: bool) {
        self.attempts += 1;
        self.accepted += u64::from(accepted);
    }

    /// Accepted / attempts (0 before any attempt).
    pub fn pass_rate(self) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            self.accepted as f64 / self.attempts as f64
        }
    }
}

/// Why a problem stopped being sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    NeverSolved,
    AlwaysSolved,
    KReached,
    MaxAttempts,
}

impl Stop {
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::NeverSolved => "never_solved",
            Stop::AlwaysSolved => "always_solved",
            Stop::KReached => "k_reached",
            Stop::MaxAttempts => "max_attempts",
        }
    }
}

/// A pass rate's place relative to the band: provably below or above it, its point estimate
/// inside it, or not yet decided (point estimate outside, interval overlapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    Below,
    In,
    Above,
    Undecided,
}
