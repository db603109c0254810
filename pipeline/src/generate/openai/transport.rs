//! Sending one JSON body: the HTTP client, retries with backoff (honouring `Retry-After`),
//! failover to another server, and which answers are worth a retry.

use super::servers;
use super::GenError;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

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

/// Sends one JSON body with retries; cheap to clone (the client is shared).
#[derive(Debug, Clone)]
pub(super) struct Transport {
    pub(super) model: String,
    pub(super) servers: Arc<servers::Servers>,
    pub(super) api_key: Option<String>,
    pub(super) client: reqwest::Client,
    pub(super) retry: RetryPolicy,
}

/// A failed exchange, with the HTTP status when the server answered.
pub(super) struct HttpError {
    pub(super) error: GenError,
    pub(super) status: Option<u16>,
}

impl Transport {
    pub(super) async fn post_with_retries(&self, body: &Value) -> Result<Vec<u8>, HttpError> {
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

pub(super) fn client(timeout: Duration) -> Result<reqwest::Client, GenError> {
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

pub(super) fn snippet(bytes: &[u8]) -> String {
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
