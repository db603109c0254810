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

mod servers;

use super::{BoxFuture, Completion, GenError, GenRequest, Generator};
use crate::config::ModelConfig;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How failed requests are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each next one.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(16),
        }
    }
}

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

/// Sends one JSON body with retries; cheap to clone (the client is shared).
#[derive(Debug, Clone)]
struct Transport {
    model: String,
    servers: Arc<servers::Servers>,
    api_key: Option<String>,
    client: reqwest::Client,
    retry: RetryPolicy,
}

/// A failed exchange, with the HTTP status when the server answered.
struct HttpError {
    error: GenError,
    status: Option<u16>,
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

    fn parse(&self, bytes: &[u8]) -> Result<Vec<Choice>, GenError> {
        let bad = |e: serde_json::Error| {
            GenError::Request(format!(
                "{} returned an unexpected body ({e}): {}",
                self.endpoint(),
                snippet(bytes)
            ))
        };
        let (mut choices, usage) = if self.chat {
            let r: ChatResponse = serde_json::from_slice(bytes).map_err(bad)?;
            let choices = r
                .choices
                .into_iter()
                .enumerate()
                .map(|(pos, c)| Choice {
                    index: c.index.unwrap_or(pos),
                    text: c.message.content.unwrap_or_default(),
                    finish_reason: c.finish_reason,
                    tokens: c.logprobs.and_then(|l| l.content).map(|t| t.len()),
                    prompt_tokens: 0,
                })
                .collect::<Vec<_>>();
            (choices, r.usage)
        } else {
            let r: TextResponse = serde_json::from_slice(bytes).map_err(bad)?;
            let choices = r
                .choices
                .into_iter()
                .enumerate()
                .map(|(pos, c)| Choice {
                    index: c.index.unwrap_or(pos),
                    text: c.text,
                    finish_reason: c.finish_reason,
                    tokens: c.logprobs.and_then(|l| l.tokens).map(|t| t.len()),
                    prompt_tokens: 0,
                })
                .collect::<Vec<_>>();
            (choices, r.usage)
        };
        choices.sort_by_key(|c| c.index);
        let usage = usage.unwrap_or_default();
        self.account(&mut choices, &usage);
        Ok(choices)
    }

    /// Fills in per-choice token counts.
    fn account(&self, choices: &mut [Choice], usage: &Usage) {
        let prompt = usage.prompt_tokens;
        if let [only] = choices {
            only.prompt_tokens = prompt;
            only.tokens = Some(usage.completion_tokens);
            return;
        }
        let counted = choices.iter().all(|c| c.tokens.is_some());
        if !counted {
            if !self.warned_estimate.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    endpoint = %self.endpoint(),
                    "the server returned no per-token logprobs with n > 1; per-sample \
                     completion tokens are estimated by splitting the total by text length"
                );
            }
            split_by_length(choices, usage.completion_tokens);
        }
        for c in choices.iter_mut() {
            c.prompt_tokens = prompt;
        }
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

impl Transport {
    async fn post_with_retries(&self, body: &Value) -> Result<Vec<u8>, HttpError> {
        // Each server gets the full number of attempts before the request gives up.
        let servers = self.servers.len().max(1) as u32;
        let attempts = self.retry.max_attempts.max(1).saturating_mul(servers);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let lease = self.servers.lease().await;
            let failure = match self.post_once(lease.endpoint(), body).await {
                Ok(bytes) => {
                    self.servers.succeeded(lease.index);
                    return Ok(bytes);
                }
                Err(failure) => failure,
            };
            match failure {
                Failure::Final(e) => return Err(e),
                Failure::Retryable { error, retry_after } if attempt < attempts => {
                    // Backoff grows with this request's failures on the same server count.
                    let backoff = self.backoff(attempt.div_ceil(servers), retry_after);
                    let elsewhere = self.servers.failed(lease.index, backoff);
                    tracing::warn!(
                        endpoint = %lease.endpoint(),
                        attempt,
                        backoff_ms = if elsewhere { 0 } else { backoff.as_millis() as u64 },
                        "retrying{}: {}",
                        if elsewhere { " on another server" } else { "" },
                        error.error
                    );
                    drop(lease);
                    if !elsewhere {
                        tokio::time::sleep(backoff).await;
                    }
                }
                Failure::Retryable { error, .. } => return Err(error),
            }
        }
    }

    async fn post_once(&self, endpoint: &str, body: &Value) -> Result<Vec<u8>, Failure> {
        let mut request = self.client.post(endpoint).json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_failure(endpoint, &e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_failure(endpoint, &e))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let detail = snippet(&bytes);
        let code = status.as_u16();
        let message = format!("{endpoint} answered HTTP {code}: {detail}");
        let answered = |error| HttpError {
            error,
            status: Some(code),
        };
        Err(match code {
            408 | 429 | 500..=599 => Failure::Retryable {
                error: answered(GenError::Request(message)),
                retry_after,
            },
            401 | 403 => Failure::Final(answered(GenError::Fatal(format!(
                "{message} (check the API key in the variable named by model.api_key_env)"
            )))),
            404 => Failure::Final(answered(GenError::Fatal(format!(
                "{message} (check model.url and model.id = `{}`)",
                self.model
            )))),
            _ => Failure::Final(answered(GenError::Request(message))),
        })
    }

    fn transport_failure(&self, endpoint: &str, e: &reqwest::Error) -> Failure {
        let chain = error_chain(e);
        let error = if e.is_connect() {
            // If the server cannot be reached after every retry, no request will get through.
            GenError::Fatal(format!(
                "cannot reach {} (is the server running?): {chain}",
                endpoint
            ))
        } else if e.is_timeout() {
            GenError::Request(format!(
                "{} did not answer in time (model.request_timeout_s): {chain}",
                endpoint
            ))
        } else {
            GenError::Request(format!("request to {} failed: {chain}", endpoint))
        };
        Failure::Retryable {
            error: HttpError {
                error,
                status: None,
            },
            retry_after: None,
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .retry
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16));
        let capped = exp.min(self.retry.max_backoff);
        // Jitter in [50%, 100%] so that many in-flight requests do not retry in lockstep.
        let jittered = capped.mul_f64(0.5 + 0.5 * rand::random::<f64>());
        match retry_after {
            Some(wait) => wait.min(self.retry.max_backoff).max(jittered),
            None => jittered,
        }
    }
}

/// `{url}/chat/completions` or `{url}/completions`; `/v1` is added when the URL has no version
/// path of its own (`http://host:8000` → `http://host:8000/v1/...`).
pub fn endpoint(url: &str, chat: bool) -> String {
    let base = url.trim_end_matches('/');
    let has_path = base
        .split_once("://")
        .map(|(_, rest)| rest.contains('/'))
        .unwrap_or(false);
    let base = if has_path {
        base.to_owned()
    } else {
        format!("{base}/v1")
    };
    let route = if chat {
        "chat/completions"
    } else {
        "completions"
    };
    format!("{base}/{route}")
}

fn client(timeout: Duration) -> Result<reqwest::Client, GenError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("smelt/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| GenError::Load(format!("cannot build the HTTP client: {e}")))
}

enum Failure {
    Retryable {
        error: HttpError,
        retry_after: Option<Duration>,
    },
    Final(HttpError),
}

struct Choice {
    index: usize,
    text: String,
    finish_reason: Option<String>,
    tokens: Option<usize>,
    prompt_tokens: usize,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<ChatChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ChatChoice {
    #[serde(default)]
    index: Option<usize>,
    message: ChatMessage,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<ChatLogprobs>,
}

#[derive(Deserialize)]
struct ChatMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct ChatLogprobs {
    #[serde(default)]
    content: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct TextResponse {
    choices: Vec<TextChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct TextChoice {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<TextLogprobs>,
}

#[derive(Deserialize)]
struct TextLogprobs {
    #[serde(default)]
    tokens: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default)]
    prompt_tokens: usize,
    #[serde(default)]
    completion_tokens: usize,
}

/// Splits `total` over the choices in proportion to their text length (largest remainder).
fn split_by_length(choices: &mut [Choice], total: usize) {
    let lengths: Vec<usize> = choices
        .iter()
        .map(|c| c.text.chars().count().max(1))
        .collect();
    let sum: usize = lengths.iter().sum();
    let mut shares: Vec<(usize, usize, usize)> = lengths
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let exact = total * len;
            (i, exact / sum, exact % sum)
        })
        .collect();
    let mut left = total - shares.iter().map(|s| s.1).sum::<usize>();
    shares.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for share in shares.iter_mut() {
        if left == 0 {
            break;
        }
        share.1 += 1;
        left -= 1;
    }
    for (i, count, _) in shares {
        choices[i].tokens = Some(count);
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod failover_tests;
#[cfg(test)]
mod tests;
