//! Converts a tiny Llama model directory written by `tiny_model.rs` into a single `.gguf` file
//! that mistral.rs 0.8.1 loads with its GGUF loader: llama.cpp tensor names, `llama.*`
//! hyper-parameters, a `gpt2` (byte-level BPE) tokenizer and the chat template in the metadata;
//! matrices quantized to Q8_0, norms kept in F32. Uses the `candle-core` dev-dependency.
//!
//! ```text
//! #[path = "support/tiny_model.rs"] mod tiny_model;
//! #[path = "support/tiny_gguf.rs"] mod tiny_gguf;
//! tiny_model::write(&dir, tiny_model::Arch::Llama)?;
//! tiny_gguf::write(&dir, &dir.join("tiny-q8_0.gguf"))?;
//! ```
#![allow(dead_code)]

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// Reads `model_dir` (a Llama directory from `tiny_model::write*`) and writes `out`.
pub fn write(model_dir: &Path, out: &Path) -> io::Result<()> {
    let config: serde_json::Value = read_json(&model_dir.join("config.json"))?;
    if config["model_type"] != "llama" {
        return Err(invalid("tiny_gguf converts Llama models only"));
    }
    let num = |key: &str| {
        config[key]
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| invalid(&format!("config.json: `{key}` missing")))
    };
    let (hidden, layers, heads) = (
        num("hidden_size")?,
        num("num_hidden_layers")?,
        num("num_attention_heads")?,
    );
    let (kv_heads, inter, ctx) = (
        num("num_key_value_heads")?,
        num("intermediate_size")?,
        num("max_position_embeddings")?,
    );
    let mut metadata: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String("llama".into())),
        (
            "general.name".into(),
            Value::String("smelt tiny llama".into()),
        ),
        ("llama.context_length".into(), Value::U64(u64::from(ctx))),
        ("llama.embedding_length".into(), Value::U32(hidden)),
        ("llama.block_count".into(), Value::U32(layers)),
        ("llama.feed_forward_length".into(), Value::U32(inter)),
        ("llama.attention.head_count".into(), Value::U32(heads)),
        ("llama.attention.head_count_kv".into(), Value::U32(kv_heads)),
        (
            "llama.rope.dimension_count".into(),
            Value::U32(hidden / heads),
        ),
        (
            "llama.attention.layer_norm_rms_epsilon".into(),
            Value::F32(1e-6),
        ),
        ("llama.rope.freq_base".into(), Value::F32(10_000.0)),
    ];
    metadata.extend(tokenizer_metadata(model_dir)?);

    let bytes = std::fs::read(model_dir.join("model.safetensors"))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(other)?;
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    for (name, view) in st.tensors() {
        let Some(gguf_name) = gguf_name(&name) else {
            return Err(invalid(&format!("no GGUF name for tensor `{name}`")));
        };
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let tensor = Tensor::from_vec(values, view.shape(), &Device::Cpu).map_err(other)?;
        let dtype = if view.shape().len() == 2 {
            GgmlDType::Q8_0
        } else {
            GgmlDType::F32
        };
        tensors.push((gguf_name, QTensor::quantize(&tensor, dtype).map_err(other)?));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));

    let meta_refs: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
    let mut file = std::fs::File::create(out)?;
    gguf_file::write(&mut file, &meta_refs, &tensor_refs).map_err(other)
}

fn gguf_name(hf: &str) -> Option<String> {
    let fixed = match hf {
        "model.embed_tokens.weight" => Some("token_embd.weight"),
        "model.norm.weight" => Some("output_norm.weight"),
        "lm_head.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(name) = fixed {
        return Some(name.to_owned());
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, part) = rest.split_once('.')?;
    let part = match part {
        "input_layernorm.weight" => "attn_norm.weight",
        "post_attention_layernorm.weight" => "ffn_norm.weight",
        "self_attn.q_proj.weight" => "attn_q.weight",
        "self_attn.k_proj.weight" => "attn_k.weight",
        "self_attn.v_proj.weight" => "attn_v.weight",
        "self_attn.o_proj.weight" => "attn_output.weight",
        "mlp.gate_proj.weight" => "ffn_gate.weight",
        "mlp.up_proj.weight" => "ffn_up.weight",
        "mlp.down_proj.weight" => "ffn_down.weight",
        _ => return None,
    };
    Some(format!("blk.{layer}.{part}"))
}

/// The `tokenizer.ggml.*` keys of a byte-level BPE `tokenizer.json`, plus the chat template.
fn tokenizer_metadata(model_dir: &Path) -> io::Result<Vec<(String, Value)>> {
    let tj = read_json(&model_dir.join("tokenizer.json"))?;
    let vocab = tj["model"]["vocab"]
        .as_object()
        .ok_or_else(|| invalid("tokenizer.json: model.vocab missing"))?;
    let mut by_id: BTreeMap<u64, String> = BTreeMap::new();
    for (token, id) in vocab {
        let id = id
            .as_u64()
            .ok_or_else(|| invalid("tokenizer.json: bad id"))?;
        by_id.insert(id, token.clone());
    }
    let specials: Vec<String> = tj["added_tokens"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["content"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let tokens: Vec<String> = by_id.values().cloned().collect();
    if by_id.keys().copied().ne(0..tokens.len() as u64) {
        return Err(invalid("tokenizer.json: vocabulary ids are not contiguous"));
    }
    let token_type: Vec<Value> = tokens
        .iter()
        .map(|t| Value::I32(if specials.contains(t) { 3 } else { 1 }))
        .collect();
    let merges: Vec<Value> = tj["model"]["merges"]
        .as_array()
        .ok_or_else(|| invalid("tokenizer.json: model.merges missing"))?
        .iter()
        .filter_map(|m| match m {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(pair) => Some(format!(
                "{} {}",
                pair.first()?.as_str()?,
                pair.get(1)?.as_str()?
            )),
            _ => None,
        })
        .map(Value::String)
        .collect();
    let id_of = |t: &str| {
        tokens
            .iter()
            .position(|x| x == t)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| invalid(&format!("token {t} missing")))
    };
    let mut meta = vec![
        (
            "tokenizer.ggml.model".to_owned(),
            Value::String("gpt2".into()),
        ),
        (
            "tokenizer.ggml.tokens".to_owned(),
            Value::Array(tokens.iter().cloned().map(Value::String).collect()),
        ),
        (
            "tokenizer.ggml.token_type".to_owned(),
            Value::Array(token_type),
        ),
        ("tokenizer.ggml.merges".to_owned(), Value::Array(merges)),
        (
            "tokenizer.ggml.eos_token_id".to_owned(),
            Value::U32(id_of("<|im_end|>")?),
        ),
        (
            "tokenizer.ggml.bos_token_id".to_owned(),
            Value::U32(id_of("<|endoftext|>")?),
        ),
    ];
    if let Ok(tc) = read_json(&model_dir.join("tokenizer_config.json")) {
        if let Some(template) = tc["chat_template"].as_str() {
            meta.push((
                "tokenizer.chat_template".to_owned(),
                Value::String(template.to_owned()),
            ));
        }
    }
    Ok(meta)
}

fn read_json(path: &Path) -> io::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(other)
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

fn other<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::other(e.to_string())
}
