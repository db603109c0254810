//! The embedded engine on the real default model (SmolLM2-135M-Instruct, GGUF Q4_1), which
//! `make test` downloads: batching must not change what a sequence says.

use super::*;
use crate::generate::{self_test, Generator};
use std::sync::Arc;

fn gguf_config(path: &Path) -> ModelConfig {
    let mut table = toml::Table::new();
    table.insert("id".into(), path.display().to_string().into());
    table.insert("max_in_flight".into(), 8.into());
    toml::Value::Table(table)
        .try_into()
        .expect("a valid [model] table")
}

/// The bug `vendor/mistralrs-core` fixes: every sequence of a CPU batch decoded with the
/// attention output of the batch's last sequence, so 0 of 8 completions matched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_greedy_equals_serial_on_the_real_model() {
    let cfg = gguf_config(&crate::env::test_model());
    let generator = MistralGenerator::load(&cfg, Path::new("/"))
        .await
        .expect("the default model loads");
    let generator: Arc<dyn Generator> = Arc::new(generator);
    let check = self_test::run(&generator, &self_test::PROMPTS, 32)
        .await
        .expect("the self-test runs");
    for (i, (alone, together)) in check.serial.iter().zip(&check.batched).enumerate() {
        assert_eq!(alone, together, "prompt {i} ({:?})", self_test::PROMPTS[i]);
    }
    let distinct: std::collections::BTreeSet<&String> = check.serial.iter().collect();
    assert_eq!(distinct.len(), 8, "{:?}", check.serial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_gguf_is_a_load_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cut = dir.path().join("cut.gguf");
    let bytes = std::fs::read(crate::env::test_model()).expect("model readable");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("written");
    let err = MistralGenerator::load(&gguf_config(&cut), Path::new("/"))
        .await
        .expect_err("a truncated model cannot load");
    let msg = err.to_string();
    assert!(msg.contains("cut.gguf"), "{msg}");
}
