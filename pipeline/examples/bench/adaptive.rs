//! `make bench`, section `adaptive`: accepted samples per 1,000 generated tokens on the default
//! model, with a fixed number of samples per problem vs the adaptive stopping rule, side by
//! side in one run (same problems, prompts, sampling, server and budget per problem).
//!
//! The quickstart pipeline (`pipelines/quickstart.toml`) on SmolLM2-135M-Instruct served by
//! llama-server: "fixed" draws `BUDGET` samples of every problem; "rule" samples 4 at a time
//! until 4 are accepted, the Wilson interval leaves the 0.2–0.8 band, or `BUDGET` attempts.
//! `BENCH_ADAPTIVE_BUDGET` sets the budget (default 32: at 16 the never-solved stop fires only
//! at the budget itself, so the rule cannot save there).

use super::real_model::env_file;
use super::{run_smelt, Res};
use std::path::Path;

/// Attempts per problem on both sides (the fixed n, and the rule's `max_attempts`).
const DEFAULT_BUDGET: u64 = 32;

pub fn section(bin: &Path, tmp: &Path, n: impl Fn(f64) -> u64) -> Res<()> {
    let (Some(model), Some(server)) =
        (env_file("SMELT_TEST_MODEL"), env_file("SMELT_LLAMA_SERVER"))
    else {
        println!("adaptive sampling: skipped (run through `make bench`, which fetches the model and builds llama-server)\n");
        return Ok(());
    };
    let problems = n(16.0);
    let budget = match std::env::var("BENCH_ADAPTIVE_BUDGET") {
        Ok(v) => v
            .parse::<u64>()
            .ok()
            .filter(|&b| b >= 4)
            .ok_or_else(|| format!("BENCH_ADAPTIVE_BUDGET={v}: expected a whole number ≥ 4"))?,
        Err(_) => DEFAULT_BUDGET,
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let quickstart = std::fs::read_to_string(repo.join("pipelines/quickstart.toml"))?;
    println!("adaptive sampling: the quickstart on the default model, {problems} problems, at most {budget} samples each:");
    let mut results = Vec::new();
    for (label, spp, rule) in [
        ("fixed n", budget, String::new()),
        (
            "rule",
            4,
            format!("\n[adaptive]\nk = 4\nmax_attempts = {budget}\n"),
        ),
    ] {
        let dir = tmp.join(format!("adaptive-{}", label.replace(' ', "-")));
        std::fs::create_dir_all(&dir)?;
        let text = quickstart
            .replace(
                "template = \"../prompts/",
                &format!("template = \"{}/prompts/", repo.display()),
            )
            .replace(
                "output = \"outputs/quickstart\"",
                &format!("output = \"{}\"", dir.join("out").display()),
            )
            .replace(
                "id = \"~/.cache/smelt/models/SmolLM2-135M-Instruct.Q4_1.gguf\"",
                &format!(
                    "id = \"{}\"\nserver = \"{}\"",
                    model.display(),
                    server.display()
                ),
            )
            .replace("max_problems = 40", &format!("max_problems = {problems}"))
            .replace(
                "samples_per_problem = 4",
                &format!("samples_per_problem = {spp}"),
            );
        std::fs::write(dir.join("pipeline.toml"), text + &rule)?;
        let report = run_smelt(bin, &dir, &[])?;
        let c = &report["this_run"];
        let accepted = c["accepted"].as_f64().unwrap_or(0.0);
        let tokens = c["completion_tokens"].as_f64().unwrap_or(0.0).max(1.0);
        let samples = c["samples"].as_f64().unwrap_or(0.0);
        let per_k = accepted / tokens * 1000.0;
        let solved = smelt::rounds::summary::accepted_problem_ids(&dir.join("out"))?.len() as f64;
        let solved_per_k = solved / tokens * 1000.0;
        println!(
            "  {label:<8} {samples:>5} samples, {tokens:>7} completion tokens, {accepted:>4} accepted: {per_k:>6.2} accepted / 1k tokens; {solved:>3} problems with an accepted sample: {solved_per_k:>5.2} / 1k tokens"
        );
        if let Some(s) = report.get("sampling").filter(|s| !s.is_null()) {
            println!("           stopped: {}", s["by_stop"]);
        }
        results.push((per_k, solved_per_k));
    }
    if let [fixed, rule] = results[..] {
        println!(
            "  ratio rule / fixed n: {:.2} accepted samples per token (> 1: fewer tokens per accepted sample), {:.2} solved problems per token (> 1: fewer tokens per problem that yields data)\n",
            rule.0 / fixed.0.max(f64::MIN_POSITIVE),
            rule.1 / fixed.1.max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}
