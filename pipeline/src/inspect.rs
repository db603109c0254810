//! `smelt inspect DIR`: what a run directory holds, read back from its shards with polars.
//!
//! Only the shards listed in `manifest.json` are read — a shard still being written (or left
//! behind by a crash) is not in the manifest and never counted. Each shard is scanned on its
//! own, so a bad file is reported by name; the small per-row columns are then combined and
//! aggregated in one polars query each.

mod render;

use polars::prelude::{
    col, cols, concat, len, lit, DataFrame, DataType, IntoLazy, LazyFrame, PlPath, PolarsError,
    QuantileMethod, ScanArgsParquet, Series, UnionArgs,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// File name of the manifest inside a run directory.
pub const MANIFEST: &str = "manifest.json";

/// Characters of a completion kept in an example (head and tail around an ellipsis).
const EXAMPLE_COMPLETION_CHARS: usize = 600;
/// Characters of a problem statement kept in an example.
const EXAMPLE_PROBLEM_CHARS: usize = 300;

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

/// The part of `manifest.json` inspect reads (other fields are ignored).
#[derive(Debug, Deserialize)]
struct Manifest {
    shards: Vec<ManifestShard>,
}

#[derive(Debug, Deserialize)]
struct ManifestShard {
    path: String,
    rows: u64,
    #[serde(default)]
    split: Option<String>,
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

fn read_manifest(dir: &Path) -> Result<Vec<ManifestShard>, InspectError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(InspectError::MissingManifest { path })
        }
        Err(source) => return Err(InspectError::Io { path, source }),
    };
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| InspectError::BadManifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
    for s in &manifest.shards {
        let p = Path::new(&s.path);
        let inside = p
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if s.path.is_empty() || !inside {
            return Err(InspectError::BadManifest {
                path,
                message: format!("shard path {:?} is not inside the run directory", s.path),
            });
        }
    }
    Ok(manifest.shards)
}

/// `data/rejected/part-00000.parquet` → `rejected`.
fn split_of(path: &str) -> String {
    if path.contains("rejected") {
        "rejected".into()
    } else {
        "accepted".into()
    }
}

fn scan(path: &Path) -> Result<LazyFrame, PolarsError> {
    let args = ScanArgsParquet {
        // Paths are literal: a `[` in a directory name is not a glob.
        glob: false,
        cache: false,
        ..ScanArgsParquet::default()
    };
    LazyFrame::scan_parquet(PlPath::Local(Arc::from(path)), args)
}

/// A field of the exploded `verdicts` struct column, under its own name.
fn field(name: &str) -> polars::prelude::Expr {
    col("verdicts").struct_().field_by_name(name).alias(name)
}

fn summarize_rows(report: &mut InspectReport, rows: LazyFrame) -> Result<(), PolarsError> {
    let rows = rows.collect()?.lazy();
    let per_source = rows
        .clone()
        .group_by([col("source")])
        .agg([
            len().cast(DataType::UInt64).alias("samples"),
            col("accepted")
                .cast(DataType::UInt64)
                .sum()
                .alias("accepted"),
            col("prompt_tokens").sum().alias("prompt_tokens"),
            col("completion_tokens").sum().alias("completion_tokens"),
        ])
        .collect()?;
    let problems = rows
        .clone()
        .group_by([col("source"), col("problem_id")])
        .agg([col("accepted").cast(DataType::UInt64).sum().alias("n")])
        .group_by([col("source")])
        .agg([
            len().cast(DataType::UInt64).alias("problems"),
            col("n")
                .gt(lit(0u64))
                .cast(DataType::UInt64)
                .sum()
                .alias("solved"),
        ])
        .collect()?;
    let mut problem_counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    {
        let source = problems.column("source")?.str()?;
        let n = problems.column("problems")?.u64()?;
        let solved = problems.column("solved")?.u64()?;
        for ((s, n), solved) in source.into_iter().zip(n).zip(solved) {
            problem_counts.insert(
                s.unwrap_or_default().to_owned(),
                (n.unwrap_or(0), solved.unwrap_or(0)),
            );
        }
    }

    let source = per_source.column("source")?.str()?;
    let samples = per_source.column("samples")?.u64()?;
    let accepted = per_source.column("accepted")?.u64()?;
    let prompt = per_source.column("prompt_tokens")?.u64()?;
    let completion = per_source.column("completion_tokens")?.u64()?;
    for i in 0..per_source.height() {
        let name = source.get(i).unwrap_or_default().to_owned();
        let samples = samples.get(i).unwrap_or(0);
        let accepted = accepted.get(i).unwrap_or(0);
        let (problems, problems_solved) = problem_counts.get(&name).copied().unwrap_or((0, 0));
        report.sources.push(SourceSummary {
            problems,
            problems_solved,
            samples,
            accepted,
            rejected: samples - accepted.min(samples),
            acceptance_rate: crate::stats::rate(accepted, samples),
            prompt_tokens: prompt.get(i).unwrap_or(0),
            completion_tokens: completion.get(i).unwrap_or(0),
            source: name,
        });
    }
    report.sources.sort_by(|a, b| a.source.cmp(&b.source));
    report.rows = report.sources.iter().map(|s| s.samples).sum();
    report.accepted = report.sources.iter().map(|s| s.accepted).sum();
    report.rejected = report.rows - report.accepted;
    report.acceptance_rate = crate::stats::rate(report.accepted, report.rows);
    report.prompt_tokens = report.sources.iter().map(|s| s.prompt_tokens).sum();
    report.completion_tokens = report.sources.iter().map(|s| s.completion_tokens).sum();

    let finish = rows
        .clone()
        .group_by([col("finish_reason")])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let names = finish.column("finish_reason")?.str()?;
    let counts = finish.column("n")?.u64()?;
    report.finish_reasons = names
        .into_iter()
        .zip(counts)
        .map(|(name, n)| NamedCount {
            name: name.unwrap_or_default().to_owned(),
            count: n.unwrap_or(0),
        })
        .collect();
    report
        .finish_reasons
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));

    let splits = [
        ("all", None),
        ("accepted", Some(true)),
        ("rejected", Some(false)),
    ];
    for (label, accepted) in splits {
        let lf = match accepted {
            None => rows.clone(),
            Some(a) => rows.clone().filter(col("accepted").eq(lit(a))),
        };
        let summary = length_summary(lf, label)?;
        if summary.count > 0 || accepted.is_none() {
            report.completion_lengths.push(summary);
        }
    }
    Ok(())
}

fn length_summary(rows: LazyFrame, label: &str) -> Result<LengthSummary, PolarsError> {
    let t = || col("completion_tokens");
    let f = DataType::Float64;
    let df = rows
        .select([
            len().cast(DataType::UInt64).alias("count"),
            t().min().cast(f.clone()).alias("min"),
            t().mean().cast(f.clone()).alias("mean"),
            t().quantile(lit(0.5), QuantileMethod::Nearest)
                .cast(f.clone())
                .alias("p50"),
            t().quantile(lit(0.9), QuantileMethod::Nearest)
                .cast(f.clone())
                .alias("p90"),
            t().max().cast(f).alias("max"),
        ])
        .collect()?;
    let get =
        |name: &str| -> Result<Option<f64>, PolarsError> { Ok(df.column(name)?.f64()?.get(0)) };
    Ok(LengthSummary {
        rows: label.to_owned(),
        count: df.column("count")?.u64()?.get(0).unwrap_or(0),
        min: get("min")?,
        mean: get("mean")?,
        p50: get("p50")?,
        p90: get("p90")?,
        max: get("max")?,
    })
}

fn summarize_verdicts(report: &mut InspectReport, verdicts: LazyFrame) -> Result<(), PolarsError> {
    let df = verdicts
        .group_by([
            col("verifier"),
            col("reason"),
            col("accepted"),
            col("error"),
        ])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let verifier = df.column("verifier")?.str()?;
    let reason = df.column("reason")?.str()?;
    let accepted = df.column("accepted")?.bool()?;
    let error = df.column("error")?.bool()?;
    let n = df.column("n")?.u64()?;
    let mut per_verifier: BTreeMap<String, VerifierSummary> = BTreeMap::new();
    for i in 0..df.height() {
        let v = verifier.get(i).unwrap_or_default();
        let r = reason.get(i).unwrap_or_default();
        let count = n.get(i).unwrap_or(0);
        let summary = per_verifier
            .entry(v.to_owned())
            .or_insert_with(|| VerifierSummary {
                verifier: v.to_owned(),
                ..VerifierSummary::default()
            });
        let entry = ReasonCount {
            verifier: v.to_owned(),
            reason: r.to_owned(),
            count,
        };
        if accepted.get(i).unwrap_or(false) {
            summary.accepted += count;
        } else if error.get(i).unwrap_or(false) {
            summary.errors += count;
            report.verifier_errors.push(entry);
        } else {
            summary.rejected += count;
            report.reject_reasons.push(entry);
        }
    }
    report.verifiers = per_verifier.into_values().collect();
    for list in [&mut report.reject_reasons, &mut report.verifier_errors] {
        list.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| (&a.verifier, &a.reason).cmp(&(&b.verifier, &b.reason)))
        });
    }
    Ok(())
}

/// Up to `n` example rows: half rejected (rounded down) when rejected rows exist, the rest
/// accepted, in manifest order.
fn pick_examples(
    dir: &Path,
    listed: &[ManifestShard],
    report: &InspectReport,
    n: usize,
) -> Result<Vec<Example>, InspectError> {
    let n = n as u64;
    let mut want_rejected = (n / 2).min(report.rejected);
    let want_accepted = (n - want_rejected).min(report.accepted);
    want_rejected = (n - want_accepted).min(report.rejected);

    let mut out = Vec::new();
    for (accepted, want) in [(true, want_accepted), (false, want_rejected)] {
        let mut got = 0u64;
        for entry in listed {
            if got >= want {
                break;
            }
            let path = dir.join(&entry.path);
            let shard_err = |source| InspectError::Shard {
                path: path.clone(),
                source,
            };
            let df = scan(&path)
                .map_err(shard_err)?
                .filter(col("accepted").eq(lit(accepted)))
                .limit((want - got).min(u64::from(u32::MAX)) as u32)
                .select([
                    col("sample_id"),
                    col("source"),
                    col("accepted"),
                    col("problem"),
                    col("extracted_answer"),
                    col("reference_answer"),
                    col("completion"),
                    col("completion_tokens").cast(DataType::UInt64),
                    col("verdicts"),
                ])
                .collect()
                .map_err(shard_err)?;
            let rows = examples_from(&df).map_err(shard_err)?;
            got += rows.len() as u64;
            out.extend(rows);
        }
    }
    Ok(out)
}

fn examples_from(df: &DataFrame) -> Result<Vec<Example>, PolarsError> {
    let sample_id = df.column("sample_id")?.str()?;
    let source = df.column("source")?.str()?;
    let accepted = df.column("accepted")?.bool()?;
    let problem = df.column("problem")?.str()?;
    let extracted = df.column("extracted_answer")?.str()?;
    let reference = df.column("reference_answer")?.str()?;
    let completion = df.column("completion")?.str()?;
    let tokens = df.column("completion_tokens")?.u64()?;
    let verdicts = df.column("verdicts")?.list()?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let full = completion.get(i).unwrap_or_default();
        let first_reject = match verdicts.get_as_series(i) {
            Some(s) => first_reject(&s)?,
            None => None,
        };
        out.push(Example {
            sample_id: sample_id.get(i).unwrap_or_default().to_owned(),
            source: source.get(i).unwrap_or_default().to_owned(),
            accepted: accepted.get(i).unwrap_or(false),
            problem: shorten(
                &one_line(problem.get(i).unwrap_or_default()),
                EXAMPLE_PROBLEM_CHARS,
            ),
            extracted_answer: extracted.get(i).map(str::to_owned),
            reference_answer: reference.get(i).map(str::to_owned),
            first_reject,
            completion: shorten(full.trim(), EXAMPLE_COMPLETION_CHARS),
            completion_chars: full.chars().count() as u64,
            completion_tokens: tokens.get(i).unwrap_or(0),
        });
    }
    Ok(out)
}

/// `verifier / reason` of the first verdict in one row's list that did not accept.
fn first_reject(verdicts: &Series) -> Result<Option<String>, PolarsError> {
    let ca = verdicts.struct_()?;
    let verifier = ca.field_by_name("verifier")?;
    let reason = ca.field_by_name("reason")?;
    let accepted = ca.field_by_name("accepted")?;
    let (verifier, reason, accepted) = (verifier.str()?, reason.str()?, accepted.bool()?);
    for i in 0..ca.len() {
        if accepted.get(i) == Some(false) {
            return Ok(Some(crate::report::label_of(
                verifier.get(i).unwrap_or_default(),
                reason.get(i).unwrap_or_default(),
            )));
        }
    }
    Ok(None)
}

/// Collapses runs of whitespace (newlines included) into single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keeps `s` whole up to `max` characters; otherwise its head and tail around ` … `.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let head = max * 2 / 3;
    let tail = max.saturating_sub(head);
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{} … {}", start.trim_end(), end.trim_start())
}

#[cfg(test)]
mod tests;
