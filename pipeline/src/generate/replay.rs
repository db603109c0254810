//! Replay: completions read from a file instead of a model. Verifies existing traces (another
//! engine's output, a dataset's reference solutions) and drives known completions in tests.

use super::{BoxFuture, Completion, GenError, GenRequest, Generator};
use crate::config::ModelConfig;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// Completions keyed by problem id; sample `k` of a problem is its `k`-th completion.
pub struct ReplayGenerator {
    model_id: String,
    completions: HashMap<String, Vec<String>>,
}

impl ReplayGenerator {
    /// Reads the file named by `model.path` (JSONL, `.jsonl.gz` or Parquet). Each row holds a
    /// completion (`completion_field`, default `completion`) and a problem id (`key_field`,
    /// default `problem_id`); without a key field, row `i` answers `{key_prefix}-{i}`.
    pub fn load(config: &ModelConfig, base: &Path) -> Result<Self, GenError> {
        let rel = config
            .path
            .as_ref()
            .ok_or_else(|| GenError::Load("model.path is required for replay".into()))?;
        let path = if rel.is_absolute() {
            rel.clone()
        } else {
            base.join(rel)
        };
        let completion_field = config.completion_field.as_deref().unwrap_or("completion");
        let rows = crate::sources::rows::read_rows(&path).map_err(|e| GenError::Load(e.to_string()))?;
        let mut completions: HashMap<String, Vec<String>> = HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let key = match (&config.key_field, &config.key_prefix) {
                (Some(field), _) => row.get(field).cloned().ok_or_else(|| {
                    GenError::Load(format!("{}: row {}: no `{field}` column", path.display(), i + 1))
                })?,
                (None, Some(prefix)) => format!("{prefix}-{i}"),
                (None, None) => row.get("problem_id").cloned().ok_or_else(|| {
                    GenError::Load(format!(
                        "{}: row {}: no `problem_id` column (set model.key_field, or model.key_prefix to match rows by position)",
                        path.display(),
                        i + 1
                    ))
                })?,
            };
            let text = row.get(completion_field).cloned().ok_or_else(|| {
                GenError::Load(format!(
                    "{}: row {}: no `{completion_field}` column (set model.completion_field)",
                    path.display(),
                    i + 1
                ))
            })?;
            completions.entry(key).or_default().push(text);
        }
        Ok(ReplayGenerator {
            model_id: config
                .id
                .clone()
                .unwrap_or_else(|| format!("replay:{}", path.display())),
            completions,
        })
    }
}

impl Generator for ReplayGenerator {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn generate<'a>(&'a self, req: &'a GenRequest) -> BoxFuture<'a, Result<Vec<Completion>, GenError>> {
        Box::pin(async move {
            let start = Instant::now();
            let list = self.completions.get(&req.problem_id).ok_or_else(|| {
                GenError::Request(format!("no replay completion for problem {}", req.problem_id))
            })?;
            req.sample_indices
                .iter()
                .map(|&k| {
                    let text = list.get(k as usize).ok_or_else(|| {
                        GenError::Request(format!(
                            "problem {} has {} replay completion(s), sample {k} asked",
                            req.problem_id,
                            list.len()
                        ))
                    })?;
                    Ok(Completion {
                        sample_index: k,
                        text: text.clone(),
                        prompt_tokens: 0,
                        completion_tokens: 0,
                        latency_ms: start.elapsed().as_secs_f64() * 1e3,
                        finish_reason: "replay".into(),
                    })
                })
                .collect()
        })
    }
}
