//! The embedded engine end to end: a tiny random-weight model the test writes itself, loaded
//! by the real mistral.rs inside the real `smelt` binary.

use crate::common::*;
use crate::tiny_model;

#[test]
fn tiny_model_run_writes_valid_shards() {
    let project = Project::new();
    let model = project.path("model");
    let mut spec = tiny_model::Spec::new(tiny_model::Arch::Qwen2);
    spec.eos_bias = -30.0; // never stops early: every completion runs to max_tokens
    tiny_model::write_spec(&model, &spec).unwrap();
    // Short prompts: mistral.rs 0.8.1 panics ("shape mismatch on dim 2, 1024 <> 1536" in
    // kv_cache/mod.rs) when it batches sequences whose KV caches grew to different capacities,
    // which long, unequal prompts on this byte-level tokenizer trigger. Kept under 512 tokens.
    project.write("prompts/short.j2", "Q: {{ problem }}\nA:");
    project.write(
        "pipeline.toml",
        &format!(
            r#"
[run]
name = "engine"
output = "out"
seed = 3

[limits]
max_problems = 6

[model]
kind = "mistralrs"
id = "{}"
max_in_flight = 4

[sampling]
max_tokens = 12
temperature = 0.8
samples_per_problem = 2

[[sources]]
name = "arith"
type = "arithmetic"
template = "prompts/short.j2"
difficulty = 1

[[verifiers]]
type = "answer"

[output]
rows_per_shard = 5
"#,
            model.display()
        ),
    );
    let out =
        run_ok(
            smelt()
                .current_dir(project.dir.path())
                .args(["run", "pipeline.toml", "--quiet"]),
        );
    assert!(stderr(&out).contains("finished"), "{}", stderr(&out));
    let accepted = read_split(&project.out(), "accepted");
    let rejected = read_split(&project.out(), "rejected");
    assert_eq!(
        accepted.height() + rejected.height(),
        12,
        "6 problems x 2 samples"
    );
    // Random weights: every sample has verdicts; rejected ones have a reason.
    let verdicts = rejected.column("verdicts").unwrap().list().unwrap().clone();
    for v in verdicts.into_iter() {
        let v = v.unwrap();
        assert!(!v.is_empty());
        let s = v.struct_().unwrap().clone();
        let reasons = s.field_by_name("reason").unwrap();
        assert!(reasons
            .str()
            .unwrap()
            .into_iter()
            .any(|r| r.is_some_and(|r| !r.is_empty())));
    }
    let tokens = rejected
        .column("completion_tokens")
        .unwrap()
        .u32()
        .unwrap()
        .clone();
    assert!(
        tokens.into_iter().all(|t| t == Some(12)),
        "max_tokens respected and counted per sample"
    );
    let models = strings(&rejected, "model_id");
    assert!(models.iter().all(|m| m == &model.display().to_string()));
    assert_manifest_matches(&project.out());
}
