//! The `propose` source: the model proposes new problems *and* their formal statements, and Z3
//! proves each statement has exactly one answer before the problem is ever sampled
//! ([`smelt_verifiers::well_posed`]).
//!
//! Before the run's schedule starts, the proposal phase ([`phase`]) asks for `count`
//! proposals, each from a prompt with a few examples drawn from the seed pool ([`seeds`]):
//! problems of the generator sources named in `seeds` (which carry SMT-LIB constraints), the
//! problems in `seed_file`, and, in rounds, the proposals earlier rounds accepted, which are
//! shown first (`accepted_file`, written by `smelt rounds`).
//! Every proposal, proven or not, is logged once in `proposals.jsonl` ([`log`]) with its reason
//! and its parents (the examples it was shown). The proven ones become the source's problems
//! ([`Proposed`]), with the proven answer as reference; the solve stage samples them like any
//! other problem.

pub mod log;
pub mod phase;
pub mod seeds;
mod source;
#[cfg(test)]
mod tests;

pub use log::{ProposalLog, ProposalRecord};
pub use source::Proposed;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[sources.propose]` of a `type = "propose"` source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeSpec {
    /// The proposal prompt (minijinja); `structured.examples` lists the few-shot examples
    /// (`id`, `text`, `smt`).
    pub template: PathBuf,
    /// Proposals to ask for.
    #[serde(default = "default_count")]
    pub count: u64,
    /// Generator sources of this pipeline whose problems are few-shot examples.
    #[serde(default)]
    pub seeds: Vec<String>,
    /// More examples: a JSONL file of `{"id", "text", "smt"}` (or `"equation"` in place of
    /// `"smt"`), relative to the config file.
    #[serde(default)]
    pub seed_file: Option<PathBuf>,
    /// Examples shown per proposal prompt.
    #[serde(default = "default_examples")]
    pub examples: usize,
    /// Problems taken from each seed source for the pool.
    #[serde(default = "default_pool")]
    pub pool: u64,
    /// Sampling temperature of proposals (default: `sampling.temperature`).
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Wall-clock budget of the Z3 checks of one proposal, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Z3 resource limit per solver check.
    #[serde(default = "default_rlimit")]
    pub rlimit: u32,
    /// Set by `smelt rounds`: the proposals accepted in earlier rounds (a seed file). They
    /// come first: a prompt shows as many of them as `examples` allows, and the configured
    /// examples (`seeds`, `seed_file`) fill the places left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_file: Option<PathBuf>,
    /// The round these proposals belong to (set by `smelt rounds`; 0 outside rounds).
    #[serde(default)]
    pub round: u32,
}

fn default_count() -> u64 {
    16
}
fn default_examples() -> usize {
    3
}
fn default_pool() -> u64 {
    64
}
fn default_timeout_ms() -> u64 {
    smelt_verifiers::SolverLimits::default().timeout_ms
}
fn default_rlimit() -> u32 {
    smelt_verifiers::SolverLimits::default().rlimit
}

impl ProposeSpec {
    /// Pure checks; messages name the field.
    pub fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if self.count == 0 {
            errors.push("`propose.count` must be at least 1".to_string());
        }
        if self.examples == 0 {
            errors.push("`propose.examples` must be at least 1".to_string());
        }
        if self.pool == 0 {
            errors.push("`propose.pool` must be at least 1".to_string());
        }
        if self.seeds.is_empty() && self.seed_file.is_none() {
            errors.push(
                "`propose` needs examples: name generator sources in `seeds` or a `seed_file`"
                    .to_string(),
            );
        }
        if let Some(t) = self.temperature {
            if !(t >= 0.0 && t.is_finite()) {
                errors.push(format!("`propose.temperature` {t} must be ≥ 0"));
            }
        }
        if let Err(e) = self.limits().validate() {
            errors.push(format!("`propose`: {e}"));
        }
        errors
    }

    /// The solver limits of one proposal's checks.
    pub fn limits(&self) -> smelt_verifiers::SolverLimits {
        smelt_verifiers::SolverLimits {
            timeout_ms: self.timeout_ms,
            rlimit: self.rlimit,
        }
    }
}
