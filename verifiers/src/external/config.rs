//! What an external verifier is configured with, and what its handshake says it is.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Configuration of [`ExternalVerifier`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExternalConfig {
    /// The program and its arguments, e.g. `["python3", "examples/external_verifier.py"]`.
    pub command: Vec<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Start from a minimal environment instead of smelt's.
    pub clear_env: bool,
    /// Working directory of the process.
    pub cwd: Option<PathBuf>,
    /// Deadline per sample, from sending the request to receiving the verdict.
    pub timeout_ms: u64,
    /// Deadline for the process to start and answer the handshake.
    pub startup_timeout_ms: u64,
    /// Requests in flight at once (the handshake may lower it).
    pub max_in_flight: usize,
    /// Consecutive failed starts/crashes/timeouts tolerated before giving up.
    pub max_restarts: u32,
    /// First restart delay; doubles per consecutive failure (capped at 10 s).
    pub restart_backoff_ms: u64,
    /// Longest accepted response line.
    pub max_line_bytes: usize,
    /// Run without network (fresh network namespace + seccomp socket filter).
    pub no_network: bool,
    /// When smelt runs as root, run the process as nobody.
    pub drop_privileges: bool,
    /// Address-space limit of the process, MiB.
    pub memory_mb: Option<u64>,
}

impl ExternalConfig {
    pub const KIND: &'static str = "external";
}

impl Default for ExternalConfig {
    fn default() -> Self {
        ExternalConfig {
            command: Vec::new(),
            env: BTreeMap::new(),
            clear_env: false,
            cwd: None,
            timeout_ms: 30_000,
            startup_timeout_ms: 10_000,
            max_in_flight: 8,
            max_restarts: 3,
            restart_backoff_ms: 100,
            max_line_bytes: 16 << 20,
            no_network: false,
            drop_privileges: false,
            memory_mb: None,
        }
    }
}

/// What the handshake told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub version: String,
}
