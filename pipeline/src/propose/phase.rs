//! The proposal phase: before the schedule starts, ask the model for each missing proposal of
//! every propose source, prove or reject it, log it, and turn the proven ones into problems.

use super::log::{LogError, ProposalLog, ProposalRecord};
use super::seeds::{self, Example, SeedError};
use super::{ProposeSpec, Proposed};
use crate::config::PipelineConfig;
use crate::generate::{GenError, GenRequest, Generator};
use crate::problem::Problem;
use crate::prompt::{PromptError, PromptTemplate};
use crate::runtime::StopControl;
use crate::sources::{ProblemSource, SourceKind};
use serde::Serialize;
use smelt_verifiers::well_posed;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum PhaseError {
    #[error("propose source `{source_name}`: template: {error}")]
    Template {
        source_name: String,
        error: PromptError,
    },
    #[error(transparent)]
    Seeds(#[from] SeedError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("propose source `{source_name}`: generator: {error}")]
    Generator {
        source_name: String,
        error: GenError,
    },
}

/// What the phase did for one propose source (all runs on this output).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhaseReport {
    pub source: String,
    pub requested: u64,
    /// Proposals logged (proven or not).
    pub logged: u64,
    pub proven: u64,
    /// Rejected proposals by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Requests that failed this run (retried by the next run).
    pub failed_requests: u64,
}

impl PhaseReport {
    pub fn render_text(&self) -> String {
        let reasons: Vec<String> = self
            .rejected
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!(
            "proposals `{}`: {} of {} logged, {} proven well-posed; rejected: {}{}",
            self.source,
            self.logged,
            self.requested,
            self.proven,
            if reasons.is_empty() {
                "none".into()
            } else {
                reasons.join(", ")
            },
            if self.failed_requests > 0 {
                format!(
                    "; {} request(s) failed, retried next run",
                    self.failed_requests
                )
            } else {
                String::new()
            }
        )
    }
}

/// Runs the phase of every propose source of `config`, replacing its pending source in
/// `sources` by its proven proposals.
pub async fn run(
    config: &PipelineConfig,
    dir: &Path,
    sources: &mut [Arc<dyn ProblemSource>],
    generator: &Arc<dyn Generator>,
    stop: &StopControl,
) -> Result<Vec<PhaseReport>, PhaseError> {
    let mut reports = Vec::new();
    let mut log: Option<ProposalLog> = None;
    for (j, entry) in config.sources.iter().enumerate() {
        let (SourceKind::Propose, Some(spec)) = (entry.kind, &entry.propose) else {
            continue;
        };
        let log = match &mut log {
            Some(l) => l,
            None => log.insert(ProposalLog::open(dir)?),
        };
        let failed =
            propose_source(config, &entry.name, spec, sources, generator, log, stop).await?;
        sources[j] = Arc::new(Proposed::from_records(
            &entry.name,
            log.of_source(&entry.name),
        ));
        let mut report = PhaseReport {
            source: entry.name.clone(),
            requested: spec.count,
            failed_requests: failed,
            ..PhaseReport::default()
        };
        for r in log.of_source(&entry.name).filter(|r| r.index < spec.count) {
            report.logged += 1;
            match &r.reason {
                None => report.proven += 1,
                Some(reason) => *report.rejected.entry(reason.clone()).or_default() += 1,
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Asks for the proposals of one source the log does not have; returns the failed requests.
async fn propose_source(
    config: &PipelineConfig,
    name: &str,
    spec: &ProposeSpec,
    sources: &[Arc<dyn ProblemSource>],
    generator: &Arc<dyn Generator>,
    log: &mut ProposalLog,
    stop: &StopControl,
) -> Result<u64, PhaseError> {
    let template_err = |error| PhaseError::Template {
        source_name: name.to_string(),
        error,
    };
    let template = PromptTemplate::load(&config.resolve(&spec.template)).map_err(template_err)?;
    let seed_file = spec.seed_file.as_deref().map(|p| config.resolve(p));
    let accepted_file = spec.accepted_file.as_deref().map(|p| config.resolve(p));
    let pool = seeds::pool(
        name,
        spec,
        sources,
        seed_file.as_deref(),
        accepted_file.as_deref(),
    )?;
    let mut sampling = config.sampling.clone();
    sampling.samples_per_problem = 1;
    if let Some(t) = spec.temperature {
        sampling.temperature = t;
    }
    let in_flight = config.model.max_in_flight.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    let mut failed = 0;
    let missing: Vec<u64> = (0..spec.count).filter(|&i| !log.has(name, i)).collect();
    let mut todo = missing.into_iter();
    loop {
        while tasks.len() < in_flight && !stop.is_stopped() {
            let Some(index) = todo.next() else { break };
            let examples = seeds::draw(&pool, spec.examples, config.run.seed, name, index);
            let prompt =
                render(&template, name, index, spec.round, &examples).map_err(template_err)?;
            let parents = examples.iter().map(|e| e.id.clone()).collect();
            let req = GenRequest {
                // Not the problem's id: a replay file (or a server's cache) tells the proposal
                // request from the samples of the problem it becomes.
                problem_id: format!("{}:propose", proposal_id(name, spec.round, index)),
                prompt,
                sample_indices: vec![0],
                sampling: sampling.clone(),
            };
            let generator = generator.clone();
            let (limits, round, source) = (spec.limits(), spec.round, name.to_string());
            tasks.spawn(async move {
                let completion = generator.generate(&req).await?.into_iter().next();
                let Some(c) = completion else {
                    return Err(GenError::Request(
                        "the generator returned no completion".into(),
                    ));
                };
                let full = with_marker(&req.prompt, &c.text);
                // Z3 runs on a blocking thread (its own context), never on the async runtime.
                let judged = tokio::task::spawn_blocking(move || -> Judged {
                    let proposal = well_posed::parse_proposal(&full)?;
                    let outcome = well_posed::check(&proposal, limits);
                    Ok((proposal, outcome))
                })
                .await
                .map_err(|e| GenError::Fatal(format!("proposal check panicked: {e}")))?;
                Ok(record(source, index, round, parents, c, judged))
            });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        match done {
            Ok(Ok(r)) => log.append(r)?,
            Ok(Err(GenError::Request(e))) => {
                failed += 1;
                tracing::warn!(source = name, error = %e, "proposal request failed; retried by the next run");
            }
            Ok(Err(error)) => {
                return Err(PhaseError::Generator {
                    source_name: name.to_string(),
                    error,
                })
            }
            Err(e) => {
                return Err(PhaseError::Generator {
                    source_name: name.to_string(),
                    error: GenError::Fatal(format!("proposal task: {e}")),
                })
            }
        }
    }
    Ok(failed)
}

/// The proposal prompt of request `index`: the template rendered for a problem whose
/// `structured.examples` are the drawn examples.
fn render(
    template: &PromptTemplate,
    name: &str,
    index: u64,
    round: u32,
    examples: &[&Example],
) -> Result<String, PromptError> {
    let problem = Problem {
        id: proposal_id(name, round, index),
        source: name.to_string(),
        index,
        text: String::new(),
        reference: None,
        structured: serde_json::json!({ "examples": examples, "round": round }),
        constraints: None,
        tests: None,
        entry_point: None,
        extra: Default::default(),
    };
    template.render(&problem)
}

/// The id of proposal `index` (and of the problem it becomes): `<source>-p<index>`, or
/// `<source>-r<round>-p<index>` in a round of `smelt rounds` (ids stay unique across rounds).
pub fn proposal_id(source: &str, round: u32, index: u64) -> String {
    if round == 0 {
        format!("{source}-p{index}")
    } else {
        format!("{source}-r{round}-p{index}")
    }
}

/// A prompt that ends with the `Problem:` marker has the model continue after it: put the
/// marker back in front of the completion.
fn with_marker(prompt: &str, completion: &str) -> String {
    if prompt.trim_end().to_ascii_lowercase().ends_with("problem:") {
        format!("Problem:{completion}")
    } else {
        completion.to_string()
    }
}

type Judged = Result<
    (
        well_posed::Proposal,
        Result<well_posed::Proven, well_posed::Rejection>,
    ),
    well_posed::Rejection,
>;

fn record(
    source: String,
    index: u64,
    round: u32,
    parents: Vec<String>,
    c: crate::generate::Completion,
    judged: Judged,
) -> ProposalRecord {
    let mut r = ProposalRecord {
        id: proposal_id(&source, round, index),
        source,
        index,
        round,
        parents,
        completion: c.text,
        text: None,
        smt: None,
        equation: None,
        accepted: false,
        reason: None,
        detail: String::new(),
        answer: None,
        single_constant: false,
        prompt_tokens: u64::from(c.prompt_tokens),
        completion_tokens: u64::from(c.completion_tokens),
    };
    match judged {
        Err(rejection) => {
            r.reason = Some(rejection.reason.to_string());
            r.detail = rejection.detail;
        }
        Ok((proposal, outcome)) => {
            r.text = Some(proposal.text);
            r.smt = Some(proposal.smt);
            r.equation = proposal.equation;
            match outcome {
                Ok(proven) => {
                    r.accepted = true;
                    r.detail = format!(
                        "{} = {} is the unique solution",
                        proven.variable, proven.answer
                    );
                    r.answer = Some(proven.answer);
                    r.single_constant = proven.single_constant;
                }
                Err(rejection) => {
                    r.reason = Some(rejection.reason.to_string());
                    r.detail = rejection.detail;
                }
            }
        }
    }
    r
}
