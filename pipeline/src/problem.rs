//! A problem: what a source produces and everything downstream reads.

use serde::{Deserialize, Serialize};
use smelt_verifiers::TestSpec;

/// One problem from a source, with its ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable id: `{source}-{index}` unless the dataset names its own id column.
    pub id: String,
    /// Name of the source (the config's `[[sources]] name`).
    pub source: String,
    /// Position within the source (deterministic from the seed for generators; the row for files).
    pub index: u64,
    /// The problem statement.
    pub text: String,
    /// The exact reference answer as text (`"72"`, `"-3/4"`, `"x = 1, y = -2"`).
    pub reference: Option<String>,
    /// The structured form (equation, system, …) as JSON, kept for solvers and analysis.
    pub structured: serde_json::Value,
    /// SMT-LIB 2 constraints the answer must satisfy, when the problem has them.
    pub constraints: Option<String>,
    /// Unit tests for code problems.
    pub tests: Option<TestSpec>,
    /// Entry point for code problems.
    pub entry_point: Option<String>,
    /// Extra string fields a template may use (dataset columns named in `extra_fields`).
    #[serde(default)]
    pub extra: std::collections::BTreeMap<String, String>,
}
