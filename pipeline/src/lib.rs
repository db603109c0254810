//! smelt: turn a local language model into verified training data.
//!
//! Data flows one way: [`sources`] → [`prompt`] → [`generate`] → verify
//! (`smelt_verifiers`) → [`sink`]. The [`runtime`] joins the stages with bounded channels; the
//! [`journal`] makes a run resumable exactly once; [`cli`] is the `smelt` command.

pub mod config;
pub mod generate;
pub mod problem;
pub mod prompt;
pub mod sink;
pub mod sources;
pub mod cli;
pub mod env;
pub mod identity;
pub mod journal;
pub mod lock;
pub mod registry;
pub mod runtime;
pub mod inspect;
pub mod metrics;
pub mod progress;
pub mod report;
pub mod stats;
