//! The staged runtime: source → prompt → generate → verify → sink, joined by bounded channels.
//!
//! - the producer (a tokio task) walks the deterministic schedule, skips samples the journal
//!   has, renders prompts and feeds the generation queue;
//! - `max_in_flight` generation tasks call the generator concurrently (the engine batches);
//! - verification runs on its own OS threads (never on the async runtime; one Z3 context per
//!   thread);
//! - one sink thread writes and commits shards.
//!
//! Every queue is bounded, so memory stays flat however long the run. A stop request (signal,
//! budget, target) stops the producer; in-flight generations get a grace period; everything
//! verified is committed.

pub mod chain;
pub mod stop;

use crate::config::PipelineConfig;
use crate::generate::{Completion, GenError, GenRequest, Generator};
use crate::identity::{sample_id, sampling_fingerprint};
use crate::problem::Problem;
use crate::prompt::PromptTemplate;
use crate::sink::schema::Row;
use crate::sink::{Sink, SinkError};
use crate::sources::ProblemSource;
use crate::sources::{Schedule, ScheduleSlot};
use crate::stats::Stats;
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
}

/// Run-time knobs that are not part of the pipeline's identity.
pub struct RunOptions {
    pub max_duration: Option<Duration>,
    /// How long in-flight generations may finish after a stop request.
    pub grace: Duration,
    pub verify_workers: usize,
}

/// A problem with the samples still to generate for it.
struct Work {
    problem: Arc<Problem>,
    source: usize,
    prompt: Arc<str>,
    /// (sample index, sample id) pairs not yet committed.
    samples: Vec<(u32, String)>,
    /// Samples of this problem not yet verified; the problem is done at zero.
    remaining: std::sync::atomic::AtomicUsize,
}

/// One completion waiting for verification.
struct Generated {
    work: Arc<Work>,
    completion: Completion,
    sample_id: String,
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
    let done: HashSet<String> = sink.journal().state().done.clone();

    let (work_tx, work_rx) = async_channel::bounded::<Arc<Work>>(in_flight * 2);
    let (gen_tx, gen_rx) = async_channel::bounded::<Generated>(in_flight * 4);
    let (row_tx, row_rx) = sync_channel::<Row>(1024);

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
        verify_threads.push(
            std::thread::Builder::new()
                .name(format!("smelt-verify-{i}"))
                .spawn(move || verify_loop(&p, rx, tx, &st)),
        );
    }
    drop(row_tx);
    drop(gen_rx);

    // Generation tasks.
    let mut generators = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let rx = work_rx.clone();
        let tx = gen_tx.clone();
        let p = pipeline.clone();
        let st = stats.clone();
        let sp = stop.clone();
        generators.spawn(async move { generate_loop(&p, rx, tx, &st, &sp).await });
    }
    drop(gen_tx);
    drop(work_rx);

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

    // Producer (runs here).
    produce(&pipeline, &done, work_tx, &stats, &stop).await;

    // Drain: generation tasks finish their queue; after a stop they get a grace period.
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

async fn produce(
    p: &Pipeline,
    done: &HashSet<String>,
    tx: async_channel::Sender<Arc<Work>>,
    stats: &Stats,
    stop: &StopControl,
) {
    let cfg = &p.config;
    let slots = cfg
        .sources
        .iter()
        .zip(&p.sources)
        .map(|(e, s)| ScheduleSlot::new(e, s.len()))
        .collect();
    let mut schedule = Schedule::new(slots, cfg.limits.max_problems);
    let fingerprint = sampling_fingerprint(&cfg.sampling);
    let model_id = p.generator.model_id().to_owned();
    let n = cfg.sampling.samples_per_problem;
    let has_targets = cfg.limits.target_accepted.is_some()
        || cfg.sources.iter().any(|s| s.target_accepted.is_some());
    loop {
        if stop.is_stopped() {
            break;
        }
        if has_targets {
            let total = stats.snapshot().total;
            if let Some(target) = cfg.limits.target_accepted {
                if total.accepted >= target {
                    stop.request(Outcome::TargetReached(format!(
                        "target of {target} accepted samples reached"
                    )));
                    break;
                }
            }
            for (i, s) in cfg.sources.iter().enumerate() {
                let accepted = total.sources.get(&s.name).map_or(0, |c| c.accepted);
                if s.target_accepted.is_some_and(|t| accepted >= t) {
                    schedule.stop_source(i);
                }
            }
        }
        let Some((si, index)) = schedule.next() else {
            break;
        };
        let problem = match p.sources[si].problem(index) {
            Ok(problem) => Arc::new(problem),
            Err(e) => {
                stop.request(Outcome::Failed(e.to_string()));
                break;
            }
        };
        let template = &p.templates[si];
        let samples: Vec<(u32, String)> = (0..n)
            .map(|k| {
                (
                    k,
                    sample_id(&problem, template.hash(), &model_id, &fingerprint, k),
                )
            })
            .filter(|(_, id)| !done.contains(id))
            .collect();
        if samples.is_empty() {
            continue;
        }
        let prompt = match template.render(&problem) {
            Ok(prompt) => Arc::from(prompt),
            Err(e) => {
                stop.request(Outcome::Failed(e.to_string()));
                break;
            }
        };
        stats.record_problem_started(&problem.source);
        let work = Arc::new(Work {
            problem,
            source: si,
            prompt,
            remaining: std::sync::atomic::AtomicUsize::new(samples.len()),
            samples,
        });
        tokio::select! {
            sent = tx.send(work) => if sent.is_err() { break },
            _ = stop.stopped() => break,
        }
        stats.set_queue_depth("generate", tx.len() as u64);
    }
}

async fn generate_loop(
    p: &Pipeline,
    rx: async_channel::Receiver<Arc<Work>>,
    tx: async_channel::Sender<Generated>,
    stats: &Stats,
    stop: &StopControl,
) {
    while let Ok(work) = rx.recv().await {
        let req = GenRequest {
            problem_id: work.problem.id.clone(),
            prompt: work.prompt.to_string(),
            sample_indices: work.samples.iter().map(|(k, _)| *k).collect(),
            sampling: p.config.sampling.clone(),
        };
        match p.generator.generate(&req).await {
            Ok(completions) => {
                for completion in completions {
                    let Some((_, id)) = work
                        .samples
                        .iter()
                        .find(|(k, _)| *k == completion.sample_index)
                    else {
                        continue;
                    };
                    let item = Generated {
                        sample_id: id.clone(),
                        work: work.clone(),
                        completion,
                    };
                    if tx.send(item).await.is_err() {
                        return;
                    }
                }
                stats.set_queue_depth("verify", tx.len() as u64);
            }
            Err(GenError::Request(e)) => {
                stats.record_generation_error("request");
                tracing::warn!(problem = %work.problem.id, error = %e, "generation failed; the problem stays pending for the next run");
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
    rx: async_channel::Receiver<Generated>,
    tx: std::sync::mpsc::SyncSender<Row>,
    stats: &Stats,
) {
    let sampling = serde_json::to_string(&p.config.sampling).unwrap_or_default();
    let model_id = p.generator.model_id().to_owned();
    while let Ok(item) = rx.recv_blocking() {
        let problem = &item.work.problem;
        let sample = Sample {
            id: item.sample_id.clone(),
            problem: problem.text.clone(),
            completion: item.completion.text.clone(),
            reference: problem.reference.clone(),
            constraints: problem.constraints.clone(),
            tests: problem.tests.clone(),
            entry_point: problem.entry_point.clone(),
            structured: Some(problem.structured.clone()),
        };
        let (verdicts, accepted) = p.chain.run(&sample);
        stats.record_sample(
            &problem.source,
            &verdicts,
            accepted,
            item.completion.prompt_tokens,
            item.completion.completion_tokens,
        );
        let left = item
            .work
            .remaining
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        if left == 1 {
            stats.record_problem_done(&problem.source);
        }
        let row = Row {
            sample_id: item.sample_id,
            problem_id: problem.id.clone(),
            source: problem.source.clone(),
            problem_index: problem.index,
            sample_index: item.completion.sample_index,
            problem: problem.text.clone(),
            structured: problem.structured.to_string(),
            prompt: item.work.prompt.to_string(),
            extracted_answer: (p.extract_answer)(&sample.completion),
            completion: sample.completion,
            reference_answer: problem.reference.clone(),
            verdicts,
            accepted,
            model_id: model_id.clone(),
            sampling: sampling.clone(),
            seed: p.config.run.seed,
            template_hash: p.templates[item.work.source].hash().to_owned(),
            prompt_tokens: item.completion.prompt_tokens,
            completion_tokens: item.completion.completion_tokens,
            latency_ms: item.completion.latency_ms,
            finish_reason: item.completion.finish_reason,
            created_at_us: chrono::Utc::now().timestamp_micros(),
            smelt_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        if tx.send(row).is_err() {
            return;
        }
    }
}

fn sink_loop(
    mut sink: Sink,
    rx: std::sync::mpsc::Receiver<Row>,
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
            Ok(row) => sink.push(row).map_err(fail)?,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        sink.tick().map_err(fail)?;
        stats.set_queue_depth("sink", sink.pending() as u64);
    }
    sink.flush().map_err(fail)
}
