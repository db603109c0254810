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
///
/// Serialised as an object tagged by `kind`. Read from any of:
/// * a list of `assert` strings (`["assert f(1) == 2", …]`: MBPP, KodCode) → [`TestSpec::Asserts`];
/// * a string of Python defining `check(candidate)` (HumanEval) → [`TestSpec::Check`];
/// * `{"kind": "check", "code": …}`, `{"kind": "asserts", "asserts": […]}` or
///   `{"kind": "io", "cases": [{"input": …, "output": …}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(remote = "TestSpec")]
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

impl Serialize for TestSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TestSpec::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for TestSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        match value {
            serde_json::Value::String(code) => Ok(TestSpec::Check { code }),
            serde_json::Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    serde_json::Value::String(a) => Ok(a),
                    other => Err(D::Error::custom(format!(
                        "tests[{i}] is {}, expected an assert statement (a string)",
                        json_type(&other)
                    ))),
                })
                .collect::<Result<Vec<String>, _>>()
                .map(|asserts| TestSpec::Asserts { asserts }),
            object @ serde_json::Value::Object(_) => TestSpec::deserialize(object).map_err(|e| {
                D::Error::custom(format!(
                    "{e} (tests are a list of assert strings, check(candidate) code as a \
                         string, or an object with \"kind\": \"check\", \"asserts\" or \"io\")"
                ))
            }),
            other => Err(D::Error::custom(format!(
                "tests are {}; expected a list of assert strings, check(candidate) code as a \
                 string, or an object with \"kind\": \"check\", \"asserts\" or \"io\"",
                json_type(&other)
            ))),
        }
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
