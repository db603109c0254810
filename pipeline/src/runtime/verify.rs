//! Verification threads: each verifies a problem's completions (one Z3 context per thread,
//! never on the async runtime), builds their rows and hands them to the sink in batches.

use super::work::{Generated, Work};
use super::{Pipeline, RunContext};
use crate::generate::Completion;
use crate::sink::schema::Row;
use crate::stats::{Counts, Stats};

/// Rows a verification thread gathers before handing them to the sink in one message (it
/// hands over sooner whenever its input queue is empty, so nothing waits on a full batch).
const ROW_BATCH: usize = 64;

pub(super) fn verify_loop(
    p: &Pipeline,
    cx: &RunContext,
    rx: async_channel::Receiver<Generated>,
    tx: std::sync::mpsc::SyncSender<Vec<Row>>,
    stats: &Stats,
) {
    let mut rows = Vec::with_capacity(ROW_BATCH);
    let mut counts = Counts::default();
    // Hands the batch and its counts over together: the stats never count a sample the sink
    // has not been given.
    let hand_over = |rows: &mut Vec<Row>, counts: &mut Counts| {
        stats.add(counts);
        *counts = Counts::default();
        tx.send(std::mem::replace(rows, Vec::with_capacity(ROW_BATCH)))
            .is_ok()
    };
    loop {
        let item = if rows.is_empty() {
            match rx.recv_blocking() {
                Ok(item) => item,
                Err(_) => break,
            }
        } else {
            match rx.try_recv() {
                Ok(item) => item,
                Err(async_channel::TryRecvError::Empty) => {
                    if !hand_over(&mut rows, &mut counts) {
                        return;
                    }
                    continue;
                }
                Err(async_channel::TryRecvError::Closed) => break,
            }
        };
        let Generated {
            mut work,
            completions,
            reply,
        } = item;
        // Without a reply, the problem is done when the generator answered for every sample
        // still to do; with one, its generation task decides (and may ask for more).
        let done = reply.is_none() && completions.len() >= work.samples.len();
        let mut outcomes = Vec::with_capacity(completions.len());
        for (id, completion) in completions {
            let row = verify_one(p, cx, &mut work, id, completion, &mut counts);
            outcomes.push(row.accepted);
            rows.push(row);
        }
        if done {
            counts.record_problem_done(&work.shared.source);
        }
        if let Some(reply) = reply {
            // The task may be gone (grace period over): then nobody waits for the outcomes.
            let _ = reply.send((work, outcomes));
        }
        if rows.len() >= ROW_BATCH && !hand_over(&mut rows, &mut counts) {
            return;
        }
    }
    if !rows.is_empty() {
        hand_over(&mut rows, &mut counts);
    }
}

/// Verifies one completion (placed in the work's sample, which holds the problem's ground
/// truth) and builds its row; counts it into `counts`.
fn verify_one(
    p: &Pipeline,
    cx: &RunContext,
    work: &mut Work,
    sample_id: String,
    mut completion: Completion,
    counts: &mut Counts,
) -> Row {
    let sample = &mut work.sample;
    let shared = &work.shared;
    sample.id = sample_id;
    sample.completion = std::mem::take(&mut completion.text);
    let (verdicts, accepted) = p.chain.run(sample);
    counts.record_sample(
        &shared.source,
        &verdicts,
        accepted,
        completion.prompt_tokens,
        completion.completion_tokens,
    );
    Row {
        extracted_answer: (p.extract_answer)(&sample.completion),
        sample_id: std::mem::take(&mut sample.id),
        problem_id: shared.problem_id.clone(),
        source: shared.source.clone(),
        problem_index: work.index,
        sample_index: completion.sample_index,
        problem: shared.text.clone(),
        structured: shared.structured.clone(),
        prompt: work.prompt.clone(),
        completion: std::mem::take(&mut sample.completion),
        reference_answer: shared.reference.clone(),
        verdicts,
        accepted,
        model_id: cx.model_id.clone(),
        sampling: cx.sampling.clone(),
        seed: p.config.run.seed,
        template_hash: shared.template_hash.clone(),
        prompt_tokens: completion.prompt_tokens,
        completion_tokens: completion.completion_tokens,
        latency_ms: completion.latency_ms,
        finish_reason: completion.finish_reason,
        created_at_us: chrono::Utc::now().timestamp_micros(),
        smelt_version: env!("CARGO_PKG_VERSION"),
    }
}
