//! The shared shape of every procedural generator: a pure function from a random stream and a
//! difficulty to a problem with exact ground truth, wrapped as a [`ProblemSource`].

use super::seed::rng_for;
use super::{ProblemSource, SourceError};
use crate::problem::Problem;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// What a generator produces for one index.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub text: String,
    pub reference: String,
    pub structured: serde_json::Value,
    /// SMT-LIB 2 declarations and assertions.
    pub constraints: String,
}

/// Draws one problem at a difficulty in `0..=5`.
pub type GenerateFn = fn(&mut ChaCha8Rng, u32) -> Generated;

/// A procedural source: problem `i` is `generate(rng_for(seed, name, i), difficulty)`.
#[derive(Debug, Clone)]
pub struct Generator {
    name: String,
    seed: u64,
    difficulty: u32,
    size: Option<u64>,
    generate: GenerateFn,
}

impl Generator {
    /// `difficulty` is capped at 5; `size` bounds the indices (unbounded without it).
    pub fn new(
        name: impl Into<String>,
        seed: u64,
        difficulty: u32,
        size: Option<u64>,
        generate: GenerateFn,
    ) -> Self {
        Generator {
            name: name.into(),
            seed,
            difficulty: difficulty.min(5),
            size,
            generate,
        }
    }
}

impl ProblemSource for Generator {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> Option<u64> {
        self.size
    }

    fn problem(&self, index: u64) -> Result<Problem, SourceError> {
        if self.size.is_some_and(|n| index >= n) {
            return Err(SourceError::OutOfRange {
                source_name: self.name.clone(),
                index,
            });
        }
        let mut rng = rng_for(self.seed, &self.name, index);
        let g = (self.generate)(&mut rng, self.difficulty);
        Ok(Problem {
            id: format!("{}-{index}", self.name),
            source: self.name.clone(),
            index,
            text: g.text,
            reference: Some(g.reference),
            structured: g.structured,
            constraints: Some(g.constraints),
            tests: None,
            entry_point: None,
            extra: BTreeMap::new(),
        })
    }
}
