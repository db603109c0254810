//! The quickstart pipeline itself, end to end, on the real default model (SmolLM2-135M-Instruct
//! GGUF) served by the real llama-server that `make test` builds: the first thing a new user
//! runs must produce verified, accepted rows.

use crate::common::*;

fn real_file(var: &str) -> String {
    let path = std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} is not set: run the tests with `make test`"));
    assert!(
        std::path::Path::new(&path).is_file(),
        "{path} is missing: run `make model llama-server`"
    );
    path
}

#[test]
fn the_quickstart_accepts_verified_rows_on_the_default_model() {
    let project = Project::new();
    let out = project.out();
    let quickstart = repo_root().join("pipelines/quickstart.toml");
    let run = run_ok(
        smelt()
            .env("SMELT_LOG", "smelt=info")
            .arg("run")
            .arg(&quickstart)
            .arg("--set")
            .arg(format!("model.id={}", real_file("SMELT_TEST_MODEL")))
            .arg("--set")
            .arg(format!("model.server={}", real_file("SMELT_LLAMA_SERVER")))
            // Greedy, so the result does not depend on the server's sampling RNG.
            .args([
                "--set",
                "sampling.temperature=0",
                "--set",
                "sampling.samples_per_problem=1",
            ])
            .args(["--max-problems", "12", "--quiet", "--output"])
            .arg(&out),
    );
    let log = stderr(&run);
    assert!(log.contains("self-test passed"), "{log}");
    assert!(log.contains("finished"), "{log}");
    let accepted = read_split(&out, "accepted");
    assert!(accepted.height() >= 1, "no accepted row:\n{log}");
    // Accepted means every verifier of the chain accepted, on the model's own text.
    for completion in strings(&accepted, "completion") {
        assert!(completion.contains("\\boxed{"), "{completion}");
    }
    for model in strings(&accepted, "model_id") {
        assert!(
            model.ends_with("SmolLM2-135M-Instruct.Q4_1.gguf"),
            "{model}"
        );
    }
    assert_manifest_matches(&out);
}
