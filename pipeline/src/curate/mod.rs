//! Curation: removing exact and near-duplicate problems and problems that overlap benchmarks,
//! before any generation is paid for them.
//!
//! - [`normalize`]: the normalised text every check compares (case, spacing, Unicode forms and
//!   prose punctuation folded; numbers kept);
//! - [`minhash`]: MinHash signatures over word n-grams and the LSH index that finds near
//!   duplicates (datatrove's defaults);
//! - [`decontam`]: the word-13-gram index of benchmark files;
//! - [`Curator`]: the decisions, problem by problem in schedule order;
//! - [`log`]: `curation.jsonl`, each removal recorded once with what it matched;
//! - [`Curation`]: the curator and its log as a stage of a run.
//!
//! The runtime asks the curator about every slot of the schedule, in order, before a sharded
//! run filters the slots it owns: the decisions depend only on the schedule, so every shard
//! and every resume takes the same ones.

mod config;
mod curator;
pub mod decontam;
pub mod log;
pub mod minhash;
pub mod normalize;
mod stage;

#[cfg(test)]
mod tests;

pub use config::{BenchmarkFile, CurationConfig, MAX_HASHES};
pub use curator::{Admission, Curator, Matched, Removal, RemovalKind};
pub use log::CurationLog;
pub use stage::{Curation, CurationCounts, CurationSummary};

use crate::sources::SourceError;
use std::path::PathBuf;

/// Errors of curation: reading benchmark files, building problems, the curation log.
#[derive(Debug, thiserror::Error)]
pub enum CurateError {
    #[error("curation: benchmark {path}: {message}")]
    BenchmarkFile { path: PathBuf, message: String },
    #[error("curation: benchmark {path}: line {line}: {message}")]
    Benchmark {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("curation log {path}: {message}")]
    Log { path: PathBuf, message: String },
    #[error(
        "curation log {path}: line {line} is corrupt ({message}); it was damaged outside smelt"
    )]
    LogLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("curation: {0}")]
    Source(#[from] SourceError),
}
