//! Engine-alone throughput: mistral.rs driven through its own API, with no smelt runtime, so
//! `make bench` can print the tokens/s of the bare engine next to the tokens/s of `smelt run`
//! on the same model, sampling and concurrency.
//!
//! The model is loaded with the same builder settings as [`super::mistral::MistralGenerator`]
//! (a local directory, the given dtype, `max_num_seqs`); requests go through
//! `Model::send_chat_request` (chat) or the engine's request channel (raw completion, for which
//! the SDK has no method), one sequence per request, `concurrency` requests in flight.

use super::mistral::{self, EngineOptions};
use super::{GenError, Sampling};
use crate::config::Dtype;
use mistralrs::{Model, Request, RequestBuilder, RequestMessage, Response, TextMessageRole};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct EngineBench {
    /// A local model directory (config.json, tokenizer.json, *.safetensors) or `.gguf` file.
    pub model_dir: PathBuf,
    /// Prompts, used round-robin.
    pub prompts: Vec<String>,
    /// Through the chat template (true) or as raw completion.
    pub chat: bool,
    pub dtype: Dtype,
    /// Sampling of every request (`samples_per_problem` is ignored: one sequence a request).
    pub sampling: Sampling,
    pub n_requests: usize,
    /// Requests in flight at once; to match a smelt run, use `max_in_flight ×
    /// samples_per_problem`.
    pub concurrency: usize,
    /// The engine's `max_num_seqs`; at least `concurrency` so all in-flight requests batch.
    pub max_num_seqs: usize,
}

impl EngineBench {
    /// A bench of `n_requests` raw completions of `max_tokens` each at temperature 0.7.
    pub fn new(model_dir: &Path, n_requests: usize, concurrency: usize, max_tokens: usize) -> Self {
        EngineBench {
            model_dir: model_dir.to_path_buf(),
            prompts: vec!["Question: what is 17 + 25? Let's think step by step.".into()],
            chat: false,
            dtype: Dtype::F32,
            sampling: Sampling {
                temperature: 0.7,
                top_p: 1.0,
                top_k: None,
                max_tokens,
                stop: Vec::new(),
                samples_per_problem: 1,
            },
            n_requests,
            concurrency: concurrency.max(1),
            max_num_seqs: concurrency.max(32),
        }
    }
}

/// What was measured (the load and the engine's warm-up excluded).
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub requests: usize,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub elapsed_s: f64,
}

impl BenchReport {
    /// Completion tokens per second of wall time.
    pub fn tokens_per_s(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.completion_tokens as f64 / self.elapsed_s
        } else {
            0.0
        }
    }
}

/// Completion tokens/s of the bare engine: `n_requests` raw completions of up to `max_tokens`,
/// `concurrency` in flight.
pub async fn engine_alone_tokens_per_s(
    model_dir: &Path,
    n_requests: usize,
    concurrency: usize,
    max_tokens: usize,
) -> Result<f64, GenError> {
    let report = run(&EngineBench::new(
        model_dir,
        n_requests,
        concurrency,
        max_tokens,
    ))
    .await?;
    Ok(report.tokens_per_s())
}

/// Loads the model and runs the bench.
pub async fn run(bench: &EngineBench) -> Result<BenchReport, GenError> {
    if bench.prompts.is_empty() {
        return Err(GenError::Request(
            "the bench needs at least one prompt".into(),
        ));
    }
    // A model directory or a .gguf file, resolved as `model.id` is.
    let source = mistral::resolve_source(&bench.model_dir.display().to_string(), Path::new("/"))?;
    // The same engine settings as the generator's defaults (prefix cache off).
    let options = EngineOptions {
        max_num_seqs: bench.max_num_seqs.max(bench.concurrency).max(1),
        prefix_cache_n: None,
    };
    let model = mistral::build_model(&source, bench.dtype, None, &options)
        .await
        .map_err(|e| {
            GenError::Load(format!(
                "could not load `{}`: {e}",
                bench.model_dir.display()
            ))
        })?;
    // The generator's own load probe (one greedy token), so neither side's clock includes
    // the first pass over freshly mapped weights.
    let sender = model
        .inner()
        .get_sender(None)
        .map_err(|e| GenError::Fatal(format!("the mistral.rs engine is gone: {e}")))?;
    mistral::probe(&sender)
        .await
        .map_err(|e| GenError::Load(format!("warm-up request failed: {e}")))?;
    run_on(Arc::new(model), bench).await
}

/// Runs the bench on an already loaded model.
pub async fn run_on(model: Arc<Model>, bench: &EngineBench) -> Result<BenchReport, GenError> {
    let next = Arc::new(AtomicUsize::new(0));
    let prompts = Arc::new(bench.prompts.clone());
    let start = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..bench.concurrency.max(1) {
        let (model, next, prompts) = (Arc::clone(&model), Arc::clone(&next), Arc::clone(&prompts));
        let (chat, sampling, n) = (bench.chat, bench.sampling.clone(), bench.n_requests);
        workers.spawn(async move {
            let mut totals = (0usize, 0u64, 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, GenError>(totals);
                }
                let prompt = &prompts[i % prompts.len()];
                let (p, c) = one_request(&model, chat, prompt, &sampling).await?;
                totals.0 += 1;
                totals.1 += p;
                totals.2 += c;
            }
        });
    }
    let mut report = BenchReport {
        requests: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        elapsed_s: 0.0,
    };
    while let Some(joined) = workers.join_next().await {
        let (requests, p, c) =
            joined.map_err(|e| GenError::Fatal(format!("a bench worker panicked: {e}")))??;
        report.requests += requests;
        report.prompt_tokens += p;
        report.completion_tokens += c;
    }
    report.elapsed_s = start.elapsed().as_secs_f64();
    Ok(report)
}

async fn one_request(
    model: &Model,
    chat: bool,
    prompt: &str,
    sampling: &Sampling,
) -> Result<(u64, u64), GenError> {
    let params = mistral::sampling_params(sampling);
    if chat {
        let request = RequestBuilder::new()
            .add_message(TextMessageRole::User, prompt)
            .set_sampling(params);
        let r = model
            .send_chat_request(request)
            .await
            .map_err(|e| GenError::Request(format!("mistral.rs: {e}")))?;
        return Ok((
            r.usage.prompt_tokens as u64,
            r.usage.completion_tokens as u64,
        ));
    }
    let sender = model
        .inner()
        .get_sender(None)
        .map_err(|e| GenError::Fatal(format!("the mistral.rs engine is gone: {e}")))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let request = mistral::normal_request(
        RequestMessage::Completion {
            text: prompt.to_owned(),
            echo_prompt: false,
            best_of: None,
        },
        params,
        tx,
        0,
    );
    sender
        .send(Request::Normal(Box::new(request)))
        .await
        .map_err(|_| GenError::Fatal("the mistral.rs engine has stopped".into()))?;
    match rx.recv().await {
        Some(Response::CompletionDone(r)) => Ok((
            r.usage.prompt_tokens as u64,
            r.usage.completion_tokens as u64,
        )),
        Some(other) => {
            mistral::finished(other).map(|f| (f.prompt_tokens as u64, f.completion_tokens as u64))
        }
        None => Err(GenError::Fatal(
            "the mistral.rs engine dropped a request".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::mistral::tiny_model;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn engine_alone_counts_every_token() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = tiny_model::Spec {
            eos_bias: -30.0,
            ..tiny_model::Spec::new(tiny_model::Arch::Qwen2)
        };
        tiny_model::write_spec(dir.path(), &spec).expect("tiny model written");
        let mut bench = EngineBench::new(dir.path(), 6, 3, 10);
        bench.chat = true;
        let report = run(&bench).await.expect("runs");
        assert_eq!(report.requests, 6);
        assert_eq!(report.completion_tokens, 60);
        assert!(report.prompt_tokens > 0);
        assert!(report.tokens_per_s() > 0.0);
    }
}
