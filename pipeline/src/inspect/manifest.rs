//! `manifest.json`: the shards a run directory lists, each checked to lie inside it.

use super::{InspectError, MANIFEST};
use serde::Deserialize;
use std::path::{Component, Path};

/// The part of `manifest.json` inspect reads (other fields are ignored).
#[derive(Debug, Deserialize)]
struct Manifest {
    shards: Vec<ManifestShard>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ManifestShard {
    pub(super) path: String,
    pub(super) rows: u64,
    #[serde(default)]
    pub(super) split: Option<String>,
}

pub(super) fn read_manifest(dir: &Path) -> Result<Vec<ManifestShard>, InspectError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(InspectError::MissingManifest { path })
        }
        Err(source) => return Err(InspectError::Io { path, source }),
    };
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| InspectError::BadManifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
    for s in &manifest.shards {
        let p = Path::new(&s.path);
        let inside = p
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if s.path.is_empty() || !inside {
            return Err(InspectError::BadManifest {
                path,
                message: format!("shard path {:?} is not inside the run directory", s.path),
            });
        }
    }
    Ok(manifest.shards)
}

/// `data/rejected/part-00000.parquet` → `rejected`.
pub(super) fn split_of(path: &str) -> String {
    if path.contains("rejected") {
        "rejected".into()
    } else {
        "accepted".into()
    }
}
