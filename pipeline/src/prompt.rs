//! Prompt templates: minijinja files (one per task family, in `prompts/`) that turn a
//! [`Problem`] into the text sent to the model.
//!
//! Variables a template may use ([`VARIABLES`]): `problem` (the statement), `source`, `index`,
//! `id`, `extra` (map of dataset columns), `structured` (the generator's structured form, `none`
//! for datasets) and `entry_point` (code problems, else `none`). Undefined values are errors
//! (strict mode), and a template naming anything else fails at load with its path, line and the
//! name. [`PromptTemplate::hash`] (SHA-256 of the file's bytes) is recorded with every sample.

use crate::problem::Problem;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The variables a template may use.
pub const VARIABLES: [&str; 7] = [
    "problem",
    "source",
    "index",
    "id",
    "extra",
    "structured",
    "entry_point",
];

/// A template that could not be loaded or rendered; messages name the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{path}: cannot read template: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}{}: {message}", line_suffix(*line))]
    Syntax {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error(
        "{path}{}: unknown variable `{name}` (templates may use: {})",
        line_suffix(*line),
        VARIABLES.join(", ")
    )]
    UnknownVariable {
        path: PathBuf,
        line: Option<usize>,
        name: String,
    },
    #[error("{path}{}: rendering problem `{id}`: {message}", line_suffix(*line))]
    Render {
        path: PathBuf,
        line: Option<usize>,
        id: String,
        message: String,
    },
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

/// A loaded, checked template.
pub struct PromptTemplate {
    path: PathBuf,
    env: Environment<'static>,
    hash: String,
    /// Whether the template reads `structured` / `extra`: when it does not, they are left out
    /// of the render context (converting a structured form costs more than the render).
    uses_structured: bool,
    uses_extra: bool,
}

impl std::fmt::Debug for PromptTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptTemplate")
            .field("path", &self.path)
            .field("hash", &self.hash)
            .finish()
    }
}

/// What a template sees.
#[derive(Serialize)]
struct Context<'a> {
    problem: &'a str,
    source: &'a str,
    index: u64,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    structured: Option<&'a serde_json::Value>,
    entry_point: Option<&'a str>,
}

const NAME: &str = "prompt";

impl PromptTemplate {
    /// Reads and checks the template at `path`.
    pub fn load(path: &Path) -> Result<Self, PromptError> {
        let bytes = std::fs::read(path).map_err(|source| PromptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let source = String::from_utf8(bytes).map_err(|e| PromptError::Syntax {
            path: path.to_path_buf(),
            line: None,
            message: format!("not UTF-8: {e}"),
        })?;
        Self::from_source(path, source)
    }

    /// Checks a template given as text; `path` is used in messages only.
    pub fn from_source(path: &Path, source: String) -> Result<Self, PromptError> {
        let hash = hex::encode(Sha256::digest(source.as_bytes()));
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = |e: minijinja::Error| PromptError::Syntax {
            path: path.to_path_buf(),
            line: e.line(),
            message: describe(&e),
        };
        env.add_template_owned(NAME, source.clone())
            .map_err(syntax)?;
        let template = env.get_template(NAME).map_err(syntax)?;
        let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
        let used = template.undeclared_variables(false);
        let (uses_structured, uses_extra) = (used.contains("structured"), used.contains("extra"));
        let unknown = used
            .into_iter()
            .filter(|name| !VARIABLES.contains(&name.as_str()) && !globals.contains(name.as_str()))
            .map(|name| (first_use(&source, &name).unwrap_or(usize::MAX), name))
            .min();
        if let Some((line, name)) = unknown {
            return Err(PromptError::UnknownVariable {
                path: path.to_path_buf(),
                line: (line != usize::MAX).then_some(line),
                name,
            });
        }
        Ok(PromptTemplate {
            path: path.to_path_buf(),
            env,
            hash,
            uses_structured,
            uses_extra,
        })
    }

    /// The prompt for `problem`.
    pub fn render(&self, problem: &Problem) -> Result<String, PromptError> {
        let context = Context {
            problem: &problem.text,
            source: &problem.source,
            index: problem.index,
            id: &problem.id,
            extra: self.uses_extra.then_some(&problem.extra),
            structured: self.uses_structured.then_some(&problem.structured),
            entry_point: problem.entry_point.as_deref(),
        };
        let error = |e: minijinja::Error| PromptError::Render {
            path: self.path.clone(),
            line: e.line(),
            id: problem.id.clone(),
            message: describe(&e),
        };
        self.env
            .get_template(NAME)
            .and_then(|t| t.render(&context))
            .map_err(error)
    }

    /// SHA-256 (hex) of the template file's bytes.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// The 1-based line where `name` first appears as a word inside a `{{ }}` or `{% %}` tag.
fn first_use(source: &str, name: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut rest = 0;
    while let Some(open) = source[rest..].find(['{']).map(|i| i + rest) {
        let tag = &source[open..];
        let close = if tag.starts_with("{{") {
            tag.find("}}")
        } else if tag.starts_with("{%") {
            tag.find("%}")
        } else {
            rest = open + 1;
            continue;
        };
        let Some(close) = close else { break };
        let body = &tag[..close];
        for (at, _) in body.match_indices(name) {
            let before = body[..at].chars().next_back();
            let after = body[at + name.len()..].chars().next();
            let dotted = before == Some('.');
            if !before.is_some_and(is_word) && !after.is_some_and(is_word) && !dotted {
                return Some(source[..open + at].matches('\n').count() + 1);
            }
        }
        rest = open + close;
    }
    None
}

#[cfg(test)]
mod tests;
