//! llama-server tests on the real default model (SmolLM2-135M-Instruct, GGUF Q4_1) and the
//! real server, both provided by `make test` (`make model llama-server`) through
//! `SMELT_TEST_MODEL` and `SMELT_LLAMA_SERVER`.

use super::*;
use crate::generate::self_test;
use std::sync::Arc;

use crate::env::test_model as real_model;

fn server_program() -> String {
    let path = std::env::var(crate::env::LLAMA_SERVER)
        .expect("SMELT_LLAMA_SERVER is not set: run the tests with `make test`");
    assert!(
        Path::new(&path).is_file(),
        "{path} is missing: run `make llama-server`"
    );
    path
}

fn config(model: &Path) -> ModelConfig {
    let mut table = toml::Table::new();
    table.insert("kind".into(), "llama_server".into());
    table.insert("id".into(), model.display().to_string().into());
    table.insert("server".into(), server_program().into());
    table.insert("request_timeout_s".into(), 120.into());
    toml::Value::Table(table)
        .try_into()
        .expect("a valid [model] table")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_greedy_equals_serial_on_the_real_model() {
    let cfg = config(&real_model());
    let server = LlamaServerGenerator::start(&cfg, Path::new("/"), 8, 64)
        .await
        .expect("llama-server starts on the default model");
    let generator: Arc<dyn Generator> = Arc::new(server);
    let check = self_test::run(&generator, &self_test::PROMPTS, 48)
        .await
        .expect("the self-test runs");
    assert_eq!(check.serial.len(), 8);
    for (i, (alone, together)) in check.serial.iter().zip(&check.batched).enumerate() {
        assert_eq!(alone, together, "prompt {i} ({:?})", self_test::PROMPTS[i]);
    }
    // Real text, and each prompt its own: a blended batch would repeat one answer.
    let distinct: std::collections::BTreeSet<&String> = check.serial.iter().collect();
    assert_eq!(distinct.len(), 8, "{:?}", check.serial);
    // Each answer is about its own prompt (the model's arithmetic is another matter: it
    // answers "12 + 30 = 32.").
    assert!(
        check.serial[0].contains("12") && check.serial[0].contains("30"),
        "12 plus 30: {:?}",
        check.serial[0]
    );
    assert!(
        check.serial[1].contains("45"),
        "45 plus 17: {:?}",
        check.serial[1]
    );
    check.verdict().expect("the verdict agrees");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_gguf_fails_with_the_servers_words() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cut = dir.path().join("cut.gguf");
    let bytes = std::fs::read(real_model()).expect("model readable");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("written");
    let err = LlamaServerGenerator::start(&config(&cut), Path::new("/"), 2, 16)
        .await
        .expect_err("a truncated model cannot load");
    let msg = err.to_string();
    assert!(msg.contains("llama-server"), "{msg}");
    assert!(msg.contains("exited"), "{msg}");
    assert!(msg.contains("cut.gguf"), "{msg}");
}

#[test]
fn a_file_that_is_not_gguf_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("model.gguf");
    std::fs::write(&path, b"<html>not a model</html>").expect("written");
    let err = check_gguf(&path).expect_err("no GGUF magic");
    assert!(err.to_string().contains("not a GGUF file"), "{err}");
    let missing = check_gguf(&dir.path().join("absent.gguf")).expect_err("missing");
    assert!(missing.to_string().contains("does not exist"), "{missing}");
}

#[tokio::test]
async fn a_missing_server_program_says_how_to_build_it() {
    let mut cfg = config(&real_model());
    cfg.server = Some(PathBuf::from("/nonexistent/llama-server"));
    let err = LlamaServerGenerator::start(&cfg, Path::new("/"), 1, 16)
        .await
        .expect_err("no such program");
    assert!(err.to_string().contains("make llama-server"), "{err}");
}

#[test]
fn the_launch_has_one_slot_per_sample_and_room_for_prompt_and_completion() {
    let mut cfg = config(&real_model());
    cfg.server_args = vec!["--threads".into(), "2".into()];
    let launch = Launch::for_config(&cfg, Path::new("/"), 6, 512).expect("launch");
    let arg = |flag: &str| {
        let i = launch.args.iter().position(|a| a == flag).expect(flag);
        launch.args[i + 1].clone()
    };
    assert_eq!(arg("--parallel"), "6");
    assert_eq!(arg("--ctx-size"), (6 * (512 + PROMPT_ROOM)).to_string());
    assert_eq!(arg("--host"), "127.0.0.1");
    assert_eq!(arg("--threads"), "2");
    assert_eq!(launch.program, server_program());
}
