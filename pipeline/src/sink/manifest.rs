//! `manifest.json` and the dataset card: what a reader of the output directory trusts.
//! Both are derived from the journal and rewritten atomically after every commit.

use super::SinkError;
use crate::journal::{ShardRecord, State};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const FILE_NAME: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub run: String,
    pub smelt_version: String,
    pub updated_at: String,
    pub accepted_rows: u64,
    pub rejected_rows: u64,
    pub shards: Vec<ShardRecord>,
}

impl Manifest {
    pub fn from_state(run: &str, state: &State) -> Manifest {
        let rows = |split: &str| {
            state
                .shards
                .iter()
                .filter(|s| s.split == split)
                .map(|s| s.rows as u64)
                .sum()
        };
        Manifest {
            run: run.to_owned(),
            smelt_version: env!("CARGO_PKG_VERSION").to_owned(),
            updated_at: chrono::Utc::now().to_rfc3339(),
            accepted_rows: rows("accepted"),
            rejected_rows: rows("rejected"),
            shards: state.shards.clone(),
        }
    }

    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest, SinkError> {
        let path = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|source| SinkError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| SinkError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// Writes `dir/manifest.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), SinkError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| SinkError::Io {
            path: dir.join(FILE_NAME),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&dir.join(FILE_NAME), &json)
    }
}

/// Writes `bytes` to `path` via a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SinkError> {
    let tmp = path.with_extension("tmp");
    let io = |source| SinkError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The dataset card's file name.
pub const CARD_FILE_NAME: &str = "README.md";

/// A Hugging Face dataset card, so `datasets.load_dataset(dir, "accepted")` finds the splits.
///
/// Only splits with at least one committed shard are listed as configs: `datasets` resolves
/// every config's files when it loads any one of them, so a config whose glob matches nothing
/// makes every config fail (`DataFilesNotFoundError`). `accepted` is the default config when
/// it has shards, `rejected` otherwise. Rewritten with the manifest after every commit.
pub fn dataset_card(run: &str, state: &State) -> String {
    let has = |split: &str| state.shards.iter().any(|s| s.split == split);
    let mut configs = String::new();
    let mut default = true;
    for split in ["accepted", "rejected"] {
        if !has(split) {
            continue;
        }
        configs.push_str(&format!("- config_name: {split}\n"));
        if default {
            configs.push_str("  default: true\n");
            default = false;
        }
        configs.push_str(&format!(
            "  data_files:\n  - split: train\n    path: data/{split}/*.parquet\n"
        ));
    }
    let front = if configs.is_empty() {
        "---\npretty_name: smelt run\n---\n".to_owned()
    } else {
        format!("---\nconfigs:\n{configs}---\n")
    };
    let listed = match (has("accepted"), has("rejected")) {
        (true, true) => {
            "Configs: `accepted` (samples every verifier accepted) and `rejected` \
                         (the rest, with their reasons in the `verdicts` column)."
        }
        (true, false) => {
            "Config: `accepted` (samples every verifier accepted); no rejected \
                          samples were written."
        }
        (false, true) => {
            "Config: `rejected` (samples a verifier rejected, with their reasons in \
                          the `verdicts` column); no sample has been accepted yet."
        }
        (false, false) => "No shard has been committed yet.",
    };
    format!(
        "{front}\n# {run}\n\nVerified samples written by smelt {}. {listed} `manifest.json` lists \
         the complete shards with row counts and SHA-256 checksums.\n",
        env!("CARGO_PKG_VERSION")
    )
}
