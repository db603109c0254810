//! Replay: completions read from a file instead of a model. Verifies existing traces (another
//! engine's output, a dataset's reference solutions) and drives known completions in tests.

use super::{BoxFuture, Completion, GenError, GenRequest, Generator};
use crate::config::ModelConfig;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use crate::sources::dataset::{for_each_row, Cell};

fn text(cell: Option<Cell>) -> Option<String> {
    match cell? {
        Cell::Str(s) | Cell::Num(s) => Some(s),
        Cell::Bool(b) => Some(b.to_string()),
        Cell::List(items) => Some(items.join("\n")),
        Cell::Json(v) => Some(v.to_string()),
    }
}

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
        let key_field = match (&config.key_field, &config.key_prefix) {
            (Some(field), _) => Some(field.as_str()),
            (None, Some(_)) => None,
            (None, None) => Some("problem_id"),
        };
        let mut columns = vec![completion_field.to_owned()];
        columns.extend(key_field.map(str::to_owned));
        let mut completions: HashMap<String, Vec<String>> = HashMap::new();
        for_each_row(&path, &columns, |i, cells| {
            let key = match key_field {
                Some(field) => text(cells(field)).ok_or_else(|| {
                    format!("no `{field}` column (set model.key_field, or model.key_prefix to match rows by position)")
                })?,
                None => format!("{}-{i}", config.key_prefix.as_deref().unwrap_or_default()),
            };
            let completion = text(cells(completion_field))
                .ok_or_else(|| format!("no `{completion_field}` column (set model.completion_field)"))?;
            completions.entry(key).or_default().push(completion);
            Ok(())
        })
        .map_err(|e| GenError::Load(e.to_string()))?;
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

    fn generate<'a>(
        &'a self,
        req: &'a GenRequest,
    ) -> BoxFuture<'a, Result<Vec<Completion>, GenError>> {
        Box::pin(async move {
            let start = Instant::now();
            let list = self.completions.get(&req.problem_id).ok_or_else(|| {
                GenError::Request(format!(
                    "no replay completion for problem {}",
                    req.problem_id
                ))
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
