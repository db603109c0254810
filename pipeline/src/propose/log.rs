//! `proposals.jsonl`: every proposal of a run, proven or not, once. Lines are checksummed like
//! the journal's; a torn last line (a crash mid-append) is dropped and overwritten, a corrupt
//! line before the last is an error naming it.

use crate::journal::{checked_json, checked_line};
use crate::linelog::ReplayError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file, in the output directory.
pub const FILE_NAME: &str = "proposals.jsonl";

/// One proposal and what Z3 made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalRecord {
    /// The propose source.
    pub source: String,
    /// The proposal's position among the source's requests (`0..count`).
    pub index: u64,
    /// The problem id it gets if proven: `<source>-p<index>` (`<source>-r<round>-p<index>` in
    /// rounds).
    pub id: String,
    pub round: u32,
    /// Ids of the examples the prompt showed.
    pub parents: Vec<String>,
    /// The completion as the model wrote it.
    pub completion: String,
    /// The proposal read out of it (`None` when unparsable).
    pub text: Option<String>,
    pub smt: Option<String>,
    /// The equation the model wrote, when it used smelt's equation form (`smt` is then its
    /// translation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equation: Option<String>,
    /// Proven well-posed.
    pub accepted: bool,
    /// `None` when accepted; else `unparsable`, `text_mismatch`, `unsat`, `not_unique`,
    /// `solver_unknown`.
    pub reason: Option<String>,
    pub detail: String,
    /// The proven unique answer.
    pub answer: Option<String>,
    /// Whether the answer is the statement's only constant (then the `smt` verifier can check
    /// solutions against the statement).
    pub single_constant: bool,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {why}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

/// Records by (source, index).
type Records = BTreeMap<(String, u64), ProposalRecord>;

/// The open log: what it holds, ready to append.
pub struct ProposalLog {
    path: PathBuf,
    file: File,
    records: Records,
}

impl ProposalLog {
    /// Opens (or creates) `dir/proposals.jsonl`, replaying its records.
    pub fn open(dir: &Path) -> Result<ProposalLog, LogError> {
        let path = dir.join(FILE_NAME);
        let io = |source| LogError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let (records, good_len) = replay(&path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        // Drop a torn tail so the next append starts on a fresh line.
        file.set_len(good_len).map_err(io)?;
        Ok(ProposalLog {
            path,
            file,
            records,
        })
    }

    /// Reads the log without opening it for writing.
    pub fn read(path: &Path) -> Result<Vec<ProposalRecord>, LogError> {
        Ok(replay(path)?.0.into_values().collect())
    }

    pub fn has(&self, source: &str, index: u64) -> bool {
        self.records.contains_key(&(source.to_string(), index))
    }

    /// The records of `source`, by index.
    pub fn of_source<'a>(&'a self, source: &'a str) -> impl Iterator<Item = &'a ProposalRecord> {
        self.records
            .iter()
            .filter(move |((s, _), _)| s == source)
            .map(|(_, r)| r)
    }

    /// Appends `record` durably (one write and an fsync), unless its key is already logged.
    pub fn append(&mut self, record: ProposalRecord) -> Result<(), LogError> {
        let key = (record.source.clone(), record.index);
        if self.records.contains_key(&key) {
            return Ok(());
        }
        let io = |source| LogError::Io {
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_string(&record).map_err(|e| io(e.into()))?;
        self.file
            .write_all(checked_line(&json).as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(io)?;
        self.records.insert(key, record);
        Ok(())
    }
}

/// The records and the byte length of the valid prefix (a missing file is empty).
fn replay(path: &Path) -> Result<(Records, u64), LogError> {
    let parse = |line: &[u8]| {
        checked_json(line).and_then(|json| {
            serde_json::from_str::<ProposalRecord>(json).map_err(|e| format!("bad record: {e}"))
        })
    };
    let (records, good) = crate::linelog::replay(path, parse).map_err(|e| match e {
        ReplayError::Io(source) => LogError::Io {
            path: path.to_path_buf(),
            source,
        },
        ReplayError::Line { line, why } => LogError::Corrupt {
            path: path.to_path_buf(),
            line,
            why,
        },
    })?;
    let records = records
        .into_iter()
        .map(|r| ((r.source.clone(), r.index), r))
        .collect();
    Ok((records, good))
}
