//! The run being exported: its committed shards (from `manifest.json`, each checked against the
//! size and SHA-256 the manifest records), read back with the parquet crate's Arrow reader.
//!
//! A sharded run is read through its merged `data/` (`smelt merge`); an unmerged one is refused.

use super::ExportError;
use crate::journal::{self, ShardRecord};
use crate::shard::{ShardSpec, SHARDS_DIR};
use crate::sink::manifest::{self, Manifest};
use arrow::array::{Array, AsArray, BooleanArray, ListArray, StringArray, StructArray};
use arrow::datatypes::{UInt32Type, UInt64Type};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::path::{Component, Path, PathBuf};

/// A run directory whose manifest and shard files have been checked.
#[derive(Debug)]
pub struct RunInput {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Rejected samples the run verified but did not write (`output.keep_rejected = false`),
    /// from the journal's counts (`None`: no journal to tell).
    pub dropped_rejected: Option<u64>,
}

impl RunInput {
    /// Opens `dir`: its manifest, and every shard it lists (present, recorded size and SHA-256).
    pub fn open(dir: &Path) -> Result<RunInput, ExportError> {
        if !dir.is_dir() {
            return Err(ExportError::NotARun {
                path: dir.to_path_buf(),
                why: "no such directory".into(),
            });
        }
        let manifest_path = dir.join(manifest::FILE_NAME);
        let sharded = dir.join(SHARDS_DIR).is_dir();
        let merged = dir.join(crate::merge::MERGE_FILE_NAME).is_file();
        if sharded && !merged {
            return Err(ExportError::Unmerged {
                dir: dir.to_path_buf(),
            });
        }
        if !manifest_path.is_file() {
            return Err(ExportError::NotARun {
                path: manifest_path,
                why: "no manifest.json: not a smelt run directory, or a run that has not \
                      committed its first shard yet"
                    .into(),
            });
        }
        let manifest = Manifest::read(dir).map_err(|e| ExportError::BadManifest {
            path: manifest_path.clone(),
            message: e.to_string(),
        })?;
        for rec in &manifest.shards {
            check_path(&manifest_path, rec)?;
            check_file(&dir.join(&rec.path), rec)?;
        }
        let dropped_rejected = dropped_rejected(dir, &manifest)?;
        Ok(RunInput {
            dir: dir.to_path_buf(),
            manifest,
            dropped_rejected,
        })
    }

    /// The shard files of `split`, in manifest order.
    pub fn shards<'a>(&'a self, split: &'a str) -> impl Iterator<Item = PathBuf> + 'a {
        self.manifest
            .shards
            .iter()
            .filter(move |s| s.split == split)
            .map(|s| self.dir.join(&s.path))
    }
}

/// A manifest path must stay inside the run directory.
fn check_path(manifest: &Path, rec: &ShardRecord) -> Result<(), ExportError> {
    let inside = Path::new(&rec.path)
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if rec.path.is_empty() || !inside {
        return Err(ExportError::BadManifest {
            path: manifest.to_path_buf(),
            message: format!("shard path {:?} is not inside the run directory", rec.path),
        });
    }
    Ok(())
}

/// The file is there with the size and SHA-256 the manifest recorded.
fn check_file(path: &Path, rec: &ShardRecord) -> Result<(), ExportError> {
    let damaged = |what: String| ExportError::Damaged {
        path: path.to_path_buf(),
        what,
    };
    let meta = std::fs::metadata(path).map_err(|e| damaged(format!("cannot read it ({e})")))?;
    if meta.len() != rec.bytes {
        return Err(damaged(format!(
            "{} bytes, the manifest records {}",
            meta.len(),
            rec.bytes
        )));
    }
    let sha = crate::sink::shard::sha256_file(path).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if sha != rec.sha256 {
        return Err(damaged(format!(
            "SHA-256 {sha}, the manifest records {}",
            rec.sha256
        )));
    }
    Ok(())
}

/// Rejected samples counted by the journal(s) but absent from the shards: the journal's
/// per-source rejected counts include dropped samples, the shards hold only kept ones.
fn dropped_rejected(dir: &Path, manifest: &Manifest) -> Result<Option<u64>, ExportError> {
    let mut journals = Vec::new();
    let own = dir.join(journal::FILE_NAME);
    if own.is_file() {
        journals.push(own);
    } else if let Ok(entries) = std::fs::read_dir(dir.join(SHARDS_DIR)) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let path = entry.path().join(journal::FILE_NAME);
            if ShardSpec::from_dir_name(&name.to_string_lossy()).is_some() && path.is_file() {
                journals.push(path);
            }
        }
    }
    if journals.is_empty() {
        return Ok(None);
    }
    let mut counted = 0u64;
    for path in &journals {
        counted += journal::read_state(path)?.rejected.values().sum::<u64>();
    }
    Ok(Some(counted.saturating_sub(manifest.rejected_rows)))
}

/// Reads the named top-level columns of one shard, batch by batch, calling `each` per batch.
/// A missing column is an error naming the file and the column.
pub fn read_columns(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&Batch<'_>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let parquet_err = |source| ExportError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_err)?;
    let mut roots = Vec::with_capacity(columns.len());
    for name in columns {
        let index = builder
            .schema()
            .index_of(name)
            .map_err(|_| ExportError::Column {
                path: path.to_path_buf(),
                column: (*name).to_owned(),
                what: "missing".into(),
            })?;
        roots.push(index);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(4096)
        .build()
        .map_err(parquet_err)?;
    for batch in reader {
        let batch = batch.map_err(|source| ExportError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        each(&Batch { path, batch })?;
    }
    Ok(())
}

/// One record batch of a shard, with typed column access that names the file on a mismatch.
pub struct Batch<'a> {
    path: &'a Path,
    batch: RecordBatch,
}

impl Batch<'_> {
    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn column(&self, name: &str) -> Result<&dyn Array, ExportError> {
        self.batch
            .column_by_name(name)
            .map(|c| c.as_ref())
            .ok_or_else(|| self.bad(name, "missing"))
    }

    fn bad(&self, column: &str, what: &str) -> ExportError {
        ExportError::Column {
            path: self.path.to_path_buf(),
            column: column.to_owned(),
            what: what.to_owned(),
        }
    }

    pub fn strings(&self, name: &str) -> Result<&StringArray, ExportError> {
        self.column(name)?
            .as_string_opt::<i32>()
            .ok_or_else(|| self.bad(name, "not a string column"))
    }

    pub fn bools(&self, name: &str) -> Result<&BooleanArray, ExportError> {
        self.column(name)?
            .as_boolean_opt()
            .ok_or_else(|| self.bad(name, "not a boolean column"))
    }

    pub fn u64s(&self, name: &str) -> Result<&arrow::array::UInt64Array, ExportError> {
        self.column(name)?
            .as_primitive_opt::<UInt64Type>()
            .ok_or_else(|| self.bad(name, "not a UInt64 column"))
    }

    pub fn u32s(&self, name: &str) -> Result<&arrow::array::UInt32Array, ExportError> {
        self.column(name)?
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| self.bad(name, "not a UInt32 column"))
    }

    pub fn lists(&self, name: &str) -> Result<&ListArray, ExportError> {
        self.column(name)?
            .as_list_opt::<i32>()
            .ok_or_else(|| self.bad(name, "not a list column"))
    }

    /// A required string at `row` (null is an error naming the column).
    pub fn str_at<'b>(
        &self,
        col: &'b StringArray,
        name: &str,
        row: usize,
    ) -> Result<&'b str, ExportError> {
        if col.is_null(row) {
            return Err(self.bad(name, &format!("null in row {row}")));
        }
        Ok(col.value(row))
    }

    /// The first verdict of `verdicts[row]` that did not accept: `(verifier, reason, error)`.
    pub fn first_rejection(
        &self,
        verdicts: &ListArray,
        row: usize,
    ) -> Result<Option<Rejection>, ExportError> {
        let entries = verdicts.value(row);
        let st: &StructArray = entries
            .as_struct_opt()
            .ok_or_else(|| self.bad("verdicts", "items are not structs"))?;
        let field = |name: &str| {
            st.column_by_name(name)
                .ok_or_else(|| self.bad("verdicts", &format!("no field `{name}`")))
        };
        let accepted = field("accepted")?
            .as_boolean_opt()
            .ok_or_else(|| self.bad("verdicts", "`accepted` is not boolean"))?;
        let error = field("error")?
            .as_boolean_opt()
            .ok_or_else(|| self.bad("verdicts", "`error` is not boolean"))?;
        let verifier = field("verifier")?
            .as_string_opt::<i32>()
            .ok_or_else(|| self.bad("verdicts", "`verifier` is not a string"))?;
        let reason = field("reason")?
            .as_string_opt::<i32>()
            .ok_or_else(|| self.bad("verdicts", "`reason` is not a string"))?;
        Ok((0..st.len())
            .find(|&i| !accepted.value(i))
            .map(|i| Rejection {
                verifier: verifier.value(i).to_owned(),
                reason: reason.value(i).to_owned(),
                error: error.value(i),
            }))
    }
}

/// Why a sample was rejected: the first verdict that did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub verifier: String,
    pub reason: String,
    /// The verifier could not run (timeout, crash): not evidence that the sample is wrong.
    pub error: bool,
}
