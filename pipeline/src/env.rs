//! Every environment variable smelt reads, in one place.

/// Model for `make run` / the quickstart: a local directory, a `.gguf` file or a hub id.
/// The Makefile passes it as `--set model.id=$MODEL`.
pub const MODEL: &str = "MODEL";
/// The `llama-server` program for `model.kind = "llama_server"` when `model.server` is not
/// set (the Makefile points it at the one it builds).
pub const LLAMA_SERVER: &str = "SMELT_LLAMA_SERVER";
/// Log filter, as for `tracing_subscriber::EnvFilter` (e.g. `smelt=debug`).
pub const LOG: &str = "SMELT_LOG";
/// This process's shard of the run, `I/N` or `off` (what `smelt run --shard` takes).
pub const SHARD: &str = "SMELT_SHARD";
/// The number of shards when the index comes from a Kubernetes Indexed Job.
pub const SHARDS: &str = "SMELT_SHARDS";
/// Set by Slurm in each task of a job array: its id, the array's size, lowest id and step.
pub const SLURM_ARRAY: [&str; 4] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
];
/// Set by Kubernetes in each pod of an Indexed Job.
pub const K8S_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";
/// Test-only fault injection; see `sink::fault`.
pub const FAULT: &str = "SMELT_FAULT";

/// This crate's directory, for tests. Read at run time first (cargo sets `CARGO_MANIFEST_DIR`
/// when it runs a test), so a test binary built from another checkout that shares the target
/// directory still finds this checkout's files; the compile-time value is the fallback.
#[cfg(test)]
pub(crate) fn crate_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::path::PathBuf::from,
    )
}

/// The real default model (SmolLM2-135M-Instruct GGUF) for tests; `make test` downloads it
/// (`make model`) and sets this variable.
pub const TEST_MODEL: &str = "SMELT_TEST_MODEL";

/// The real model file for tests, or a panic that says how to get it.
#[cfg(test)]
pub(crate) fn test_model() -> std::path::PathBuf {
    let path = std::env::var_os(TEST_MODEL)
        .map(std::path::PathBuf::from)
        .expect("SMELT_TEST_MODEL is not set: run the tests with `make test`");
    assert!(
        path.is_file(),
        "{} is missing: run `make model`",
        path.display()
    );
    path
}
