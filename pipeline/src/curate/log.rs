//! `curation.jsonl`: every removal of a run, one JSON line each, written once.
//!
//! A line is appended (one `write` of the line and its newline) the first time a removal is
//! decided; [`CurationLog::sync`] makes the file durable when the run ends. Decisions are
//! deterministic, so a resumed run takes every one of them again: the log knows which
//! problems it already names (by source and index) and does not write them twice, and a line
//! lost in a crash is simply written again. A torn last line (no newline: the append did not
//! complete) or a bad last line is cut off on open; a bad line before the last is an error.

use super::{CurateError, Removal};
use crate::linelog::ReplayError;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the curation log inside the run directory.
pub const FILE_NAME: &str = "curation.jsonl";

/// An open curation log.
#[derive(Debug)]
pub struct CurationLog {
    path: PathBuf,
    file: File,
    /// (source, index) of every removal the file names.
    logged: HashSet<(String, u64)>,
    /// Lines this process appended.
    appended: u64,
}

impl CurationLog {
    /// Opens (or creates) `dir/curation.jsonl`, reading the removals it already names.
    pub fn open(dir: &Path) -> Result<CurationLog, CurateError> {
        let path = dir.join(FILE_NAME);
        let io = |e: std::io::Error| CurateError::Log {
            path: path.clone(),
            message: e.to_string(),
        };
        let (removals, good_len) = replay(&path)?;
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        if file.metadata().map_err(io)?.len() != good_len {
            file.set_len(good_len).map_err(io)?;
        }
        let logged = removals.into_iter().map(|r| (r.source, r.index)).collect();
        Ok(CurationLog {
            path,
            file,
            logged,
            appended: 0,
        })
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many removals the file names.
    pub fn len(&self) -> usize {
        self.logged.len()
    }

    /// Whether the file names no removal.
    pub fn is_empty(&self) -> bool {
        self.logged.is_empty()
    }

    /// How many lines this process appended.
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// Appends `removal` unless the log already names its problem; returns whether it wrote.
    pub fn record(&mut self, removal: &Removal) -> Result<bool, CurateError> {
        let key = (removal.source.clone(), removal.index);
        if self.logged.contains(&key) {
            return Ok(false);
        }
        let mut line = serde_json::to_string(removal).map_err(|e| CurateError::Log {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| CurateError::Log {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        self.logged.insert(key);
        self.appended += 1;
        Ok(true)
    }

    /// Makes every appended line durable (fsync).
    pub fn sync(&mut self) -> Result<(), CurateError> {
        self.file.sync_data().map_err(|e| CurateError::Log {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }
}

/// Reads the removals of a curation log (a torn last line is left out).
pub fn read(path: &Path) -> Result<Vec<Removal>, CurateError> {
    replay(path).map(|(removals, _)| removals)
}

/// The removals of the log at `path` and the byte length of its valid prefix.
fn replay(path: &Path) -> Result<(Vec<Removal>, u64), CurateError> {
    let parse = |line: &[u8]| {
        std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Removal>(text).map_err(|e| e.to_string()))
    };
    crate::linelog::replay(path, parse).map_err(|e| match e {
        ReplayError::Io(e) => CurateError::Log {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        ReplayError::Line { line, why } => CurateError::LogLine {
            path: path.to_path_buf(),
            line,
            message: why,
        },
    })
}
