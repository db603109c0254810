//! `[[sources]]`: one flat TOML table for every source type, and the pure check that rejects
//! the fields a type does not use.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[[sources]]` in the pipeline config. One flat table for every type; fields that a type
/// does not use are rejected by [`SourceEntry::check_fields`] with the field's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: SourceKind,
    /// Relative share of problems drawn from this source.
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// Prompt template, relative to the config file's directory.
    pub template: PathBuf,
    /// Generators: 0 (warm-up, for small models), 1 (easy) ..= 5 (hard); default [`DEFAULT_DIFFICULTY`].
    #[serde(default)]
    pub difficulty: Option<u32>,
    /// Generators: how many distinct problems (indices `0..size`); unbounded without it.
    #[serde(default)]
    pub size: Option<u64>,
    /// Datasets: the file (`.jsonl`, `.jsonl.gz` or `.parquet`), relative to the config file.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Datasets: column holding the problem text (default `question`).
    #[serde(default)]
    pub question_field: Option<String>,
    /// Datasets: column holding the answer, or a solution ending in `answer_after`
    /// (default `answer`; code datasets with `tests_field` have no answer column by default).
    #[serde(default)]
    pub answer_field: Option<String>,
    /// Datasets: the answer is the text after the last occurrence of this marker (GSM8K: `####`).
    #[serde(default)]
    pub answer_after: Option<String>,
    /// Datasets: column with a stable id (default: `{name}-{row}`).
    #[serde(default)]
    pub id_field: Option<String>,
    /// Datasets: column with SMT-LIB constraints.
    #[serde(default)]
    pub constraints_field: Option<String>,
    /// Datasets: column with tests: HumanEval `check(candidate)` code (a string), a list of
    /// `assert` lines, or (JSONL) any `TestSpec` form: a list of asserts, check code, or a
    /// `{"kind": …}` object.
    #[serde(default)]
    pub tests_field: Option<String>,
    /// Datasets: column with the entry point function name.
    #[serde(default)]
    pub entry_point_field: Option<String>,
    /// Datasets: further columns exposed to the template as `extra.<column>`.
    #[serde(default)]
    pub extra_fields: Vec<String>,
    /// Stop drawing from this source after this many problems.
    #[serde(default)]
    pub max_problems: Option<u64>,
    /// Stop drawing from this source once this many samples are accepted.
    #[serde(default)]
    pub target_accepted: Option<u64>,
    /// `propose`: how the model is asked for new problems (`[sources.propose]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propose: Option<crate::propose::ProposeSpec>,
}

/// Difficulty of a generator without `difficulty`.
pub const DEFAULT_DIFFICULTY: u32 = 3;

fn default_weight() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Arithmetic,
    LinearEquation,
    LinearSystem2,
    LinearSystem3,
    Modular,
    WordProblem,
    Jsonl,
    Parquet,
    /// Problems the model proposes, each proven well-posed by Z3 before it is sampled.
    Propose,
}

impl SourceKind {
    /// Procedural generators (as opposed to dataset files).
    pub fn is_generator(self) -> bool {
        !matches!(
            self,
            SourceKind::Jsonl | SourceKind::Parquet | SourceKind::Propose
        )
    }

    /// The name used in `type = "..."`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Arithmetic => "arithmetic",
            SourceKind::LinearEquation => "linear_equation",
            SourceKind::LinearSystem2 => "linear_system2",
            SourceKind::LinearSystem3 => "linear_system3",
            SourceKind::Modular => "modular",
            SourceKind::WordProblem => "word_problem",
            SourceKind::Jsonl => "jsonl",
            SourceKind::Parquet => "parquet",
            SourceKind::Propose => "propose",
        }
    }
}

impl SourceEntry {
    /// The generator difficulty after the default.
    pub fn difficulty_or_default(&self) -> u32 {
        self.difficulty.unwrap_or(DEFAULT_DIFFICULTY)
    }

    /// Checks that the entry only sets fields its type uses, and that the values it sets are in
    /// range. The message names the offending field(s); several problems are joined by `; `.
    pub fn check_fields(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let kind = self.kind.as_str();
        let unused = |field: &str| format!("`{field}` is not used by type \"{kind}\"");
        if self.propose.is_some() && self.kind != SourceKind::Propose {
            problems.push(unused("propose"));
        }
        if self.kind == SourceKind::Propose {
            for (field, set) in self.dataset_fields().into_iter().chain([
                ("difficulty", self.difficulty.is_some()),
                ("size", self.size.is_some()),
            ]) {
                if set {
                    problems.push(unused(field));
                }
            }
            match &self.propose {
                None => problems.push(
                    "type \"propose\" needs a `[sources.propose]` table (template, seeds or seed_file)"
                        .into(),
                ),
                Some(spec) => problems.extend(spec.check()),
            }
        } else if self.kind.is_generator() {
            for (field, set) in self.dataset_fields() {
                if set {
                    problems.push(unused(field));
                }
            }
            if let Some(d) = self.difficulty {
                if !(0..=5).contains(&d) {
                    problems.push(format!("`difficulty` {d} must be in 0..=5"));
                }
            }
            if self.size == Some(0) {
                problems.push("`size` must be at least 1".into());
            }
        } else {
            for (field, set) in [
                ("difficulty", self.difficulty.is_some()),
                ("size", self.size.is_some()),
            ] {
                if set {
                    problems.push(unused(field));
                }
            }
            if self.path.is_none() {
                problems.push(format!("`path` is required for type \"{kind}\""));
            }
            if self.answer_after.as_deref() == Some("") {
                problems.push("`answer_after` must not be empty".into());
            }
            if self.answer_after.is_some()
                && self.answer_field.is_none()
                && self.tests_field.is_some()
            {
                problems.push(
                    "`answer_after` needs `answer_field` (with `tests_field` there is no default answer column)"
                        .into(),
                );
            }
            for (field, value) in self.column_fields() {
                if value == Some("") {
                    problems.push(format!("`{field}` must not be empty"));
                }
            }
            if self.extra_fields.iter().any(String::is_empty) {
                problems.push("`extra_fields` must not contain an empty name".into());
            }
        }
        if self.max_problems == Some(0) {
            problems.push("`max_problems` must be at least 1".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Dataset-only fields and whether each is set.
    fn dataset_fields(&self) -> [(&'static str, bool); 9] {
        [
            ("path", self.path.is_some()),
            ("question_field", self.question_field.is_some()),
            ("answer_field", self.answer_field.is_some()),
            ("answer_after", self.answer_after.is_some()),
            ("id_field", self.id_field.is_some()),
            ("constraints_field", self.constraints_field.is_some()),
            ("tests_field", self.tests_field.is_some()),
            ("entry_point_field", self.entry_point_field.is_some()),
            ("extra_fields", !self.extra_fields.is_empty()),
        ]
    }

    /// Column-name fields and their values.
    fn column_fields(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("question_field", self.question_field.as_deref()),
            ("answer_field", self.answer_field.as_deref()),
            ("id_field", self.id_field.as_deref()),
            ("constraints_field", self.constraints_field.as_deref()),
            ("tests_field", self.tests_field.as_deref()),
            ("entry_point_field", self.entry_point_field.as_deref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(toml_text: &str) -> SourceEntry {
        match toml::from_str(toml_text) {
            Ok(e) => e,
            Err(e) => panic!("bad test TOML: {e}"),
        }
    }

    #[test]
    fn generator_rejects_dataset_fields_by_name() {
        let e = entry("name='a'\ntype='arithmetic'\ntemplate='t.j2'\nquestion_field='q'\n");
        let msg = e.check_fields().expect_err("question_field on a generator");
        assert!(msg.contains("`question_field`"), "{msg}");
        assert!(msg.contains("arithmetic"), "{msg}");
    }

    #[test]
    fn dataset_rejects_generator_fields_and_needs_path() {
        let e = entry("name='g'\ntype='jsonl'\ntemplate='t.j2'\ndifficulty=2\n");
        let msg = e.check_fields().expect_err("difficulty on a dataset");
        assert!(msg.contains("`difficulty`"), "{msg}");
        assert!(msg.contains("`path` is required"), "{msg}");
    }

    #[test]
    fn difficulty_range_is_checked() {
        let e = entry("name='a'\ntype='modular'\ntemplate='t.j2'\ndifficulty=6\n");
        let msg = e.check_fields().expect_err("difficulty 6");
        assert!(msg.contains("`difficulty` 6"), "{msg}");
        let ok = entry("name='a'\ntype='modular'\ntemplate='t.j2'\ndifficulty=5\nsize=10\n");
        assert_eq!(ok.check_fields(), Ok(()));
    }

    #[test]
    fn valid_dataset_passes() {
        let e = entry(
            "name='gsm8k'\ntype='jsonl'\ntemplate='t.j2'\npath='train.jsonl'\nanswer_after='####'\nextra_fields=['x']\n",
        );
        assert_eq!(e.check_fields(), Ok(()));
    }

    #[test]
    fn unknown_fields_are_rejected_by_serde() {
        let r: Result<SourceEntry, _> =
            toml::from_str("name='a'\ntype='arithmetic'\ntemplate='t.j2'\nmodulus=3\n");
        let msg = r.expect_err("unknown field").to_string();
        assert!(msg.contains("modulus"), "{msg}");
    }
}
