//! Scale-out: one run split into `N` disjoint shards that run as separate processes (a Slurm
//! job array, a Kubernetes Indexed Job, or plain `--shard I/N`), each in its own directory
//! under the run's output, merged afterwards by `smelt merge` ([`crate::merge`]).
//!
//! Shard `I` of `N` takes the problems whose index within their source is `I` modulo `N`, in
//! the order of the one global schedule. That depends on nothing a shard observes while it
//! runs (not on timing, not on what another shard accepted), so the shards are disjoint
//! whatever happens, and without per-source targets their union is the single-process run.
//!
//! Where the shard comes from, first match wins: `--shard` (or `SMELT_SHARD`), `I/N` or `off`;
//! a Slurm array task (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, divided by
//! `SLURM_ARRAY_TASK_STEP`, of `SLURM_ARRAY_TASK_COUNT`); a Kubernetes Indexed Job
//! (`JOB_COMPLETION_INDEX` of `SMELT_SHARDS`, which the user sets to the Job's completions).

use std::path::{Path, PathBuf};

pub mod outcome;

/// One shard of a run: `index` in `0..count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardSpec {
    pub index: u64,
    pub count: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("{origin} = `{value}`: expected I/N with 0 <= I < N (e.g. 3/8), or `off`")]
    Syntax { origin: String, value: String },
    #[error("{origin}: {message}")]
    Env { origin: String, message: String },
}

/// Subdirectory of the run's output that holds the shards.
pub const SHARDS_DIR: &str = "shards";

impl ShardSpec {
    /// Parses `I/N`.
    pub fn parse(value: &str, origin: &str) -> Result<ShardSpec, ShardError> {
        let bad = || ShardError::Syntax {
            origin: origin.to_owned(),
            value: value.to_owned(),
        };
        let (i, n) = value.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }

    /// Whether problem `index` of a source belongs to this shard.
    pub fn owns(&self, index: u64) -> bool {
        index % self.count == self.index
    }

    /// The directory name of this shard, e.g. `0003-of-0008` (sorts in index order).
    pub fn dir_name(&self) -> String {
        format!("{:04}-of-{:04}", self.index, self.count)
    }

    /// The shard's own output directory under the run's output `dir`.
    pub fn dir(&self, dir: &Path) -> PathBuf {
        dir.join(SHARDS_DIR).join(self.dir_name())
    }

    /// Reads a shard directory name back (`None` for anything else).
    pub fn from_dir_name(name: &str) -> Option<ShardSpec> {
        let (i, n) = name.split_once("-of-")?;
        if i.len() < 4 || n.len() < 4 {
            return None;
        }
        ShardSpec::parse(&format!("{i}/{n}"), name).ok()
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Resolves the shard of this process from the `--shard` flag and the environment (`env`
/// looks a variable up; the CLI passes `std::env::var`). `Ok(None)`: not sharded.
pub fn resolve(
    flag: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ShardSpec>, ShardError> {
    use crate::env::{K8S_COMPLETION_INDEX, SHARD, SHARDS, SLURM_ARRAY};
    let explicit = match flag {
        Some(v) => Some((v.to_owned(), "--shard".to_owned())),
        None => env(SHARD).map(|v| (v, SHARD.to_owned())),
    };
    if let Some((value, origin)) = explicit {
        if value.trim() == "off" {
            return Ok(None);
        }
        return ShardSpec::parse(&value, &origin).map(Some);
    }
    if let Some(id) = env(SLURM_ARRAY[0]) {
        return slurm(&id, &env).map(Some);
    }
    if let Some(index) = env(K8S_COMPLETION_INDEX) {
        let count = env(SHARDS).ok_or_else(|| ShardError::Env {
            origin: K8S_COMPLETION_INDEX.to_owned(),
            message: format!(
                "set, but {SHARDS} is not: set it to the Indexed Job's `completions` (or pass \
                 --shard I/N)"
            ),
        })?;
        return ShardSpec::parse(&format!("{index}/{count}"), K8S_COMPLETION_INDEX).map(Some);
    }
    Ok(None)
}

/// A Slurm array task's shard; `SLURM_ARRAY` lists the id, count, min and step variables.
fn slurm(id: &str, env: &impl Fn(&str) -> Option<String>) -> Result<ShardSpec, ShardError> {
    use crate::env::SLURM_ARRAY;
    let num = |name: &str, default: Option<u64>| -> Result<u64, ShardError> {
        match env(name) {
            Some(v) => v.trim().parse().map_err(|_| ShardError::Env {
                origin: name.to_owned(),
                message: format!("`{v}` is not a number"),
            }),
            None => default.ok_or_else(|| ShardError::Env {
                origin: name.to_owned(),
                message: format!("not set, but {} is (pass --shard I/N)", SLURM_ARRAY[0]),
            }),
        }
    };
    let id: u64 = id.trim().parse().map_err(|_| ShardError::Env {
        origin: SLURM_ARRAY[0].to_owned(),
        message: format!("`{id}` is not a number"),
    })?;
    let count = num(SLURM_ARRAY[1], None)?;
    let min = num(SLURM_ARRAY[2], Some(0))?;
    let step = num(SLURM_ARRAY[3], Some(1))?.max(1);
    let offset = id.checked_sub(min).filter(|o| o % step == 0);
    match offset.map(|o| o / step).filter(|&i| i < count) {
        Some(index) => Ok(ShardSpec { index, count }),
        None => Err(ShardError::Env {
            origin: SLURM_ARRAY[0].to_owned(),
            message: format!(
                "task {id} of an array of {count} from {min} step {step} has no shard number: \
                 use a contiguous array (--array=0-{last}) or pass --shard I/N (e.g. when \
                 resubmitting one task: --export=ALL,SMELT_SHARD=I/N)",
                last = count.saturating_sub(1)
            ),
        }),
    }
}

#[cfg(test)]
mod tests;
