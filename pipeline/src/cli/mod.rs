//! The `smelt` command. The only place that uses `anyhow` and turns errors into messages and
//! exit codes.

mod build;
mod export;
mod rounds;
mod run;
mod verify;

use crate::registry::Registry;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes (README "Exit codes").
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
}

#[derive(Parser, Debug)]
#[command(
    name = "smelt",
    version,
    about = "Turn a local language model into verified training data"
)]
struct Cli {
    /// Log format for stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArgs {
    /// The pipeline config (TOML).
    pub config: PathBuf,
    /// Override a config value: `--set sampling.temperature=0.6` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output directory (overrides `run.output`).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a pipeline config without loading a model.
    Validate(ConfigArgs),
    /// Generate, verify and write shards (resumes where a previous run stopped).
    Run(run::RunArgs),
    /// Run R rounds of the flywheel: proposals, solving, curation of seeds and difficulty
    /// between rounds (each round resumable like `run`).
    Rounds(rounds::RoundsArgs),
    /// Print the exact prompt a problem gets.
    Render {
        #[command(flatten)]
        config: ConfigArgs,
        /// Problem index within the source.
        #[arg(long, default_value_t = 0)]
        index: u64,
        /// Source name (default: the first source).
        #[arg(long)]
        source: Option<String>,
    },
    /// Summarise a run's output: counts, acceptance, reasons, examples.
    Inspect {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 3)]
        examples: usize,
    },
    /// Combine the shards of a sharded run (`run --shard`, job arrays) into one dataset.
    Merge {
        /// The run's output directory (the one holding `shards/`).
        dir: PathBuf,
        /// Merge what is committed even if some shards are missing, killed or still running.
        #[arg(long)]
        allow_incomplete: bool,
        /// Merge shards whose configurations differ.
        #[arg(long)]
        allow_mismatch: bool,
        /// Print the summary as JSON (what `merge.json` holds).
        #[arg(long)]
        json: bool,
    },
    /// Write a run's samples as training data: SFT, DPO and pass-rate Parquet with a card.
    Export(export::ExportArgs),
    /// Verify a file of existing traces without a model; one JSON verdict line per input row.
    Verify(verify::VerifyArgs),
    /// Tools for verifier authors.
    #[command(subcommand)]
    Verifier(VerifierCommand),
}

#[derive(Subcommand, Debug)]
enum VerifierCommand {
    /// Run the external-verifier handshake and sample cases against a command.
    Check {
        /// The verifier command and its arguments (after `--`).
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// List the verifier kinds this binary knows.
    List,
}

/// Runs the CLI with the built-in verifiers. Returns the exit code.
pub fn main() -> i32 {
    main_with(Registry::builtin())
}

/// Runs the CLI with a custom registry (a user-built `smelt` with extra verifiers).
pub fn main_with(registry: Registry) -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Validate(args) => build::validate_cmd(&args, &registry),
        Command::Run(args) => run::run_cmd(args, &registry, cli.log_format),
        Command::Rounds(args) => rounds::rounds_cmd(args, &registry, cli.log_format),
        Command::Render {
            config,
            index,
            source,
        } => build::render_cmd(&config, index, source.as_deref(), &registry),
        Command::Inspect {
            dir,
            json,
            examples,
        } => inspect_cmd(&dir, json, examples),
        Command::Merge {
            dir,
            allow_incomplete,
            allow_mismatch,
            json,
        } => merge_cmd(
            &dir,
            crate::merge::MergeOptions {
                allow_incomplete,
                allow_mismatch,
            },
            json,
        ),
        Command::Export(args) => export::export_cmd(args),
        Command::Verify(args) => verify::verify_cmd(args, &registry),
        Command::Verifier(VerifierCommand::Check { command }) => verify::check_cmd(&command),
        Command::Verifier(VerifierCommand::List) => {
            for kind in registry.kinds() {
                println!("{kind}");
            }
            Ok(exit::OK)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return exit::OK;
            }
            eprintln!("error: {}", describe(&e));
            exit::FAILED
        }
    }
}

fn inspect_cmd(dir: &std::path::Path, json: bool, examples: usize) -> anyhow::Result<i32> {
    let report = crate::inspect::inspect(dir, examples)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(exit::OK)
}

fn merge_cmd(
    dir: &std::path::Path,
    options: crate::merge::MergeOptions,
    json: bool,
) -> anyhow::Result<i32> {
    let summary = crate::merge::merge(dir, options)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.render_text());
    }
    Ok(exit::OK)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env(crate::env::LOG)
        .unwrap_or_else(|_| EnvFilter::new("warn,smelt=info,smelt_verifiers=info"));
    use std::io::IsTerminal;
    // Log lines go above the progress bar instead of through it; no colour codes in files.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(crate::progress::ProgressAwareStderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}

/// An error and its causes on one line, like `{:#}`, but a cause whose text the line already
/// holds is not repeated (many errors name their source in their own message:
/// `file.jsonl: No such file or directory`).
pub(crate) fn describe(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod describe_tests {
    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Named {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_named_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Named {
            path: "seeds.jsonl".into(),
            source: io,
        })
        .context("round 2");
        assert_eq!(
            format!("{e:#}"),
            "round 2: seeds.jsonl: no such file: no such file"
        );
        assert_eq!(super::describe(&e), "round 2: seeds.jsonl: no such file");
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(super::describe(&plain), "outer: inner");
    }
}
