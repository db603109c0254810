//! Shared helpers: the binary, temp projects, reading shards back with an independent reader.

use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// The tests run the real binary; the sandbox rule (clippy.toml) is for generated code.
#[allow(clippy::disallowed_methods)]
pub fn smelt() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smelt"));
    cmd.env_remove("SMELT_FAULT").env("SMELT_LOG", "warn");
    cmd
}

/// Read at run time first (cargo sets `CARGO_MANIFEST_DIR` when it runs a test), so a test
/// binary built from another checkout sharing the target directory uses this checkout.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("..")
}

/// `../shared/data/...` beside the repo, when present.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let p = repo_root().join("../shared/data").join(rel);
    p.exists().then_some(p)
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn smelt");
    assert!(
        out.status.success(),
        "smelt failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Copies `from` into `to`, subdirectories included.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temp dir with `prompts/` copied from the repo and a config written to `pipeline.toml`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&repo_root().join("prompts"), &dir.path().join("prompts"));
        Project { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn out(&self) -> PathBuf {
        self.path("out")
    }
}

/// Reads every shard listed in the manifest with polars (independent of the arrow-rs writer).
pub fn read_split(out: &Path, split: &str) -> DataFrame {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let mut frames = Vec::new();
    for shard in manifest["shards"].as_array().unwrap() {
        if shard["split"] != split {
            continue;
        }
        let path = out.join(shard["path"].as_str().unwrap());
        let file = std::fs::File::open(&path).unwrap();
        // Every column but `created_at`: this polars build has no datetime support (it would
        // double the build); `created_at` is checked with the parquet crate below.
        let columns: Vec<String> = smelt::sink::schema::schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| n != "created_at")
            .collect();
        let df = ParquetReader::new(file)
            .with_columns(Some(columns))
            .finish()
            .unwrap();
        assert_created_at(&path, df.height());
        assert_eq!(
            df.height() as u64,
            shard["rows"].as_u64().unwrap(),
            "{}",
            path.display()
        );
        frames.push(df);
    }
    if frames.is_empty() {
        return DataFrame::empty();
    }
    let mut all = frames.remove(0);
    for f in frames {
        all.vstack_mut(&f).unwrap();
    }
    all
}

pub fn strings(df: &DataFrame, col: &str) -> Vec<String> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .into_iter()
        .map(|s| s.unwrap_or("").to_owned())
        .collect()
}

/// Every file listed in the manifest exists with the recorded size and checksum, and no other
/// file is in data/.
pub fn assert_manifest_matches(out: &Path) {
    assert_manifest(out, true)
}

/// Like [`assert_manifest_matches`]; with `strict = false` unlisted files (crash leftovers that
/// the next run removes) are allowed, listed ones must still be intact.
pub fn assert_manifest(out: &Path, strict: bool) {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let mut listed = std::collections::BTreeSet::new();
    for shard in manifest["shards"].as_array().unwrap() {
        let rel = shard["path"].as_str().unwrap();
        let bytes = std::fs::read(out.join(rel)).unwrap();
        assert_eq!(
            bytes.len() as u64,
            shard["bytes"].as_u64().unwrap(),
            "{rel}"
        );
        use sha2::Digest;
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            shard["sha256"].as_str().unwrap(),
            "{rel}"
        );
        listed.insert(rel.to_owned());
    }
    for split in ["accepted", "rejected"] {
        let dir = out.join("data").join(split);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries {
                let rel = format!("data/{split}/{}", e.unwrap().file_name().to_string_lossy());
                assert!(!strict || listed.contains(&rel), "unlisted file {rel}");
            }
        }
    }
}

/// `created_at` holds plausible timestamps (read with the parquet crate's Arrow reader).
fn assert_created_at(path: &Path, rows: usize) {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::TimestampMicrosecondType;
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut n = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let col = batch.column_by_name("created_at").unwrap();
        let ts = col.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(ts.null_count(), 0);
        // After 2020-01-01 and not in the future.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as i64;
        assert!(ts
            .values()
            .iter()
            .all(|&t| t > 1_577_836_800_000_000 && t <= now));
        n += batch.num_rows();
    }
    assert_eq!(n, rows);
}
