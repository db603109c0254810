//! Problem sources: procedural generators with exact ground truth, and dataset files.
//!
//! Every source gives random access by index, so a problem is a pure function of
//! (seed, source, index): resume and sharding need nothing else. [`Schedule`] interleaves
//! the configured sources by weight into one deterministic stream of `(source, index)` pairs.

pub mod arithmetic;
pub mod dataset;
mod entry;
pub mod exact;
pub mod generator;
pub mod linear_equation;
pub mod linear_system;
pub mod modular;
pub mod schedule;
pub mod seed;
pub mod word_problem;

#[cfg(test)]
pub(crate) mod tests;

pub use dataset::Dataset;
pub use entry::{SourceEntry, SourceKind, DEFAULT_DIFFICULTY};
pub use generator::{GenerateFn, Generated, Generator};
pub use schedule::{Schedule, ScheduleSlot};

use crate::problem::Problem;
use std::path::{Path, PathBuf};

/// A source of problems.
pub trait ProblemSource: Send + Sync {
    /// The configured name (also the prefix of problem ids).
    fn name(&self) -> &str;
    /// How many problems it has; `None` for an unbounded generator.
    fn len(&self) -> Option<u64>;
    /// Whether it has no problems at all (an empty dataset).
    fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
    /// The problem at `index` (deterministic).
    fn problem(&self, index: u64) -> Result<Problem, SourceError>;
}

/// Errors building or reading a source. Messages name the file, line/row and field.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// A JSONL line (1-based).
    #[error("{path}: line {line}: {message}")]
    Line {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A Parquet row (0-based, the problem's index).
    #[error("{path}: row {row}: {message}")]
    Row {
        path: PathBuf,
        row: u64,
        message: String,
    },
    #[error("source `{source_name}`: {message}")]
    Config {
        source_name: String,
        message: String,
    },
    #[error("source `{source_name}` has no problem at index {index}")]
    OutOfRange { source_name: String, index: u64 },
}

/// The generator function of a generator kind (`None` for datasets).
pub fn generate_fn(kind: SourceKind) -> Option<GenerateFn> {
    let generate: GenerateFn = match kind {
        SourceKind::Arithmetic => arithmetic::generate,
        SourceKind::LinearEquation => linear_equation::generate,
        SourceKind::LinearSystem2 => linear_system::generate2,
        SourceKind::LinearSystem3 => linear_system::generate3,
        SourceKind::Modular => modular::generate,
        SourceKind::WordProblem => word_problem::generate,
        SourceKind::Jsonl | SourceKind::Parquet | SourceKind::Propose => return None,
    };
    Some(generate)
}

/// Builds the runtime source for a config entry. `base` is the config file's directory;
/// `seed` is the run's global seed. Datasets are read (and every row checked) here.
pub fn build(
    entry: &SourceEntry,
    base: &Path,
    seed: u64,
) -> Result<Box<dyn ProblemSource>, SourceError> {
    entry
        .check_fields()
        .map_err(|message| SourceError::Config {
            source_name: entry.name.clone(),
            message,
        })?;
    if entry.kind == SourceKind::Propose {
        // Its problems exist once its proposal phase has run (`crate::propose`).
        return Ok(Box::new(crate::propose::Proposed::pending(&entry.name)));
    }
    match generate_fn(entry.kind) {
        Some(generate) => Ok(Box::new(Generator::new(
            entry.name.clone(),
            seed,
            entry.difficulty_or_default(),
            entry.size,
            generate,
        ))),
        None => Ok(Box::new(Dataset::load(entry, base)?)),
    }
}
