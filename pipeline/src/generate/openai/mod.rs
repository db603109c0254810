//! An OpenAI-compatible HTTP backend (vLLM, llama.cpp's server, mistral.rs's server, SGLang,
//! the OpenAI API, …).
//!
//! One `generate` call is one HTTP request: `POST {url}/chat/completions` (chat) or
//! `POST {url}/completions` (raw prompt) with `n` = the number of samples wanted, so the server
//! can share the prompt's prefill between them. Usage in the OpenAI format is per request
//! (completion tokens summed over choices), so with `n > 1` the client asks for per-token
//! logprobs and counts each choice's tokens from them; a server that returns no logprobs gets
//! the summed count split over the choices by text length (an estimate, logged once).
//!
//! Servers without `n` (llama.cpp's server answers 400 "Only one completion choice is
//! allowed", llama-cpp-python returns one choice) are detected on the first such answer; from
//! then on every sample is its own concurrent request with `n = 1` (exact usage each).
//!
//! Connection errors, timeouts, 408, 429 and 5xx answers are retried with exponential backoff
//! (honouring `Retry-After`); other 4xx answers fail the problem at once, and 401/403/404 stop
//! the run (every request would fail the same way).
//!
//! `model.urls` lists several servers: requests go to the least loaded live one (at most
//! `model.max_in_flight_per_server` each), and a failed attempt is retried on another server
//! at once while the failed one sits out its backoff ([`servers`]).
//!
//! [`transport`] sends a body with retries and failover; [`response`] reads the answer into
//! choices with per-choice token counts.

mod response;
mod servers;
mod transport;

pub use transport::{endpoint, RetryPolicy};

use super::{BoxFuture, Completion, GenError, GenRequest, Generator};
use crate::config::ModelConfig;
use response::{saturate, Choice};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use transport::{client, Transport};

/// A model behind an OpenAI-compatible server.
#[derive(Debug)]
pub struct OpenAiGenerator {
    model: String,
    chat: bool,
    transport: Transport,
    warned_estimate: AtomicBool,
    /// The server ignores or refuses `n > 1`: one request per sample.
    one_per_request: AtomicBool,
}

impl OpenAiGenerator {
    /// Builds the client from `[model]` (`url`, `id`, `chat`, `api_key_env`,
    /// `request_timeout_s`). Sends nothing.
    pub fn new(cfg: &ModelConfig) -> Result<Self, GenError> {
        let urls: Vec<&str> = cfg
            .url
            .iter()
            .chain(&cfg.urls)
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            return Err(GenError::Load(
                "`model.url` is not set; give the server's base URL, e.g. \
                 `http://127.0.0.1:8000/v1` (or several in `model.urls`)"
                    .into(),
            ));
        }
        if let Some(url) = urls
            .iter()
            .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            return Err(GenError::Load(format!(
                "`model.url` = `{url}` must start with http:// or https://"
            )));
        }
        let endpoints: Vec<String> = urls.iter().map(|u| endpoint(u, cfg.chat)).collect();
        let model = cfg.id.as_deref().map(str::trim).filter(|m| !m.is_empty());
        let model = model.ok_or_else(|| {
            GenError::Load("`model.id` is not set; give the model name the server serves".into())
        })?;
        let api_key = match cfg.api_key_env.as_deref() {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(key) if !key.is_empty() => Some(key),
                _ => {
                    return Err(GenError::Load(format!(
                        "environment variable `{var}` (model.api_key_env) is not set"
                    )))
                }
            },
        };
        let timeout = Duration::from_secs(cfg.request_timeout_s.max(1));
        Ok(OpenAiGenerator {
            model: model.to_owned(),
            chat: cfg.chat,
            transport: Transport {
                model: model.to_owned(),
                servers: Arc::new(servers::Servers::new(
                    endpoints,
                    cfg.max_in_flight_per_server,
                )),
                api_key,
                client: client(timeout)?,
                retry: RetryPolicy {
                    max_attempts: cfg.max_attempts.max(1),
                    ..RetryPolicy::default()
                },
            },
            warned_estimate: AtomicBool::new(false),
            one_per_request: AtomicBool::new(false),
        })
    }

    /// Sends every sample as its own `n = 1` request from the start, for servers known to
    /// refuse `n > 1` (llama.cpp's server), instead of learning it from the first refusal.
    pub fn one_request_per_sample(self) -> Self {
        self.one_per_request.store(true, Ordering::Relaxed);
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.transport.retry = retry;
        self
    }

    /// Replaces the per-request timeout (`model.request_timeout_s` by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, GenError> {
        self.transport.client = client(timeout)?;
        Ok(self)
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &str {
        self.transport.servers.first()
    }

    /// The JSON body for `req` (all its samples in one request).
    pub fn request_body(&self, req: &GenRequest) -> Value {
        self.body(req, req.sample_indices.len())
    }

    fn body(&self, req: &GenRequest, n: usize) -> Value {
        let s = &req.sampling;
        let mut body = json!({
            "model": self.model,
            "n": n,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "stream": false,
        });
        let obj = body.as_object_mut();
        if let Some(obj) = obj {
            if self.chat {
                obj.insert(
                    "messages".into(),
                    json!([{ "role": "user", "content": req.prompt }]),
                );
                if n > 1 {
                    obj.insert("logprobs".into(), json!(true));
                }
            } else {
                obj.insert("prompt".into(), json!(req.prompt));
                if n > 1 {
                    obj.insert("logprobs".into(), json!(0));
                }
            }
            if !s.stop.is_empty() {
                obj.insert("stop".into(), json!(s.stop));
            }
            // Not in OpenAI's API, but vLLM, SGLang, llama.cpp and mistral.rs read it.
            if let Some(k) = s.top_k.filter(|&k| k > 0) {
                obj.insert("top_k".into(), json!(k));
            }
        }
        body
    }

    async fn run(&self, req: &GenRequest) -> Result<Vec<Completion>, GenError> {
        let n = req.sample_indices.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let start = Instant::now();
        let mut first = Vec::new();
        if n == 1 || !self.one_per_request.load(Ordering::Relaxed) {
            match self.transport.post_with_retries(&self.body(req, n)).await {
                Ok(bytes) => {
                    let choices = self.parse(&bytes)?;
                    if choices.len() == n {
                        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
                        return Ok(self.completions(req, choices, latency_ms));
                    }
                    if !(n > 1 && choices.len() == 1) {
                        return Err(GenError::Request(format!(
                            "{} returned {} choices for n = {n}",
                            self.endpoint(),
                            choices.len()
                        )));
                    }
                    // The server ignored `n`: keep this sample, ask for the others one by one.
                    self.switch_to_one_per_request("returned one choice for n > 1");
                    first = choices;
                }
                Err(e) if n > 1 && matches!(e.status, Some(400 | 422)) => {
                    self.switch_to_one_per_request(&e.error.to_string());
                }
                Err(e) => return Err(e.error),
            }
        }
        let mut choices = first;
        choices.extend(self.one_per_sample(req, n - choices.len()).await?);
        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(self.completions(req, choices, latency_ms))
    }

    fn switch_to_one_per_request(&self, why: &str) {
        if !self.one_per_request.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                endpoint = %self.endpoint(),
                "the server does not take n > 1 ({why}); sending one request per sample"
            );
        }
    }

    /// `count` concurrent requests with `n = 1`, in a stable order.
    async fn one_per_sample(
        &self,
        req: &GenRequest,
        count: usize,
    ) -> Result<Vec<Choice>, GenError> {
        let body = Arc::new(self.body(req, 1));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..count {
            let (transport, body) = (self.transport.clone(), Arc::clone(&body));
            tasks.spawn(async move { (i, transport.post_with_retries(&body).await) });
        }
        let mut answers = Vec::with_capacity(count);
        while let Some(joined) = tasks.join_next().await {
            let (i, answer) =
                joined.map_err(|e| GenError::Request(format!("a request task failed: {e}")))?;
            answers.push((i, answer.map_err(|e| e.error)?));
        }
        answers.sort_by_key(|(i, _)| *i);
        let mut choices = Vec::with_capacity(count);
        for (_, bytes) in answers {
            let mut one = self.parse(&bytes)?;
            if one.len() != 1 {
                return Err(GenError::Request(format!(
                    "{} returned {} choices for n = 1",
                    self.endpoint(),
                    one.len()
                )));
            }
            choices.append(&mut one);
        }
        Ok(choices)
    }

    fn completions(
        &self,
        req: &GenRequest,
        choices: Vec<Choice>,
        latency_ms: f64,
    ) -> Vec<Completion> {
        choices
            .into_iter()
            .zip(&req.sample_indices)
            .map(|(c, &sample_index)| Completion {
                sample_index,
                text: c.text,
                prompt_tokens: saturate(c.prompt_tokens),
                completion_tokens: saturate(c.tokens.unwrap_or(0)),
                latency_ms,
                finish_reason: c.finish_reason.unwrap_or_else(|| "unknown".into()),
            })
            .collect()
    }
}

impl Generator for OpenAiGenerator {
    fn model_id(&self) -> &str {
        &self.model
    }

    fn generate<'a>(
        &'a self,
        req: &'a GenRequest,
    ) -> BoxFuture<'a, Result<Vec<Completion>, GenError>> {
        Box::pin(self.run(req))
    }
}

#[cfg(test)]
mod failover_tests;
#[cfg(test)]
mod tests;
