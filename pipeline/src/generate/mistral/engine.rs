//! Building the engine: options that are not part of the pipeline config, the text and GGUF
//! model builders, and the load error that says what to fix.

use super::request::first_line;
use super::{GenError, ModelSource};
use crate::config::{Dtype, ModelConfig};
use mistralrs::{GgufModelBuilder, IsqType, Model, ModelDType, TextModelBuilder};

/// Engine settings that are not part of the pipeline config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Sequences the engine runs at once. Set it to at least `max_in_flight ×
    /// samples_per_problem` so every in-flight sample can join the batch.
    pub max_num_seqs: usize,
    /// Finished sequences whose KV cache is kept for prefix reuse (`None`: off, the default).
    ///
    /// Off because in mistral.rs 0.8.1 a sequence restored from the prefix cache can carry a KV
    /// cache of another capacity than the sequences it is batched with, and the engine thread
    /// then panics (`shape mismatch on dim 2, 512 <> 1024` in `clone_in_cache`), which stops
    /// every request. Reproduced here with ~340-token prompts, 8 in flight.
    pub prefix_cache_n: Option<usize>,
}

impl EngineOptions {
    /// Defaults for a model config: room for `max_in_flight` requests of 4 samples (at least the
    /// engine's own default of 32), prefix cache off.
    pub fn for_config(cfg: &ModelConfig) -> EngineOptions {
        EngineOptions {
            max_num_seqs: cfg.max_in_flight.saturating_mul(4).max(32),
            prefix_cache_n: None,
        }
    }
}

/// Parses an ISQ name such as `Q4K`, `Q8_0`, `HQQ4` or a bit width (`4`, `8`). Pure: for
/// config validation.
pub fn parse_isq(s: &str) -> Result<IsqType, String> {
    mistralrs::parse_isq_value(s, None).map_err(|e| format!("model.isq = `{s}`: {e}"))
}

fn model_dtype(dtype: Dtype) -> ModelDType {
    match dtype {
        Dtype::F32 => ModelDType::F32,
        Dtype::F16 => ModelDType::F16,
        Dtype::Bf16 => ModelDType::BF16,
        Dtype::Auto => ModelDType::Auto,
    }
}

/// Builds the engine for `source`. Shared with the engine-alone benchmark so both load the
/// model the same way.
pub(crate) async fn build_model(
    source: &ModelSource,
    dtype: Dtype,
    isq: Option<IsqType>,
    options: &EngineOptions,
) -> Result<Model, String> {
    let built = match source {
        ModelSource::Dir(dir) => {
            let id = dir.to_string_lossy().into_owned();
            text_builder(id, dtype, isq, options).build().await
        }
        ModelSource::Hub(id) => text_builder(id.clone(), dtype, isq, options).build().await,
        ModelSource::Gguf { dir, file } => {
            let dir = dir.to_string_lossy().into_owned();
            gguf_builder(dir, file, options).build().await
        }
        ModelSource::HubGguf { repo, file } => {
            gguf_builder(repo.clone(), file, options).build().await
        }
    };
    // `{:#}` keeps the whole cause chain in one line.
    built.map_err(|e| format!("{e:#}"))
}

fn text_builder(
    id: String,
    dtype: Dtype,
    isq: Option<IsqType>,
    options: &EngineOptions,
) -> TextModelBuilder {
    let mut builder = TextModelBuilder::new(id)
        .with_dtype(model_dtype(dtype))
        .with_max_num_seqs(options.max_num_seqs.max(1))
        .with_prefix_cache_n(options.prefix_cache_n);
    if let Some(isq) = isq {
        builder = builder.with_isq(isq);
    }
    builder
}

fn gguf_builder(id: String, file: &str, options: &EngineOptions) -> GgufModelBuilder {
    GgufModelBuilder::new(id, vec![file.to_owned()])
        .with_max_num_seqs(options.max_num_seqs.max(1))
        .with_prefix_cache_n(options.prefix_cache_n)
}

pub(super) fn load_error(id: &str, source: &ModelSource, e: &str) -> GenError {
    // candle appends a backtrace to its errors when RUST_BACKTRACE is set: keep the message.
    let cause = first_line(e);
    match source {
        ModelSource::Hub(repo) | ModelSource::HubGguf { repo, .. } => GenError::Load(format!(
            "could not download `{repo}` from the Hugging Face hub; without a network, set \
             `model.id` (or `MODEL=/path/to/dir`) to a local model directory ({cause})"
        )),
        ModelSource::Dir(dir) => GenError::Load(format!(
            "could not load model directory `{}` (model.id = `{id}`): {cause}",
            dir.display()
        )),
        ModelSource::Gguf { dir, file } => GenError::Load(format!(
            "could not load GGUF `{}`: {cause}",
            dir.join(file).display()
        )),
    }
}
