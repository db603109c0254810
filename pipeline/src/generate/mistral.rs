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

use super::{BoxFuture, Completion, GenError, GenRequest, Generator};
use crate::config::{Dtype, ModelConfig};
use mistralrs::{
    Constraint, GgufModelBuilder, IsqType, Model, ModelDType, NormalRequest, Request, RequestLike,
    RequestMessage, Response, SamplingParams, StopTokens, TextMessageRole, TextMessages,
    TextModelBuilder,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::mpsc;

/// What `model.id` names, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A local Hugging Face model directory.
    Dir(PathBuf),
    /// A local GGUF file: its directory and file name.
    Gguf { dir: PathBuf, file: String },
    /// A Hugging Face hub repository, downloaded on first use (needs a network).
    Hub(String),
    /// A GGUF file inside a hub repository (`org/repo/file.gguf`).
    HubGguf { repo: String, file: String },
}

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

/// The responses still to come for one `generate` call.
///
/// In mistral.rs 0.8.1 a closed response channel is fatal to the engine: the failed send turns
/// into an error of the whole batch step, and sending that error to the same closed channel
/// panics the engine thread (`engine/mod.rs:412`), so every later request fails. So if a call
/// ends early (an error in one sample, or its future dropped by a timeout or a stop), the
/// receiver is kept alive and drained in the background until the engine has answered; the
/// abandoned sequences still run to their end (0.8.1 has no per-request cancel).
struct Pending {
    rx: Option<mpsc::Receiver<Response>>,
    outstanding: usize,
}

impl Pending {
    async fn recv(&mut self) -> Result<Response, GenError> {
        let engine_gone = || GenError::Fatal("the mistral.rs engine dropped a request".into());
        let rx = self.rx.as_mut().ok_or_else(engine_gone)?;
        let response = rx.recv().await.ok_or_else(engine_gone)?;
        self.outstanding = self.outstanding.saturating_sub(1);
        Ok(response)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let (Some(mut rx), outstanding) = (self.rx.take(), self.outstanding) else {
            return;
        };
        if outstanding == 0 {
            return;
        }
        let drain = async move {
            for _ in 0..outstanding {
                if rx.recv().await.is_none() {
                    break;
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(drain)),
            // Dropped outside a runtime: drain on a plain thread.
            Err(_) => {
                let spawned = std::thread::Builder::new()
                    .name("smelt-drain".into())
                    .spawn(move || {
                        let runtime = tokio::runtime::Builder::new_current_thread().build();
                        if let Ok(runtime) = runtime {
                            runtime.block_on(drain);
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("cannot drain abandoned mistral.rs requests: {e}");
                }
            }
        }
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

/// Generates one greedy token, so that a model that loads but cannot run (e.g. BF16 weights on
/// a CPU, which has no BF16 matmul) fails at start-up rather than on every request.
pub(crate) async fn probe(sender: &mpsc::Sender<Request>) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel(1);
    let request = normal_request(
        RequestMessage::Completion {
            text: "Hello".into(),
            echo_prompt: false,
            best_of: None,
        },
        SamplingParams {
            max_len: Some(1),
            ..SamplingParams::deterministic()
        },
        tx,
        0,
    );
    sender
        .send(Request::Normal(Box::new(request)))
        .await
        .map_err(|_| "the engine stopped".to_owned())?;
    let response = rx.recv().await.ok_or("the engine dropped the request")?;
    finished(response).map(drop).map_err(|e| match e {
        GenError::Load(m) | GenError::Request(m) | GenError::Fatal(m) => m,
    })
}

/// The engine's sampling parameters for one sample of `sampling`.
pub fn sampling_params(sampling: &super::Sampling) -> SamplingParams {
    SamplingParams {
        // The engine samples greedily below 1e-7.
        temperature: Some(sampling.temperature.max(0.0)),
        top_k: sampling.top_k.filter(|&k| k > 0),
        top_p: (sampling.top_p < 1.0).then_some(sampling.top_p),
        min_p: None,
        top_n_logprobs: 0,
        frequency_penalty: None,
        presence_penalty: None,
        repetition_penalty: None,
        stop_toks: (!sampling.stop.is_empty()).then(|| StopTokens::Seqs(sampling.stop.clone())),
        max_len: Some(sampling.max_tokens),
        logits_bias: None,
        n_choices: 1,
        dry_params: None,
    }
}

/// One finished sample, from either the chat or the completion response.
pub(crate) struct Finished {
    pub text: String,
    pub finish_reason: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
}

/// Turns an engine response into a finished sample or an error.
pub(crate) fn finished(response: Response) -> Result<Finished, GenError> {
    match response {
        Response::Done(r) => {
            let choice = r.choices.into_iter().next().ok_or_else(no_choice)?;
            Ok(Finished {
                text: choice.message.content.unwrap_or_default(),
                finish_reason: choice.finish_reason,
                prompt_tokens: r.usage.prompt_tokens,
                completion_tokens: r.usage.completion_tokens,
            })
        }
        Response::CompletionDone(r) => {
            let choice = r.choices.into_iter().next().ok_or_else(no_choice)?;
            Ok(Finished {
                text: choice.text,
                finish_reason: choice.finish_reason,
                prompt_tokens: r.usage.prompt_tokens,
                completion_tokens: r.usage.completion_tokens,
            })
        }
        Response::ValidationError(e) => {
            let msg = first_line(&e.to_string()).to_owned();
            if msg.contains("does not have a chat template") {
                Err(GenError::Fatal(format!(
                    "the model has no chat template; set `model.chat = false` to send raw \
                     prompts ({msg})"
                )))
            } else {
                Err(GenError::Request(format!(
                    "mistral.rs rejected the request: {msg}"
                )))
            }
        }
        Response::InternalError(e) => Err(GenError::Request(format!(
            "mistral.rs: {}",
            first_line(&e.to_string())
        ))),
        Response::ModelError(msg, _) | Response::CompletionModelError(msg, _) => Err(
            GenError::Request(format!("mistral.rs model error: {}", first_line(&msg))),
        ),
        Response::Chunk(_)
        | Response::CompletionChunk(_)
        | Response::ImageGeneration(_)
        | Response::Speech { .. }
        | Response::Raw { .. }
        | Response::Embeddings { .. } => Err(GenError::Request(
            "mistral.rs answered a text request with another kind of response".into(),
        )),
    }
}

/// The message of an engine error without the backtrace candle appends when
/// `RUST_BACKTRACE` is set.
fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(text)
}

fn no_choice() -> GenError {
    GenError::Request("mistral.rs returned a response without choices".into())
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parses an ISQ name such as `Q4K`, `Q8_0`, `HQQ4` or a bit width (`4`, `8`). Pure: for
/// config validation.
pub fn parse_isq(s: &str) -> Result<IsqType, String> {
    mistralrs::parse_isq_value(s, None).map_err(|e| format!("model.isq = `{s}`: {e}"))
}

fn configured_id(cfg: &ModelConfig) -> Result<&str, GenError> {
    match cfg.id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(GenError::Load(
            "no model given: set `model.id` (or `MODEL=/path/to/dir`) to a local model \
             directory, a .gguf file or a hub id"
                .into(),
        )),
    }
}

/// A local path as `model.id` names it: `~/` expanded, a relative path against `base_dir`
/// first, then the working directory; the first candidate when neither exists.
pub fn resolve_local_file(id: &str, base_dir: &Path) -> PathBuf {
    let given = expand_home(id);
    if given.is_absolute() {
        return given;
    }
    let in_base = base_dir.join(&given);
    if in_base.exists() || !given.exists() {
        return absolute(&in_base);
    }
    absolute(&given)
}

/// Resolves `model.id`: an existing path (relative ones against `base_dir` first, then the
/// working directory) is local; `org/name` (or `org/name/file.gguf`) that is not a local path
/// is a hub id; anything else is a missing local path.
pub fn resolve_source(id: &str, base_dir: &Path) -> Result<ModelSource, GenError> {
    let given = expand_home(id);
    let candidates: Vec<PathBuf> = if given.is_absolute() {
        vec![given.clone()]
    } else {
        vec![base_dir.join(&given), given.clone()]
    };
    if let Some(path) = candidates.iter().find(|p| p.exists()) {
        return local_source(path);
    }
    if let Some(hub) = hub_source(id) {
        return Ok(hub);
    }
    let shown = candidates.first().unwrap_or(&given);
    Err(GenError::Load(format!(
        "model path `{}` does not exist; set `model.id` (or `MODEL=/path/to/dir`) to a local \
         model directory or .gguf file",
        shown.display()
    )))
}

fn local_source(path: &Path) -> Result<ModelSource, GenError> {
    if path.is_file() {
        if !is_gguf(path) {
            return Err(GenError::Load(format!(
                "model path `{}` is a file but not a .gguf; point `model.id` at a model \
                 directory or a .gguf file",
                path.display()
            )));
        }
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        return Ok(ModelSource::Gguf {
            dir: absolute(&dir),
            file,
        });
    }
    let dir = absolute(path);
    if dir.join("config.json").is_file() {
        return Ok(ModelSource::Dir(dir));
    }
    // A directory holding exactly one GGUF file and no config.json.
    let ggufs: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| {
            GenError::Load(format!(
                "cannot read model directory `{}`: {e}",
                dir.display()
            ))
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && is_gguf(p))
        .filter_map(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .collect();
    match ggufs.as_slice() {
        [file] => Ok(ModelSource::Gguf {
            dir,
            file: file.clone(),
        }),
        [] => Err(GenError::Load(format!(
            "model directory `{}` has no config.json (expected config.json, tokenizer.json and \
             *.safetensors, or a single .gguf file)",
            dir.display()
        ))),
        _ => Err(GenError::Load(format!(
            "model directory `{}` holds several .gguf files; set `model.id` to the one to load",
            dir.display()
        ))),
    }
}

fn hub_source(id: &str) -> Option<ModelSource> {
    fn valid(part: &str) -> bool {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    }
    let parts: Vec<&str> = id.split('/').collect();
    match *parts.as_slice() {
        [org, name] if valid(org) && valid(name) && !is_gguf(Path::new(name)) => {
            Some(ModelSource::Hub(id.to_owned()))
        }
        [org, name, file]
            if valid(org) && valid(name) && valid(file) && is_gguf(Path::new(file)) =>
        {
            Some(ModelSource::HubGguf {
                repo: format!("{org}/{name}"),
                file: file.to_owned(),
            })
        }
        _ => None,
    }
}

fn is_gguf(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
}

fn expand_home(id: &str) -> PathBuf {
    match (id.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(id),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn has_chat_template(dir: &Path) -> bool {
    if dir.join("chat_template.jinja").is_file() || dir.join("chat_template.json").is_file() {
        return true;
    }
    std::fs::read_to_string(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v.get("chat_template").cloned())
        .is_some_and(|t| !t.is_null())
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

fn load_error(id: &str, source: &ModelSource, e: &str) -> GenError {
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

#[cfg(test)]
#[path = "../../../tests/support/tiny_model.rs"]
pub(crate) mod tiny_model;

#[cfg(test)]
#[path = "../../../tests/support/tiny_gguf.rs"]
mod tiny_gguf;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod real_model_tests;

/// A plain (no tools, no constraint, not streamed) engine request: the one shape smelt and the
/// engine bench send.
pub fn normal_request(
    messages: RequestMessage,
    sampling_params: SamplingParams,
    response: mpsc::Sender<Response>,
    id: usize,
) -> NormalRequest {
    NormalRequest {
        messages,
        sampling_params,
        response,
        return_logprobs: false,
        is_streaming: false,
        id,
        constraint: Constraint::None,
        suffix: None,
        tools: None,
        tool_choice: None,
        logits_processors: None,
        return_raw_logits: false,
        web_search_options: None,
        model_id: None,
        truncate_sequence: false,
    }
}
