//! A tiny random-weight causal language model that mistral.rs 0.8.1 loads offline, built by the
//! tests themselves (no download, no Python).
//!
//! Include it where it is needed (it uses the `safetensors` and `tokenizers` dev-dependencies):
//!
//! ```text
//! #[path = "support/tiny_model.rs"]          // from a file in /tests
//! mod tiny_model;
//! tiny_model::write(dir.path(), tiny_model::Arch::Qwen2)?;
//! ```
//!
//! The directory it writes is a standard Hugging Face layout: `config.json` (Qwen2 or Llama
//! shapes, about 0.4M parameters), `model.safetensors` (F32, seeded random weights),
//! `tokenizer.json` (a byte-level BPE trained here on arithmetic text, 512 tokens),
//! `tokenizer_config.json` (ChatML chat template) and `generation_config.json` (EOS ids).
//!
//! The weights are random, so the text is gibberish; what the model does offer is control of
//! when it stops: hidden channel 0 of every token embedding is a constant 1, which RMSNorm turns
//! into a large constant feature, and the EOS rows of `lm_head` read only that channel. So
//! `Spec::eos_bias` sets the EOS logit directly: `-30` never stops (every completion runs to
//! `max_tokens`, which makes benchmarks comparable), `+30` stops at the first token, `0` lets
//! EOS come up by chance (~0.4% a token). The same channel keeps tokens that are not valid
//! UTF-8 on their own from ever being generated, so completions are valid UTF-8.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, TokenizerBuilder};

/// The model family written to `config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `Qwen2ForCausalLM` (q/k/v projections with biases).
    Qwen2,
    /// `LlamaForCausalLM`.
    Llama,
}

/// Shapes and knobs of the tiny model.
#[derive(Debug, Clone)]
pub struct Spec {
    pub arch: Arch,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub intermediate: usize,
    /// Target vocabulary of the BPE trainer (special tokens included).
    pub vocab: usize,
    pub max_position_embeddings: usize,
    /// Seeds both the tokenizer corpus and the weights.
    pub seed: u64,
    /// Approximate logit of the EOS tokens at every step (see the module docs).
    pub eos_bias: f32,
    /// Write `tokenizer_config.json` with a chat template (false: raw completion only).
    pub chat_template: bool,
}

impl Spec {
    /// The default tiny model of an architecture (~0.4M parameters, EOS by chance).
    pub fn new(arch: Arch) -> Spec {
        Spec {
            arch,
            hidden: 128,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            intermediate: 256,
            vocab: 512,
            max_position_embeddings: 4096,
            seed: 0,
            eos_bias: 0.0,
            chat_template: true,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub vocab_size: usize,
    pub eos_ids: Vec<u32>,
    pub parameters: usize,
}

pub const END_OF_TEXT: &str = "<|endoftext|>";
pub const IM_START: &str = "<|im_start|>";
pub const IM_END: &str = "<|im_end|>";

/// ChatML, as Qwen2 uses it.
pub const CHAT_TEMPLATE: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// Writes the default tiny model of `arch` into `dir` (created if missing).
pub fn write(dir: &Path, arch: Arch) -> io::Result<()> {
    write_spec(dir, &Spec::new(arch)).map(drop)
}

/// Writes the tiny model described by `spec` into `dir` (created if missing).
pub fn write_spec(dir: &Path, spec: &Spec) -> io::Result<Written> {
    if !spec.hidden.is_multiple_of(spec.heads) || !spec.heads.is_multiple_of(spec.kv_heads) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "hidden must divide by heads and heads by kv_heads",
        ));
    }
    std::fs::create_dir_all(dir)?;
    let mut rng = SplitMix64(spec.seed ^ 0x5EED_F00D);

    // ---- tokenizer: byte-level BPE trained on arithmetic text ----
    let corpus: Vec<String> = (0..4000).map(|_| arithmetic_line(&mut rng)).collect();
    let specials = [END_OF_TEXT, IM_START, IM_END]
        .iter()
        .map(|s| AddedToken::from(s.to_string(), true))
        .collect();
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(spec.vocab)
        .min_frequency(0)
        .show_progress(false)
        .special_tokens(specials)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let mut tokenizer = TokenizerBuilder::new()
        .with_model(BPE::default())
        .with_normalizer(None::<tokenizers::NormalizerWrapper>)
        .with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)))
        .with_post_processor(Some(ByteLevel::default().trim_offsets(false)))
        .with_decoder(Some(ByteLevel::default()))
        .build()
        .map_err(other)?;
    tokenizer
        .train(&mut trainer, corpus.iter())
        .map_err(other)?;
    tokenizer
        .save(dir.join("tokenizer.json"), false)
        .map_err(other)?;
    let vocab_size = tokenizer.get_vocab_size(true);
    let id = |t: &str| {
        tokenizer.token_to_id(t).ok_or_else(|| {
            other(format!(
                "special token {t} missing from the trained vocabulary"
            ))
        })
    };
    let (eot, im_end) = (id(END_OF_TEXT)?, id(IM_END)?);
    let eos_ids = vec![im_end, eot];

    // ---- tokenizer_config.json, generation_config.json ----
    if spec.chat_template {
        write_json(
            &dir.join("tokenizer_config.json"),
            &serde_json::json!({
                "add_bos_token": false,
                "add_eos_token": false,
                "bos_token": null,
                "eos_token": IM_END,
                "pad_token": END_OF_TEXT,
                "unk_token": null,
                "chat_template": CHAT_TEMPLATE,
                "model_max_length": spec.max_position_embeddings,
                "clean_up_tokenization_spaces": false,
                "tokenizer_class": "PreTrainedTokenizerFast",
            }),
        )?;
    }
    write_json(
        &dir.join("generation_config.json"),
        &serde_json::json!({ "eos_token_id": eos_ids, "bos_token_id": eot }),
    )?;

    // ---- config.json ----
    let (h, l, nh, kv, inter) = (
        spec.hidden,
        spec.layers,
        spec.heads,
        spec.kv_heads,
        spec.intermediate,
    );
    let head_dim = h / nh;
    let mut config = serde_json::json!({
        "architectures": [match spec.arch { Arch::Qwen2 => "Qwen2ForCausalLM", Arch::Llama => "LlamaForCausalLM" }],
        "model_type": match spec.arch { Arch::Qwen2 => "qwen2", Arch::Llama => "llama" },
        "hidden_act": "silu",
        "hidden_size": h,
        "intermediate_size": inter,
        "num_hidden_layers": l,
        "num_attention_heads": nh,
        "num_key_value_heads": kv,
        "max_position_embeddings": spec.max_position_embeddings,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "vocab_size": vocab_size,
        "tie_word_embeddings": false,
        "torch_dtype": "float32",
        "bos_token_id": eot,
        "eos_token_id": im_end,
    });
    if spec.arch == Arch::Qwen2 {
        if let Some(obj) = config.as_object_mut() {
            obj.insert("sliding_window".into(), spec.max_position_embeddings.into());
            obj.insert("use_sliding_window".into(), false.into());
            obj.insert("max_window_layers".into(), l.into());
        }
    }
    write_json(&dir.join("config.json"), &config)?;

    // ---- weights ----
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    let mut embed = normal(&mut rng, vocab_size * h, 0.02);
    for row in embed.chunks_mut(h) {
        row[0] = 1.0; // the constant channel (see the module docs)
    }
    tensors.push((
        "model.embed_tokens.weight".into(),
        vec![vocab_size, h],
        embed,
    ));
    for layer in 0..l {
        let p = format!("model.layers.{layer}.");
        tensors.push((format!("{p}input_layernorm.weight"), vec![h], vec![1.0; h]));
        tensors.push((
            format!("{p}post_attention_layernorm.weight"),
            vec![h],
            vec![1.0; h],
        ));
        for (name, rows) in [
            ("q", nh * head_dim),
            ("k", kv * head_dim),
            ("v", kv * head_dim),
        ] {
            let w = normal(&mut rng, rows * h, 0.02);
            tensors.push((format!("{p}self_attn.{name}_proj.weight"), vec![rows, h], w));
            if spec.arch == Arch::Qwen2 {
                tensors.push((
                    format!("{p}self_attn.{name}_proj.bias"),
                    vec![rows],
                    vec![0.0; rows],
                ));
            }
        }
        let o = normal(&mut rng, h * nh * head_dim, 0.02);
        tensors.push((
            format!("{p}self_attn.o_proj.weight"),
            vec![h, nh * head_dim],
            o,
        ));
        let gate = normal(&mut rng, inter * h, 0.02);
        tensors.push((format!("{p}mlp.gate_proj.weight"), vec![inter, h], gate));
        let up = normal(&mut rng, inter * h, 0.02);
        tensors.push((format!("{p}mlp.up_proj.weight"), vec![inter, h], up));
        let down = normal(&mut rng, h * inter, 0.02);
        tensors.push((format!("{p}mlp.down_proj.weight"), vec![h, inter], down));
    }
    tensors.push(("model.norm.weight".into(), vec![h], vec![1.0; h]));
    // lm_head: ordinary tokens ignore the constant channel; EOS rows read only it. After the
    // final RMSNorm that channel is about sqrt(hidden), so the EOS logit is about `eos_bias`.
    // Tokens that are not valid UTF-8 on their own (lone bytes of the byte-level alphabet)
    // read it with a large negative weight: they stay encodable but are never generated, so
    // completions are always valid UTF-8.
    let scale = (h as f32).sqrt();
    let mut lm_head = normal(&mut rng, vocab_size * h, 0.02);
    for (token, row) in lm_head.chunks_mut(h).enumerate() {
        let id = u32::try_from(token).map_err(other)?;
        if eos_ids.contains(&id) {
            row.fill(0.0);
            row[0] = spec.eos_bias / scale;
        } else if !tokenizer
            .decode(&[id], false)
            .is_ok_and(|text| !text.contains('\u{FFFD}'))
        {
            row[0] = -30.0 / scale;
        } else {
            row[0] = 0.0;
        }
    }
    tensors.push(("lm_head.weight".into(), vec![vocab_size, h], lm_head));

    let parameters = tensors.iter().map(|(_, _, v)| v.len()).sum();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, shape, values)| {
            let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape, data)
        })
        .collect();
    let mut views = Vec::with_capacity(bytes.len());
    for (name, shape, data) in &bytes {
        let view = TensorView::new(Dtype::F32, shape.clone(), data).map_err(other)?;
        views.push((name.clone(), view));
    }
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::tensor::serialize_to_file(views, Some(metadata), &dir.join("model.safetensors"))
        .map_err(other)?;

    Ok(Written {
        vocab_size,
        eos_ids,
        parameters,
    })
}

fn write_json(path: &Path, value: &serde_json::Value) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(other)?;
    std::fs::write(path, text)
}

fn other<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::other(e.to_string())
}

/// A worked arithmetic line, the kind of text the pipeline produces.
fn arithmetic_line(rng: &mut SplitMix64) -> String {
    let x = rng.below(1000) as i64;
    let y = rng.below(1000) as i64;
    let (op, r) = match rng.below(3) {
        0 => ('+', x + y),
        1 => ('-', x - y),
        _ => ('*', x * y),
    };
    format!(
        "Question: what is {x} {op} {y}? Let's think step by step. {x} {op} {y} = {r}. The answer is {r}."
    )
}

/// `n` samples of N(0, std²) (Box-Muller over SplitMix64).
fn normal(rng: &mut SplitMix64, n: usize, std: f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = rng.unit().max(f64::MIN_POSITIVE);
        let u2 = rng.unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        out.push((r * t.cos()) as f32 * std);
        out.push((r * t.sin()) as f32 * std);
    }
    out.truncate(n);
    out
}

/// A small, seedable generator so the model is the same on every machine.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
