//! A problem on its way through generation and verification: its prompt, the row columns its
//! samples share, its ground truth, and the samples still to generate.

use super::{Pipeline, RunContext, Slot};
use crate::generate::Completion;
use crate::identity::SampleIds;
use crate::problem::Problem;
use smelt_verifiers::Sample;
use std::sync::Arc;

/// A problem with the samples still to generate for it. It travels with its completions to
/// one verification thread (one message per problem), so nothing in it is shared.
pub(super) struct Work {
    /// The problem's position within its source.
    pub index: u64,
    pub prompt: Arc<str>,
    /// The row columns every sample of this problem shares, built once.
    pub shared: SharedColumns,
    /// What the verifiers see: the problem's ground truth, moved out of the problem once;
    /// each completion takes its turn in it.
    pub sample: Sample,
    /// (sample index, sample id) pairs not yet committed.
    pub samples: Vec<(u32, String)>,
}

/// Row columns shared by every sample of a problem (reference-counted, not copied per row).
pub(super) struct SharedColumns {
    pub problem_id: Arc<str>,
    pub source: Arc<str>,
    pub text: Arc<str>,
    pub structured: Arc<str>,
    pub reference: Option<Arc<str>>,
    pub template_hash: Arc<str>,
}

/// Where a verification thread sends a problem back, with each sample's outcome (accepted or
/// not, in completion order), when its generation task waits for them (adaptive sampling).
pub(super) type Reply = tokio::sync::oneshot::Sender<(Work, Vec<bool>)>;

/// A problem's completions waiting for verification (one message per problem, not per
/// sample: every hand-off between threads costs a wake-up).
pub(super) struct Generated {
    pub work: Work,
    /// (sample id, completion) pairs.
    pub completions: Vec<(String, Completion)>,
    /// `None`: the problem is done once these are verified (fixed sampling).
    pub reply: Option<Reply>,
}

impl Work {
    /// The work for `problem` of source `source`, with no samples yet.
    pub fn new(p: &Pipeline, source: usize, problem: Problem) -> Result<Work, String> {
        let template = &p.templates[source];
        let prompt = template.render(&problem).map_err(|e| e.to_string())?;
        let shared = SharedColumns {
            problem_id: Arc::from(problem.id.as_str()),
            source: Arc::from(problem.source.as_str()),
            text: Arc::from(problem.text.as_str()),
            structured: Arc::from(problem.structured.to_string()),
            reference: problem.reference.as_deref().map(Arc::from),
            template_hash: Arc::from(template.hash()),
        };
        Ok(Work {
            index: problem.index,
            prompt: Arc::from(prompt),
            shared,
            sample: problem_sample(problem),
            samples: Vec::new(),
        })
    }
}

/// The problem of `slot` and its sample ids.
pub(super) fn problem_of(
    p: &Pipeline,
    cx: &RunContext,
    slot: Slot,
) -> Result<(Problem, SampleIds), String> {
    let problem = match slot.problem {
        Some(problem) => problem,
        None => p.sources[slot.source]
            .problem(slot.index)
            .map_err(|e| e.to_string())?,
    };
    let template = &p.templates[slot.source];
    let ids = SampleIds::new(&problem, template.hash(), &cx.model_id, &cx.fingerprint);
    Ok((problem, ids))
}

/// Builds the problem of `slot` with the samples the journal does not have yet; `None` when
/// every sample is done.
pub(super) fn prepare(p: &Pipeline, cx: &RunContext, slot: Slot) -> Result<Option<Work>, String> {
    let source = slot.source;
    let (problem, ids) = problem_of(p, cx, slot)?;
    let samples: Vec<(u32, String)> = (0..p.config.sampling.samples_per_problem)
        .map(|k| (k, ids.id(k)))
        .filter(|(_, id)| !cx.done.contains(id))
        .collect();
    if samples.is_empty() {
        return Ok(None);
    }
    let mut work = Work::new(p, source, problem)?;
    work.samples = samples;
    Ok(Some(work))
}

/// What the verifiers see of `problem`, without an id or completion yet.
fn problem_sample(problem: Problem) -> Sample {
    Sample {
        id: String::new(),
        problem: problem.text,
        completion: String::new(),
        reference: problem.reference,
        constraints: problem.constraints,
        tests: problem.tests,
        entry_point: problem.entry_point,
        structured: Some(problem.structured),
    }
}
