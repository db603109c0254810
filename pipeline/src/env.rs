//! Every environment variable smelt reads, in one place.

/// Model for `make run` / the quickstart: a local directory, a `.gguf` file or a hub id.
/// The Makefile passes it as `--set model.id=$MODEL`.
pub const MODEL: &str = "MODEL";
/// Log filter, as for `tracing_subscriber::EnvFilter` (e.g. `smelt=debug`).
pub const LOG: &str = "SMELT_LOG";
/// Test-only fault injection; see `sink::fault`.
pub const FAULT: &str = "SMELT_FAULT";
