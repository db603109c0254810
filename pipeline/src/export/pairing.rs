//! Preference pairs for DPO: an accepted and a rejected sample of the same problem.
//!
//! Per problem, the accepted samples and the rejected ones (in `sample_index` order) are each
//! shuffled by a generator seeded from `(seed, problem_id)`, so a problem's pairs depend only on
//! the seed and its own samples, not on shard order or on other problems. Pair `i` takes the
//! `i`-th accepted and the `i`-th rejected sample, wrapping around the shorter side, for
//! `i < min(max_per_problem, max(accepted, rejected))`: no sample is used twice on its side
//! while that side has an unused one, and no pair repeats. Problems with no accepted or no
//! rejected sample give no pair. Samples rejected because a verifier could not run (a timeout,
//! a crash) are not negatives and are left out ([`SampleRecord::is_negative`]).

use super::problems::{ProblemRecord, SampleRecord};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

/// One pair, as indices: `problems[problem].samples[chosen]` and `…samples[rejected]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pair {
    pub problem: usize,
    pub chosen: usize,
    pub rejected: usize,
}

/// The pairs of every problem, in problem order.
pub fn pairs(problems: &[ProblemRecord], max_per_problem: usize, seed: u64) -> Vec<Pair> {
    let mut out = Vec::new();
    for (p, problem) in problems.iter().enumerate() {
        let mut accepted: Vec<usize> = index_of(problem, |s| s.accepted);
        let mut rejected: Vec<usize> = index_of(problem, SampleRecord::is_negative);
        if accepted.is_empty() || rejected.is_empty() {
            continue;
        }
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(problem_seed(seed, &problem.problem_id));
        accepted.shuffle(&mut rng);
        rejected.shuffle(&mut rng);
        let n = max_per_problem.min(accepted.len().max(rejected.len()));
        out.extend((0..n).map(|i| Pair {
            problem: p,
            chosen: accepted[i % accepted.len()],
            rejected: rejected[i % rejected.len()],
        }));
    }
    out
}

fn index_of(problem: &ProblemRecord, keep: impl Fn(&SampleRecord) -> bool) -> Vec<usize> {
    (0..problem.samples.len())
        .filter(|&i| keep(&problem.samples[i]))
        .collect()
}

/// A 64-bit seed from the export seed and the problem id (SHA-256, the same on every platform).
fn problem_seed(seed: u64, problem_id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(problem_id.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}
