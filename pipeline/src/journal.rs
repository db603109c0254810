//! The run journal: an append-only log of commits that makes a run resumable exactly once.
//!
//! Each line is `<crc32 hex> <json>`. The first line is a header with the run's identity
//! fingerprint; every later line commits shards (already renamed into place) together with the
//! ids of every sample they hold and of every rejected sample that was dropped. A line is the
//! commit point: a sample is done if and only if a complete line names it. A torn last line
//! (a crash mid-append) is cut off on open; shard files that no line names are crash leftovers.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "journal.jsonl";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line} is corrupt ({why}); the journal was damaged outside smelt")]
    Corrupt {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error(
        "{path}: this output belongs to a run with different sample identity ({what} changed).\n\
         Resuming would mix samples of two configurations. Use a new --output, restore the \
         previous config, or pass --force-new to move the old run aside and start over."
    )]
    IdentityChanged { path: PathBuf, what: String },
}

/// A committed shard as recorded in the journal and the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// Relative to the output directory, e.g. `data/accepted/part-00003.parquet`.
    pub path: String,
    /// `accepted` or `rejected`.
    pub split: String,
    pub rows: usize,
    pub bytes: u64,
    pub sha256: String,
}

/// What identifies the samples of a run; a resume must match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// Hash of what defines sample ids: seed, sources, templates, model, sampling (and the
    /// curation settings, which decide which problems get samples).
    pub samples: String,
    /// Hash of the verifier chain (verdicts of two chains must not mix in one dataset).
    pub verifiers: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Entry {
    Header {
        format: u32,
        identity: Identity,
        created_at: String,
    },
    Commit(Commit),
}

/// One atomic commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub shards: Vec<ShardRecord>,
    /// Ids of the samples written in `shards`.
    pub samples: Vec<String>,
    /// Ids of rejected samples not written (`keep_rejected = false`).
    #[serde(default)]
    pub dropped: Vec<String>,
    /// Accepted / rejected counts per source in this commit.
    #[serde(default)]
    pub accepted: BTreeMap<String, u64>,
    #[serde(default)]
    pub rejected: BTreeMap<String, u64>,
}

/// The replayed state of a journal.
#[derive(Debug, Default)]
pub struct State {
    pub shards: Vec<ShardRecord>,
    /// Every finished sample id.
    pub done: HashSet<String>,
    /// The finished sample ids that were accepted (a commit holds the shard of one split).
    pub accepted_ids: HashSet<String>,
    pub accepted: BTreeMap<String, u64>,
    pub rejected: BTreeMap<String, u64>,
    pub commits: usize,
}

impl State {
    fn apply(&mut self, c: &Commit) {
        self.shards.extend(c.shards.iter().cloned());
        self.done.extend(c.samples.iter().cloned());
        if !c.shards.is_empty() && c.shards.iter().all(|s| s.split == "accepted") {
            self.accepted_ids.extend(c.samples.iter().cloned());
        }
        self.done.extend(c.dropped.iter().cloned());
        for (k, v) in &c.accepted {
            *self.accepted.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &c.rejected {
            *self.rejected.entry(k.clone()).or_default() += v;
        }
        self.commits += 1;
    }

    /// Next free sequence number for shards of `split`.
    pub fn next_seq(&self, split: &str) -> usize {
        self.shards.iter().filter(|s| s.split == split).count()
    }

    pub fn total_accepted(&self) -> u64 {
        self.accepted.values().sum()
    }
}

/// An open journal, ready to append commits.
pub struct Journal {
    path: PathBuf,
    /// `None` for an ephemeral journal (benchmarks only: nothing is durable, nothing resumes).
    file: Option<File>,
    state: State,
}

impl Journal {
    /// Opens (or creates) the journal in `dir`. An existing journal must carry `identity`.
    pub fn open(dir: &Path, identity: &Identity) -> Result<Journal, JournalError> {
        let path = dir.join(FILE_NAME);
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        let (state, header, good_len) = if path.exists() {
            replay(&path)?
        } else {
            (State::default(), None, 0)
        };
        if let Some(found) = &header {
            let what = if found.samples != identity.samples {
                Some("sources, templates, model, seed, sampling or curation")
            } else if found.verifiers != identity.verifiers {
                Some("the verifier chain")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(JournalError::IdentityChanged {
                    path,
                    what: what.into(),
                });
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        // Cut a torn tail so the next append starts on a line boundary.
        if file.metadata().map_err(io)?.len() != good_len {
            file.set_len(good_len).map_err(io)?;
        }
        let mut journal = Journal {
            path,
            file: Some(file),
            state,
        };
        if header.is_none() {
            journal.append(&Entry::Header {
                format: FORMAT,
                identity: identity.clone(),
                created_at: chrono::Utc::now().to_rfc3339(),
            })?;
        }
        Ok(journal)
    }

    /// A journal that keeps its state in memory only: `run --no-journal` uses it to measure
    /// what the bookkeeping costs. Such a run cannot resume.
    pub fn ephemeral(dir: &Path) -> Journal {
        Journal {
            path: dir.join(FILE_NAME),
            file: None,
            state: State::default(),
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `commit` durably (write + fsync) and applies it to the state. The ids it names
    /// are not added to `state().done`: that set is what a run *starts* from (read on open);
    /// growing it during the run would make memory grow with every sample written.
    pub fn commit(&mut self, mut commit: Commit) -> Result<(), JournalError> {
        self.append(&Entry::Commit(commit.clone()))?;
        commit.samples.clear();
        commit.dropped.clear();
        self.state.apply(&commit);
        Ok(())
    }

    fn append(&mut self, entry: &Entry) -> Result<(), JournalError> {
        let json = serde_json::to_string(entry).map_err(|e| JournalError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        let line = checked_line(&json);
        crate::sink::fault::before_journal_append(&self.path);
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

/// Reads the journal at `path` without opening it for writing (for `inspect` and checks).
pub fn read_state(path: &Path) -> Result<State, JournalError> {
    replay(path).map(|(state, _, _)| state)
}

/// Reads the journal at `path` with the identity its header records (`None`: no header yet),
/// without opening it for writing (for `merge`).
pub fn read_with_identity(path: &Path) -> Result<(State, Option<Identity>), JournalError> {
    replay(path).map(|(state, identity, _)| (state, identity))
}

/// Replays the journal: the state, the header's identity, and the byte length of the valid
/// prefix (a torn or corrupt *last* line is dropped; a corrupt line before the last is an error).
fn replay(path: &Path) -> Result<(State, Option<Identity>, u64), JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let reader = BufReader::new(file);
    let mut state = State::default();
    let mut header = None;
    let mut good_len = 0u64;
    let mut pending_error: Option<(usize, String)> = None;
    for (n, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(io)?;
        if let Some((line_no, why)) = pending_error.take() {
            // A bad line followed by more lines is not a torn tail.
            return Err(JournalError::Corrupt {
                path: path.to_path_buf(),
                line: line_no,
                why,
            });
        }
        if good_len + line.len() as u64 == file_len {
            // The last line lacks its newline: the append did not complete (the line and its
            // newline are written together), so the commit was never acknowledged.
            if !line.is_empty() {
                pending_error = Some((n + 1, "incomplete last line".into()));
            }
            continue;
        }
        match parse_line(&line) {
            Ok(Entry::Header { identity, .. }) if n == 0 => header = Some(identity),
            Ok(Entry::Header { .. }) => {
                pending_error = Some((n + 1, "a second header".into()));
                continue;
            }
            Ok(Entry::Commit(c)) if header.is_some() => state.apply(&c),
            Ok(Entry::Commit(_)) => {
                pending_error = Some((n + 1, "a commit before the header".into()));
                continue;
            }
            Err(why) => {
                pending_error = Some((n + 1, why));
                continue;
            }
        }
        good_len += line.len() as u64 + 1;
    }
    Ok((state, header, good_len))
}

fn parse_line(line: &[u8]) -> Result<Entry, String> {
    serde_json::from_str(checked_json(line)?).map_err(|e| format!("bad record: {e}"))
}

/// One checksummed line, `<crc32 hex> <json>\n`: the format of the journal and of the other
/// append-only logs of a run (`proposals.jsonl`).
pub(crate) fn checked_line(json: &str) -> String {
    format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes()))
}

/// The JSON of a checksummed line (without its newline), if the checksum holds.
pub(crate) fn checked_json(line: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string())?;
    let (crc, json) = text.split_once(' ').ok_or("no checksum")?;
    let crc = u32::from_str_radix(crc, 16).map_err(|_| "bad checksum field".to_string())?;
    if crc32fast::hash(json.as_bytes()) != crc {
        return Err("checksum mismatch (torn write)".into());
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Identity {
        Identity {
            samples: s.into(),
            verifiers: "v".into(),
        }
    }

    fn commit(ids: &[&str]) -> Commit {
        Commit {
            samples: ids.iter().map(|s| s.to_string()).collect(),
            accepted: [("a".to_string(), ids.len() as u64)].into(),
            ..Commit::default()
        }
    }

    #[test]
    fn commits_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), &id("x")).unwrap();
        j.commit(commit(&["1", "2"])).unwrap();
        j.commit(commit(&["3"])).unwrap();
        drop(j);
        let j = Journal::open(dir.path(), &id("x")).unwrap();
        assert_eq!(j.state().done.len(), 3);
        assert_eq!(j.state().total_accepted(), 3);
        assert_eq!(j.state().commits, 2);
    }

    #[test]
    fn torn_tail_is_dropped_and_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), &id("x")).unwrap();
        j.commit(commit(&["1"])).unwrap();
        drop(j);
        let path = dir.path().join(FILE_NAME);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"deadbeef {\"type\":\"commit\",\"sha").unwrap();
        drop(f);
        let mut j = Journal::open(dir.path(), &id("x")).unwrap();
        assert_eq!(j.state().done.len(), 1);
        j.commit(commit(&["2"])).unwrap();
        drop(j);
        let j = Journal::open(dir.path(), &id("x")).unwrap();
        assert_eq!(j.state().done.len(), 2);
    }

    #[test]
    fn corruption_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), &id("x")).unwrap();
        j.commit(commit(&["1"])).unwrap();
        j.commit(commit(&["2"])).unwrap();
        drop(j);
        let path = dir.path().join(FILE_NAME);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"1\"", "\"9\"", 1)).unwrap();
        let err = Journal::open(dir.path(), &id("x"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn identity_change_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Journal::open(dir.path(), &id("x")).unwrap());
        let err = Journal::open(dir.path(), &id("y"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("--force-new"), "{err}");
    }
}
