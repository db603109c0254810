//! The export directory: a new or empty one (or `--force`), never the run itself; an earlier
//! export's files that this one does not replace are removed so no config's glob matches them.

use super::{ExportError, Format, WrittenConfig};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// `to` must be a new or empty directory (or `force`), and not the run directory itself.
pub fn prepare(run_dir: &Path, to: &Path, force: bool) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: to.to_path_buf(),
        source,
    };
    if let (Ok(a), Ok(b)) = (run_dir.canonicalize(), to.canonicalize()) {
        if a == b {
            return Err(ExportError::IntoRun {
                path: to.to_path_buf(),
            });
        }
    }
    match std::fs::read_dir(to) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                return Err(ExportError::NotEmpty {
                    path: to.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(to).map_err(io)
        }
        Err(e) => Err(io(e)),
    }
}

/// Removes Parquet files in the configs' directories that this export did not write (an
/// earlier export's), so a config's glob matches only this export's file.
pub fn remove_stale(to: &Path, written: &[WrittenConfig]) -> Result<(), ExportError> {
    let keep: HashSet<PathBuf> = written.iter().map(|w| to.join(&w.path)).collect();
    for f in Format::ALL {
        let dir = to.join(f.name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let parquet = path
                .extension()
                .is_some_and(|e| e == "parquet" || e == "tmp");
            if parquet && !keep.contains(&path) {
                std::fs::remove_file(&path).map_err(|source| ExportError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
        }
    }
    Ok(())
}
