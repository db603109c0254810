//! Curation as a run stage: the curator, its log and the counts the report shows, shared by
//! the generation tasks (they take problems from the schedule one at a time, under the
//! schedule's lock, in schedule order).

use super::{Admission, CurateError, CurationLog, Curator, RemovalKind};
use crate::problem::Problem;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Removals by kind, over the problems this process decided on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurationCounts {
    /// Problems checked (in a sharded run: those of this shard).
    pub checked: u64,
    pub kept: u64,
    pub exact: u64,
    pub near_duplicate: u64,
    pub contaminated: u64,
}

impl CurationCounts {
    /// Problems removed, of every kind.
    pub fn removed(&self) -> u64 {
        self.exact + self.near_duplicate + self.contaminated
    }
}

/// The `curation` object of `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurationSummary {
    /// The curation log.
    pub log: PathBuf,
    #[serde(flatten)]
    pub counts: CurationCounts,
}

/// A curator and its log for one run.
pub struct Curation {
    curator: Arc<Mutex<Curator>>,
    state: Mutex<(CurationLog, CurationCounts)>,
}

impl Curation {
    /// The stage over `curator` (shared with other runs when it spans rounds) and `log`.
    pub fn new(curator: Arc<Mutex<Curator>>, log: CurationLog) -> Self {
        Curation {
            curator,
            state: Mutex::new((log, CurationCounts::default())),
        }
    }

    /// Decides on `problem` (every slot of the schedule, in order, owned or not; only an owned
    /// slot is counted and logged). Returns whether it is kept.
    pub fn admit(&self, problem: &Problem, owned: bool) -> Result<bool, CurateError> {
        let admission = lock(&self.curator).admit(problem);
        if !owned {
            return Ok(matches!(admission, Admission::Keep));
        }
        let mut state = lock(&self.state);
        let (log, counts) = &mut *state;
        counts.checked += 1;
        match admission {
            Admission::Keep => {
                counts.kept += 1;
                Ok(true)
            }
            Admission::Remove(removal) => {
                match removal.kind {
                    RemovalKind::Exact => counts.exact += 1,
                    RemovalKind::NearDuplicate => counts.near_duplicate += 1,
                    RemovalKind::Contaminated => counts.contaminated += 1,
                }
                log.record(&removal)?;
                Ok(false)
            }
        }
    }

    /// Makes the log durable; call it when the run ends.
    pub fn finish(&self) -> Result<(), CurateError> {
        lock(&self.state).0.sync()
    }

    /// The counts and the log's path, for the report.
    pub fn summary(&self) -> CurationSummary {
        let state = lock(&self.state);
        CurationSummary {
            log: state.0.path().to_path_buf(),
            counts: state.1.clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
