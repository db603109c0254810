//! Tests of curation, one file per module.

mod config;
mod curator;
mod decontam;
mod log;
mod minhash;
mod normalize;
mod shared_data;

use crate::problem::Problem;
use std::path::PathBuf;

/// `tests/fixtures/benchmarks/<name>` in the repository.
pub(super) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/benchmarks")
        .join(name)
}

/// A problem of source `source` at `index` with `text`.
pub(super) fn problem(source: &str, index: u64, text: &str) -> Problem {
    Problem {
        id: format!("{source}-{index}"),
        source: source.into(),
        index,
        text: text.into(),
        reference: None,
        structured: serde_json::Value::Null,
        constraints: None,
        tests: None,
        entry_point: None,
        extra: Default::default(),
    }
}

/// `n` distinct words `{prefix}0 {prefix}1 …`.
pub(super) fn words(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}
