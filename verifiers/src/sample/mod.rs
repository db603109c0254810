//! What a verifier looks at.

use serde::{Deserialize, Serialize};

/// One model completion for one problem, plus the problem's ground truth.
///
/// Every field but `completion` is optional ground truth; a verifier that needs a field the sample
/// lacks rejects with reason `missing_ground_truth` (it must never accept on missing data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sample {
    /// Stable identifier of this sample (deterministic in smelt's pipeline).
    pub id: String,
    /// The problem statement as shown to the model.
    pub problem: String,
    /// The model's raw output.
    pub completion: String,
    /// The reference final answer, as text (`"72"`, `"-3/4"`, `"x=2, y=-1"`).
    pub reference: Option<String>,
    /// SMT-LIB 2 constraints the answer must satisfy (declarations + assertions).
    pub constraints: Option<String>,
    /// Unit tests for code problems.
    pub tests: Option<TestSpec>,
    /// Name of the function under test for code problems.
    pub entry_point: Option<String>,
    /// The structured form of the problem from its generator (free-form JSON).
    pub structured: Option<serde_json::Value>,
}

/// Tests that a code completion must pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TestSpec {
    /// Python source defining `check(candidate)` (HumanEval style).
    Check { code: String },
    /// Python `assert` statements run after the solution.
    Asserts { asserts: Vec<String> },
    /// Run the program with `input` on stdin; stdout must equal `output` (trailing whitespace ignored).
    Io { cases: Vec<IoCase> },
}

/// One stdin/stdout case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoCase {
    pub input: String,
    pub output: String,
}

impl Sample {
    /// A sample with just a completion and a reference answer.
    pub fn new(completion: impl Into<String>, reference: Option<&str>) -> Self {
        Sample {
            completion: completion.into(),
            reference: reference.map(str::to_owned),
            ..Sample::default()
        }
    }
}
