//! The few-shot pool of a propose source: problems with formal statements, from the
//! pipeline's generator sources and from a seed file (a round's accepted proposals).

use super::ProposeSpec;
use crate::sources::ProblemSource;
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

/// One few-shot example: a problem and its SMT-LIB statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub smt: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {why}")]
    Line {
        path: std::path::PathBuf,
        line: usize,
        why: String,
    },
    #[error("source `{source_name}`: {why}")]
    Source { source_name: String, why: String },
    #[error(
        "propose source `{0}`: the seed pool is empty (no seed problem has a formal statement)"
    )]
    Empty(String),
}

/// The pool for `spec`: the first `spec.pool` problems of each seed source that carry
/// constraints, then the seed file's examples, in that order.
pub fn pool(
    name: &str,
    spec: &ProposeSpec,
    sources: &[Arc<dyn ProblemSource>],
    seed_file: Option<&Path>,
) -> Result<Vec<Example>, SeedError> {
    let mut pool = Vec::new();
    for seed in &spec.seeds {
        let Some(source) = sources.iter().find(|s| s.name() == seed) else {
            return Err(SeedError::Source {
                source_name: seed.clone(),
                why: "no such source".into(),
            });
        };
        let n = source.len().map_or(spec.pool, |len| len.min(spec.pool));
        for i in 0..n {
            let p = source.problem(i).map_err(|e| SeedError::Source {
                source_name: seed.clone(),
                why: e.to_string(),
            })?;
            if let Some(smt) = p.constraints {
                pool.push(Example {
                    id: p.id,
                    text: p.text,
                    smt,
                });
            }
        }
    }
    if let Some(path) = seed_file {
        pool.extend(read_file(path)?);
    }
    if pool.is_empty() {
        return Err(SeedError::Empty(name.to_string()));
    }
    Ok(pool)
}

/// Reads a seed file: JSONL of `{"id", "text", "smt"}`.
pub fn read_file(path: &Path) -> Result<Vec<Example>, SeedError> {
    let io = |source| SeedError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let example: Example = serde_json::from_str(&line).map_err(|e| SeedError::Line {
            path: path.to_path_buf(),
            line: n + 1,
            why: format!("{e} (each line is {{\"id\", \"text\", \"smt\"}})"),
        })?;
        out.push(example);
    }
    Ok(out)
}

/// Writes `examples` as a seed file (atomically).
pub fn write_file(path: &Path, examples: &[Example]) -> Result<(), SeedError> {
    let io = |source| SeedError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut text = String::new();
    for e in examples {
        text.push_str(&serde_json::to_string(e).map_err(|e| io(e.into()))?);
        text.push('\n');
    }
    let tmp = path.with_extension("jsonl.tmp");
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The examples of proposal `index`: `k` distinct ones, drawn from (seed, source, index).
pub fn draw<'a>(
    pool: &'a [Example],
    k: usize,
    seed: u64,
    name: &str,
    index: u64,
) -> Vec<&'a Example> {
    let mut rng = crate::sources::seed::rng_for(seed, &format!("{name}/propose"), index);
    let k = k.min(pool.len());
    sample(&mut rng, pool.len(), k)
        .into_iter()
        .map(|i| &pool[i])
        .collect()
}
