//! One shard directory as `smelt merge` sees it: its journal (what is committed), its identity,
//! how its last run ended, and whether a process still holds it.

use super::MergeError;
use crate::journal::{self, Identity, State};
use crate::lock::{self, DirLock, LockError};
use crate::shard::outcome::RunOutcome;
use crate::shard::ShardSpec;
use std::path::{Path, PathBuf};

pub struct Part {
    pub spec: ShardSpec,
    pub dir: PathBuf,
    pub state: State,
    /// The journal header's identity (`None`: the journal has no header).
    pub identity: Option<Identity>,
    pub outcome: Option<RunOutcome>,
    /// The run's name as its manifest records it.
    pub run: Option<String>,
    /// Why the part is not complete (`None`: it finished).
    pub problem: Option<String>,
    /// Held while merging so that no run writes the part meanwhile (`None` when a running
    /// process holds it: its committed state is still consistent, read under
    /// `--allow-incomplete`).
    _lock: Option<DirLock>,
}

impl Part {
    /// Reads the part in `dir` (an existing shard directory).
    pub fn open(spec: ShardSpec, dir: &Path) -> Result<Part, MergeError> {
        let (lock, running) = match lock::lock_dir(dir) {
            Ok(l) => (Some(l), None),
            Err(LockError::Held { pid, .. }) => (None, Some(pid)),
            Err(e) => return Err(e.into()),
        };
        let journal_path = dir.join(journal::FILE_NAME);
        let (state, identity) = if journal_path.exists() {
            journal::read_with_identity(&journal_path)?
        } else {
            (State::default(), None)
        };
        let outcome = RunOutcome::read(dir)?;
        let run = crate::sink::manifest::Manifest::read(dir)
            .ok()
            .map(|m| m.run);
        let problem = match (&running, &identity, &outcome) {
            (Some(pid), _, _) => Some(format!("still running (pid {pid})")),
            (None, None, _) => Some("never started (no journal)".to_owned()),
            (None, Some(_), None) => Some(
                "did not finish (no outcome.json: the task was killed or crashed); resubmit \
                 it and it resumes where it stopped"
                    .to_owned(),
            ),
            (None, Some(_), Some(o)) if !o.is_complete() => Some(format!(
                "stopped before the end ({}: {}); run it again to continue",
                o.outcome, o.detail
            )),
            _ => None,
        };
        Ok(Part {
            spec,
            dir: dir.to_path_buf(),
            state,
            identity,
            outcome,
            run,
            problem,
            _lock: lock,
        })
    }

    /// The part's directory name, e.g. `0001-of-0004`.
    pub fn name(&self) -> String {
        self.spec.dir_name()
    }

    /// Rows committed per split.
    pub fn rows(&self, split: &str) -> u64 {
        self.state
            .shards
            .iter()
            .filter(|s| s.split == split)
            .map(|s| s.rows as u64)
            .sum()
    }

    /// How this part differs from `reference` (`None`: the same pipeline).
    pub fn mismatch(&self, reference: &Identity) -> Option<String> {
        let id = self.identity.as_ref()?;
        if id.samples != reference.samples {
            Some("sources, templates, model, seed or sampling differ".to_owned())
        } else if id.verifiers != reference.verifiers {
            Some("the verifier chain differs".to_owned())
        } else if self.outcome.as_ref().is_some_and(|o| &o.identity != id) {
            Some("its outcome.json belongs to another configuration".to_owned())
        } else {
            None
        }
    }
}
