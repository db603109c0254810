//! `outcome.json`: how the last run in an output directory ended, written when it ends and
//! removed when a run starts there. `smelt merge` trusts a part only when this file says it
//! finished: a task killed by the scheduler (or still running) has no such file.

use super::ShardSpec;
use crate::journal::Identity;
use crate::runtime::Outcome;
use crate::sink::{manifest::write_atomic, SinkError};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FILE_NAME: &str = "outcome.json";

/// The record in `outcome.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// `finished`, `target_reached`, `budget`, `interrupted` or `failed`.
    pub outcome: String,
    pub detail: String,
    /// The shard this directory holds (`None`: a whole run).
    pub shard: Option<ShardSpec>,
    /// The journal's identity (what a merge checks every part against).
    pub identity: Identity,
    pub ended_at: String,
    pub smelt_version: String,
}

impl RunOutcome {
    pub fn new(outcome: &Outcome, shard: Option<ShardSpec>, identity: &Identity) -> RunOutcome {
        let (name, detail) = match outcome {
            Outcome::Finished(d) => ("finished", d),
            Outcome::TargetReached(d) => ("target_reached", d),
            Outcome::Budget(d) => ("budget", d),
            Outcome::Interrupted(d) => ("interrupted", d),
            Outcome::Failed(d) => ("failed", d),
        };
        RunOutcome {
            outcome: name.to_owned(),
            detail: detail.clone(),
            shard,
            identity: identity.clone(),
            ended_at: chrono::Utc::now().to_rfc3339(),
            smelt_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Whether the run did all its work (and a rerun would add nothing).
    pub fn is_complete(&self) -> bool {
        matches!(self.outcome.as_str(), "finished" | "target_reached")
    }

    /// Writes `dir/outcome.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), SinkError> {
        let path = dir.join(FILE_NAME);
        let json = serde_json::to_vec_pretty(self).map_err(|e| SinkError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&path, &json)
    }

    /// Reads `dir/outcome.json`; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<RunOutcome>, SinkError> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(SinkError::Io { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| SinkError::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })
    }

    /// Removes `dir/outcome.json`: a run is starting, so the directory is not finished.
    pub fn clear(dir: &Path) -> Result<(), SinkError> {
        let path = dir.join(FILE_NAME);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(SinkError::Io { path, source }),
        }
    }
}
