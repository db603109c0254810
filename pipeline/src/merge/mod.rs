//! `smelt merge`: the shards of a run ([`crate::shard`]) combined into one dataset in the
//! run's output directory, exactly once.
//!
//! Before anything is written it checks that the set is whole (every index of `0..N` present
//! and finished, unless `allow_incomplete`), that every part ran the same pipeline (the
//! journals' identity, unless `allow_mismatch`), that no sample id is in two parts (never
//! overridable), and that every shard file has the size and SHA-256 its journal recorded.
//!
//! The merged `data/<split>/` holds hard links to the parts' shard files (copies across file
//! systems), named `<part>-<file>`; the manifest, the dataset card and `merge.json` follow.
//! The parts stay as they are. Running it again gives the same dataset: a file already in place
//! (same inode, or same checksum) is kept, files a newer merge no longer lists are removed only
//! after the new manifest is written, so a crash mid-merge leaves the previous manifest valid.

mod part;
#[cfg(test)]
mod tests;

use crate::journal::{self, Identity, JournalError, ShardRecord, State};
use crate::lock::LockError;
use crate::shard::{ShardSpec, SHARDS_DIR};
use crate::sink::manifest::{self, write_atomic, Manifest};
use crate::sink::SinkError;
use part::Part;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub const MERGE_FILE_NAME: &str = "merge.json";

#[derive(Debug, Default, Clone, Copy)]
pub struct MergeOptions {
    /// Merge what the finished (and unfinished) parts committed even if some are missing,
    /// killed or still running; `merge.json` records the set as incomplete.
    pub allow_incomplete: bool,
    /// Merge parts whose journals carry different identities (config changed between tasks).
    pub allow_mismatch: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "{dir}: no shards to merge (expected directories like {SHARDS_DIR}/0000-of-0004, \
         written by `smelt run --shard I/N` or a job array)"
    )]
    NoShards { dir: PathBuf },
    #[error(
        "{dir} holds a single-process run (journal.jsonl); merge combines the shards under \
         {SHARDS_DIR}/ into a directory of their own. Give the sharded run's output directory."
    )]
    SingleRun { dir: PathBuf },
    #[error(
        "{dir}: shards of different splits ({counts}); each split partitions the problems \
         differently, so they overlap. Keep the shards of one N."
    )]
    Counts { dir: PathBuf, counts: String },
    #[error(
        "{dir}: the set of shards is incomplete:\n{list}\nResubmit those tasks (each resumes \
         where it stopped), or pass --allow-incomplete to merge what is committed."
    )]
    Incomplete { dir: PathBuf, list: String },
    #[error(
        "{dir}: the shards did not run the same pipeline:\n{list}\nRerun them with one config, \
         or pass --allow-mismatch to merge anyway."
    )]
    Mismatch { dir: PathBuf, list: String },
    #[error("sample {id} is in two shards ({a} and {b}); merging would duplicate it")]
    Duplicate { id: String, a: String, b: String },
    #[error("{path}: {what}; the shard was changed or damaged after its run committed it")]
    Damaged { path: PathBuf, what: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> MergeError + '_ {
    move |source| MergeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One part as `merge.json` records it.
#[derive(Debug, Clone, Serialize)]
pub struct PartSummary {
    pub shard: String,
    pub complete: bool,
    pub outcome: Option<String>,
    pub problem: Option<String>,
    pub accepted_rows: u64,
    pub rejected_rows: u64,
    pub files: usize,
}

/// `merge.json`, also what the command prints.
#[derive(Debug, Clone, Serialize)]
pub struct MergeSummary {
    pub run: String,
    pub merged_at: String,
    pub shards: u64,
    pub complete: bool,
    pub identity: Option<Identity>,
    pub accepted_rows: u64,
    pub rejected_rows: u64,
    pub files: usize,
    pub parts: Vec<PartSummary>,
}

impl MergeSummary {
    pub fn render_text(&self) -> String {
        let merged = self.parts.len();
        let mut s = format!(
            "merged {merged} of {} shards of `{}`: {} accepted and {} rejected rows in {} files{}\n",
            self.shards,
            self.run,
            self.accepted_rows,
            self.rejected_rows,
            self.files,
            if self.complete { "" } else { " (INCOMPLETE)" }
        );
        for p in &self.parts {
            s.push_str(&format!(
                "  {}: {} accepted, {} rejected{}\n",
                p.shard,
                p.accepted_rows,
                p.rejected_rows,
                p.problem
                    .as_deref()
                    .map(|w| format!(" — {w}"))
                    .unwrap_or_default()
            ));
        }
        s
    }
}

/// Merges the shards under `dir/shards/` into `dir`.
pub fn merge(dir: &Path, opts: MergeOptions) -> Result<MergeSummary, MergeError> {
    let shards_dir = dir.join(SHARDS_DIR);
    if !shards_dir.is_dir() {
        return Err(MergeError::NoShards {
            dir: dir.to_path_buf(),
        });
    }
    if dir.join(journal::FILE_NAME).exists() {
        return Err(MergeError::SingleRun {
            dir: dir.to_path_buf(),
        });
    }
    let _lock = crate::lock::lock_dir(dir)?;
    let specs = list_shards(&shards_dir)?;
    let Some(count) = specs.first().map(|s| s.count) else {
        return Err(MergeError::NoShards {
            dir: dir.to_path_buf(),
        });
    };
    if specs.iter().any(|s| s.count != count) {
        let counts: HashSet<u64> = specs.iter().map(|s| s.count).collect();
        let mut counts: Vec<String> = counts.iter().map(|c| format!("N = {c}")).collect();
        counts.sort();
        return Err(MergeError::Counts {
            dir: dir.to_path_buf(),
            counts: counts.join(", "),
        });
    }
    let mut parts = Vec::new();
    for spec in &specs {
        parts.push(Part::open(*spec, &spec.dir(dir))?);
    }
    check_whole(dir, count, &parts, opts)?;
    let identity = check_same_pipeline(dir, &parts, opts)?;
    check_disjoint(&parts)?;
    let merged = place_files(dir, &parts)?;

    let run = parts
        .iter()
        .find_map(|p| p.run.clone())
        .unwrap_or_else(|| dir_label(dir));
    let state = State {
        shards: merged,
        ..State::default()
    };
    let m = Manifest::from_state(&run, &state);
    m.write(dir)?;
    write_atomic(
        &dir.join(manifest::CARD_FILE_NAME),
        manifest::dataset_card(&run, &state).as_bytes(),
    )?;
    remove_unlisted(dir, &state.shards)?;
    let summary = MergeSummary {
        run,
        merged_at: chrono::Utc::now().to_rfc3339(),
        shards: count,
        complete: parts.len() as u64 == count && parts.iter().all(|p| p.problem.is_none()),
        identity,
        accepted_rows: m.accepted_rows,
        rejected_rows: m.rejected_rows,
        files: state.shards.len(),
        parts: parts
            .iter()
            .map(|p| PartSummary {
                shard: p.name(),
                complete: p.problem.is_none(),
                outcome: p.outcome.as_ref().map(|o| o.outcome.clone()),
                problem: p.problem.clone(),
                accepted_rows: p.rows("accepted"),
                rejected_rows: p.rows("rejected"),
                files: p.state.shards.len(),
            })
            .collect(),
    };
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| MergeError::Io {
        path: dir.join(MERGE_FILE_NAME),
        source: std::io::Error::other(e),
    })?;
    write_atomic(&dir.join(MERGE_FILE_NAME), &json)?;
    Ok(summary)
}

fn dir_label(dir: &Path) -> String {
    dir.file_name().map_or_else(
        || "smelt run".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The shard directories under `shards_dir`, in index order (other entries are ignored).
fn list_shards(shards_dir: &Path) -> Result<Vec<ShardSpec>, MergeError> {
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(shards_dir).map_err(io(shards_dir))? {
        let entry = entry.map_err(io(shards_dir))?;
        let name = entry.file_name();
        match ShardSpec::from_dir_name(&name.to_string_lossy()) {
            Some(spec) if entry.path().is_dir() => specs.push(spec),
            _ => tracing::warn!(entry = %entry.path().display(), "not a shard directory: ignored"),
        }
    }
    specs.sort_by_key(|s| (s.count, s.index));
    Ok(specs)
}

fn check_whole(
    dir: &Path,
    count: u64,
    parts: &[Part],
    opts: MergeOptions,
) -> Result<(), MergeError> {
    let present: HashSet<u64> = parts.iter().map(|p| p.spec.index).collect();
    let mut list: Vec<String> = (0..count)
        .filter(|i| !present.contains(i))
        .map(|index| {
            let name = ShardSpec { index, count }.dir_name();
            format!("  {name}: never ran (no directory)")
        })
        .collect();
    list.extend(parts.iter().filter_map(|p| {
        p.problem
            .as_ref()
            .map(|why| format!("  {}: {why}", p.name()))
    }));
    if list.is_empty() || opts.allow_incomplete {
        for line in &list {
            tracing::warn!("merging an incomplete set: {}", line.trim());
        }
        return Ok(());
    }
    list.sort();
    Err(MergeError::Incomplete {
        dir: dir.to_path_buf(),
        list: list.join("\n"),
    })
}

/// Every part's identity equals the first one's; returns it.
fn check_same_pipeline(
    dir: &Path,
    parts: &[Part],
    opts: MergeOptions,
) -> Result<Option<Identity>, MergeError> {
    let Some(reference) = parts.iter().find_map(|p| p.identity.clone()) else {
        return Ok(None);
    };
    let list: Vec<String> = parts
        .iter()
        .filter_map(|p| {
            p.mismatch(&reference)
                .map(|why| format!("  {}: {why}", p.name()))
        })
        .collect();
    if list.is_empty() || opts.allow_mismatch {
        return Ok(Some(reference));
    }
    Err(MergeError::Mismatch {
        dir: dir.to_path_buf(),
        list: list.join("\n"),
    })
}

fn check_disjoint(parts: &[Part]) -> Result<(), MergeError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, p) in parts.iter().enumerate() {
        for id in &p.state.done {
            if let Some(&j) = seen.get(id.as_str()) {
                return Err(MergeError::Duplicate {
                    id: id.clone(),
                    a: parts[j].name(),
                    b: p.name(),
                });
            }
            seen.insert(id, i);
        }
    }
    Ok(())
}

/// Checks every part's shard files and puts them in `dir/data/`; the merged shard records.
fn place_files(dir: &Path, parts: &[Part]) -> Result<Vec<ShardRecord>, MergeError> {
    let mut merged = Vec::new();
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for p in parts {
        for rec in &p.state.shards {
            let from = p.dir.join(&rec.path);
            check_file(&from, rec)?;
            let file = from
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rel = format!("data/{}/{}-{file}", rec.split, p.name());
            let to = dir.join(&rel);
            if let Some(parent) = to.parent() {
                if made.insert(parent.to_path_buf()) {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
            }
            if !same_file(&from, &to, rec)? {
                link_or_copy(&from, &to)?;
            }
            merged.push(ShardRecord {
                path: rel,
                ..rec.clone()
            });
        }
    }
    for d in &made {
        crate::sink::shard::sync_dir(d)?;
    }
    Ok(merged)
}

fn check_file(path: &Path, rec: &ShardRecord) -> Result<(), MergeError> {
    let damaged = |what: String| MergeError::Damaged {
        path: path.to_path_buf(),
        what,
    };
    let meta = std::fs::metadata(path).map_err(|e| damaged(format!("cannot read it ({e})")))?;
    if meta.len() != rec.bytes {
        return Err(damaged(format!(
            "{} bytes, the journal recorded {}",
            meta.len(),
            rec.bytes
        )));
    }
    let sha = crate::sink::shard::sha256_file(path).map_err(io(path))?;
    if sha != rec.sha256 {
        return Err(damaged(format!(
            "SHA-256 {sha}, the journal recorded {}",
            rec.sha256
        )));
    }
    Ok(())
}

/// Whether `to` already holds `from`'s content (the same inode, or the recorded checksum).
fn same_file(from: &Path, to: &Path, rec: &ShardRecord) -> Result<bool, MergeError> {
    use std::os::unix::fs::MetadataExt;
    let Ok(dst) = std::fs::metadata(to) else {
        return Ok(false);
    };
    let src = std::fs::metadata(from).map_err(io(from))?;
    if src.dev() == dst.dev() && src.ino() == dst.ino() {
        return Ok(true);
    }
    Ok(dst.len() == rec.bytes
        && crate::sink::shard::sha256_file(to).ok() == Some(rec.sha256.clone()))
}

/// Hard-links `from` to `to` through a temporary name and a rename (a copy where links
/// cannot cross file systems), so `to` is never seen half-written.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), MergeError> {
    let tmp = to.with_extension("parquet.merging");
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp).map_err(io(&tmp))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, to).map_err(io(to))
}

/// Removes files under `dir/data/` that the manifest does not list (an earlier merge's
/// files for parts that are gone, temporary files of an interrupted merge).
fn remove_unlisted(dir: &Path, listed: &[ShardRecord]) -> Result<(), MergeError> {
    let keep: HashSet<PathBuf> = listed.iter().map(|r| dir.join(&r.path)).collect();
    let data = dir.join("data");
    let Ok(splits) = std::fs::read_dir(&data) else {
        return Ok(());
    };
    for split in splits.flatten() {
        let Ok(files) = std::fs::read_dir(split.path()) else {
            continue;
        };
        for f in files.flatten() {
            let path = f.path();
            if path.is_file() && !keep.contains(&path) {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
    }
    Ok(())
}
