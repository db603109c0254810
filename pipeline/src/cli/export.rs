//! `smelt export`: a run's samples as SFT, DPO and pass-rate Parquet with a dataset card.

use super::exit;
use crate::export::{Conversation, ExportOptions, Format, UserContent};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The run's output directory (a sharded run after `smelt merge`).
    run_dir: PathBuf,
    /// Where to write the export (a new or empty directory).
    #[arg(long)]
    to: PathBuf,
    /// Comma-separated formats: sft, dpo, pass_rate (default: every format the run can give;
    /// a named format the run cannot give is an error).
    #[arg(long, value_delimiter = ',')]
    format: Vec<Format>,
    /// A system message to put first in every conversation.
    #[arg(long)]
    system: Option<String>,
    /// The user message: `prompt` (the rendered prompt the model saw) or `problem` (the bare
    /// problem statement).
    #[arg(long, default_value = "prompt")]
    user: UserContent,
    /// At most this many DPO pairs per problem.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..))]
    max_pairs_per_problem: u64,
    /// Seed of the DPO pairing.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write into a non-empty directory, replacing an earlier export's files.
    #[arg(long)]
    force: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn export_cmd(args: ExportArgs) -> anyhow::Result<i32> {
    let opts = ExportOptions {
        formats: args.format,
        conversation: Conversation {
            system: args.system,
            user: args.user,
        },
        max_pairs_per_problem: usize::try_from(args.max_pairs_per_problem).unwrap_or(usize::MAX),
        seed: args.seed,
        force: args.force,
    };
    let summary = crate::export::export(&args.run_dir, &args.to, &opts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.render_text());
    }
    Ok(exit::OK)
}
