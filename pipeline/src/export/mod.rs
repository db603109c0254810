//! `smelt export`: a run's committed samples as training data, in the layouts TRL and
//! Hugging Face `datasets` read.
//!
//! - `sft/`: accepted samples as chat `messages` (`[system], user, assistant`).
//! - `dpo/`: preference pairs from the same problem: `prompt`, `chosen` (accepted), `rejected`.
//! - `pass_rate/`: one row per problem with its pass rate and Wilson 95% interval.
//!
//! Input is only what the run's `manifest.json` lists, each file checked against its recorded
//! size and SHA-256 ([`input`]). Each Parquet file is written under a temporary name and renamed;
//! the dataset card (`README.md`, [`card`]) is written last and lists only the configs written.

mod card;
mod input;
mod options;
mod pairing;
mod pass_rate;
mod problems;
mod target;
#[cfg(test)]
mod tests;
mod write;

pub use card::dataset_card;
pub use options::{Conversation, ExportOptions, Format, UserContent};
pub use pairing::{pairs, Pair};
pub use pass_rate::{pass_rates, wilson, z_for, PassRate};
pub use problems::{ProblemRecord, SampleRecord};

use crate::journal::JournalError;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// The file each config is written to, under `<to>/<config>/`.
pub const FILE_NAME: &str = "train-00000-of-00001.parquet";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: not a smelt run: {why}")]
    NotARun { path: PathBuf, why: String },
    #[error(
        "{dir} is a sharded run that has not been merged (it has shards/ but no merge.json); \
         run `smelt merge {}` first, then export it",
        dir.display()
    )]
    Unmerged { dir: PathBuf },
    #[error("{path}: invalid manifest: {message}")]
    BadManifest { path: PathBuf, message: String },
    #[error("{path}: {what}; the shard was changed or damaged after the run committed it")]
    Damaged { path: PathBuf, what: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read shard {path}: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("cannot read shard {path}: {source}")]
    Arrow {
        path: PathBuf,
        source: arrow::error::ArrowError,
    },
    #[error("{path}: column `{column}`: {what}")]
    Column {
        path: PathBuf,
        column: String,
        what: String,
    },
    #[error("sample {id} is in two shards ({} and {})", first.display(), second.display())]
    Duplicate {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "{path}: problem {problem_id} has samples with different prompts (a merge of runs \
         with different templates, --allow-mismatch); export each run on its own"
    )]
    PromptMismatch { path: PathBuf, problem_id: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{path} is not empty; export into a new directory, or pass --force to replace an earlier export there")]
    NotEmpty { path: PathBuf },
    #[error("{path}: refusing to export into the run directory itself")]
    IntoRun { path: PathBuf },
    #[error("nothing to export as {format}: {why}")]
    Nothing { format: &'static str, why: String },
    #[error("writing {path}: {what}")]
    Write { path: PathBuf, what: String },
}

/// One written config.
#[derive(Debug, Clone, Serialize)]
pub struct WrittenConfig {
    pub format: Format,
    /// Relative to the export directory.
    pub path: String,
    pub rows: usize,
}

/// What an export wrote (also what the command prints with `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub run: String,
    pub run_dir: PathBuf,
    pub to: PathBuf,
    pub problems: usize,
    pub accepted_samples: usize,
    pub rejected_samples: usize,
    /// Rejected because a verifier could not run: kept out of the DPO pairs.
    pub rejected_by_errors: usize,
    pub models: Vec<String>,
    pub written: Vec<WrittenConfig>,
    /// Formats not written, with the reason.
    pub skipped: Vec<(Format, String)>,
    pub max_pairs_per_problem: usize,
    pub seed: u64,
    pub system: bool,
    pub user_is_prompt: bool,
}

impl ExportSummary {
    pub fn render_text(&self) -> String {
        let mut s = format!(
            "exported `{}` ({} problems, {} accepted, {} rejected samples) to {}\n",
            self.run,
            self.problems,
            self.accepted_samples,
            self.rejected_samples,
            self.to.display()
        );
        for w in &self.written {
            s.push_str(&format!(
                "  {}: {} rows ({})\n",
                w.format.name(),
                w.rows,
                w.path
            ));
        }
        for (f, why) in &self.skipped {
            s.push_str(&format!("  {}: not written: {why}\n", f.name()));
        }
        s
    }
}

/// Exports the run in `run_dir` to `to`.
pub fn export(
    run_dir: &Path,
    to: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary, ExportError> {
    let run = input::RunInput::open(run_dir)?;
    target::prepare(run_dir, to, opts.force)?;
    let explicit = !opts.formats.is_empty();
    let formats: BTreeSet<Format> = if explicit {
        opts.formats.iter().copied().collect()
    } else {
        Format::ALL.into_iter().collect()
    };
    let wants = |f| formats.contains(&f);
    let mut problems = problems::collect(&run, wants(Format::Sft) || wants(Format::Dpo))?;

    let accepted: Vec<(usize, usize)> = problems
        .iter()
        .enumerate()
        .flat_map(|(p, pr)| {
            pr.samples
                .iter()
                .enumerate()
                .filter(|(_, s)| s.accepted)
                .map(move |(s, _)| (p, s))
        })
        .collect();
    let rejected_samples: usize =
        problems.iter().map(|p| p.samples.len()).sum::<usize>() - accepted.len();
    let rejected_by_errors = problems
        .iter()
        .flat_map(|p| &p.samples)
        .filter(|s| !s.accepted && !s.is_negative())
        .count();
    let dropped = run.dropped_rejected.unwrap_or(0);
    let dpo_pairs = if wants(Format::Dpo) {
        pairing::pairs(&problems, opts.max_pairs_per_problem, opts.seed)
    } else {
        Vec::new()
    };
    let rates = if wants(Format::PassRate) && dropped == 0 {
        pass_rate::pass_rates(&problems)
    } else {
        Vec::new()
    };

    // Why each wanted format has nothing to write.
    let mut skipped: Vec<(Format, String)> = Vec::new();
    for &f in &formats {
        let why = match f {
            Format::Sft if accepted.is_empty() => Some("the run has no accepted sample".to_owned()),
            Format::Dpo if dpo_pairs.is_empty() => Some(no_pairs_reason(
                accepted.len(),
                rejected_samples - rejected_by_errors,
                dropped,
            )),
            Format::PassRate if dropped > 0 => Some(format!(
                "the run did not keep {dropped} rejected samples (output.keep_rejected = \
                 false), so attempts per problem are unknown; rerun with keep_rejected = true"
            )),
            Format::PassRate if rates.is_empty() => Some("the run has no sample".to_owned()),
            _ => None,
        };
        if let Some(why) = why {
            if explicit {
                return Err(ExportError::Nothing {
                    format: f.name(),
                    why,
                });
            }
            skipped.push((f, why));
        }
    }
    if skipped.len() == formats.len() {
        let why = skipped
            .iter()
            .map(|(f, w)| format!("{}: {w}", f.name()))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ExportError::Nothing {
            format: "any format",
            why,
        });
    }

    let wanted: HashSet<String> = dpo_pairs
        .iter()
        .map(|x| problems[x.problem].samples[x.rejected].sample_id.clone())
        .collect();
    problems::fill_rejected_completions(&run, &mut problems, &wanted)?;

    let mut written = Vec::new();
    let put = |f: Format, rows: usize| -> WrittenConfig {
        WrittenConfig {
            format: f,
            path: format!("{}/{FILE_NAME}", f.name()),
            rows,
        }
    };
    let conv = &opts.conversation;
    let skip = |f: Format| skipped.iter().any(|(s, _)| *s == f);
    if wants(Format::Sft) && !skip(Format::Sft) {
        let rows: Vec<(&ProblemRecord, &SampleRecord)> = accepted
            .iter()
            .map(|&(p, s)| (&problems[p], &problems[p].samples[s]))
            .collect();
        let path = to.join(Format::Sft.name()).join(FILE_NAME);
        let n = write::write_parquet(&path, write::sft_schema(), &rows, |c| {
            write::sft_batch(c, conv)
        })?;
        written.push(put(Format::Sft, n));
    }
    if wants(Format::Dpo) && !skip(Format::Dpo) {
        let path = to.join(Format::Dpo.name()).join(FILE_NAME);
        let n = write::write_parquet(&path, write::dpo_schema(), &dpo_pairs, |c| {
            write::dpo_batch(&problems, c, conv)
        })?;
        written.push(put(Format::Dpo, n));
    }
    if wants(Format::PassRate) && !skip(Format::PassRate) {
        let path = to.join(Format::PassRate.name()).join(FILE_NAME);
        let n = write::write_parquet(&path, write::pass_rate_schema(), &rates, |c| {
            write::pass_rate_batch(&problems, c)
        })?;
        written.push(put(Format::PassRate, n));
    }
    target::remove_stale(to, &written)?;

    let models: BTreeSet<&str> = problems
        .iter()
        .flat_map(|p| &p.samples)
        .map(|s| &*s.model_id)
        .collect();
    let summary = ExportSummary {
        run: run.manifest.run.clone(),
        run_dir: run_dir.to_path_buf(),
        to: to.to_path_buf(),
        problems: problems.len(),
        accepted_samples: accepted.len(),
        rejected_samples,
        rejected_by_errors,
        models: models.into_iter().map(str::to_owned).collect(),
        written,
        skipped,
        max_pairs_per_problem: opts.max_pairs_per_problem,
        seed: opts.seed,
        system: conv.system.is_some(),
        user_is_prompt: conv.user == UserContent::Prompt,
    };
    crate::sink::manifest::write_atomic(
        &to.join(crate::sink::manifest::CARD_FILE_NAME),
        card::dataset_card(&summary).as_bytes(),
    )
    .map_err(|e| ExportError::Write {
        path: to.join(crate::sink::manifest::CARD_FILE_NAME),
        what: e.to_string(),
    })?;
    Ok(summary)
}

/// Why no preference pair could be made.
fn no_pairs_reason(accepted: usize, negatives: usize, dropped: u64) -> String {
    if negatives == 0 && dropped > 0 {
        format!(
            "the run did not keep its rejected samples ({dropped} dropped: output.keep_rejected \
             = false), so there are no negatives to pair; rerun with keep_rejected = true"
        )
    } else if negatives == 0 {
        "the run has no rejected sample to pair (rejected samples are written only with \
         output.keep_rejected = true, the default)"
            .to_owned()
    } else if accepted == 0 {
        "the run has no accepted sample to pair".to_owned()
    } else {
        "no problem has both an accepted and a rejected sample".to_owned()
    }
}
