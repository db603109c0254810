//! What a round did, read back from its output directory, and `rounds.json`: per-round
//! acceptance, pass-rate distribution, proposal validity, difficulty steps and seeds.

use super::difficulty::Step;
use super::{NextSeeds, RoundsError};
use crate::propose::seeds::Example;
use crate::propose::{ProposalLog, ProposalRecord};
use crate::sink::manifest::Manifest;
use crate::sources::dataset::{for_each_row, Cell};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// The file, in the rounds' root directory.
pub const FILE_NAME: &str = "rounds.json";

/// Samples and accepts of one source in one round.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceRound {
    pub samples: u64,
    pub accepted: u64,
    /// The source's pass rate, what difficulty follows. With adaptive sampling, the mean of its
    /// problems' pass rates: each problem counts once. (Pooling the samples would weight each
    /// problem by its attempts, and the rule samples the problems it cannot solve longest: on
    /// the default model the pooled rate is about half the mean.) Without it, accepted /
    /// samples, which is then the same thing.
    pub pass_rate: Option<f64>,
    /// Problems behind `pass_rate` when it is a mean over problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<u64>,
    /// accepted / samples.
    pub sample_acceptance: Option<f64>,
}

/// The proposals of one round.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProposalRound {
    pub logged: u64,
    pub proven: u64,
    /// Proven and solved by at least one accepted sample.
    pub solved: u64,
    /// proven / logged.
    pub validity: Option<f64>,
    pub rejected: BTreeMap<String, u64>,
}

/// One round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundSummary {
    pub round: u32,
    pub dir: String,
    pub seed: u64,
    pub exit_code: i32,
    pub samples: u64,
    pub accepted: u64,
    pub acceptance_rate: Option<f64>,
    pub sources: BTreeMap<String, SourceRound>,
    pub proposals: ProposalRound,
    /// Per-problem pass rates in tenths (adaptive sampling's records; empty without them).
    pub pass_rate_histogram: Vec<u64>,
    /// Problems whose pass rate lies in the band (adaptive sampling's records).
    pub in_band: Option<u64>,
    pub difficulty: Vec<Step>,
    pub next_seeds: Option<NextSeeds>,
}

/// What a round's directory says, plus the examples it yields for later rounds.
pub struct RoundOutput {
    pub summary: RoundSummary,
    pub solved: Vec<Example>,
    pub proven: Vec<Example>,
}

fn rate(accepted: u64, samples: u64) -> Option<f64> {
    (samples > 0).then(|| accepted as f64 / samples as f64)
}

/// Reads round `round`'s outputs in `dir`.
pub fn read_round(
    dir: &Path,
    round: u32,
    seed: u64,
    exit_code: i32,
) -> Result<RoundOutput, RoundsError> {
    let report_path = dir.join("report.json");
    let file_err = |why: String| RoundsError::File {
        path: report_path.clone(),
        why,
    };
    let text = std::fs::read_to_string(&report_path).map_err(|e| file_err(e.to_string()))?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| file_err(format!("not a report: {e}")))?;
    let total = &report["total"];
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let mut sources = BTreeMap::new();
    if let Some(map) = total["sources"].as_object() {
        for (name, c) in map {
            let (samples, accepted) = (n(&c["samples"]), n(&c["accepted"]));
            sources.insert(
                name.clone(),
                SourceRound {
                    samples,
                    accepted,
                    pass_rate: rate(accepted, samples),
                    problems: None,
                    sample_acceptance: rate(accepted, samples),
                },
            );
        }
    }
    let records = crate::adaptive::record::read(&dir.join(crate::adaptive::record::FILE_NAME))?;
    for (name, s) in sources.iter_mut() {
        let rates: Vec<f64> = records
            .values()
            .filter(|r| &r.source == name && r.attempts > 0)
            .map(|r| r.pass_rate)
            .collect();
        if !rates.is_empty() {
            s.pass_rate = Some(rates.iter().sum::<f64>() / rates.len() as f64);
            s.problems = Some(rates.len() as u64);
        }
    }
    let (histogram, in_band) = if records.is_empty() {
        (Vec::new(), None)
    } else {
        let mut h = vec![0u64; 10];
        for r in records.values() {
            h[((r.pass_rate * 10.0).floor() as usize).min(9)] += 1;
        }
        let in_band = records
            .values()
            .filter(|r| r.placement == crate::adaptive::Placement::In)
            .count() as u64;
        (h, Some(in_band))
    };
    let proposals_path = dir.join(crate::propose::log::FILE_NAME);
    let proposals = if proposals_path.exists() {
        ProposalLog::read(&proposals_path)?
    } else {
        Vec::new()
    };
    let solved_ids = if records.is_empty() {
        accepted_problem_ids(dir)?
    } else {
        records
            .values()
            .filter(|r| r.accepted > 0)
            .map(|r| r.problem_id.clone())
            .collect()
    };
    let example = |r: &ProposalRecord| {
        Some(Example {
            id: r.id.clone(),
            text: r.text.clone()?,
            smt: r.smt.clone()?,
            equation: r.equation.clone(),
        })
    };
    let proven: Vec<Example> = proposals
        .iter()
        .filter(|r| r.accepted)
        .filter_map(example)
        .collect();
    let solved: Vec<Example> = proven
        .iter()
        .filter(|e| solved_ids.contains(&e.id))
        .cloned()
        .collect();
    let mut p = ProposalRound {
        logged: proposals.len() as u64,
        proven: proven.len() as u64,
        solved: solved.len() as u64,
        validity: rate(proven.len() as u64, proposals.len() as u64),
        rejected: BTreeMap::new(),
    };
    for r in &proposals {
        if let Some(reason) = &r.reason {
            *p.rejected.entry(reason.clone()).or_default() += 1;
        }
    }
    let (samples, accepted) = (n(&total["samples"]), n(&total["accepted"]));
    Ok(RoundOutput {
        summary: RoundSummary {
            round,
            dir: dir.display().to_string(),
            seed,
            exit_code,
            samples,
            accepted,
            acceptance_rate: rate(accepted, samples),
            sources,
            proposals: p,
            pass_rate_histogram: histogram,
            in_band,
            difficulty: Vec::new(),
            next_seeds: None,
        },
        solved,
        proven,
    })
}

/// Problem ids with an accepted sample, from the committed accepted shards.
pub fn accepted_problem_ids(dir: &Path) -> Result<BTreeSet<String>, RoundsError> {
    let mut ids = BTreeSet::new();
    let Ok(manifest) = Manifest::read(dir) else {
        return Ok(ids);
    };
    for shard in manifest.shards.iter().filter(|s| s.split == "accepted") {
        for_each_row(
            &dir.join(&shard.path),
            &["problem_id".to_string()],
            |_, cells| {
                if let Some(Cell::Str(id)) = cells("problem_id") {
                    ids.insert(id);
                }
                Ok(())
            },
        )?;
    }
    Ok(ids)
}

/// Every problem a round wrote to its output (either split), as (id, text), by id: what
/// curation in later rounds remembers (with `keep_rejected = false`, only problems with an
/// accepted sample are written).
pub fn written_problems(dir: &Path) -> Result<Vec<(String, String)>, RoundsError> {
    let mut problems = BTreeMap::new();
    let Ok(manifest) = Manifest::read(dir) else {
        return Ok(Vec::new());
    };
    let columns = ["problem_id".to_string(), "problem".to_string()];
    for shard in &manifest.shards {
        for_each_row(&dir.join(&shard.path), &columns, |_, cells| {
            if let (Some(Cell::Str(id)), Some(Cell::Str(text))) =
                (cells("problem_id"), cells("problem"))
            {
                problems.entry(id).or_insert(text);
            }
            Ok(())
        })?;
    }
    Ok(problems.into_iter().collect())
}

/// Writes `root/rounds.json` atomically.
pub fn write(root: &Path, rounds: &[RoundSummary]) -> Result<(), RoundsError> {
    let path = root.join(FILE_NAME);
    let tmp = root.join(format!("{FILE_NAME}.tmp"));
    let err = |e: std::io::Error| RoundsError::File {
        path: path.clone(),
        why: e.to_string(),
    };
    let json = serde_json::to_vec_pretty(&serde_json::json!({ "rounds": rounds }))
        .map_err(|e| err(e.into()))?;
    std::fs::create_dir_all(root).map_err(err)?;
    std::fs::write(&tmp, json).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)
}

/// The table `smelt rounds` prints: per round, then per source and difficulty step.
pub fn render_text(rounds: &[RoundSummary]) -> String {
    let pct = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
    let mut out = String::from(
        "round  samples  accepted  (so far)  acceptance  proposals proven/logged (validity)  solved  in band\n",
    );
    let mut so_far = 0;
    for r in rounds {
        so_far += r.accepted;
        let _ = writeln!(
            out,
            "{:>5}  {:>7}  {:>8}  {:>8}  {:>10}  {:>14}/{:<6} ({:>6})  {:>6}  {:>7}",
            r.round,
            r.samples,
            r.accepted,
            so_far,
            pct(r.acceptance_rate),
            r.proposals.proven,
            r.proposals.logged,
            pct(r.proposals.validity),
            r.proposals.solved,
            r.in_band.map_or("-".to_string(), |n| n.to_string()),
        );
        let rates: Vec<String> = r
            .sources
            .iter()
            .map(|(name, s)| match s.problems {
                Some(n) => format!(
                    "{name} {} over {n} problems ({} of {} samples)",
                    pct(s.pass_rate),
                    pct(s.sample_acceptance),
                    s.samples
                ),
                None => format!("{name} {} of {} samples", pct(s.pass_rate), s.samples),
            })
            .collect();
        let _ = writeln!(out, "       pass rates: {}", rates.join(", "));
        if !r.pass_rate_histogram.is_empty() {
            let bins: Vec<String> = r.pass_rate_histogram.iter().map(u64::to_string).collect();
            let _ = writeln!(
                out,
                "       problems by pass rate, in tenths from 0 to 1: {}",
                bins.join(" ")
            );
        }
        for s in &r.difficulty {
            let _ = writeln!(
                out,
                "       {}: pass rate {} at difficulty {} → {} ({})",
                s.source,
                pct(s.pass_rate),
                s.difficulty,
                s.next,
                s.action
            );
        }
        if let Some(n) = &r.next_seeds {
            let _ = writeln!(
                out,
                "       next seeds: {} ({} examples)",
                n.from, n.examples
            );
        }
    }
    out
}
