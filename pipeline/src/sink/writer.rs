//! The shard writer: a thread that writes full shards and commits them through the journal
//! while the sink goes on taking rows (encoding, compressing and fsyncing a shard takes long
//! enough that doing it in line would stall verification behind it).
//!
//! Jobs are handed over one at a time (a rendezvous channel): at most one shard is being
//! written while the next one fills, so memory stays bounded. Jobs are written and committed
//! in order; the first error stops the thread and is returned by the next call.

use super::manifest::Manifest;
use super::schema::Row;
use super::shard;
use super::{SinkConfig, SinkError};
use crate::journal::{Commit, Journal, ShardRecord};
use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// One commit: the rows of one shard of `split` (maybe none) and the ids dropped since the
/// last commit (rejected samples not kept).
pub struct Job {
    pub split: &'static str,
    pub rows: Vec<Row>,
    pub dropped: Vec<String>,
    pub dropped_by_source: BTreeMap<String, u64>,
}

/// The running thread: where jobs go, and what it ends with.
type Running = (SyncSender<Job>, JoinHandle<Result<(), SinkError>>);

/// Owns the journal (shared with the sink for reading) and the writing thread, started on the
/// first job and joined by [`Writer::wait`].
pub struct Writer {
    config: Arc<SinkConfig>,
    journal: Arc<Mutex<Journal>>,
    running: Option<Running>,
}

impl Writer {
    pub fn new(config: SinkConfig, journal: Journal) -> Self {
        Writer {
            config: Arc::new(config),
            journal: Arc::new(Mutex::new(journal)),
            running: None,
        }
    }

    /// The journal. The writer thread holds it only while it commits.
    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes the manifest from the journal's current state.
    pub fn write_manifest(&self) -> Result<(), SinkError> {
        write_manifest(&self.config, &self.journal())
    }

    /// Hands `job` to the thread; waits only while the previous job is still being written.
    pub fn submit(&mut self, job: Job) -> Result<(), SinkError> {
        if self.running.is_none() {
            self.running = Some(self.spawn()?);
        }
        let sent = match &self.running {
            Some((tx, _)) => tx.send(job).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The thread stopped on an error: that error is the answer.
            self.wait()?;
            Err(SinkError::Io {
                path: self.config.dir.clone(),
                source: std::io::Error::other("the shard writer stopped"),
            })
        }
    }

    /// Waits until every submitted job is written and committed (or the first error).
    pub fn wait(&mut self) -> Result<(), SinkError> {
        let Some((tx, handle)) = self.running.take() else {
            return Ok(());
        };
        drop(tx);
        handle.join().unwrap_or_else(|_| {
            Err(SinkError::Io {
                path: self.config.dir.clone(),
                source: std::io::Error::other("the shard writer panicked"),
            })
        })
    }

    fn spawn(&self) -> Result<Running, SinkError> {
        let (tx, rx) = sync_channel::<Job>(0);
        let (config, journal) = (self.config.clone(), self.journal.clone());
        let handle = std::thread::Builder::new()
            .name("smelt-shards".into())
            .spawn(move || {
                for job in rx {
                    write_and_commit(&config, &journal, job)?;
                }
                Ok(())
            })
            .map_err(|source| SinkError::Io {
                path: self.config.dir.clone(),
                source,
            })?;
        Ok((tx, handle))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Finish the shard in progress: a commit is never left half done by us (a crash is
        // handled by the journal's recovery).
        if let Err(e) = self.wait() {
            tracing::error!(error = %e, "shard writer failed while the sink closed");
        }
    }
}

/// Writes `manifest.json` and the dataset card from the journal's state, both atomically.
fn write_manifest(config: &SinkConfig, journal: &Journal) -> Result<(), SinkError> {
    let state = journal.state();
    Manifest::from_state(&config.run_name, state).write(&config.dir)?;
    let card = super::manifest::dataset_card(&config.run_name, state);
    super::manifest::write_atomic(
        &config.dir.join(super::manifest::CARD_FILE_NAME),
        card.as_bytes(),
    )
}

fn write_and_commit(
    config: &SinkConfig,
    journal: &Mutex<Journal>,
    job: Job,
) -> Result<(), SinkError> {
    let lock = || journal.lock().unwrap_or_else(PoisonError::into_inner);
    let mut commit = Commit {
        dropped: job.dropped,
        rejected: job.dropped_by_source,
        ..Commit::default()
    };
    if !job.rows.is_empty() {
        let seq = lock().state().next_seq(job.split);
        let rel = format!("data/{}/part-{seq:05}.parquet", job.split);
        let written = shard::write_shard(&config.dir.join(&rel), &job.rows, config.compression)?;
        commit.shards.push(ShardRecord {
            path: rel,
            split: job.split.to_owned(),
            rows: written.rows,
            bytes: written.bytes,
            sha256: written.sha256,
        });
        for row in &job.rows {
            let counts = if row.accepted {
                &mut commit.accepted
            } else {
                &mut commit.rejected
            };
            super::count(counts, &row.source);
        }
        commit.samples = job.rows.into_iter().map(|r| r.sample_id).collect();
    }
    let mut journal = lock();
    journal.commit(commit)?;
    write_manifest(config, &journal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Identity;

    fn row(i: u32, accepted: bool) -> Row {
        Row {
            sample_id: format!("s{i}"),
            problem_id: format!("p{i}").into(),
            source: "arith".into(),
            problem_index: u64::from(i),
            sample_index: 0,
            problem: "1 + 1".into(),
            structured: "{}".into(),
            prompt: "Q: 1 + 1".into(),
            completion: "\\boxed{2}".into(),
            extracted_answer: Some("2".into()),
            reference_answer: Some("2".into()),
            verdicts: Vec::new(),
            accepted,
            model_id: "m".into(),
            sampling: "{}".into(),
            seed: 1,
            template_hash: "t".into(),
            prompt_tokens: 0,
            completion_tokens: 0,
            latency_ms: 0.0,
            finish_reason: "stop".into(),
            created_at_us: 0,
            smelt_version: "0",
        }
    }

    fn job(split: &'static str, rows: Vec<Row>) -> Job {
        Job {
            split,
            rows,
            dropped: Vec::new(),
            dropped_by_source: BTreeMap::new(),
        }
    }

    fn writer(dir: &std::path::Path) -> Writer {
        let identity = Identity {
            samples: "s".into(),
            verifiers: "v".into(),
        };
        let journal = Journal::open(dir, &identity).expect("journal opens");
        let config = SinkConfig {
            dir: dir.to_path_buf(),
            run_name: "t".into(),
            rows_per_shard: 10,
            compression: super::super::ShardCompression::Zstd(3),
            keep_rejected: true,
            max_shard_age: std::time::Duration::from_secs(60),
        };
        Writer::new(config, journal)
    }

    #[test]
    fn jobs_are_written_and_committed_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut w = writer(dir.path());
        for k in 0..3 {
            let rows = (0..2).map(|i| row(k * 2 + i, true)).collect();
            w.submit(job(crate::sink::ACCEPTED, rows))
                .expect("handed over");
        }
        w.submit(job(crate::sink::REJECTED, vec![row(9, false)]))
            .expect("handed over");
        w.wait().expect("all committed");
        let journal = w.journal();
        let paths: Vec<&str> = journal
            .state()
            .shards
            .iter()
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "data/accepted/part-00000.parquet",
                "data/accepted/part-00001.parquet",
                "data/accepted/part-00002.parquet",
                "data/rejected/part-00000.parquet",
            ]
        );
        assert_eq!(journal.state().accepted.get("arith"), Some(&6));
        assert_eq!(journal.state().rejected.get("arith"), Some(&1));
        for p in paths {
            assert!(dir.path().join(p).is_file(), "{p}");
        }
        let manifest = std::fs::read_to_string(dir.path().join("manifest.json")).expect("manifest");
        assert!(manifest.contains("part-00002"), "{manifest}");
    }

    #[test]
    fn a_failed_write_is_returned_and_nothing_is_committed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut w = writer(dir.path());
        // `data` is a file, so the shard's directory cannot be created.
        std::fs::write(dir.path().join("data"), "in the way").expect("file written");
        w.submit(job(crate::sink::ACCEPTED, vec![row(0, true)]))
            .expect("handed over");
        let err = w.wait().expect_err("the write fails");
        assert!(err.to_string().contains("data"), "{err}");
        assert!(w.journal().state().shards.is_empty());
        assert_eq!(w.journal().state().commits, 0);
    }
}
