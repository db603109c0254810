//! Confidence intervals for a pass rate (a binomial proportion): Wilson's score interval and
//! the exact Clopper–Pearson interval. The quantiles come from `statrs` (already built for
//! mistral.rs), not from hand-written approximations.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::inv_beta_reg;

/// Which interval bounds the pass rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalKind {
    /// Wilson's score interval: good coverage at small counts, never outside [0, 1].
    #[default]
    Wilson,
    /// The exact (conservative) interval from the beta distribution.
    ClopperPearson,
}

/// A two-sided interval `[lower, upper]` for a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

impl IntervalKind {
    /// The two-sided interval at `confidence` (in (0, 1)) for `successes` out of `trials`.
    /// With no trials it is `[0, 1]`: nothing is known yet.
    pub fn interval(self, successes: u64, trials: u64, confidence: f64) -> Interval {
        if trials == 0 {
            return Interval {
                lower: 0.0,
                upper: 1.0,
            };
        }
        let successes = successes.min(trials);
        match self {
            IntervalKind::Wilson => wilson(successes, trials, confidence),
            IntervalKind::ClopperPearson => clopper_pearson(successes, trials, confidence),
        }
    }
}

/// The standard normal quantile `z` with `P(|Z| <= z) = confidence`.
fn z_two_sided(confidence: f64) -> f64 {
    // N(0, 1) is a valid distribution: `new` fails only for a non-positive or NaN sigma.
    let normal = Normal::standard();
    normal.inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

/// Wilson's score interval for `successes` of `trials` (> 0).
pub fn wilson(successes: u64, trials: u64, confidence: f64) -> Interval {
    let n = trials as f64;
    let p = successes as f64 / n;
    let z = z_two_sided(confidence);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval {
        lower: (centre - half).max(0.0),
        upper: (centre + half).min(1.0),
    }
}

/// The Clopper–Pearson interval for `successes` of `trials` (> 0): the `alpha/2` quantile of
/// Beta(x, n-x+1) and the `1-alpha/2` quantile of Beta(x+1, n-x).
pub fn clopper_pearson(successes: u64, trials: u64, confidence: f64) -> Interval {
    let alpha = 1.0 - confidence;
    let x = successes as f64;
    let n = trials as f64;
    let lower = if successes == 0 {
        0.0
    } else {
        inv_beta_reg(x, n - x + 1.0, alpha / 2.0)
    };
    let upper = if successes == trials {
        1.0
    } else {
        inv_beta_reg(x + 1.0, n - x, 1.0 - alpha / 2.0)
    };
    Interval { lower, upper }
}
