//! MinHash signatures over word n-grams and a banded LSH index over them.
//!
//! The scheme is datatrove's (`datatrove.pipeline.dedup.minhash`, whose defaults we take: word
//! 5-grams, 14 bands × 8 rows = 112 hashes, 32-bit signature values): each shingle is hashed to
//! 64 bits (xxHash3), and hash function `i` maps it to `(aᵢ·h + bᵢ) mod (2⁶¹ − 1)`, keeping the
//! low 32 bits; a signature holds each function's minimum over the text's shingles. The
//! parameters `aᵢ, bᵢ` come from ChaCha8 seeded with a fixed constant, so signatures are the
//! same on every machine and every run.
//!
//! Two texts' signatures agree at a position with probability equal to the Jaccard similarity
//! of their shingle sets, so the share of agreeing positions estimates it. The LSH index puts
//! each kept signature into one bucket per band (the band's 8 values hashed together); a new
//! text's candidates are the kept texts sharing at least one bucket (probability
//! `1 − (1 − s⁸)¹⁴` for similarity `s`: 0.92 at s = 0.8), and a candidate is a near duplicate
//! only if the estimate reaches the configured threshold.

use super::normalize::{shingles, stable_hash};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// 2⁶¹ − 1, the Mersenne prime of the universal hash family.
const MERSENNE_61: u64 = (1 << 61) - 1;
/// The seed of the hash family's parameters (fixed: signatures must match across runs).
const FAMILY_SEED: u64 = 1;
/// End of a bucket's chain.
const NONE: u32 = u32::MAX;

/// Computes MinHash signatures of normalised texts.
#[derive(Debug, Clone)]
pub struct MinHasher {
    ngram: usize,
    /// `(a, b)` of each hash function.
    params: Vec<(u64, u64)>,
}

impl MinHasher {
    /// A hasher over word `ngram`-grams with `hashes` hash functions.
    pub fn new(ngram: usize, hashes: usize) -> Self {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(FAMILY_SEED);
        let params = (0..hashes)
            .map(|_| {
                (
                    rng.random_range(1..MERSENNE_61),
                    rng.random_range(0..MERSENNE_61),
                )
            })
            .collect();
        MinHasher {
            ngram: ngram.max(1),
            params,
        }
    }

    /// The signature of a normalised text (see [`super::normalize::normalize`]).
    pub fn signature(&self, normalized: &str) -> Vec<u32> {
        let mut mins = vec![u64::MAX; self.params.len()];
        for shingle in shingles(normalized, self.ngram) {
            let h = stable_hash(shingle.as_bytes()) % MERSENNE_61;
            for (min, &(a, b)) in mins.iter_mut().zip(&self.params) {
                let v = ((u128::from(a) * u128::from(h) + u128::from(b)) % u128::from(MERSENNE_61))
                    as u64
                    & u64::from(u32::MAX);
                *min = (*min).min(v);
            }
        }
        mins.into_iter().map(|m| m as u32).collect()
    }
}

/// The share of positions at which two signatures agree: the estimated Jaccard similarity of
/// the two texts' shingle sets.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// Kept signatures, findable by band. Entries are numbered `0, 1, 2, …` in insertion order.
///
/// Memory per entry: the signature (4 bytes a value) plus one chain link and one bucket-map
/// slot per band.
#[derive(Debug, Clone)]
pub struct LshIndex {
    bands: usize,
    rows: usize,
    /// Bucket key (band and its values hashed together) → the newest entry in that bucket.
    heads: HashMap<u64, u32>,
    /// `next[entry * bands + band]`: the previous entry in the same bucket, or `NONE`.
    next: Vec<u32>,
    /// Signatures, `bands * rows` values each, one after the other.
    signatures: Vec<u32>,
}

impl LshIndex {
    /// An empty index for signatures of `bands * rows` values.
    pub fn new(bands: usize, rows: usize) -> Self {
        LshIndex {
            bands: bands.max(1),
            rows: rows.max(1),
            heads: HashMap::new(),
            next: Vec::new(),
            signatures: Vec::new(),
        }
    }

    /// How many signatures the index holds.
    pub fn len(&self) -> usize {
        self.signatures.len() / (self.bands * self.rows)
    }

    /// Whether the index holds no signature.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// The signature of entry `id`.
    pub fn signature(&self, id: u32) -> &[u32] {
        let width = self.bands * self.rows;
        let start = id as usize * width;
        self.signatures.get(start..start + width).unwrap_or(&[])
    }

    /// Adds `signature` (of `bands * rows` values); returns its entry number.
    pub fn insert(&mut self, signature: &[u32]) -> u32 {
        debug_assert_eq!(signature.len(), self.bands * self.rows);
        let id = self.len() as u32;
        for band in 0..self.bands {
            let key = self.bucket(band, signature);
            let previous = self.heads.insert(key, id).unwrap_or(NONE);
            self.next.push(previous);
        }
        self.signatures.extend_from_slice(signature);
        id
    }

    /// Entries that share at least one band bucket with `signature`, each once, ascending.
    pub fn candidates(&self, signature: &[u32]) -> Vec<u32> {
        let mut found = Vec::new();
        for band in 0..self.bands {
            let mut id = self
                .heads
                .get(&self.bucket(band, signature))
                .copied()
                .unwrap_or(NONE);
            while id != NONE {
                found.push(id);
                id = self
                    .next
                    .get(id as usize * self.bands + band)
                    .copied()
                    .unwrap_or(NONE);
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The most similar candidate whose estimated similarity is at least `threshold`, with that
    /// similarity (the earliest entry on ties).
    pub fn best_match(&self, signature: &[u32], threshold: f64) -> Option<(u32, f64)> {
        let mut best: Option<(u32, f64)> = None;
        for id in self.candidates(signature) {
            let s = similarity(signature, self.signature(id));
            if s >= threshold && best.is_none_or(|(_, b)| s > b) {
                best = Some((id, s));
            }
        }
        best
    }

    /// The bucket key of `band` of `signature`: its values hashed with the band number.
    fn bucket(&self, band: usize, signature: &[u32]) -> u64 {
        let values = signature
            .get(band * self.rows..(band + 1) * self.rows)
            .unwrap_or(&[]);
        let mut bytes = Vec::with_capacity(4 * self.rows);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        xxhash_rust::xxh3::xxh3_64_with_seed(&bytes, band as u64)
    }
}
