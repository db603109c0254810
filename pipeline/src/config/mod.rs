//! The pipeline config: one TOML file, deserialized into plain data, validated by a pure step.
//!
//! Settings resolve in one order: defaults < config file < `--set key=value` < `--output`.

mod load;
mod validate;

pub use load::{load, load_str, ConfigError};
pub use validate::validate;

use crate::generate::Sampling;
use crate::sources::SourceEntry;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The whole pipeline (a TOML file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    pub run: RunConfig,
    #[serde(default)]
    pub limits: Limits,
    pub model: ModelConfig,
    #[serde(default)]
    pub sampling: Sampling,
    /// Verification-driven sampling (README "Adaptive sampling"); `None`: a fixed
    /// `sampling.samples_per_problem` per problem.
    #[serde(default)]
    pub adaptive: Option<crate::adaptive::AdaptiveConfig>,
    pub sources: Vec<SourceEntry>,
    /// The ordered verifier chain: each entry has `type = "<kind>"` plus that verifier's options.
    #[serde(default)]
    pub verifiers: Vec<toml::Table>,
    #[serde(default)]
    pub verify: VerifyConfig,
    #[serde(default)]
    pub output: OutputConfig,
    /// Deduplication and decontamination of problems (`[curation]`; absent: none).
    #[serde(default)]
    pub curation: Option<crate::curate::CurationConfig>,
    /// Directory of the config file; relative paths in the config resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file's path and text (after `--set`), for messages that point at lines.
    #[serde(skip)]
    pub source_path: PathBuf,
    #[serde(skip)]
    pub source_text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub name: String,
    /// Output directory (default `outputs/<name>`, relative to the working directory).
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// Global seed: generators draw problem `i` from (seed, source, i).
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Problems to draw over all sources (required when a generator source is unbounded).
    #[serde(default)]
    pub max_problems: Option<u64>,
    /// Stop once this many samples were accepted (over all runs on this output).
    #[serde(default)]
    pub target_accepted: Option<u64>,
    /// Stop after this much wall time, e.g. `"7h30m"`.
    #[serde(default)]
    pub max_duration: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Embedded mistral.rs.
    #[default]
    Mistralrs,
    /// An OpenAI-compatible HTTP server.
    Openai,
    /// Completions replayed from a file.
    Replay,
    /// llama.cpp's `llama-server`, started by smelt on a GGUF file, spoken to over HTTP.
    LlamaServer,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    /// F32: the dtype that works and scales with batch on CPU.
    #[default]
    F32,
    F16,
    Bf16,
    /// Let the engine choose (F16 on CPU, which does not scale with batch).
    Auto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    #[serde(default)]
    pub kind: ModelKind,
    /// mistralrs: a local model directory, a `.gguf` file, or a hub id (needs a network).
    /// openai: the model name sent to the server.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub dtype: Dtype,
    /// In-situ quantization, e.g. `"Q4K"`, `"Q8_0"` (mistralrs).
    #[serde(default)]
    pub isq: Option<String>,
    /// Send the prompt as a chat message through the model's chat template (true) or as raw text.
    #[serde(default = "default_true")]
    pub chat: bool,
    /// Requests in flight at once (the engine batches them).
    #[serde(default = "default_in_flight")]
    pub max_in_flight: usize,
    /// openai: base URL, e.g. `http://127.0.0.1:8000/v1`.
    #[serde(default)]
    pub url: Option<String>,
    /// openai: more servers of the same model; requests go to the least loaded live one, and
    /// a failed attempt is retried on another (`url` counts as the first).
    #[serde(default)]
    pub urls: Vec<String>,
    /// openai: at most this many requests at once on each server (default: no cap besides
    /// `max_in_flight`).
    #[serde(default)]
    pub max_in_flight_per_server: Option<usize>,
    /// openai, llama_server: attempts per request and server, the first included (connection
    /// errors, timeouts, 408, 429 and 5xx are retried with exponential backoff).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// openai: environment variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// openai: per-request timeout in seconds.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_s: u64,
    /// replay: JSONL or Parquet file of completions.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// replay: column holding the completion text.
    #[serde(default)]
    pub completion_field: Option<String>,
    /// replay: column holding the problem id. Without it, row `i` answers problem
    /// `{key_prefix}-{i}` (e.g. replaying a dataset's own solutions).
    #[serde(default)]
    pub key_field: Option<String>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// llama_server: the `llama-server` program (default: `$SMELT_LLAMA_SERVER`, else
    /// `llama-server` in `PATH`).
    #[serde(default)]
    pub server: Option<PathBuf>,
    /// llama_server: extra arguments for the server (e.g. `["--threads", "4"]`).
    #[serde(default)]
    pub server_args: Vec<String>,
    /// mistralrs, openai, llama_server: at start-up, check that greedy completions of a few
    /// prompts sent together equal those sent one at a time (an engine that mixes the
    /// sequences of a batch would otherwise write blended data silently).
    #[serde(default = "default_true")]
    pub self_test: bool,
}

fn default_true() -> bool {
    true
}
fn default_in_flight() -> usize {
    16
}
fn default_max_attempts() -> u32 {
    5
}
fn default_request_timeout() -> u64 {
    600
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainMode {
    /// Stop at the first reject (cheap verifiers first).
    #[default]
    ShortCircuit,
    /// Run every verifier to collect every reason.
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    #[serde(default)]
    pub mode: ChainMode,
    /// Verification threads (default: number of cores).
    #[serde(default)]
    pub workers: Option<usize>,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            mode: ChainMode::ShortCircuit,
            workers: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Rows per Parquet shard.
    #[serde(default = "default_rows_per_shard")]
    pub rows_per_shard: usize,
    /// `zstd` (default), `snappy` or `none`.
    #[serde(default = "default_compression")]
    pub compression: String,
    #[serde(default = "default_zstd_level")]
    pub zstd_level: i32,
    /// Write rejected samples to their own shards (negatives for preference data).
    #[serde(default = "default_true")]
    pub keep_rejected: bool,
    /// Commit a partial shard after this long, so a crash loses at most this much work.
    #[serde(default = "default_max_shard_age")]
    pub max_shard_age: String,
}

fn default_rows_per_shard() -> usize {
    10_000
}
fn default_compression() -> String {
    "zstd".into()
}
fn default_zstd_level() -> i32 {
    3
}
fn default_max_shard_age() -> String {
    "5m".into()
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            rows_per_shard: default_rows_per_shard(),
            compression: default_compression(),
            zstd_level: default_zstd_level(),
            keep_rejected: true,
            max_shard_age: default_max_shard_age(),
        }
    }
}

impl PipelineConfig {
    /// The output directory after defaults.
    pub fn output_dir(&self) -> PathBuf {
        self.run
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from("outputs").join(&self.run.name))
    }

    /// A path from the config, resolved against the config file's directory.
    pub fn resolve(&self, path: &std::path::Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}
