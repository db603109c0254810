//! `smelt run`: lock the output, open the journal, build the stages, handle signals, report.

use super::build::{build_chain, build_sources, load_config, usage_or};
use super::{ConfigArgs, LogFormat};
use crate::adaptive::Ledger;
use crate::config::{ModelKind, PipelineConfig};
use crate::generate::Generator;
use crate::identity::run_identity;
use crate::journal::{self, Journal};
use crate::registry::Registry;
use crate::runtime::{self, Outcome, Pipeline, RunOptions, StopControl};
use crate::shard::outcome::RunOutcome;
use crate::sink::{manifest, ShardCompression, Sink, SinkConfig};
use crate::stats::Stats;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Stop cleanly after this long, e.g. `7h30m` (resumable; exit code 3).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub max_duration: Option<Duration>,
    /// Stop once this many samples are accepted (over all runs on this output).
    #[arg(long)]
    pub target_accepted: Option<u64>,
    /// Draw at most this many problems.
    #[arg(long)]
    pub max_problems: Option<u64>,
    /// The output holds a run with another configuration: move it aside and start over.
    #[arg(long)]
    pub force_new: bool,
    /// After SIGINT/SIGTERM, how long in-flight generations may finish.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    pub grace: Duration,
    /// Serve Prometheus metrics at this address (e.g. 127.0.0.1:9898).
    #[arg(long)]
    pub metrics_addr: Option<SocketAddr>,
    /// Write metrics for node-exporter's textfile collector to this file.
    #[arg(long)]
    pub metrics_textfile: Option<PathBuf>,
    /// Seconds between progress log lines when stderr is not a terminal.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub progress_interval: Duration,
    /// No progress bar or progress lines.
    #[arg(long)]
    pub quiet: bool,
    /// Run one shard of the schedule: `I/N` (0 <= I < N), or `off`. Without it, a Slurm array
    /// task or a Kubernetes Indexed Job pod runs its own shard (README "Scale-out").
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Benchmarking only: keep the journal in memory (nothing resumes; shards are still atomic).
    #[arg(long, hide = true)]
    pub no_journal: bool,
}

pub fn run_cmd(args: RunArgs, registry: &Registry, log_format: LogFormat) -> anyhow::Result<i32> {
    let config = match load_config(&args.config, registry) {
        Ok(c) => c,
        Err(e) => return usage_or(e),
    };
    execute(config, &args, registry, log_format, &[])
}

/// Runs a loaded, validated config with the run flags of `args` (its config part is not read
/// again): `smelt run`, and each round of `smelt rounds`. With `[curation]`, the curator first
/// remembers `earlier` (problem id, text): the problems of earlier rounds, which this run's
/// problems must not duplicate.
pub fn execute(
    mut config: PipelineConfig,
    args: &RunArgs,
    registry: &Registry,
    log_format: LogFormat,
    earlier: &[(String, String)],
) -> anyhow::Result<i32> {
    if let Some(n) = args.max_problems {
        config.limits.max_problems = Some(n);
    }
    if let Some(n) = args.target_accepted {
        config.limits.target_accepted = Some(n);
    }
    let max_duration = match (args.max_duration, &config.limits.max_duration) {
        (Some(d), _) => Some(d),
        (None, Some(s)) => Some(humantime::parse_duration(s)?),
        (None, None) => None,
    };
    // Everything that can fail fast does so before the model loads.
    let (sources, templates) = build_sources(&config)?;
    let chain = build_chain(&config, registry)?;
    let curator = match &config.curation {
        Some(c) => {
            let mut curator = crate::curate::Curator::load(c, &config.base_dir)?;
            for (id, text) in earlier {
                curator.remember(id, text);
            }
            Some(curator)
        }
        None => None,
    };
    let shard = match crate::shard::resolve(args.shard.as_deref(), |k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(super::exit::USAGE);
        }
    };
    let proposes = config
        .sources
        .iter()
        .any(|s| s.kind == crate::sources::SourceKind::Propose);
    if proposes && shard.is_some() {
        eprintln!("error: a pipeline with a `propose` source cannot run sharded: each shard would propose different problems (run it unsharded, or shard the solve stage of its proposals.jsonl as a dataset)");
        return Ok(super::exit::USAGE);
    }
    let dir = match shard {
        Some(s) => s.dir(&config.output_dir()),
        None => config.output_dir(),
    };
    let lock = crate::lock::lock_dir(&dir)?;
    if let Some(pid) = &lock.stale_pid {
        tracing::info!(pid = %pid, "took over a stale lock left by a process that is gone");
    }
    let template_hashes: Vec<String> = templates.iter().map(|t| t.hash().to_owned()).collect();
    let identity = run_identity(&config, &template_hashes, &model_label(&config));
    if args.force_new {
        supersede(&dir)?;
    }
    let journal = if args.no_journal {
        Journal::ephemeral(&dir)
    } else {
        Journal::open(&dir, &identity)?
    };
    RunOutcome::clear(&dir)?;
    if let Some(s) = shard {
        tracing::info!(shard = %s, dir = %dir.display(), "running one shard of the schedule");
    }
    let resumed = journal.state().commits > 0;
    if resumed {
        tracing::info!(
            done = journal.state().done.len(),
            shards = journal.state().shards.len(),
            "resuming: committed samples are skipped"
        );
    }
    let sink = Sink::open(sink_config(&config, &dir)?, journal)?;
    let curation = match curator {
        Some(c) => Some(Arc::new(crate::curate::Curation::new(
            Arc::new(std::sync::Mutex::new(c)),
            crate::curate::CurationLog::open(&dir)?,
        ))),
        None => None,
    };
    let previous = crate::report::previous_totals(&dir, sink.journal().state());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let stop = Arc::new(StopControl::default());
    let ledger = config.adaptive.clone().map(|a| Arc::new(Ledger::new(a)));
    let mut stats_slot = None;
    let outcome = rt.block_on(async {
        let generator = load_generator(&config).await?;
        // The run's clock starts once the model is loaded.
        let stats = Arc::new(match previous {
            Some(p) => Stats::with_previous(p),
            None => Stats::new(),
        });
        stats_slot = Some(stats.clone());
        let metrics = match args.metrics_addr {
            Some(addr) => Some(crate::metrics::MetricsServer::start(addr, stats.clone()).await?),
            None => None,
        };
        let textfile = match &args.metrics_textfile {
            Some(path) => Some(crate::metrics::TextfileWriter::start(
                path.clone(),
                stats.clone(),
                Duration::from_secs(15),
            )?),
            None => None,
        };
        let progress = (!args.quiet).then(|| {
            crate::progress::Progress::start(
                stats.clone(),
                config.limits.max_problems,
                crate::progress::ProgressMode::detect(log_format == LogFormat::Json),
                args.progress_interval,
            )
        });
        watch_signals(stop.clone(), args.grace);
        let mut sources = sources;
        if proposes {
            let reports =
                crate::propose::phase::run(&config, &dir, &mut sources, &generator, &stop).await?;
            for r in &reports {
                eprintln!("{}", r.render_text());
            }
        }
        let pipeline = Pipeline {
            ledger: ledger.clone(),
            sources,
            templates,
            generator,
            chain,
            extract_answer: smelt_verifiers::extract_answer,
            config: config.clone(),
            curation: curation.clone(),
        };
        let options = RunOptions {
            max_duration,
            grace: args.grace,
            verify_workers: config.verify.workers.unwrap_or_else(default_workers),
            shard,
        };
        let outcome = runtime::run(pipeline, sink, options, stats.clone(), stop.clone()).await;
        if let Some(p) = progress {
            p.finish();
        }
        if let Some(m) = metrics {
            m.shutdown();
        }
        if let Some(t) = textfile {
            t.finish()?;
        }
        anyhow::Ok(outcome)
    });
    let Some(stats) = stats_slot else {
        // Failed before the run started (model load): nothing ran, nothing to report.
        return Err(outcome
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("the run did not start")));
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => Outcome::Failed(super::describe(&e)),
    };
    if let Some(c) = &curation {
        c.finish()?;
    }
    finish_report(
        &config,
        &dir,
        &stats,
        &outcome,
        ledger.as_deref(),
        curation.as_deref(),
    )?;
    if !args.no_journal {
        RunOutcome::new(&outcome, shard, &identity).write(&dir)?;
    }
    drop(lock);
    Ok(outcome.exit_code())
}

fn finish_report(
    config: &PipelineConfig,
    dir: &Path,
    stats: &Stats,
    outcome: &Outcome,
    ledger: Option<&Ledger>,
    curation: Option<&crate::curate::Curation>,
) -> anyhow::Result<()> {
    let mut report = crate::report::RunReport::new(
        config.run.name.clone(),
        dir,
        &stats.snapshot(),
        outcome.to_report(),
        outcome.exit_code(),
    );
    if let Some(ledger) = ledger {
        // problems.jsonl is derived from the journal (a resume replays every outcome), so a
        // failure here loses nothing that cannot be rebuilt.
        match ledger.write(dir) {
            Ok(summary) => report.sampling = Some(summary),
            Err(e) => tracing::error!(error = %e, "cannot write the adaptive sampling records"),
        }
    }
    report.curation = curation.map(crate::curate::Curation::summary);
    report.write_json(dir)?;
    report.write_html(dir)?;
    eprint!("{}", report.summary_text());
    if let Some(summary) = &report.sampling {
        eprintln!("{}", summary.render_text());
    }
    if let Some(c) = &report.curation {
        let n = &c.counts;
        eprintln!(
            "curation: {} of {} problems removed ({} exact, {} near-duplicate, {} contaminated); log: {}",
            n.removed(),
            n.checked,
            n.exact,
            n.near_duplicate,
            n.contaminated,
            c.log.display()
        );
    }
    eprintln!("{}", outcome.describe());
    Ok(())
}

/// What identifies the model in the journal, known before the model loads.
fn model_label(config: &PipelineConfig) -> String {
    match (&config.model.kind, &config.model.id, &config.model.path) {
        (_, Some(id), _) => id.clone(),
        (ModelKind::Replay, None, Some(p)) => format!("replay:{}", p.display()),
        _ => String::new(),
    }
}

async fn load_generator(config: &PipelineConfig) -> anyhow::Result<Arc<dyn Generator>> {
    let generator = start_generator(config).await?;
    if config.model.self_test && config.model.kind != ModelKind::Replay {
        use crate::generate::self_test;
        let check = self_test::run(&generator, &self_test::PROMPTS, self_test::MAX_TOKENS).await?;
        check.verdict()?;
        tracing::info!(
            prompts = check.serial.len(),
            elapsed_ms = check.elapsed.as_millis() as u64,
            "self-test passed: batched greedy completions equal serial ones"
        );
    }
    Ok(generator)
}

async fn start_generator(config: &PipelineConfig) -> anyhow::Result<Arc<dyn Generator>> {
    let m = &config.model;
    Ok(match m.kind {
        ModelKind::Replay => Arc::new(crate::generate::replay::ReplayGenerator::load(
            m,
            &config.base_dir,
        )?),
        ModelKind::Mistralrs => {
            Arc::new(crate::generate::mistral::MistralGenerator::load(m, &config.base_dir).await?)
        }
        ModelKind::Openai => Arc::new(crate::generate::openai::OpenAiGenerator::new(m)?),
        ModelKind::LlamaServer => {
            let slots = m
                .max_in_flight
                .saturating_mul(config.sampling.samples_per_problem.max(1) as usize);
            Arc::new(
                crate::generate::llama_server::LlamaServerGenerator::start(
                    m,
                    &config.base_dir,
                    slots,
                    config.sampling.max_tokens,
                )
                .await?,
            )
        }
    })
}

fn sink_config(config: &PipelineConfig, dir: &Path) -> anyhow::Result<SinkConfig> {
    let o = &config.output;
    Ok(SinkConfig {
        dir: dir.to_path_buf(),
        run_name: config.run.name.clone(),
        rows_per_shard: o.rows_per_shard,
        compression: match o.compression.as_str() {
            "snappy" => ShardCompression::Snappy,
            "none" => ShardCompression::None,
            _ => ShardCompression::Zstd(o.zstd_level),
        },
        keep_rejected: o.keep_rejected,
        max_shard_age: humantime::parse_duration(&o.max_shard_age)?,
    })
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// `--force-new`: moves the previous run's files into `superseded/<timestamp>/`.
fn supersede(dir: &Path) -> anyhow::Result<()> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let target = dir.join("superseded").join(stamp);
    let mut moved = false;
    for name in [
        "data",
        journal::FILE_NAME,
        manifest::FILE_NAME,
        "report.json",
        "report.html",
        "README.md",
        crate::shard::outcome::FILE_NAME,
        crate::adaptive::record::FILE_NAME,
        crate::propose::log::FILE_NAME,
        crate::curate::log::FILE_NAME,
    ] {
        let from = dir.join(name);
        if from.exists() {
            std::fs::create_dir_all(&target)?;
            std::fs::rename(&from, target.join(name))
                .with_context(|| format!("moving {}", from.display()))?;
            moved = true;
        }
    }
    if moved {
        tracing::warn!(to = %target.display(), "--force-new: previous run moved aside");
    }
    Ok(())
}

/// First SIGINT/SIGTERM: stop taking problems, let in-flight work finish within the grace
/// period, commit. Second: exit at once (shards are atomic, so nothing is left corrupt).
fn watch_signals(stop: Arc<StopControl>, grace: Duration) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return;
        };
        let name = tokio::select! { _ = int.recv() => "SIGINT", _ = term.recv() => "SIGTERM" };
        stop.request(Outcome::Interrupted(format!("{name} received")));
        eprintln!(
            "\n{name}: finishing in-flight work (grace {}) and committing; send again to exit now",
            humantime::format_duration(grace)
        );
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} };
        eprintln!(
            "second signal: exiting now; committed shards are intact, the rest resumes next run"
        );
        std::process::exit(Outcome::Interrupted(String::new()).exit_code());
    });
}
