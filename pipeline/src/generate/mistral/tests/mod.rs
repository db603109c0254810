//! Engine tests: the tiny model is written by the test and loaded in real mistral.rs.
//! [`generation`] checks what the engine says and how it counts; [`loading`] checks what loads
//! and the errors for what does not.

use super::tiny_model::{self, Arch, Spec};
use super::*;
use crate::generate::Sampling;

mod generation;
mod loading;

fn model_config(id: &Path, chat: bool, isq: Option<&str>) -> ModelConfig {
    let mut table = toml::Table::new();
    table.insert("id".into(), id.to_string_lossy().into_owned().into());
    table.insert("chat".into(), chat.into());
    if let Some(isq) = isq {
        table.insert("isq".into(), isq.into());
    }
    toml::Value::Table(table)
        .try_into()
        .expect("a valid [model] table")
}

fn tiny(spec: &Spec) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    tiny_model::write_spec(dir.path(), spec).expect("tiny model written");
    dir
}

fn request(prompt: &str, samples: u32, sampling: &Sampling) -> GenRequest {
    GenRequest {
        problem_id: format!("p-{prompt}"),
        prompt: prompt.to_owned(),
        sample_indices: (0..samples).collect(),
        sampling: sampling.clone(),
    }
}

fn sampling(temperature: f64, max_tokens: usize) -> Sampling {
    Sampling {
        temperature,
        top_p: 0.95,
        top_k: Some(50),
        max_tokens,
        stop: Vec::new(),
        samples_per_problem: 1,
    }
}

fn token_count(dir: &Path, text: &str) -> u32 {
    let tokenizer =
        tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).expect("tokenizer loads");
    let encoding = tokenizer.encode(text, true).expect("encodes");
    u32::try_from(encoding.len()).expect("small")
}

fn chatml(prompt: &str) -> String {
    format!("<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n")
}
