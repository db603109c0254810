//! The embedded mistral.rs engine.
//!
//! [`MistralGenerator::load`] loads a model from a local Hugging Face directory
//! (`config.json`, `tokenizer.json`, `*.safetensors`, optionally `tokenizer_config.json` with a
//! chat template), from a local `.gguf` file, or from a Hugging Face hub id (needs a network).
//! Loading happens only here, when a run starts: nothing in config validation touches the model.
//!
//! Requests go straight into the engine's request channel, one engine request per sample. Many
//! `generate` calls in flight at once are batched by the engine's scheduler (on CPU it batches
//! sequences of equal length, so samples of one prompt run together).
//!
//! Why one request per sample rather than `n_choices = n`: with several choices mistral.rs
//! 0.8.1 reports the usage of the last finished choice, not per choice nor the sum, so exact
//! per-sample token counts need one request each. The engine schedules the sequences the same
//! way either way (a request with `n_choices = n` becomes `n` sequences).
//!
//! Reproducibility: the engine seeds its sampling RNG once when it starts and draws from it for
//! every sequence in whatever order the scheduler runs them, and there is no per-request seed.
//! So sampled text (temperature > 0) is not reproducible from run to run once requests overlap;
//! greedy decoding (`temperature = 0`) is, up to floating-point effects of batch composition.
//!
//! [`source`] resolves `model.id`, [`engine`] builds the engine, [`request`] shapes requests and
//! reads responses, [`pending`] keeps an abandoned call's responses draining.

mod engine;
mod pending;
mod request;
mod source;

pub(crate) use engine::build_model;
pub use engine::{parse_isq, EngineOptions};
pub(crate) use request::{finished, probe};
pub use request::{normal_request, sampling_params};
pub use source::{resolve_local_file, resolve_source, ModelSource};

use super::{BoxFuture, Completion, GenError, GenRequest, Generator};
use crate::config::{Dtype, ModelConfig};
use engine::load_error;
use mistralrs::{
    Model, NormalRequest, Request, RequestLike, RequestMessage, Response, TextMessageRole,
    TextMessages,
};
use pending::Pending;
use request::saturate;
use source::{configured_id, has_chat_template};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::mpsc;

/// A model loaded in the embedded mistral.rs engine.
pub struct MistralGenerator {
    model_id: String,
    chat: bool,
    model: Model,
    sender: mpsc::Sender<Request>,
    next_id: AtomicUsize,
}

impl std::fmt::Debug for MistralGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MistralGenerator")
            .field("model_id", &self.model_id)
            .field("chat", &self.chat)
            .finish_non_exhaustive()
    }
}

impl MistralGenerator {
    /// Loads the model `cfg.id` names (resolved against `base_dir`, the config file's directory)
    /// with [`EngineOptions::for_config`].
    pub async fn load(cfg: &ModelConfig, base_dir: &Path) -> Result<Self, GenError> {
        Self::load_with(cfg, base_dir, &EngineOptions::for_config(cfg)).await
    }

    /// Loads the model with explicit engine options.
    ///
    /// This blocks the calling task while weights load (seconds for small models); call it once
    /// at start-up.
    pub async fn load_with(
        cfg: &ModelConfig,
        base_dir: &Path,
        options: &EngineOptions,
    ) -> Result<Self, GenError> {
        let id = configured_id(cfg)?;
        let source = resolve_source(id, base_dir)?;
        let isq = cfg
            .isq
            .as_deref()
            .map(parse_isq)
            .transpose()
            .map_err(GenError::Load)?;
        if cfg.chat {
            if let ModelSource::Dir(dir) = &source {
                if !has_chat_template(dir) {
                    return Err(GenError::Load(format!(
                        "`{}` has no chat template (no chat_template.jinja, and no `chat_template` \
                         in tokenizer_config.json); add one or set `model.chat = false` to send \
                         raw prompts",
                        dir.display()
                    )));
                }
            }
        }
        let model = build_model(&source, cfg.dtype, isq, options)
            .await
            .map_err(|e| load_error(id, &source, &e))?;
        let sender = model
            .inner()
            .get_sender(None)
            .map_err(|e| GenError::Load(format!("the mistral.rs engine did not start: {e}")))?;
        probe(&sender).await.map_err(|e| {
            let hint = if cfg.dtype != Dtype::F32 && e.contains("dtype") {
                "; on CPU set `model.dtype = \"f32\"`"
            } else {
                ""
            };
            GenError::Load(format!("`{id}` loaded but cannot generate: {e}{hint}"))
        })?;
        Ok(MistralGenerator {
            model_id: id.to_owned(),
            chat: cfg.chat,
            model,
            sender,
            next_id: AtomicUsize::new(1),
        })
    }

    /// The underlying mistral.rs model (for direct use, e.g. tokenizing).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Whether prompts go through the chat template.
    pub fn is_chat(&self) -> bool {
        self.chat
    }

    fn engine_request(&self, req: &GenRequest, response: mpsc::Sender<Response>) -> NormalRequest {
        let messages = if self.chat {
            TextMessages::new()
                .add_message(TextMessageRole::User, &req.prompt)
                .take_messages()
        } else {
            RequestMessage::Completion {
                text: req.prompt.clone(),
                echo_prompt: false,
                best_of: None,
            }
        };
        normal_request(
            messages,
            sampling_params(&req.sampling),
            response,
            self.next_id.fetch_add(1, Ordering::Relaxed),
        )
    }

    async fn run(&self, req: &GenRequest) -> Result<Vec<Completion>, GenError> {
        let n = req.sample_indices.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let start = Instant::now();
        // One response channel for all samples of this request: completions are assigned to
        // sample indices in the order they finish (samples are exchangeable draws).
        let (tx, rx) = mpsc::channel(n);
        let mut pending = Pending {
            rx: Some(rx),
            outstanding: 0,
        };
        for _ in 0..n {
            let request = self.engine_request(req, tx.clone());
            self.sender
                .send(Request::Normal(Box::new(request)))
                .await
                .map_err(|_| GenError::Fatal("the mistral.rs engine has stopped".into()))?;
            pending.outstanding += 1;
        }
        drop(tx);
        let mut out = Vec::with_capacity(n);
        for &sample_index in &req.sample_indices {
            let response = pending.recv().await?;
            let latency_ms = start.elapsed().as_secs_f64() * 1e3;
            let done = finished(response)?;
            out.push(Completion {
                sample_index,
                text: done.text,
                prompt_tokens: saturate(done.prompt_tokens),
                completion_tokens: saturate(done.completion_tokens),
                latency_ms,
                finish_reason: done.finish_reason,
            });
        }
        Ok(out)
    }
}

impl Generator for MistralGenerator {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn generate<'a>(
        &'a self,
        req: &'a GenRequest,
    ) -> BoxFuture<'a, Result<Vec<Completion>, GenError>> {
        Box::pin(self.run(req))
    }
}

#[cfg(test)]
#[path = "../../../../tests/support/tiny_model.rs"]
pub(crate) mod tiny_model;

#[cfg(test)]
#[path = "../../../../tests/support/tiny_gguf.rs"]
mod tiny_gguf;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod real_model_tests;
