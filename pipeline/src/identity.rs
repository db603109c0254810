//! Deterministic identities: of a sample (so a resumed run knows what is done) and of a run
//! (so a resume with a changed config is refused instead of mixing two datasets).

use crate::config::PipelineConfig;
use crate::generate::Sampling;
use crate::journal::Identity;
use crate::problem::Problem;
use sha2::{Digest, Sha256};

/// The sampling parameters that change what a sample is (everything but the sample count:
/// raising `samples_per_problem` adds samples without changing existing ones).
pub fn sampling_fingerprint(s: &Sampling) -> String {
    serde_json::json!({
        "temperature": s.temperature,
        "top_p": s.top_p,
        "top_k": s.top_k,
        "max_tokens": s.max_tokens,
        "stop": s.stop,
    })
    .to_string()
}

/// The id of sample `sample_index` of `problem`: a hash of the problem (id and content), the
/// template, the model and the sampling parameters. 32 hex characters.
pub fn sample_id(
    problem: &Problem,
    template_hash: &str,
    model_id: &str,
    sampling_fingerprint: &str,
    sample_index: u32,
) -> String {
    SampleIds::new(problem, template_hash, model_id, sampling_fingerprint).id(sample_index)
}

/// The sample ids of one problem: the common part is hashed once, each sample index after it.
#[derive(Clone)]
pub struct SampleIds {
    prefix: Sha256,
}

impl SampleIds {
    pub fn new(
        problem: &Problem,
        template_hash: &str,
        model_id: &str,
        sampling_fingerprint: &str,
    ) -> Self {
        let mut h = Sha256::new();
        for part in [
            problem.id.as_str(),
            problem.text.as_str(),
            problem.reference.as_deref().unwrap_or(""),
            template_hash,
            model_id,
            sampling_fingerprint,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        SampleIds { prefix: h }
    }

    /// The id of sample `sample_index`.
    pub fn id(&self, sample_index: u32) -> String {
        let mut h = self.prefix.clone();
        h.update(sample_index.to_le_bytes());
        hex::encode(&h.finalize()[..16])
    }
}

/// The identity a run's journal is stamped with.
pub fn run_identity(
    config: &PipelineConfig,
    template_hashes: &[String],
    model_id: &str,
) -> Identity {
    let sources: Vec<serde_json::Value> = config
        .sources
        .iter()
        .zip(template_hashes)
        .map(|(s, t)| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                // Limits and targets may change between runs without changing any sample.
                o.remove("max_problems");
                o.remove("target_accepted");
                o.remove("template");
                o.insert("template_hash".into(), t.clone().into());
                // Asking for more proposals later adds problems without changing any.
                if let Some(p) = o.get_mut("propose").and_then(|p| p.as_object_mut()) {
                    p.remove("count");
                    content_not_place(config, p);
                }
            }
            v
        })
        .collect();
    let mut samples = serde_json::json!({
        "seed": config.run.seed,
        "model": model_id,
        "sampling": sampling_fingerprint(&config.sampling),
        "sources": sources,
    });
    // Curation decides which problems get samples; a run without it keeps its old identity.
    if let (Some(c), Some(o)) = (&config.curation, samples.as_object_mut()) {
        o.insert(
            "curation".into(),
            serde_json::to_value(c).unwrap_or_default(),
        );
    }
    let verifiers = serde_json::to_string(&config.verifiers).unwrap_or_default();
    Identity {
        samples: hash(&samples.to_string()),
        verifiers: hash(&format!("{verifiers}|{:?}", config.verify.mode)),
    }
}

/// The proposal prompt and example files count by their contents, not their paths: editing
/// the prompt changes what is proposed, moving an output directory (and with it the accepted
/// proposals `smelt rounds` hands on) does not. A file that cannot be read keeps its path; the
/// run then fails on it with a message of its own.
fn content_not_place(
    config: &PipelineConfig,
    propose: &mut serde_json::Map<String, serde_json::Value>,
) {
    for key in ["template", "seed_file", "accepted_file"] {
        let Some(path) = propose.get(key).and_then(|v| v.as_str()) else {
            continue;
        };
        if let Ok(bytes) = std::fs::read(config.resolve(std::path::Path::new(path))) {
            let digest = hex::encode(&Sha256::digest(&bytes)[..16]);
            propose.insert(key.into(), format!("sha256:{digest}").into());
        }
    }
}

fn hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(dir: &Path, seed_file: &str) -> PipelineConfig {
        let text = format!(
            r#"
[run]
name = "id"
[model]
kind = "replay"
path = "r.jsonl"
[[sources]]
name = "prop"
type = "propose"
template = "t.j2"
[sources.propose]
template = "p.j2"
seed_file = "{seed_file}"
[[verifiers]]
type = "answer"
"#
        );
        crate::config::load_str(&text, &dir.join("c.toml"), dir, &[]).unwrap()
    }

    #[test]
    fn proposal_files_count_by_content_not_place() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("p.j2"), "Problem:").unwrap();
        std::fs::write(d.join("a.jsonl"), "{}").unwrap();
        std::fs::write(d.join("b.jsonl"), "{}").unwrap();
        let id = |seed_file: &str| run_identity(&config(d, seed_file), &["t".into()], "m");
        let a = id("a.jsonl");
        assert_eq!(a, id("b.jsonl"), "same examples elsewhere: same run");
        std::fs::write(d.join("b.jsonl"), "{\"x\": 1}").unwrap();
        assert_ne!(a, id("b.jsonl"), "other examples: another run");
        std::fs::write(d.join("p.j2"), "New problem:").unwrap();
        assert_ne!(a, id("a.jsonl"), "another proposal prompt: another run");
    }
}
