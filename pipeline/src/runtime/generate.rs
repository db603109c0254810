//! The generation tasks: each takes the next problem from the feeder, asks the generator for
//! its missing samples and hands the completions to verification.

use super::feeder::Feeder;
use super::work::{prepare, Generated, Reply, Work};
use super::{adaptive, Outcome, Pipeline, RunContext, StopControl};
use crate::generate::{Completion, GenError, GenRequest};
use crate::stats::Stats;

/// What became of one generation request.
pub(super) enum Sent {
    /// The completions went to verification.
    Verifying,
    /// The generator answered for none of the samples asked for.
    Nothing,
    /// The request failed; the problem stays pending for the next run.
    Failed,
    /// The run is over (verification has gone, or the generator failed for good).
    Exit,
}

pub(super) async fn generate_loop(
    p: &Pipeline,
    cx: &RunContext,
    feeder: &Feeder,
    tx: async_channel::Sender<Generated>,
    stats: &Stats,
    stop: &StopControl,
) {
    while let Some(slot) = feeder.next(p, stats, stop) {
        if let Some(ledger) = &p.ledger {
            match adaptive::sample_problem(p, cx, ledger, slot, &tx, stats, stop).await {
                adaptive::Flow::Next => continue,
                adaptive::Flow::Exit => return,
            }
        }
        let work = match prepare(p, cx, slot) {
            Ok(Some(work)) => work,
            Ok(None) => continue,
            Err(e) => {
                stop.request(Outcome::Failed(e));
                return;
            }
        };
        stats.record_problem_started(&work.shared.source);
        if let Sent::Exit = send(p, work, None, &tx, stats, stop).await {
            return;
        }
    }
}

/// Generates the work's samples and sends them to verification (with `reply`, if the caller
/// waits for their outcomes).
pub(super) async fn send(
    p: &Pipeline,
    work: Work,
    reply: Option<Reply>,
    tx: &async_channel::Sender<Generated>,
    stats: &Stats,
    stop: &StopControl,
) -> Sent {
    let req = GenRequest {
        problem_id: work.shared.problem_id.to_string(),
        prompt: work.prompt.to_string(),
        sample_indices: work.samples.iter().map(|(k, _)| *k).collect(),
        sampling: p.config.sampling.clone(),
    };
    match p.generator.generate(&req).await {
        Ok(completions) => {
            let completions: Vec<(String, Completion)> = completions
                .into_iter()
                .filter_map(|c| {
                    let (_, id) = work.samples.iter().find(|(k, _)| *k == c.sample_index)?;
                    Some((id.clone(), c))
                })
                .collect();
            if completions.is_empty() {
                return Sent::Nothing;
            }
            let message = Generated {
                work,
                completions,
                reply,
            };
            if tx.send(message).await.is_err() {
                return Sent::Exit;
            }
            stats.set_queue_depth("verify", tx.len() as u64);
            Sent::Verifying
        }
        Err(GenError::Request(e)) => {
            stats.record_generation_error("request");
            tracing::warn!(problem = %work.shared.problem_id, error = %e, "generation failed; the problem stays pending for the next run");
            Sent::Failed
        }
        Err(e) => {
            stop.request(Outcome::Failed(format!("generator: {e}")));
            Sent::Exit
        }
    }
}
