//! The run's samples grouped by problem: what every export format is built from.
//!
//! The first pass reads every committed shard's small columns (ids, verdicts, the problem's
//! text once per problem) and the completions of accepted samples; rejected completions are
//! read in a second pass, only for the samples a preference pair uses.

use super::input::{read_columns, Rejection, RunInput};
use super::ExportError;
use crate::sink::{ACCEPTED, REJECTED};
use arrow::array::Array;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// One problem with every committed sample of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemRecord {
    pub problem_id: String,
    pub source: String,
    pub problem_index: u64,
    /// The problem statement.
    pub problem: String,
    /// The rendered prompt, exactly as it was sent to the model (the user message of a chat,
    /// or the raw text for completion models).
    pub prompt: String,
    pub reference_answer: Option<String>,
    /// In `sample_index` order.
    pub samples: Vec<SampleRecord>,
}

impl ProblemRecord {
    /// Samples every verifier accepted.
    pub fn accepted(&self) -> impl Iterator<Item = &SampleRecord> {
        self.samples.iter().filter(|s| s.accepted)
    }

    /// Rejected samples that are negatives ([`SampleRecord::is_negative`]).
    pub fn rejected(&self) -> impl Iterator<Item = &SampleRecord> {
        self.samples.iter().filter(|s| s.is_negative())
    }
}

/// One committed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRecord {
    pub sample_id: String,
    pub sample_index: u32,
    pub accepted: bool,
    /// The first verdict that did not accept (`None` for accepted samples).
    pub rejection: Option<Rejection>,
    pub model_id: Arc<str>,
    pub extracted_answer: Option<String>,
    /// Read for accepted samples, and for rejected ones by [`fill_rejected_completions`].
    pub completion: Option<String>,
}

impl SampleRecord {
    /// Rejected by a verdict: a verifier ran and said no. A sample rejected because a verifier
    /// could not run (timeout, crash) says nothing about the sample and is no negative.
    pub fn is_negative(&self) -> bool {
        !self.accepted && self.rejection.as_ref().is_some_and(|r| !r.error)
    }
}

const COLUMNS: [&str; 11] = [
    "sample_id",
    "problem_id",
    "source",
    "problem_index",
    "sample_index",
    "problem",
    "prompt",
    "reference_answer",
    "verdicts",
    "accepted",
    "model_id",
];

/// Reads every committed sample of the run, grouped by problem, problems ordered by
/// `(source, problem_index, problem_id)`. With `accepted_completions`, accepted samples carry
/// their completion.
pub fn collect(
    run: &RunInput,
    accepted_completions: bool,
) -> Result<Vec<ProblemRecord>, ExportError> {
    let mut problems: Vec<ProblemRecord> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    // Sample id → index into `files` of the shard that held it.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut models: HashSet<Arc<str>> = HashSet::new();
    for split in [ACCEPTED, REJECTED] {
        let mut columns: Vec<&str> = COLUMNS.to_vec();
        columns.push("extracted_answer");
        let with_completion = split == ACCEPTED && accepted_completions;
        if with_completion {
            columns.push("completion");
        }
        for path in run.shards(split) {
            files.push(path.clone());
            let file = files.len() - 1;
            read_columns(&path, &columns, |b| {
                let sample_id = b.strings("sample_id")?;
                let problem_id = b.strings("problem_id")?;
                let source = b.strings("source")?;
                let problem_index = b.u64s("problem_index")?;
                let sample_index = b.u32s("sample_index")?;
                let problem = b.strings("problem")?;
                let prompt = b.strings("prompt")?;
                let reference = b.strings("reference_answer")?;
                let extracted = b.strings("extracted_answer")?;
                let verdicts = b.lists("verdicts")?;
                let accepted = b.bools("accepted")?;
                let model = b.strings("model_id")?;
                let completion = if with_completion {
                    Some(b.strings("completion")?)
                } else {
                    None
                };
                for row in 0..b.rows() {
                    let id = b.str_at(sample_id, "sample_id", row)?;
                    if let Some(first) = seen.insert(id.to_owned(), file) {
                        return Err(ExportError::Duplicate {
                            id: id.to_owned(),
                            first: files[first].clone(),
                            second: path.clone(),
                        });
                    }
                    let pid = b.str_at(problem_id, "problem_id", row)?;
                    let prompt_text = b.str_at(prompt, "prompt", row)?;
                    let at = match by_id.get(pid) {
                        Some(&at) => {
                            if problems[at].prompt != prompt_text {
                                return Err(ExportError::PromptMismatch {
                                    path: path.clone(),
                                    problem_id: pid.to_owned(),
                                });
                            }
                            at
                        }
                        None => {
                            problems.push(ProblemRecord {
                                problem_id: pid.to_owned(),
                                source: b.str_at(source, "source", row)?.to_owned(),
                                problem_index: problem_index.value(row),
                                problem: b.str_at(problem, "problem", row)?.to_owned(),
                                prompt: prompt_text.to_owned(),
                                reference_answer: (!reference.is_null(row))
                                    .then(|| reference.value(row).to_owned()),
                                samples: Vec::new(),
                            });
                            by_id.insert(pid.to_owned(), problems.len() - 1);
                            problems.len() - 1
                        }
                    };
                    let is_accepted = accepted.value(row);
                    let model_id = intern(&mut models, b.str_at(model, "model_id", row)?);
                    let completion = match completion {
                        Some(c) if is_accepted => Some(b.str_at(c, "completion", row)?.to_owned()),
                        _ => None,
                    };
                    problems[at].samples.push(SampleRecord {
                        sample_id: id.to_owned(),
                        sample_index: sample_index.value(row),
                        accepted: is_accepted,
                        rejection: if is_accepted {
                            None
                        } else {
                            b.first_rejection(verdicts, row)?
                        },
                        model_id,
                        extracted_answer: (!extracted.is_null(row))
                            .then(|| extracted.value(row).to_owned()),
                        completion,
                    });
                }
                Ok(())
            })?;
        }
    }
    for p in &mut problems {
        p.samples.sort_by_key(|s| s.sample_index);
    }
    problems.sort_by(|a, b| {
        (a.source.as_str(), a.problem_index, a.problem_id.as_str()).cmp(&(
            b.source.as_str(),
            b.problem_index,
            b.problem_id.as_str(),
        ))
    });
    Ok(problems)
}

/// One shared copy per distinct model id.
fn intern(seen: &mut HashSet<Arc<str>>, value: &str) -> Arc<str> {
    if let Some(v) = seen.get(value) {
        return v.clone();
    }
    let v: Arc<str> = Arc::from(value);
    seen.insert(v.clone());
    v
}

/// Reads the completions of the rejected samples named in `wanted` into `problems`.
pub fn fill_rejected_completions(
    run: &RunInput,
    problems: &mut [ProblemRecord],
    wanted: &HashSet<String>,
) -> Result<(), ExportError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let mut texts: HashMap<String, String> = HashMap::with_capacity(wanted.len());
    for path in run.shards(REJECTED) {
        read_columns(&path, &["sample_id", "completion"], |b| {
            let ids = b.strings("sample_id")?;
            let completion = b.strings("completion")?;
            for row in 0..b.rows() {
                let id = b.str_at(ids, "sample_id", row)?;
                if wanted.contains(id) {
                    let text = b.str_at(completion, "completion", row)?;
                    texts.insert(id.to_owned(), text.to_owned());
                }
            }
            Ok(())
        })?;
    }
    for p in problems.iter_mut() {
        for s in p.samples.iter_mut().filter(|s| !s.accepted) {
            if let Some(text) = texts.remove(&s.sample_id) {
                s.completion = Some(text);
            }
        }
    }
    Ok(())
}
