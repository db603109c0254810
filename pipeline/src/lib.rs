//! smelt: turn a local language model into verified training data.
//!
//! Data flows one way: [`sources`] → ([`curate`]) → [`prompt`] → [`generate`] → verify
//! (`smelt_verifiers`) → [`sink`]. The [`runtime`] joins the stages with bounded channels; the
//! [`journal`] makes a run resumable exactly once; [`cli`] is the `smelt` command.

pub mod adaptive;
pub mod cli;
pub mod config;
pub mod curate;
pub mod env;
pub mod export;
pub mod generate;
pub mod identity;
pub mod inspect;
pub mod journal;
mod linelog;
pub mod lock;
pub mod merge;
pub mod metrics;
pub mod problem;
pub mod progress;
pub mod prompt;
pub mod propose;
pub mod registry;
pub mod report;
pub mod rounds;
pub mod runtime;
pub mod shard;
pub mod sink;
pub mod sources;
pub mod stats;
