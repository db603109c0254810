//! The staged runtime: source → prompt → generate → verify → sink, joined by bounded channels.
//!
//! - `max_in_flight` generation tasks each take the next problem from the shared deterministic
//!   schedule ([`feeder`]), skip samples the journal has, render the prompt and call the
//!   generator (the engine batches their concurrent requests) — a fixed number of samples per
//!   problem, or in steps until the adaptive stopping rule holds ([`adaptive`]);
//! - verification runs on its own OS threads (never on the async runtime; one Z3 context per
//!   thread) and hands rows to the sink in batches;
//! - one sink thread gathers rows into shards; the sink's writer thread writes and commits them.
//!
//! Every queue is bounded, so memory stays flat however long the run. A stop request (signal,
//! budget, target) stops the schedule; in-flight generations get a grace period; everything
//! verified is committed.

mod adaptive;
pub mod chain;
mod feeder;
mod generate;
mod sink;
pub mod stop;
mod verify;
mod work;

use crate::adaptive::Ledger;
use crate::config::PipelineConfig;
use crate::generate::Generator;
use crate::identity::sampling_fingerprint;
use crate::prompt::PromptTemplate;
use crate::sink::Sink;
use crate::sources::ProblemSource;
use crate::stats::Stats;
use chain::Chain;
use feeder::Feeder;
use std::collections::HashSet;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::Duration;
pub use stop::{Outcome, StopControl};
use work::Generated;

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
    /// Where adaptive sampling records each problem (`Some` exactly when `config.adaptive` is).
    pub ledger: Option<Arc<Ledger>>,
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
    let (row_tx, row_rx) = sync_channel::<Vec<crate::sink::schema::Row>>(8);

    // Sink thread: owns the sink, commits shards, flushes on exit.
    let sink_stats = stats.clone();
    let sink_stop = stop.clone();
    let sink_thread = std::thread::Builder::new()
        .name("smelt-sink".into())
        .spawn(move || sink::sink_loop(sink, row_rx, &sink_stats, &sink_stop));

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
                .spawn(move || verify::verify_loop(&p, &cx, rx, tx, &st)),
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
        generators
            .spawn(async move { generate::generate_loop(&p, &cx, &feeder, tx, &st, &sp).await });
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

/// One scheduled problem: which source, which index, and the problem itself when the feeder
/// already built it (for curation).
#[derive(Debug)]
struct Slot {
    source: usize,
    index: u64,
    problem: Option<crate::problem::Problem>,
}

/// What every problem and row needs from the run, computed once.
struct RunContext {
    /// Sample ids the journal has (committed by earlier runs).
    done: HashSet<String>,
    /// Those of them that were accepted (adaptive sampling replays their outcomes).
    accepted: HashSet<String>,
    /// Identity of the sampling parameters, part of every sample id.
    fingerprint: String,
    model_id: Arc<str>,
    /// The `sampling` column: the sampling parameters as JSON.
    sampling: Arc<str>,
}

impl RunContext {
    fn new(p: &Pipeline, sink: &Sink) -> Self {
        let journal = sink.journal();
        let state = journal.state();
        RunContext {
            done: state.done.clone(),
            accepted: if p.ledger.is_some() {
                state.accepted_ids.clone()
            } else {
                HashSet::new()
            },
            fingerprint: sampling_fingerprint(&p.config.sampling),
            model_id: p.generator.model_id().into(),
            sampling: serde_json::to_string(&p.config.sampling)
                .unwrap_or_default()
                .into(),
        }
    }
}
