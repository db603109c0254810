//! Generators: turn a rendered prompt into completions.
//!
//! - [`mistral`]: the embedded mistral.rs engine (the default).
//! - [`openai`]: any OpenAI-compatible HTTP server.
//! - [`llama_server`]: llama.cpp's server, started by smelt on a GGUF file.
//! - [`replay`]: completions read from a file (other engines' traces, public solutions, tests).

pub mod engine_bench;
pub mod llama_server;
pub mod mistral;
pub mod openai;
pub mod replay;
pub mod self_test;

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that generators can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sampling parameters (the config's `[sampling]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sampling {
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    #[serde(default = "default_top_p")]
    pub top_p: f64,
    #[serde(default)]
    pub top_k: Option<usize>,
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    #[serde(default)]
    pub stop: Vec<String>,
    /// Completions per problem.
    #[serde(default = "default_samples")]
    pub samples_per_problem: u32,
}

fn default_temperature() -> f64 {
    0.7
}
fn default_top_p() -> f64 {
    0.95
}
fn default_max_tokens() -> usize {
    512
}
fn default_samples() -> u32 {
    1
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: default_temperature(),
            top_p: default_top_p(),
            top_k: None,
            max_tokens: default_max_tokens(),
            stop: Vec::new(),
            samples_per_problem: default_samples(),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenRequest {
    /// Problem id (replay looks completions up by it).
    pub problem_id: String,
    /// The rendered prompt: the user message of a chat, or the raw text for completion models.
    pub prompt: String,
    /// Which sample indices of this problem to produce (those not already committed).
    pub sample_indices: Vec<u32>,
    pub sampling: Sampling,
}

/// One completion with its accounting.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub sample_index: u32,
    pub text: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Wall time from request to this completion, in milliseconds.
    pub latency_ms: f64,
    /// `stop`, `length`, `replay`, …
    pub finish_reason: String,
}

/// Errors from a generator. `Fatal` stops the run; `Request` fails one problem.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("model could not be loaded: {0}")]
    Load(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("{0}")]
    Fatal(String),
}

/// A model behind a common interface. Many `generate` calls may be in flight at once; the
/// engine batches them.
pub trait Generator: Send + Sync {
    /// Recorded on every row (`model_id`) and part of the sample identity.
    fn model_id(&self) -> &str;
    /// Produces one completion per entry of `req.sample_indices`.
    fn generate<'a>(
        &'a self,
        req: &'a GenRequest,
    ) -> BoxFuture<'a, Result<Vec<Completion>, GenError>>;
}
