//! The few-shot pool of a propose source: problems with formal statements, from the
//! pipeline's generator sources and from a seed file (a round's accepted proposals).

use super::ProposeSpec;
use crate::sources::ProblemSource;
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

/// One few-shot example: a problem and its SMT-LIB statement, with the equation it was
/// written as when it has one (a template may show either form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub smt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equation: Option<String>,
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

/// The examples a propose source draws from: those accepted in earlier rounds come first,
/// the configured ones fill the places left.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub accepted: Vec<Example>,
    pub configured: Vec<Example>,
}

/// The pool for `spec`: configured = the first `spec.pool` problems of each seed source that
/// carry constraints, then the seed file's examples; accepted = `accepted_file`'s.
pub fn pool(
    name: &str,
    spec: &ProposeSpec,
    sources: &[Arc<dyn ProblemSource>],
    seed_file: Option<&Path>,
    accepted_file: Option<&Path>,
) -> Result<Pool, SeedError> {
    let mut configured = Vec::new();
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
                configured.push(Example {
                    id: p.id,
                    text: p.text,
                    smt,
                    equation: None,
                });
            }
        }
    }
    if let Some(path) = seed_file {
        configured.extend(read_file(path)?);
    }
    let accepted = match accepted_file {
        Some(path) => read_file(path)?,
        None => Vec::new(),
    };
    configured.retain(|c| !accepted.iter().any(|a| a.id == c.id));
    if accepted.is_empty() && configured.is_empty() {
        return Err(SeedError::Empty(name.to_string()));
    }
    Ok(Pool {
        accepted,
        configured,
    })
}

/// A line of a seed file: the statement in SMT-LIB, as an equation in `answer`, or both.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedLine {
    id: String,
    text: String,
    smt: Option<String>,
    equation: Option<String>,
}

/// Reads a seed file: JSONL of `{"id", "text", "smt"}`, or `"equation"` in place of (or beside)
/// `"smt"`; an equation alone is translated (`smelt_verifiers::well_posed::equation`).
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
        let bad = |why: String| SeedError::Line {
            path: path.to_path_buf(),
            line: n + 1,
            why,
        };
        let seed: SeedLine = serde_json::from_str(&line).map_err(|e| {
            bad(format!(
                "{e} (each line is {{\"id\", \"text\", \"smt\" and/or \"equation\"}})"
            ))
        })?;
        let smt = match (seed.smt, &seed.equation) {
            (Some(smt), _) => smt,
            (None, Some(eq)) => smelt_verifiers::well_posed::equation::to_smtlib(eq)
                .map_err(|e| bad(format!("equation: {e}")))?,
            (None, None) => return Err(bad("the line has neither `smt` nor `equation`".into())),
        };
        out.push(Example {
            id: seed.id,
            text: seed.text,
            smt,
            equation: seed.equation,
        });
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

/// The examples of proposal `index`: `k` distinct ones, drawn from (seed, source, index): as
/// many accepted ones as `k` allows, the configured ones for the rest; the accepted ones last,
/// nearest to where the model writes.
pub fn draw<'a>(pool: &'a Pool, k: usize, seed: u64, name: &str, index: u64) -> Vec<&'a Example> {
    let mut rng = crate::sources::seed::rng_for(seed, &format!("{name}/propose"), index);
    let from_accepted = k.min(pool.accepted.len());
    let from_configured = (k - from_accepted).min(pool.configured.len());
    let mut out: Vec<&Example> = sample(&mut rng, pool.configured.len(), from_configured)
        .into_iter()
        .map(|i| &pool.configured[i])
        .collect();
    out.extend(
        sample(&mut rng, pool.accepted.len(), from_accepted)
            .into_iter()
            .map(|i| &pool.accepted[i]),
    );
    out
}
