//! The Parquet sink: buffers verified rows, rotates shards by rows (or age), and commits each
//! shard through the journal. Only committed shards ever appear in `manifest.json`.

pub mod fault;
pub mod manifest;
pub mod schema;
pub mod shard;
pub mod writer;

use crate::journal::{Journal, JournalError, ShardRecord};
use schema::Row;
pub use shard::ShardCompression;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};
use writer::{Job, Writer};

pub const ACCEPTED: &str = "accepted";
pub const REJECTED: &str = "rejected";

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("building a record batch: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(
        "{path}: committed shard is missing or truncated; the output was changed outside smelt"
    )]
    MissingShard { path: PathBuf },
}

/// Sink settings (from the config's `[output]`).
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub dir: PathBuf,
    pub run_name: String,
    pub rows_per_shard: usize,
    pub compression: ShardCompression,
    pub keep_rejected: bool,
    pub max_shard_age: Duration,
}

/// The sink: buffers rows on the runtime's sink thread and hands full shards to the
/// [`writer::Writer`] thread, which writes and commits them in order.
pub struct Sink {
    config: SinkConfig,
    writer: Writer,
    accepted: Vec<Row>,
    rejected: Vec<Row>,
    dropped: Vec<String>,
    dropped_by_source: BTreeMap<String, u64>,
    oldest: Option<Instant>,
}

impl Sink {
    /// Opens the sink over an open journal, removing crash leftovers (temporary files and shards
    /// no commit names) and checking that committed shards are intact.
    pub fn open(config: SinkConfig, journal: Journal) -> Result<Sink, SinkError> {
        clean_leftovers(&config.dir, journal.state().shards.as_slice())?;
        let sink = Sink {
            writer: Writer::new(config.clone(), journal),
            config,
            accepted: Vec::new(),
            rejected: Vec::new(),
            dropped: Vec::new(),
            dropped_by_source: BTreeMap::new(),
            oldest: None,
        };
        sink.writer.write_manifest()?;
        Ok(sink)
    }

    /// The journal (locked while held: read what you need and let go).
    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        self.writer.journal()
    }

    /// Rows waiting for a shard.
    pub fn pending(&self) -> usize {
        self.accepted.len() + self.rejected.len() + self.dropped.len()
    }

    /// Adds a verified row; hands a shard to the writer when one is full.
    pub fn push(&mut self, row: Row) -> Result<(), SinkError> {
        self.oldest.get_or_insert_with(Instant::now);
        if row.accepted {
            self.accepted.push(row);
            if self.accepted.len() >= self.config.rows_per_shard {
                self.commit(ACCEPTED)?;
            }
        } else if self.config.keep_rejected {
            self.rejected.push(row);
            if self.rejected.len() >= self.config.rows_per_shard {
                self.commit(REJECTED)?;
            }
        } else {
            count(&mut self.dropped_by_source, &row.source);
            self.dropped.push(row.sample_id);
        }
        Ok(())
    }

    /// Commits partial shards older than `max_shard_age`; call periodically.
    pub fn tick(&mut self) -> Result<(), SinkError> {
        if self
            .oldest
            .is_some_and(|t| t.elapsed() >= self.config.max_shard_age)
        {
            self.flush()?;
        }
        Ok(())
    }

    /// Commits everything buffered and waits until it is committed.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        if !self.accepted.is_empty() || (self.rejected.is_empty() && !self.dropped.is_empty()) {
            self.commit(ACCEPTED)?;
        }
        if !self.rejected.is_empty() {
            self.commit(REJECTED)?;
        }
        self.oldest = None;
        self.writer.wait()
    }

    /// Hands the buffered rows of `split` (if any), with the dropped ids so far, to the writer.
    fn commit(&mut self, split: &'static str) -> Result<(), SinkError> {
        let rows = match split {
            ACCEPTED => std::mem::take(&mut self.accepted),
            _ => std::mem::take(&mut self.rejected),
        };
        self.writer.submit(Job {
            split,
            rows,
            dropped: std::mem::take(&mut self.dropped),
            dropped_by_source: std::mem::take(&mut self.dropped_by_source),
        })
    }
}

/// `counts[source] += 1`.
fn count(counts: &mut BTreeMap<String, u64>, source: &str) {
    crate::stats::with_slot(counts, source, |n| *n += 1);
}

/// Removes `*.tmp` files and shards that no commit names; fails if a committed shard is gone.
fn clean_leftovers(dir: &Path, committed: &[ShardRecord]) -> Result<(), SinkError> {
    let known: HashSet<&str> = committed.iter().map(|s| s.path.as_str()).collect();
    for split in [ACCEPTED, REJECTED] {
        let sub = dir.join("data").join(split);
        let entries = match std::fs::read_dir(&sub) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(SinkError::Io { path: sub, source }),
        };
        for entry in entries {
            let entry = entry.map_err(|source| SinkError::Io {
                path: sub.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("data/{split}/{name}");
            if !known.contains(rel.as_str()) {
                tracing::warn!(file = %entry.path().display(), "removing crash leftover (not in the journal)");
                std::fs::remove_file(entry.path()).map_err(|source| SinkError::Io {
                    path: entry.path(),
                    source,
                })?;
            }
        }
    }
    for shard in committed {
        let path = dir.join(&shard.path);
        match std::fs::metadata(&path) {
            Ok(m) if m.len() == shard.bytes => {}
            _ => return Err(SinkError::MissingShard { path }),
        }
    }
    Ok(())
}
