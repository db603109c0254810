//! The run report: what a run did, written next to its data when it ends.
//!
//! - `report.json` ([`RunReport::write_json`]): every number, for scripts.
//! - the summary on stderr ([`RunReport::summary_text`]): a compact table for the morning.
//! - `report.html` ([`RunReport::write_html`]): one self-contained page with inline SVG charts
//!   (no script, no network), see [`html`].
//!
//! [`summary`] writes the stderr table, [`format`] the numbers and labels both share.

mod format;
mod html;
mod summary;

pub(crate) use format::{fmt_duration, fmt_int, fmt_pct, fmt_rate, label_of, sorted_labels};

use crate::stats::{Counts, StatsSnapshot};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// File name of the JSON report inside the run directory.
pub const REPORT_JSON: &str = "report.json";
/// File name of the HTML report inside the run directory.
pub const REPORT_HTML: &str = "report.html";

/// Which limit stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// `limits.max_problems` problems were drawn.
    MaxProblems,
    /// `limits.target_accepted` samples were accepted.
    TargetAccepted,
    /// `limits.max_duration` elapsed.
    MaxDuration,
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Budget::MaxProblems => "max_problems",
            Budget::TargetAccepted => "target_accepted",
            Budget::MaxDuration => "max_duration",
        })
    }
}

/// How a run ended. Serialized with a `status` tag: `{"status": "finished"}`,
/// `{"status": "budget", "budget": "max_duration"}`, `{"status": "interrupted"}`,
/// `{"status": "failed", "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Every scheduled problem is done.
    Finished,
    /// A configured limit was reached (`target_accepted` is the run's goal; `max_duration`
    /// leaves it resumable).
    Budget { budget: Budget },
    /// Stopped by a signal (Ctrl-C, SIGTERM); resumable.
    Interrupted,
    /// Stopped by an error.
    Failed { message: String },
}

impl Outcome {
    /// One word for badges and tables.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Budget { .. } => "budget",
            Outcome::Interrupted => "interrupted",
            Outcome::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Finished => f.write_str("finished"),
            Outcome::Budget { budget } => write!(f, "stopped at budget {budget}"),
            Outcome::Interrupted => f.write_str("interrupted"),
            Outcome::Failed { message } => write!(f, "failed: {message}"),
        }
    }
}

/// Throughput and acceptance of this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub samples_per_s: f64,
    /// Generated tokens per second.
    pub completion_tokens_per_s: f64,
    /// Prompt plus generated tokens per second.
    pub tokens_per_s: f64,
    /// Accepted / samples over this run (`None` without samples).
    pub acceptance_rate: Option<f64>,
    /// Accepted / samples over every run on this output.
    pub total_acceptance_rate: Option<f64>,
}

/// Everything known about a finished (or stopped) run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub smelt_version: String,
    /// The run name (`run.name`).
    pub run: String,
    pub output_dir: PathBuf,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
    pub duration_s: f64,
    pub outcome: Outcome,
    pub exit_code: i32,
    /// Whether earlier runs on this output are included in `total`.
    pub resumed: bool,
    pub rates: Rates,
    /// What this run did.
    pub this_run: Counts,
    /// This run plus earlier runs on the same output (equal to `this_run` on a fresh run). A
    /// resumed run seeds its statistics from the previous report's `total`.
    pub total: Counts,
    /// Adaptive sampling: how problems stopped, where their pass rates lie (all runs on this
    /// output; absent without `[adaptive]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<crate::adaptive::SamplingSummary>,
    /// Removals by kind and the log's path, when the run curates (`[curation]`). A resumed
    /// run decides on the whole schedule again, so these count the run from its start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curation: Option<crate::curate::CurationSummary>,
}

/// Writing or reading a report failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a smelt report: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl RunReport {
    /// Builds the report from the final snapshot; `finished_at` is now.
    pub fn new(
        run: impl Into<String>,
        output_dir: impl Into<PathBuf>,
        snapshot: &StatsSnapshot,
        outcome: Outcome,
        exit_code: i32,
    ) -> Self {
        RunReport {
            smelt_version: env!("CARGO_PKG_VERSION").to_owned(),
            run: run.into(),
            output_dir: output_dir.into(),
            started_at: snapshot.started_at.clone(),
            finished_at: crate::stats::rfc3339(std::time::SystemTime::now()),
            duration_s: snapshot.elapsed_s,
            outcome,
            exit_code,
            resumed: snapshot.resumed,
            rates: Rates {
                samples_per_s: snapshot.samples_per_s(),
                completion_tokens_per_s: snapshot.completion_tokens_per_s(),
                tokens_per_s: snapshot.tokens_per_s(),
                acceptance_rate: snapshot.this_run.acceptance_rate(),
                total_acceptance_rate: snapshot.total.acceptance_rate(),
            },
            this_run: snapshot.this_run.clone(),
            total: snapshot.total.clone(),
            sampling: None,
            curation: None,
        }
    }

    /// Writes `dir/report.json` atomically (temp file + rename); returns its path.
    pub fn write_json(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        let path = dir.join(REPORT_JSON);
        let mut text = serde_json::to_string_pretty(self).map_err(|e| ReportError::Write {
            path: path.clone(),
            source: e.into(),
        })?;
        text.push('\n');
        write_atomic(&path, text.as_bytes()).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Reads `dir/report.json` (e.g. the previous run's, to seed [`crate::stats::Stats`] on
    /// resume with its `total`).
    pub fn read_json(dir: &Path) -> Result<RunReport, ReportError> {
        let path = dir.join(REPORT_JSON);
        let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Read {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ReportError::Parse { path, source })
    }

    /// Writes `dir/report.html` atomically; returns its path.
    pub fn write_html(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        let path = dir.join(REPORT_HTML);
        write_atomic(&path, html::render(self).as_bytes()).map_err(|source| {
            ReportError::Write {
                path: path.clone(),
                source,
            }
        })?;
        Ok(path)
    }

    /// The self-contained HTML page (what [`RunReport::write_html`] writes).
    pub fn to_html(&self) -> String {
        html::render(self)
    }
}

/// Totals of the earlier runs on the output `dir`, to seed
/// [`Stats::with_previous`](crate::stats::Stats::with_previous) on a resume; `None` for a fresh
/// output (nothing committed yet).
///
/// The journal is authoritative for what was committed, so accepted and rejected counts (per
/// source, and `samples` as their sum) come from `state`. The other figures (problems, tokens,
/// reject reasons, lengths) come from the previous `report.json`; a run killed before writing
/// its report is missing from those.
pub fn previous_totals(dir: &Path, state: &crate::journal::State) -> Option<Counts> {
    if state.commits == 0 {
        return None;
    }
    let mut c = match RunReport::read_json(dir) {
        Ok(report) => report.total,
        Err(ReportError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Counts::default()
        }
        Err(e) => {
            tracing::warn!(error = %e, "earlier runs' token and reason totals are unknown");
            Counts::default()
        }
    };
    for s in c.sources.values_mut() {
        s.accepted = 0;
        s.rejected = 0;
    }
    for (source, n) in &state.accepted {
        c.sources.entry(source.clone()).or_default().accepted = *n;
    }
    for (source, n) in &state.rejected {
        c.sources.entry(source.clone()).or_default().rejected = *n;
    }
    for s in c.sources.values_mut() {
        s.samples = s.accepted + s.rejected;
    }
    c.accepted = c.sources.values().map(|s| s.accepted).sum();
    c.rejected = c.sources.values().map(|s| s.rejected).sum();
    c.samples = c.accepted + c.rejected;
    Some(c)
}

/// Writes `path` atomically: a temp file in the same directory (whose name does not end like
/// `path`, so collectors watching `*.prom` or `*.json` skip it), fsync, rename over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests;
