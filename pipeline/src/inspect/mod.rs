//! `smelt inspect DIR`: what a run directory holds, read back from its shards with polars.
//!
//! Only the shards listed in `manifest.json` are read — a shard still being written (or left
//! behind by a crash) is not in the manifest and never counted. Each shard is scanned on its
//! own, so a bad file is reported by name; the small per-row columns are then combined and
//! aggregated in one polars query each.
//!
//! [`manifest`] lists the shards, [`aggregate`] holds the polars queries behind the counts,
//! [`examples`] picks and shortens example rows, [`render`] writes the text form.

mod aggregate;
mod examples;
mod manifest;
mod render;

use aggregate::{field, scan, summarize_rows, summarize_verdicts};
use examples::pick_examples;
use manifest::{read_manifest, split_of};
use polars::prelude::{col, cols, concat, DataType, IntoLazy, PolarsError, UnionArgs};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// File name of the manifest inside a run directory.
pub const MANIFEST: &str = "manifest.json";

/// Why a run directory could not be inspected. Every variant names the path at fault.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("{path}: no such run directory")]
    MissingDir { path: PathBuf },
    #[error(
        "{path}: no manifest; not a smelt run directory, or a run that has not written its \
         first shard yet"
    )]
    MissingManifest { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid manifest: {message}")]
    BadManifest { path: PathBuf, message: String },
    #[error("{path}: listed in the manifest but missing")]
    MissingShard { path: PathBuf },
    #[error("cannot read shard {path}: {source}")]
    Shard {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
    #[error("{path}: aggregating the shards failed: {source}")]
    Query {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
}

/// One shard as listed and as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardInfo {
    /// Relative to the run directory, as in the manifest.
    pub path: String,
    pub split: String,
    pub rows: u64,
}

/// Counts for one source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceSummary {
    pub source: String,
    /// Distinct problems with at least one row.
    pub problems: u64,
    /// Problems with at least one accepted sample.
    pub problems_solved: u64,
    pub samples: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub acceptance_rate: Option<f64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// What one verifier said over all rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VerifierSummary {
    pub verifier: String,
    pub accepted: u64,
    pub rejected: u64,
    /// Runs that could not produce a verdict.
    pub errors: u64,
}

/// A `(verifier, reason)` count (a reject reason or an error code).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonCount {
    pub verifier: String,
    pub reason: String,
    pub count: u64,
}

/// A named count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedCount {
    pub name: String,
    pub count: u64,
}

/// Completion lengths (tokens) of a set of rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LengthSummary {
    /// `all`, `accepted` or `rejected`.
    pub rows: String,
    pub count: u64,
    pub min: Option<f64>,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
}

/// One sample row, cut down for reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub sample_id: String,
    pub source: String,
    pub accepted: bool,
    /// The problem statement, shortened.
    pub problem: String,
    pub extracted_answer: Option<String>,
    pub reference_answer: Option<String>,
    /// `verifier / reason` of the first verdict that did not accept.
    pub first_reject: Option<String>,
    /// The completion, shortened to its head and tail.
    pub completion: String,
    pub completion_chars: u64,
    pub completion_tokens: u64,
}

/// Everything `smelt inspect` reports (also its `--json` output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReport {
    pub dir: PathBuf,
    pub shards: Vec<ShardInfo>,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Accepted / rows; only meaningful when rejected rows were kept.
    pub acceptance_rate: Option<f64>,
    /// Whether the manifest lists any rejected shard.
    pub rejected_kept: bool,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub sources: Vec<SourceSummary>,
    pub verifiers: Vec<VerifierSummary>,
    /// Largest first.
    pub reject_reasons: Vec<ReasonCount>,
    /// Largest first.
    pub verifier_errors: Vec<ReasonCount>,
    /// The generator's `finish_reason` (e.g. `stop`, `length`), largest first.
    pub finish_reasons: Vec<NamedCount>,
    /// For all rows, then accepted and rejected rows.
    pub completion_lengths: Vec<LengthSummary>,
    pub examples: Vec<Example>,
    /// Inconsistencies found on the way (e.g. a row count differing from the manifest).
    pub warnings: Vec<String>,
}

impl InspectReport {
    /// The human-readable report.
    pub fn render_text(&self) -> String {
        render::text(self)
    }
}

/// Reads the run directory `dir` and summarizes it, with up to `examples` example rows
/// (balanced between accepted and rejected rows when both exist).
pub fn inspect(dir: &Path, examples: usize) -> Result<InspectReport, InspectError> {
    if !dir.is_dir() {
        return Err(InspectError::MissingDir {
            path: dir.to_owned(),
        });
    }
    let listed = read_manifest(dir)?;

    let mut shards = Vec::with_capacity(listed.len());
    let mut row_frames = Vec::with_capacity(listed.len());
    let mut verdict_frames = Vec::with_capacity(listed.len());
    let mut warnings = Vec::new();
    for entry in &listed {
        let path = dir.join(&entry.path);
        if !path.is_file() {
            return Err(InspectError::MissingShard { path });
        }
        let shard_err = |source| InspectError::Shard {
            path: path.clone(),
            source,
        };
        let rows = scan(&path)
            .map_err(shard_err)?
            .select([
                col("source"),
                col("problem_id"),
                col("accepted"),
                col("prompt_tokens").cast(DataType::UInt64),
                col("completion_tokens").cast(DataType::UInt64),
                col("finish_reason"),
            ])
            .collect()
            .map_err(shard_err)?;
        let verdicts = scan(&path)
            .map_err(shard_err)?
            .select([col("verdicts")])
            .explode(cols(["verdicts"]))
            .select([
                field("verifier"),
                field("reason"),
                field("accepted"),
                field("error"),
            ])
            .filter(col("verifier").is_not_null())
            .collect()
            .map_err(shard_err)?;
        let read = rows.height() as u64;
        if read != entry.rows {
            warnings.push(format!(
                "{}: {} rows, the manifest says {}",
                entry.path, read, entry.rows
            ));
        }
        shards.push(ShardInfo {
            path: entry.path.clone(),
            split: entry.split.clone().unwrap_or_else(|| split_of(&entry.path)),
            rows: read,
        });
        row_frames.push(rows.lazy());
        verdict_frames.push(verdicts.lazy());
    }

    let query_err = |source| InspectError::Query {
        path: dir.to_owned(),
        source,
    };
    let mut report = InspectReport {
        dir: dir.to_owned(),
        rejected_kept: shards.iter().any(|s| s.split == "rejected"),
        shards,
        rows: 0,
        accepted: 0,
        rejected: 0,
        acceptance_rate: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        sources: Vec::new(),
        verifiers: Vec::new(),
        reject_reasons: Vec::new(),
        verifier_errors: Vec::new(),
        finish_reasons: Vec::new(),
        completion_lengths: Vec::new(),
        examples: Vec::new(),
        warnings,
    };
    if row_frames.is_empty() {
        return Ok(report);
    }
    let rows = concat(row_frames, UnionArgs::default()).map_err(query_err)?;
    let verdicts = concat(verdict_frames, UnionArgs::default()).map_err(query_err)?;

    summarize_rows(&mut report, rows).map_err(query_err)?;
    summarize_verdicts(&mut report, verdicts).map_err(query_err)?;
    report.examples = pick_examples(dir, &listed, &report, examples)?;
    Ok(report)
}

#[cfg(test)]
mod tests;
