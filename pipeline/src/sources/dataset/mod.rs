//! Dataset files (`jsonl`, `.jsonl.gz`, `parquet`) as problem sources.
//!
//! A file is read and checked whole when the source is built, so a bad row fails the run before
//! any generation starts, with the file, line (JSONL) or row (Parquet) and column in the message.
//! All problems are held in memory afterwards (GSM8K's 7,473 rows take a few MB).

mod columns;
mod jsonl;
mod parquet;

pub use columns::{Cell, ColumnMap};

use super::{ProblemSource, SourceEntry, SourceError, SourceKind};
use crate::problem::Problem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where a row sits in its file, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place {
    /// 1-based line of a JSONL file.
    Line(u64),
    /// 0-based row of a Parquet file.
    Row(u64),
}

impl Place {
    pub(crate) fn error(self, path: &Path, message: impl Into<String>) -> SourceError {
        let path = path.to_path_buf();
        let message = message.into();
        match self {
            Place::Line(line) => SourceError::Line {
                path,
                line,
                message,
            },
            Place::Row(row) => SourceError::Row { path, row, message },
        }
    }
}

/// A dataset loaded into memory.
#[derive(Debug, Clone)]
pub struct Dataset {
    name: String,
    path: PathBuf,
    problems: Vec<Problem>,
}

impl Dataset {
    /// Reads `entry.path` (resolved against `base`) with the entry's column mapping.
    pub fn load(entry: &SourceEntry, base: &Path) -> Result<Self, SourceError> {
        let Some(rel) = &entry.path else {
            return Err(SourceError::Config {
                source_name: entry.name.clone(),
                message: "`path` is required for a dataset".into(),
            });
        };
        let path = if rel.is_absolute() {
            rel.clone()
        } else {
            base.join(rel)
        };
        let columns = ColumnMap::from_entry(entry);
        let mut rows = Vec::new();
        let mut push =
            |place: Place, cells: &dyn Fn(&str) -> Option<Cell>| -> Result<(), SourceError> {
                let index = rows.len() as u64;
                let problem = columns
                    .problem(&entry.name, index, cells)
                    .map_err(|m| place.error(&path, m))?;
                rows.push((place, problem));
                Ok(())
            };
        match entry.kind {
            SourceKind::Parquet => parquet::read(&path, &columns.names(), &mut push)?,
            _ => jsonl::read(&path, &mut push)?,
        }
        if rows.is_empty() {
            return Err(SourceError::File {
                path,
                message: "has no rows".into(),
            });
        }
        let mut seen: HashMap<&str, Place> = HashMap::new();
        for (place, p) in &rows {
            if let Some(first) = seen.insert(p.id.as_str(), *place) {
                let at = match first {
                    Place::Line(l) => format!("line {l}"),
                    Place::Row(r) => format!("row {r}"),
                };
                return Err(place.error(&path, format!("id `{}` repeats the id of {at}", p.id)));
            }
        }
        Ok(Dataset {
            name: entry.name.clone(),
            path,
            problems: rows.into_iter().map(|(_, p)| p).collect(),
        })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ProblemSource for Dataset {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> Option<u64> {
        Some(self.problems.len() as u64)
    }

    fn problem(&self, index: u64) -> Result<Problem, SourceError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.problems.get(i))
            .cloned()
            .ok_or_else(|| SourceError::OutOfRange {
                source_name: self.name.clone(),
                index,
            })
    }
}

/// Calls `each(row_index, cells)` for every row of a JSONL (`.jsonl`, `.jsonl.gz`) or Parquet
/// (`.parquet`, by extension) file; `columns` are the columns a Parquet read needs. Used by
/// the replay generator, which reads completions with the same readers as datasets.
pub fn for_each_row(
    path: &Path,
    columns: &[String],
    mut each: impl FnMut(u64, &dyn Fn(&str) -> Option<Cell>) -> Result<(), String>,
) -> Result<(), SourceError> {
    let mut index = 0u64;
    let mut push =
        |place: Place, cells: &dyn Fn(&str) -> Option<Cell>| -> Result<(), SourceError> {
            each(index, cells).map_err(|m| place.error(path, m))?;
            index += 1;
            Ok(())
        };
    if path.extension().is_some_and(|e| e == "parquet") {
        parquet::read(path, columns, &mut push)
    } else {
        jsonl::read(path, &mut push)
    }
}
