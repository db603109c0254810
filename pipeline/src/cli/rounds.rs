//! `smelt rounds`: R rounds of the flywheel (`crate::rounds`), each an ordinary run in
//! `<out>/round-NN/`. A rerun resumes: finished rounds replay from their journals (nothing is
//! generated twice) and take the same decisions, so later rounds start where they stopped.

use super::build::{load_config, usage_or};
use super::run::{execute, RunArgs};
use super::{exit, LogFormat};
use crate::propose::seeds::Example;
use crate::registry::Registry;
use crate::rounds::{self, difficulty, summary, Carry};

#[derive(clap::Args, Debug)]
pub struct RoundsArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Rounds to run.
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Keep every generator source at its configured difficulty.
    #[arg(long)]
    pub fixed_difficulty: bool,
}

pub fn rounds_cmd(
    args: RoundsArgs,
    registry: &Registry,
    log_format: LogFormat,
) -> anyhow::Result<i32> {
    let base = match load_config(&args.run.config, registry) {
        Ok(c) => c,
        Err(e) => return usage_or(e),
    };
    if args.run.shard.is_some() || args.rounds == 0 {
        eprintln!(
            "error: smelt rounds needs --rounds ≥ 1 and runs unsharded (each round feeds the next)"
        );
        return Ok(exit::USAGE);
    }
    let root = base.output_dir();
    let band = rounds::band(&base);
    let mut carry = Carry::initial(&base);
    let mut seeds: Vec<Example> = Vec::new();
    let mut done = Vec::new();
    // With `[curation]`: the problems earlier rounds wrote, which later rounds must not repeat.
    let mut earlier = Vec::new();
    for r in 1..=args.rounds {
        let config = rounds::config_for_round(&base, &root, r, &carry);
        let dir = config.output_dir();
        eprintln!("round {r}/{}: {}", args.rounds, dir.display());
        let code = execute(config.clone(), &args.run, registry, log_format, &earlier)?;
        if base.curation.is_some() {
            earlier.extend(summary::written_problems(&dir)?);
        }
        let out = summary::read_round(&dir, r, config.run.seed, code)?;
        let mut s = out.summary;
        for source in config.sources.iter().filter(|s| s.kind.is_generator()) {
            let d = carry
                .difficulty
                .get(&source.name)
                .copied()
                .unwrap_or_else(|| source.difficulty_or_default());
            let rate = s.sources.get(&source.name).and_then(|c| c.pass_rate);
            let step = difficulty::adapt(&source.name, d, rate, band);
            if !args.fixed_difficulty {
                carry.difficulty.insert(source.name.clone(), step.next);
            }
            s.difficulty.push(step);
        }
        let (next, pool) = rounds::seeds_after(
            &dir,
            &seeds,
            &out.solved,
            &out.proven,
            carry.seed_file.as_deref(),
        )?;
        seeds = pool;
        // The output root is relative to the working directory, the config's paths to the
        // config file: the carried file is handed on absolute.
        carry.seed_file = match &next.file {
            Some(f) => Some(std::path::absolute(f)?),
            None => None,
        };
        s.next_seeds = Some(next);
        done.push(s);
        summary::write(&root, &done)?;
        if code != exit::OK {
            eprintln!("round {r} ended with exit code {code}: later rounds wait (run the same command again to resume)");
            eprint!("{}", summary::render_text(&done));
            return Ok(code);
        }
    }
    eprint!("{}", summary::render_text(&done));
    eprintln!("rounds: {}", root.join(summary::FILE_NAME).display());
    Ok(exit::OK)
}
