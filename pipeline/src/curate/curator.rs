//! The curator: decides, problem by problem in schedule order, which problems a run keeps.
//!
//! A problem is removed when it is contaminated (shares benchmark n-grams), an exact duplicate
//! of a kept problem (equal normalised text), or a near duplicate of one (estimated Jaccard
//! similarity of word-n-gram sets at least the threshold), checked in that order. Only kept
//! problems are remembered, so a removed problem never causes another removal. Decisions are a
//! pure function of the problems seen before, in order: replaying the same schedule (a resume,
//! or every shard of a sharded run) takes the same decisions.
//!
//! Memory per kept problem: its id, a `u64` text hash (exact) and a signature of
//! `bands × rows` 32-bit values with its LSH links (near duplicates). Normalised texts are not
//! kept.

use super::decontam::BenchmarkIndex;
use super::minhash::{LshIndex, MinHasher};
use super::normalize::{normalize, stable_hash};
use super::{CurateError, CurationConfig};
use crate::problem::Problem;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why a problem was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalKind {
    /// Its normalised text equals a kept problem's.
    Exact,
    /// Its estimated similarity to a kept problem reaches `curation.threshold`.
    NearDuplicate,
    /// It shares n-grams with a benchmark item.
    Contaminated,
}

/// What a removed problem matched: a kept problem, or a benchmark item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Matched {
    /// The kept problem it duplicates.
    Problem { problem_id: String },
    /// The benchmark file (as configured) and the item's 1-based line.
    Benchmark { file: PathBuf, line: u64 },
}

/// One removal, as recorded in `curation.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    pub problem_id: String,
    pub source: String,
    /// The problem's index within its source.
    pub index: u64,
    pub kind: RemovalKind,
    pub matched: Matched,
    /// Exact: 1. Near duplicate: the estimated Jaccard similarity. Contaminated: the share of
    /// the problem's n-grams found in the benchmark item.
    pub similarity: f64,
    /// Contaminated: the first shared n-gram (normalised text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngram: Option<String>,
}

/// The decision on one problem.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Keep,
    Remove(Removal),
}

/// Curation state: the kept problems and the benchmark index.
///
/// One curator can span several runs ("rounds"): share it (the runtime holds it behind
/// [`super::Curation`], which takes an `Arc<Mutex<Curator>>`), or seed a fresh one with
/// [`Curator::remember`] for every problem kept in earlier rounds, in their order, before the
/// new round's first [`Curator::admit`]. Either way a later round removes problems that
/// duplicate an earlier round's.
#[derive(Debug)]
pub struct Curator {
    /// Normalised-text hash → kept entry (`None`: exact deduplication off).
    exact: Option<HashMap<u64, u32>>,
    /// Signatures of the kept problems (`None`: near-duplicate detection off).
    near: Option<(MinHasher, LshIndex)>,
    threshold: f64,
    benchmarks: BenchmarkIndex,
    /// Ids of the kept problems, by entry number.
    kept: Vec<Box<str>>,
}

impl Curator {
    /// A curator for `config` with an already built benchmark index.
    pub fn new(config: &CurationConfig, benchmarks: BenchmarkIndex) -> Self {
        Curator {
            exact: config.exact.then(HashMap::new),
            near: config.near_duplicates.then(|| {
                (
                    MinHasher::new(config.ngram, config.bands * config.rows),
                    LshIndex::new(config.bands, config.rows),
                )
            }),
            threshold: config.threshold,
            benchmarks,
            kept: Vec::new(),
        }
    }

    /// A curator for `config`, reading its benchmark files (relative to `base`, the config
    /// file's directory).
    pub fn load(config: &CurationConfig, base: &Path) -> Result<Self, CurateError> {
        let benchmarks = BenchmarkIndex::load(
            &config.decontaminate,
            base,
            config.decontam_ngram,
            config.min_overlap,
        )?;
        Ok(Curator::new(config, benchmarks))
    }

    /// How many problems are kept (admitted or remembered) so far.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// How many benchmark items the decontamination index holds.
    pub fn benchmark_items(&self) -> usize {
        self.benchmarks.items()
    }

    /// Decides on `problem`; a kept problem is remembered for the decisions after it.
    pub fn admit(&mut self, problem: &Problem) -> Admission {
        let normalized = normalize(&problem.text);
        let removal = |kind, matched, similarity, ngram| {
            Admission::Remove(Removal {
                problem_id: problem.id.clone(),
                source: problem.source.clone(),
                index: problem.index,
                kind,
                matched,
                similarity,
                ngram,
            })
        };
        if let Some(c) = self.benchmarks.check(&normalized) {
            let matched = Matched::Benchmark {
                file: c.item.file,
                line: c.item.line,
            };
            return removal(RemovalKind::Contaminated, matched, c.share, Some(c.ngram));
        }
        let hash = stable_hash(normalized.as_bytes());
        if let Some(&entry) = self.exact.as_ref().and_then(|m| m.get(&hash)) {
            return removal(RemovalKind::Exact, self.matched(entry), 1.0, None);
        }
        let signature = self.near.as_ref().map(|(h, _)| h.signature(&normalized));
        if let (Some((_, lsh)), Some(sig)) = (&self.near, &signature) {
            if let Some((entry, s)) = lsh.best_match(sig, self.threshold) {
                return removal(RemovalKind::NearDuplicate, self.matched(entry), s, None);
            }
        }
        self.keep(&problem.id, hash, signature);
        Admission::Keep
    }

    /// Remembers a problem as kept without checking it (e.g. one kept by an earlier round), so
    /// later problems are checked against it.
    pub fn remember(&mut self, problem_id: &str, text: &str) {
        let normalized = normalize(text);
        let hash = stable_hash(normalized.as_bytes());
        let signature = self.near.as_ref().map(|(h, _)| h.signature(&normalized));
        self.keep(problem_id, hash, signature);
    }

    fn keep(&mut self, problem_id: &str, hash: u64, signature: Option<Vec<u32>>) {
        let entry = self.kept.len() as u32;
        if let Some(m) = &mut self.exact {
            m.entry(hash).or_insert(entry);
        }
        if let (Some((_, lsh)), Some(sig)) = (&mut self.near, signature) {
            let id = lsh.insert(&sig);
            debug_assert_eq!(id, entry, "LSH entries follow kept problems");
        }
        self.kept.push(problem_id.into());
    }

    fn matched(&self, entry: u32) -> Matched {
        Matched::Problem {
            problem_id: self
                .kept
                .get(entry as usize)
                .map(|id| id.to_string())
                .unwrap_or_default(),
        }
    }
}
