//! Sampling one problem in steps until the adaptive stopping rule holds
//! ([`crate::adaptive`]): each step asks for `samples_per_problem` more completions, waits for
//! their verdicts, and stops once the rule decides.
//!
//! Samples the journal already has are not generated again: their committed outcomes are
//! replayed into the tally, so a resumed problem takes the same decisions and goes on where it
//! stopped.

use super::generate::{send, Sent};
use super::work::{problem_of, Generated, Work};
use super::{Outcome, Pipeline, RunContext, Slot, StopControl};
use crate::adaptive::{Ledger, Tally};
use crate::stats::Stats;

/// What the generation task does after a problem.
pub(super) enum Flow {
    /// Take the next problem.
    Next,
    /// The run is over for this task.
    Exit,
}

pub(super) async fn sample_problem(
    p: &Pipeline,
    cx: &RunContext,
    ledger: &Ledger,
    slot: Slot,
    tx: &async_channel::Sender<Generated>,
    stats: &Stats,
    stop: &StopControl,
) -> Flow {
    let rule = ledger.config();
    let slot_source = slot.source;
    let (problem, ids) = match problem_of(p, cx, slot) {
        Ok(found) => found,
        Err(e) => {
            stop.request(Outcome::Failed(e));
            return Flow::Exit;
        }
    };
    let (problem_id, source, index) = (problem.id.clone(), problem.source.clone(), problem.index);
    let step = u64::from(p.config.sampling.samples_per_problem.max(1));
    // Built on the first step that generates anything (a replayed problem renders nothing).
    let mut problem = Some(problem);
    let mut work: Option<Work> = None;
    let mut tally = Tally::default();
    let mut next = 0u64;
    let mut started = false;
    loop {
        let end = (next + step).min(rule.max_attempts);
        let mut todo = Vec::new();
        for k in next..end {
            // Sample indices are u32 in ids and rows; max_attempts beyond that is refused
            // nowhere else, so stop there.
            let Ok(k) = u32::try_from(k) else { break };
            let id = ids.id(k);
            if cx.done.contains(&id) {
                tally.add(cx.accepted.contains(&id));
            } else {
                todo.push((k, id));
            }
        }
        next = end;
        if !todo.is_empty() {
            if stop.is_stopped() {
                return Flow::Exit;
            }
            let mut current = match (work.take(), problem.take()) {
                (Some(w), _) => w,
                (None, Some(problem)) => match Work::new(p, slot_source, problem) {
                    Ok(w) => w,
                    Err(e) => {
                        stop.request(Outcome::Failed(e));
                        return Flow::Exit;
                    }
                },
                (None, None) => return Flow::Exit,
            };
            if !started {
                stats.record_problem_started(&source);
                started = true;
            }
            current.samples = todo;
            let (reply, outcomes) = tokio::sync::oneshot::channel();
            match send(p, current, Some(reply), tx, stats, stop).await {
                Sent::Verifying => {}
                // The problem stays pending: a later run samples it again.
                Sent::Nothing | Sent::Failed => return Flow::Next,
                Sent::Exit => return Flow::Exit,
            }
            let Ok((returned, verdicts)) = outcomes.await else {
                return Flow::Exit;
            };
            for accepted in verdicts {
                tally.add(accepted);
            }
            work = Some(returned);
        }
        let decided = rule
            .decide(tally)
            .or_else(|| (next >= rule.max_attempts).then_some(crate::adaptive::Stop::MaxAttempts));
        if let Some(reason) = decided {
            ledger.record(&problem_id, &source, index, tally, reason);
            if started {
                stats.record_problem_done(&source);
            }
            return Flow::Next;
        }
    }
}
