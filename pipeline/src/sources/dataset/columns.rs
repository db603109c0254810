//! The column mapping of a dataset source: which columns hold the question, answer, id, tests…,
//! and how one row's cells become a [`Problem`]. Shared by the JSONL and Parquet readers.

use crate::problem::Problem;
use crate::sources::SourceEntry;
use smelt_verifiers::TestSpec;
use std::collections::BTreeMap;

/// One cell of a row, as read from the file (a missing or null cell is `None` instead).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Str(String),
    /// A number, written exactly as in the file (JSON) or as an integer (Parquet).
    Num(String),
    Bool(bool),
    /// A list of strings (e.g. `assert` lines).
    List(Vec<String>),
    /// Any other JSON value (an object, a mixed list).
    Json(serde_json::Value),
}

impl Cell {
    fn type_name(&self) -> &'static str {
        match self {
            Cell::Str(_) => "a string",
            Cell::Num(_) => "a number",
            Cell::Bool(_) => "a boolean",
            Cell::List(_) => "a list of strings",
            Cell::Json(serde_json::Value::Object(_)) => "an object",
            Cell::Json(_) => "a list",
        }
    }
}

/// Resolved column names (after defaults) and the answer rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMap {
    pub question: String,
    /// `None` for code datasets (a `tests_field` and no `answer_field`): no reference answer.
    pub answer: Option<String>,
    pub answer_after: Option<String>,
    pub id: Option<String>,
    pub constraints: Option<String>,
    pub tests: Option<String>,
    pub entry_point: Option<String>,
    pub extra: Vec<String>,
}

impl ColumnMap {
    /// Defaults: `question`; `answer` unless the entry has `tests_field` and no `answer_field`.
    pub fn from_entry(e: &SourceEntry) -> Self {
        let answer = match (&e.answer_field, &e.tests_field) {
            (Some(a), _) => Some(a.clone()),
            (None, Some(_)) => None,
            (None, None) => Some("answer".to_owned()),
        };
        ColumnMap {
            question: e
                .question_field
                .clone()
                .unwrap_or_else(|| "question".into()),
            answer,
            answer_after: e.answer_after.clone(),
            id: e.id_field.clone(),
            constraints: e.constraints_field.clone(),
            tests: e.tests_field.clone(),
            entry_point: e.entry_point_field.clone(),
            extra: e.extra_fields.clone(),
        }
    }

    /// Every column the mapping reads (without repeats).
    pub fn names(&self) -> Vec<String> {
        let mut names = vec![self.question.clone()];
        let optional = [
            &self.answer,
            &self.id,
            &self.constraints,
            &self.tests,
            &self.entry_point,
        ];
        names.extend(optional.into_iter().flatten().cloned());
        names.extend(self.extra.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        names
    }

    /// The problem in row `index` of source `name`; the error names the column.
    pub fn problem(
        &self,
        name: &str,
        index: u64,
        cell: &dyn Fn(&str) -> Option<Cell>,
    ) -> Result<Problem, String> {
        let question = text(&self.question, required(&self.question, cell)?)?;
        let reference = match &self.answer {
            Some(col) => Some(self.reference(col, required(col, cell)?)?),
            None => None,
        };
        let id = match &self.id {
            Some(col) => match required(col, cell)? {
                Cell::Str(s) | Cell::Num(s) => s,
                other => return Err(wrong_type(col, &other, "a string or a number")),
            },
            None => format!("{name}-{index}"),
        };
        let constraints = optional_text(self.constraints.as_deref(), cell)?;
        let entry_point = optional_text(self.entry_point.as_deref(), cell)?;
        let tests = match &self.tests {
            Some(col) => Some(test_spec(col, required(col, cell)?)?),
            None => None,
        };
        let mut extra = BTreeMap::new();
        for col in &self.extra {
            let value = match required(col, cell)? {
                Cell::Str(s) | Cell::Num(s) => s,
                Cell::Bool(b) => b.to_string(),
                Cell::List(l) => serde_json::Value::from(l).to_string(),
                Cell::Json(v) => v.to_string(),
            };
            extra.insert(col.clone(), value);
        }
        Ok(Problem {
            id,
            source: name.to_owned(),
            index,
            text: question,
            reference,
            structured: serde_json::Value::Null,
            constraints,
            tests,
            entry_point,
            extra,
        })
    }

    /// The reference answer: the trimmed cell, or the trimmed text after the last marker.
    fn reference(&self, col: &str, cell: Cell) -> Result<String, String> {
        let full = match cell {
            Cell::Str(s) | Cell::Num(s) => s,
            other => return Err(wrong_type(col, &other, "a string or a number")),
        };
        let answer = match &self.answer_after {
            Some(marker) => match full.rfind(marker.as_str()) {
                Some(at) => full[at + marker.len()..].trim(),
                None => return Err(format!("`{col}` has no `{marker}` marker")),
            },
            None => full.trim(),
        };
        if answer.is_empty() {
            let after = match &self.answer_after {
                Some(m) => format!(" after the last `{m}`"),
                None => String::new(),
            };
            return Err(format!("`{col}` is empty{after}"));
        }
        Ok(answer.to_owned())
    }
}

fn required(col: &str, cell: &dyn Fn(&str) -> Option<Cell>) -> Result<Cell, String> {
    cell(col).ok_or_else(|| format!("missing `{col}` (absent or null)"))
}

fn text(col: &str, cell: Cell) -> Result<String, String> {
    match cell {
        Cell::Str(s) => Ok(s),
        other => Err(wrong_type(col, &other, "a string")),
    }
}

fn optional_text(
    col: Option<&str>,
    cell: &dyn Fn(&str) -> Option<Cell>,
) -> Result<Option<String>, String> {
    match col {
        Some(col) => text(col, required(col, cell)?).map(Some),
        None => Ok(None),
    }
}

/// A string is HumanEval `check(candidate)` code; a list of strings is `assert` lines; an
/// object is a `TestSpec` (`{"kind":"io","cases":[…]}`).
fn test_spec(col: &str, cell: Cell) -> Result<TestSpec, String> {
    match cell {
        Cell::Str(code) => Ok(TestSpec::Check { code }),
        Cell::List(asserts) => Ok(TestSpec::Asserts { asserts }),
        Cell::Json(v @ serde_json::Value::Object(_)) => {
            serde_json::from_value(v).map_err(|e| format!("`{col}` is not a test spec: {e}"))
        }
        other => Err(wrong_type(
            col,
            &other,
            "test code (a string) or a list of asserts",
        )),
    }
}

fn wrong_type(col: &str, cell: &Cell, expected: &str) -> String {
    format!("`{col}` is {}; expected {expected}", cell.type_name())
}
