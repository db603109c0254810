//! Per-problem pass rates with Wilson score intervals.
//!
//! A problem's pass rate is accepted / attempts over its committed samples. The interval is the
//! Wilson score interval (Wilson 1927), which stays inside [0, 1] and is usable at the small
//! attempt counts of a run (4 or 8 samples per problem), unlike the normal approximation. The
//! normal quantile comes from `statrs` (already built for mistral.rs).

use super::problems::ProblemRecord;
use statrs::distribution::{ContinuousCDF, Normal};

/// The confidence level of the exported intervals.
pub const CONFIDENCE: f64 = 0.95;

/// One problem's pass rate.
#[derive(Debug, Clone, PartialEq)]
pub struct PassRate {
    /// Index into the problems.
    pub problem: usize,
    pub attempts: u64,
    pub accepted: u64,
    pub pass_rate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The two-sided standard normal quantile for `confidence` (1.959964… for 0.95).
pub fn z_for(confidence: f64) -> f64 {
    // Mean 0, standard deviation 1 are valid parameters.
    let normal = Normal::standard();
    normal.inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

/// The Wilson score interval for `successes` of `trials` at quantile `z`; `None` for no trials.
pub fn wilson(successes: u64, trials: u64, z: f64) -> Option<(f64, f64)> {
    if trials == 0 || successes > trials {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At p = 0 or 1 the bound is exactly p; rounding must not put it on the wrong side.
    let lower = if successes == 0 {
        0.0
    } else {
        (center - half).max(0.0)
    };
    let upper = if successes == trials {
        1.0
    } else {
        (center + half).min(1.0)
    };
    Some((lower, upper))
}

/// The pass rate of every problem with at least one sample, in problem order.
pub fn pass_rates(problems: &[ProblemRecord]) -> Vec<PassRate> {
    let z = z_for(CONFIDENCE);
    problems
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let attempts = p.samples.len() as u64;
            let accepted = p.accepted().count() as u64;
            let (lower, upper) = wilson(accepted, attempts, z)?;
            Some(PassRate {
                problem: i,
                attempts,
                accepted,
                pass_rate: accepted as f64 / attempts as f64,
                lower,
                upper,
            })
        })
        .collect()
}
