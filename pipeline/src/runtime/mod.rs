//! The staged runtime: source → prompt → generate → verify → sink, joined by bounded channels.
//!
//! - `max_in_flight` generation tasks each take the next problem from the shared deterministic
//!   schedule, skip samples the journal has, render the prompt and call the generator (the
//!   engine batches their concurrent requests);
//! - verification runs on its own OS threads (never on the async runtime; one Z3 context per
//!   thread) and hands rows to the sink in batches;
//! - one sink thread gathers rows into shards; the sink's writer thread writes and commits them.
//!
//! Every queue is bounded, so memory stays flat however long the run. A stop request (signal,
//! budget, target) stops the schedule; in-flight generations get a grace period; everything
//! verified is committed.

pub mod chain;
pub mod stop;

use crate::config::PipelineConfig;
use crate::generate::{Completion, GenError, GenRequest, Generator};
use crate::identity::{sampling_fingerprint, SampleIds};
use crate::problem::Problem;
use crate::prompt::PromptTemplate;
use crate::sink::schema::Row;
use crate::sink::{Sink, SinkError};
use crate::sources::ProblemSource;
use crate::sources::{Schedule, ScheduleSlot};
use crate::stats::{Counts, Stats};
use chain::Chain;
use smelt_verifiers::Sample;
use std::collections::HashSet;
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;
pub use stop::{Outcome, StopControl};

/// Everything a run needs, built by the CLI (or a test) from a config.
pub struct Pipeline {
    pub config: PipelineConfig,
    pub sources: Vec<Arc<dyn ProblemSource>>,
    /// One template per source, in the same order.
    pub templates: Vec<Arc<PromptTemplate>>,
    pub generator: Arc<dyn Generator>,
    pub chain: Chain,
    /// Extracts the final answer recorded in the `extracted_answer` column.
    pub extract_answer: fn(&str) -> Option<String>,
    /// Removes duplicate and contaminated problems before they are generated (`[curation]`).
    pub curation: Option<Arc<crate::curate::Curation>>,
}

/// Run-time knobs that are not part of the pipeline's identity.
pub struct RunOptions {
    pub max_duration: Option<Duration>,
    /// How long in-flight generations may finish after a stop request.
    pub grace: Duration,
    pub verify_workers: usize,
    /// This process's shard of the schedule (`None`: the whole schedule).
    pub shard: Option<crate::shard::ShardSpec>,
}

/// A problem with the samples still to generate for it. It travels with its completions to
/// one verification thread (one message per problem), so nothing in it is shared.
struct Work {
    /// The problem's position within its source.
    index: u64,
    prompt: Arc<str>,
    /// The row columns every sample of this problem shares, built once.
    shared: SharedColumns,
    /// What the verifiers see: the problem's ground truth, moved out of the problem once;
    /// each completion takes its turn in it.
    sample: Sample,
    /// (sample index, sample id) pairs not yet committed.
    samples: Vec<(u32, String)>,
}

/// Row columns shared by every sample of a problem (reference-counted, not copied per row).
struct SharedColumns {
    problem_id: Arc<str>,
    source: Arc<str>,
    text: Arc<str>,
    structured: Arc<str>,
    reference: Option<Arc<str>>,
    template_hash: Arc<str>,
}

/// Rows a verification thread gathers before handing them to the sink in one message (it
/// hands over sooner whenever its input queue is empty, so nothing waits on a full batch).
const ROW_BATCH: usize = 64;

/// A problem's completions waiting for verification (one message per problem, not per
/// sample: every hand-off between threads costs a wake-up).
struct Generated {
    work: Work,
    /// (sample id, completion) pairs.
    completions: Vec<(String, Completion)>,
}

/// Runs the pipeline to completion or until stopped. Returns how it ended.
pub async fn run(
    pipeline: Pipeline,
    sink: Sink,
    options: RunOptions,
    stats: Arc<Stats>,
    stop: Arc<StopControl>,
) -> Outcome {
    let pipeline = Arc::new(pipeline);
    let in_flight = pipeline.config.model.max_in_flight.max(1);
    let context = Arc::new(RunContext::new(&pipeline, &sink));

    let feeder = Arc::new(Feeder::new(&pipeline, options.shard));
    let (gen_tx, gen_rx) = async_channel::bounded::<Generated>(in_flight * 2);
    let (row_tx, row_rx) = sync_channel::<Vec<Row>>(8);

    // Sink thread: owns the sink, commits shards, flushes on exit.
    let sink_stats = stats.clone();
    let sink_stop = stop.clone();
    let sink_thread = std::thread::Builder::new()
        .name("smelt-sink".into())
        .spawn(move || sink_loop(sink, row_rx, &sink_stats, &sink_stop));

    // Verification threads.
    let mut verify_threads = Vec::new();
    for i in 0..options.verify_workers.max(1) {
        let rx = gen_rx.clone();
        let tx = row_tx.clone();
        let p = pipeline.clone();
        let st = stats.clone();
        let cx = context.clone();
        verify_threads.push(
            std::thread::Builder::new()
                .name(format!("smelt-verify-{i}"))
                .spawn(move || verify_loop(&p, &cx, rx, tx, &st)),
        );
    }
    drop(row_tx);
    drop(gen_rx);

    // Generation tasks.
    let mut generators = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let feeder = feeder.clone();
        let tx = gen_tx.clone();
        let p = pipeline.clone();
        let st = stats.clone();
        let sp = stop.clone();
        let cx = context.clone();
        generators.spawn(async move { generate_loop(&p, &cx, &feeder, tx, &st, &sp).await });
    }
    drop(gen_tx);

    // Budget timer.
    let timer = options.max_duration.map(|d| {
        let sp = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            sp.request(Outcome::Budget(format!(
                "max duration {} reached",
                humantime::format_duration(d)
            )));
        })
    });

    // Drain: generation tasks finish their problems; after a stop they get a grace period.
    let drained = tokio::select! {
        _ = async { while generators.join_next().await.is_some() {} } => true,
        _ = async { stop.stopped().await; tokio::time::sleep(options.grace).await } => false,
    };
    if !drained {
        tracing::warn!(grace = ?options.grace, "grace period over: abandoning in-flight generations");
        generators.abort_all();
        while generators.join_next().await.is_some() {}
    }
    if let Some(t) = timer {
        t.abort();
    }

    // Verification and sink finish on their threads.
    let join = tokio::task::spawn_blocking(move || {
        for t in verify_threads.into_iter().flatten() {
            let _ = t.join();
        }
        match sink_thread {
            Ok(t) => t
                .join()
                .unwrap_or_else(|_| Err("sink thread panicked".to_string())),
            Err(e) => Err(format!("cannot start the sink thread: {e}")),
        }
    })
    .await;
    match join {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            stop.request(Outcome::Failed(e));
        }
        Err(e) => {
            stop.request(Outcome::Failed(format!("sink join: {e}")));
        }
    }
    stop.outcome()
        .unwrap_or_else(|| Outcome::Finished("every scheduled problem is done".into()))
}

/// One scheduled problem: which source, which index.
#[derive(Debug, Clone, Copy)]
struct Slot {
    source: usize,
    index: u64,
}

/// What every problem and row needs from the run, computed once.
struct RunContext {
    /// Sample ids the journal has (committed by earlier runs).
    done: HashSet<String>,
    /// Identity of the sampling parameters, part of every sample id.
    fingerprint: String,
    model_id: Arc<str>,
    /// The `sampling` column: the sampling parameters as JSON.
    sampling: Arc<str>,
}

impl RunContext {
    fn new(p: &Pipeline, sink: &Sink) -> Self {
        RunContext {
            done: sink.journal().state().done.clone(),
            fingerprint: sampling_fingerprint(&p.config.sampling),
            model_id: p.generator.model_id().into(),
            sampling: serde_json::to_string(&p.config.sampling)
                .unwrap_or_default()
                .into(),
        }
    }
}

/// The deterministic schedule, shared by the generation tasks: each takes its next problem
/// here (a short lock, no hand-off between threads), after checking stop and targets.
struct Feeder {
    schedule: std::sync::Mutex<Schedule>,
    has_targets: bool,
    shard: Option<crate::shard::ShardSpec>,
}

impl Feeder {
    fn new(p: &Pipeline, shard: Option<crate::shard::ShardSpec>) -> Self {
        let cfg = &p.config;
        let slots = cfg
            .sources
            .iter()
            .zip(&p.sources)
            .map(|(e, s)| ScheduleSlot::new(e, s.len()))
            .collect();
        Feeder {
            schedule: std::sync::Mutex::new(Schedule::new(slots, cfg.limits.max_problems)),
            has_targets: cfg.limits.target_accepted.is_some()
                || cfg.sources.iter().any(|s| s.target_accepted.is_some()),
            shard,
        }
    }

    /// The next problem to generate, or `None` once the schedule is exhausted or the run is
    /// stopping (a stop request, or a target reached just now).
    fn next(&self, p: &Pipeline, stats: &Stats, stop: &StopControl) -> Option<Slot> {
        if stop.is_stopped() {
            return None;
        }
        let cfg = &p.config;
        let mut schedule = self
            .schedule
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.has_targets {
            if let Some(target) = cfg.limits.target_accepted {
                if stats.total_accepted() >= target {
                    stop.request(Outcome::TargetReached(format!(
                        "target of {target} accepted samples reached"
                    )));
                    return None;
                }
            }
            for (i, s) in cfg.sources.iter().enumerate() {
                if s.target_accepted
                    .is_some_and(|t| stats.accepted_for(&s.name) >= t)
                {
                    schedule.stop_source(i);
                }
            }
        }
        // A shard walks the whole schedule and takes its own problems (see `crate::shard`).
        // Curation sees every slot, owned or not, so every shard takes the same decisions.
        let found = schedule.find(|&(source, index)| {
            let owned = self.shard.is_none_or(|s| s.owns(index));
            let Some(curation) = &p.curation else {
                return owned;
            };
            match curation.admit_slot(&*p.sources[source], index, owned) {
                Ok(keep) => keep && owned,
                Err(e) => {
                    stop.request(Outcome::Failed(e.to_string()));
                    true
                }
            }
        });
        if stop.is_stopped() {
            return None;
        }
        found.map(|(source, index)| Slot { source, index })
    }
}

/// Builds the problem of `slot` with the samples the journal does not have yet; `None` when
/// every sample is done.
fn prepare(p: &Pipeline, cx: &RunContext, slot: Slot) -> Result<Option<Work>, String> {
    let problem = p.sources[slot.source]
        .problem(slot.index)
        .map_err(|e| e.to_string())?;
    let template = &p.templates[slot.source];
    let ids = SampleIds::new(&problem, template.hash(), &cx.model_id, &cx.fingerprint);
    let samples: Vec<(u32, String)> = (0..p.config.sampling.samples_per_problem)
        .map(|k| (k, ids.id(k)))
        .filter(|(_, id)| !cx.done.contains(id))
        .collect();
    if samples.is_empty() {
        return Ok(None);
    }
    let prompt = template.render(&problem).map_err(|e| e.to_string())?;
    let shared = SharedColumns {
        problem_id: Arc::from(problem.id.as_str()),
        source: Arc::from(problem.source.as_str()),
        text: Arc::from(problem.text.as_str()),
        structured: Arc::from(problem.structured.to_string()),
        reference: problem.reference.as_deref().map(Arc::from),
        template_hash: Arc::from(template.hash()),
    };
    Ok(Some(Work {
        index: problem.index,
        prompt: Arc::from(prompt),
        shared,
        sample: problem_sample(problem),
        samples,
    }))
}

async fn generate_loop(
    p: &Pipeline,
    cx: &RunContext,
    feeder: &Feeder,
    tx: async_channel::Sender<Generated>,
    stats: &Stats,
    stop: &StopControl,
) {
    while let Some(slot) = feeder.next(p, stats, stop) {
        let work = match prepare(p, cx, slot) {
            Ok(Some(work)) => work,
            Ok(None) => continue,
            Err(e) => {
                stop.request(Outcome::Failed(e));
                return;
            }
        };
        stats.record_problem_started(&work.shared.source);
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
                    continue;
                }
                if tx.send(Generated { work, completions }).await.is_err() {
                    return;
                }
                stats.set_queue_depth("verify", tx.len() as u64);
            }
            Err(GenError::Request(e)) => {
                stats.record_generation_error("request");
                tracing::warn!(problem = %work.shared.problem_id, error = %e, "generation failed; the problem stays pending for the next run");
            }
            Err(e) => {
                stop.request(Outcome::Failed(format!("generator: {e}")));
                return;
            }
        }
    }
}

fn verify_loop(
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
        } = item;
        // The problem is done when the generator answered for every sample still to do.
        let done = completions.len() >= work.samples.len();
        for (id, completion) in completions {
            rows.push(verify_one(p, cx, &mut work, id, completion, &mut counts));
        }
        if done {
            counts.record_problem_done(&work.shared.source);
        }
        if rows.len() >= ROW_BATCH && !hand_over(&mut rows, &mut counts) {
            return;
        }
    }
    if !rows.is_empty() {
        hand_over(&mut rows, &mut counts);
    }
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

fn sink_loop(
    mut sink: Sink,
    rx: std::sync::mpsc::Receiver<Vec<Row>>,
    stats: &Stats,
    stop: &StopControl,
) -> Result<(), String> {
    let fail = |e: SinkError| {
        tracing::error!(error = %e, "sink failed; committed shards are intact");
        stop.request(Outcome::Failed(format!("sink: {e}")));
        e.to_string()
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(rows) => {
                for row in rows {
                    sink.push(row).map_err(fail)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        sink.tick().map_err(fail)?;
        stats.set_queue_depth("sink", sink.pending() as u64);
    }
    sink.flush().map_err(fail)
}
