//! `smelt rounds`: the flywheel. Round `r` is an ordinary run in `<out>/round-NN/` (resumable
//! and exactly-once like any run); between rounds:
//! - the propose sources of round `r+1` draw their few-shot examples from the proposals
//!   accepted so far ([`seeds_after`]: proven well-posed *and* solved by at least one verified
//!   sample), falling back, with the reason recorded, when a round accepted none;
//! - each generator source's difficulty follows the model ([`difficulty::adapt`]): one step
//!   up when its pass rate was above the band, one down when below;
//! - the round's summary goes into `<out>/rounds.json` ([`summary`]).

pub mod difficulty;
pub mod summary;
#[cfg(test)]
mod tests;

use crate::adaptive::Band;
use crate::config::PipelineConfig;
use crate::propose::seeds::Example;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reading a round's outputs or writing the rounds' files failed.
#[derive(Debug, thiserror::Error)]
pub enum RoundsError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error(transparent)]
    Ledger(#[from] crate::adaptive::record::LedgerError),
    #[error(transparent)]
    Proposals(#[from] crate::propose::log::LogError),
    #[error(transparent)]
    Seeds(#[from] crate::propose::seeds::SeedError),
    #[error(transparent)]
    Source(#[from] crate::sources::SourceError),
}

/// What carries from one round to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Carry {
    /// Generator source → difficulty for the next round.
    pub difficulty: BTreeMap<String, u32>,
    /// The accepted proposals the next round's propose sources show first (`None`: none yet).
    pub seed_file: Option<PathBuf>,
}

impl Carry {
    /// Before round 1: the configured difficulties, no seed file.
    pub fn initial(base: &PipelineConfig) -> Carry {
        Carry {
            difficulty: base
                .sources
                .iter()
                .filter(|s| s.kind.is_generator())
                .map(|s| (s.name.clone(), s.difficulty_or_default()))
                .collect(),
            seed_file: None,
        }
    }
}

/// The directory of round `r` (1-based).
pub fn round_dir(root: &Path, r: u32) -> PathBuf {
    root.join(format!("round-{r:02}"))
}

/// The band difficulty follows: `[adaptive].band` when set, else 0.2–0.8.
pub fn band(base: &PipelineConfig) -> Band {
    base.adaptive.as_ref().map(|a| a.band).unwrap_or_default()
}

/// The config of round `r`: its own output directory and seed (fresh generator problems each
/// round), the carried difficulties, and the propose sources' round and seed file.
pub fn config_for_round(
    base: &PipelineConfig,
    root: &Path,
    r: u32,
    carry: &Carry,
) -> PipelineConfig {
    let mut cfg = base.clone();
    cfg.run.output = Some(round_dir(root, r));
    cfg.run.seed = base.run.seed.wrapping_add(u64::from(r.saturating_sub(1)));
    for s in &mut cfg.sources {
        if let Some(d) = carry.difficulty.get(&s.name) {
            s.difficulty = Some(*d);
        }
        if let Some(p) = s.propose.as_mut() {
            p.round = r;
            // Shown first; with `examples` or more of them, they are the only examples.
            p.accepted_file = carry.seed_file.clone();
        }
    }
    cfg
}

/// Where the next round's examples come from, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NextSeeds {
    pub file: Option<PathBuf>,
    pub examples: usize,
    pub from: String,
}

/// The next round's seed file: every proposal accepted up to round `r` (proven and solved),
/// written to `<round r dir>/next_seeds.jsonl`. With none solved, the proven ones; with none
/// proven either, the previous seeds stay (a degenerate round never loses earlier examples).
pub fn seeds_after(
    round_dir: &Path,
    earlier: &[Example],
    solved: &[Example],
    proven: &[Example],
    previous: Option<&Path>,
) -> Result<(NextSeeds, Vec<Example>), crate::propose::seeds::SeedError> {
    let (mut pool, from) = if !solved.is_empty() {
        (
            solved.to_vec(),
            format!("{} proposal(s) proven and solved this round", solved.len()),
        )
    } else if !proven.is_empty() {
        (
            proven.to_vec(),
            format!(
                "no proposal was solved this round: {} proven ones instead",
                proven.len()
            ),
        )
    } else if !earlier.is_empty() {
        return Ok((
            NextSeeds {
                file: previous.map(Path::to_path_buf),
                examples: earlier.len(),
                from: "no proposal was proven this round: the earlier rounds' examples stay".into(),
            },
            earlier.to_vec(),
        ));
    } else {
        return Ok((
            NextSeeds {
                file: None,
                examples: 0,
                from: "no proposal was proven yet: the configured seed sources stay".into(),
            },
            Vec::new(),
        ));
    };
    // Earlier rounds' examples first: the pool grows, never shrinks.
    let mut all: Vec<Example> = earlier.to_vec();
    all.retain(|e| !pool.iter().any(|p| p.id == e.id));
    all.append(&mut pool);
    let file = round_dir.join("next_seeds.jsonl");
    crate::propose::seeds::write_file(&file, &all)?;
    Ok((
        NextSeeds {
            file: Some(file),
            examples: all.len(),
            from,
        },
        all,
    ))
}
