//! The fixed-bucket histogram of completion lengths.

use super::COMPLETION_TOKEN_BUCKETS;
use serde::{Deserialize, Serialize};

/// A fixed-bucket histogram. `counts[i]` counts values `<= bounds[i]` (and above the previous
/// bound); the last entry of `counts` counts values above every bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    pub bounds: Vec<u64>,
    pub counts: Vec<u64>,
    pub sum: u64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &[u64]) -> Self {
        Histogram {
            bounds: bounds.to_vec(),
            counts: vec![0; bounds.len() + 1],
            sum: 0,
            count: 0,
        }
    }

    /// The histogram of completion lengths, with [`COMPLETION_TOKEN_BUCKETS`].
    pub fn completion_tokens() -> Self {
        Histogram::new(&COMPLETION_TOKEN_BUCKETS)
    }

    pub fn observe(&mut self, value: u64) {
        let i = self.bounds.partition_point(|&b| b < value);
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum = self.sum.saturating_add(value);
        self.count += 1;
    }

    /// Adds another histogram's counts. Buckets are matched by bound; when the bounds differ
    /// (a snapshot from another smelt version) each of `other`'s buckets is re-filed under the
    /// first bound that covers its own upper bound.
    pub fn merge(&mut self, other: &Histogram) {
        if self.bounds == other.bounds && self.counts.len() == other.counts.len() {
            for (a, b) in self.counts.iter_mut().zip(&other.counts) {
                *a += b;
            }
        } else {
            for (i, &n) in other.counts.iter().enumerate() {
                let upper = other.bounds.get(i).copied().unwrap_or(u64::MAX);
                let j = self.bounds.partition_point(|&b| b < upper);
                if let Some(c) = self.counts.get_mut(j) {
                    *c += n;
                }
            }
        }
        self.sum = self.sum.saturating_add(other.sum);
        self.count += other.count;
    }

    /// Mean of the observed values, if any.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }
}
