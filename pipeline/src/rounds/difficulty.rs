//! Difficulty that follows the model: between rounds, a generator source whose pass rate was
//! above the band gets one step harder, below it one step easier (within 0..=5).

use crate::adaptive::Band;
use serde::Serialize;

/// One source's step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub source: String,
    pub difficulty: u32,
    /// Accepted / samples in the round (`None`: no sample).
    pub pass_rate: Option<f64>,
    pub next: u32,
    /// `harder`, `easier`, `kept` (in band), `at_limit` or `no_samples`.
    pub action: &'static str,
}

/// The next difficulty of a source at `difficulty` whose round had `pass_rate`.
pub fn adapt(source: &str, difficulty: u32, pass_rate: Option<f64>, band: Band) -> Step {
    let (next, action) = match pass_rate {
        None => (difficulty, "no_samples"),
        Some(p) if p > band.high && difficulty < 5 => (difficulty + 1, "harder"),
        Some(p) if p < band.low && difficulty > 0 => (difficulty - 1, "easier"),
        Some(p) if p > band.high || p < band.low => (difficulty, "at_limit"),
        Some(_) => (difficulty, "kept"),
    };
    Step {
        source: source.to_string(),
        difficulty,
        pass_rate,
        next,
        action,
    }
}
