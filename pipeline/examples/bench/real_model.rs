//! `make bench`, section `real`: the default model (SmolLM2-135M-Instruct, GGUF Q4_1) on every
//! path smelt offers, side by side in one run, at the same concurrency:
//!
//! - llama.cpp alone: `llama-batched-bench` (the engine's own numbers, no HTTP, no smelt);
//! - smelt on llama-server (`model.kind = "llama_server"`, the default path of `make run`);
//! - mistral.rs alone (its own API, the patched engine) and smelt on embedded mistral.rs.
//!
//! Tokens/s are completion tokens per second of wall time, prefill included, for every side:
//! for llama-batched-bench that is `B × TG / T` (its `S_TG` counts decode time only and is
//! printed next to it).

use super::{median, run_smelt, Res, ROUNDS};
use smelt::generate::engine_bench::{self, EngineBench};
use std::path::Path;
use std::process::Command;

/// Sequences in flight on every side.
const CONCURRENCY: usize = 8;

pub fn section(bin: &Path, tmp: &Path, n: impl Fn(f64) -> u64) -> Res<()> {
    let (Some(model), Some(server)) =
        (env_file("SMELT_TEST_MODEL"), env_file("SMELT_LLAMA_SERVER"))
    else {
        println!("real model: skipped (run through `make bench`, which fetches the model and builds llama-server)\n");
        return Ok(());
    };
    let batched = server.with_file_name("llama-batched-bench");
    let dir = tmp.join("real");
    std::fs::create_dir_all(&dir)?;
    let prompts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts");
    let problems = n(32.0);
    let max_tokens = 128;
    println!(
        "real model ({}), {CONCURRENCY} in flight, up to {max_tokens} tokens a completion:",
        model
            .file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default()
    );

    // smelt on llama-server and llama.cpp alone, alternating rounds.
    let llama_cfg = format!(
        "kind = \"llama_server\"\nid = \"{}\"\nserver = \"{}\"\nmax_in_flight = {CONCURRENCY}",
        model.display(),
        server.display()
    );
    write_config(&dir, &prompts, &llama_cfg, problems, max_tokens)?;
    let first = run_smelt(bin, &dir, &[])?;
    let prompt_tokens = first["this_run"]["prompt_tokens"].as_f64().unwrap_or(0.0);
    let samples = first["this_run"]["samples"]
        .as_f64()
        .unwrap_or(1.0)
        .max(1.0);
    let npp = ((prompt_tokens / samples).round() as u64).max(16);
    let mut smelt_llama = Vec::new();
    let mut alone = Vec::new();
    let mut alone_tg = Vec::new();
    for round in 0..ROUNDS.min(3) {
        let mut smelt_side = || -> Res<()> {
            let _ = std::fs::remove_dir_all(dir.join("out"));
            let report = run_smelt(bin, &dir, &[])?;
            smelt_llama.push(
                report["rates"]["completion_tokens_per_s"]
                    .as_f64()
                    .unwrap_or(0.0),
            );
            Ok(())
        };
        let mut llama_side = || -> Res<()> {
            let (whole, tg) = llama_batched_bench(&batched, &model, npp, max_tokens)?;
            alone.push(whole);
            alone_tg.push(tg);
            Ok(())
        };
        if round % 2 == 0 {
            smelt_side()?;
            llama_side()?;
        } else {
            llama_side()?;
            smelt_side()?;
        }
    }
    let (m_alone, m_smelt) = (median(&alone), median(&smelt_llama));
    println!("  llama.cpp alone (llama-batched-bench, PP {npp}, TG {max_tokens}, B {CONCURRENCY}): {m_alone:>7.1} tok/s   (decode only S_TG {:.1})   {alone:.1?}", median(&alone_tg));
    println!("  smelt on llama-server:                              {m_smelt:>7.1} tok/s   {smelt_llama:.1?}");
    println!(
        "  ratio smelt (llama-server) / llama.cpp alone: {:.3}   (target ≥ 0.9)",
        m_smelt / m_alone
    );

    // The embedded engine: slower, so fewer problems and one round a side.
    let few = (problems / 2).max(1);
    let mistral_cfg = format!(
        "kind = \"mistralrs\"\nid = \"{}\"\nmax_in_flight = {CONCURRENCY}",
        model.display()
    );
    write_config(&dir, &prompts, &mistral_cfg, few, max_tokens)?;
    let _ = std::fs::remove_dir_all(dir.join("out"));
    let report = run_smelt(bin, &dir, &[])?;
    let smelt_mistral = report["rates"]["completion_tokens_per_s"]
        .as_f64()
        .unwrap_or(0.0);
    let engine = mistral_alone(&model, few as usize, max_tokens)?;
    println!("  mistral.rs alone (patched 0.8.1, GGUF):             {engine:>7.1} tok/s");
    println!("  smelt on embedded mistral.rs:                       {smelt_mistral:>7.1} tok/s");
    println!(
        "  ratio smelt (mistral.rs) / mistral.rs alone: {:.3}; embedded / llama.cpp alone: {:.3}\n",
        smelt_mistral / engine,
        smelt_mistral / m_alone
    );
    Ok(())
}

pub fn env_file(var: &str) -> Option<std::path::PathBuf> {
    let path = std::path::PathBuf::from(std::env::var_os(var)?);
    path.is_file().then_some(path)
}

fn write_config(
    dir: &Path,
    prompts: &Path,
    model: &str,
    problems: u64,
    max_tokens: usize,
) -> Res<()> {
    let text = format!(
        r#"
[run]
name = "bench-real"
output = "{out}"
seed = 1

[limits]
max_problems = {problems}

[model]
{model}

[sampling]
temperature = 0.7
max_tokens = {max_tokens}

[[sources]]
name = "arith"
type = "arithmetic"
template = "{prompts}/arithmetic.j2"
difficulty = 1

[[verifiers]]
type = "answer"
"#,
        out = dir.join("out").display(),
        prompts = prompts.display(),
    );
    std::fs::write(dir.join("pipeline.toml"), text)?;
    Ok(())
}

/// Runs llama-batched-bench once: (B × TG / T, S_TG), in tokens/s.
#[allow(clippy::disallowed_methods)] // the bench runs the real programs
fn llama_batched_bench(program: &Path, model: &Path, npp: u64, ntg: usize) -> Res<(f64, f64)> {
    let out = Command::new(program)
        .arg("-m")
        .arg(model)
        .args(["-c", "16384", "-b", "2048", "-ub", "512"])
        .args(["-npp", &npp.to_string(), "-ntg", &ntg.to_string()])
        .args(["-npl", &CONCURRENCY.to_string(), "--output-format", "jsonl"])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "llama-batched-bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{') && l.contains("speed_tg"))
        .ok_or("llama-batched-bench printed no result")?;
    let v: serde_json::Value = serde_json::from_str(line.trim())?;
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok((f("pl") * f("tg") / f("t").max(1e-9), f("speed_tg")))
}

/// mistral.rs driven through its own API on the GGUF, `CONCURRENCY` in flight, with the same
/// chat prompts smelt sends (the arithmetic template is long; a fixed question stands in).
fn mistral_alone(model: &Path, requests: usize, max_tokens: usize) -> Res<f64> {
    let mut bench = EngineBench::new(model, requests, CONCURRENCY, max_tokens);
    bench.chat = true;
    bench.prompts = vec![
        "What is 7 + 5 × 3? Work it out step by step and give the answer in \\boxed{}.".into(),
        "What is (9 − 4) × 6? Work it out step by step and give the answer in \\boxed{}.".into(),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(engine_bench::run(&bench))?;
    Ok(report.tokens_per_s())
}
