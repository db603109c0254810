//! Pure validation: no file system, no network, no model load, no processes. It is what lets
//! `smelt validate` check a whole pipeline in milliseconds.

use super::load::locate_array_key;
use super::{ModelKind, PipelineConfig};
use crate::registry::Registry;
use crate::sources::SourceKind;
use std::collections::BTreeSet;

/// Every problem found, one message each (with line numbers where the text has them).
pub fn validate(config: &PipelineConfig, registry: &Registry) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut err = |m: String| errors.push(m);

    if config.run.name.trim().is_empty()
        || !config
            .run
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        err(format!(
            "run.name {:?}: use letters, digits, `-`, `_`, `.` (it names the output directory)",
            config.run.name
        ));
    }
    check_limits(config, &mut err);
    check_model(config, &mut err);
    check_sampling(config, &mut err);
    if let Some(adaptive) = &config.adaptive {
        adaptive.check().into_iter().for_each(&mut err);
    }
    check_sources(config, &mut err);
    check_output(config, &mut err);
    if let Some(Err(errors)) = config.curation.as_ref().map(|c| c.validate()) {
        errors.into_iter().for_each(&mut err);
    }

    for (i, table) in config.verifiers.iter().enumerate() {
        if let Err(m) = registry.check(table) {
            let key = m
                .split('`')
                .nth(1)
                .filter(|_| m.contains("unknown field"))
                .unwrap_or("");
            let line = locate_array_key(&config.source_text, "verifiers", i, key)
                .or_else(|| locate_array_key(&config.source_text, "verifiers", i, ""));
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            err(format!("verifiers[{i}]{at}: {m}"));
        }
    }
    if config.verifiers.is_empty() {
        err(
            "no [[verifiers]]: every sample must be checked; add at least `type = \"answer\"`"
                .into(),
        );
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check_limits(config: &PipelineConfig, err: &mut impl FnMut(String)) {
    if let Some(d) = &config.limits.max_duration {
        if let Err(e) = humantime::parse_duration(d) {
            err(format!("limits.max_duration {d:?}: {e} (e.g. \"7h30m\")"));
        }
    }
    if config.limits.max_problems == Some(0) {
        err("limits.max_problems must be at least 1".into());
    }
}

fn check_model(config: &PipelineConfig, err: &mut impl FnMut(String)) {
    let m = &config.model;
    match m.kind {
        ModelKind::Mistralrs => {
            if m.id.as_deref().is_none_or(str::is_empty) {
                err("model.id: set a local model directory, a .gguf file or a hub id (or MODEL=/path with make run)".into());
            }
            // The same parser the engine uses, so `validate` and the run agree.
            if let Some(Err(e)) = m.isq.as_deref().map(crate::generate::mistral::parse_isq) {
                err(e);
            }
        }
        ModelKind::Openai => {
            if m.url.is_none() && m.urls.is_empty() {
                err(
                    "model.url: required for kind = \"openai\" (e.g. http://127.0.0.1:8000/v1; several servers: model.urls)"
                        .into(),
                );
            }
            if m.max_in_flight_per_server == Some(0) {
                err("model.max_in_flight_per_server: must be at least 1".into());
            }
            if m.id.is_none() {
                err(
                    "model.id: required for kind = \"openai\" (the model name the server serves)"
                        .into(),
                );
            }
        }
        ModelKind::LlamaServer => {
            if m.id.as_deref().is_none_or(|id| !id.ends_with(".gguf")) {
                err("model.id: for kind = \"llama_server\" give a .gguf file (e.g. the default model from `make model`)".into());
            }
            if m.url.is_some() || !m.urls.is_empty() {
                err("model.url: not used with kind = \"llama_server\" (smelt starts the server on a free loopback port); use kind = \"openai\" for a server you run".into());
            }
        }
        ModelKind::Replay => {
            if m.path.is_none() {
                err("model.path: required for kind = \"replay\" (a JSONL or Parquet file of completions)".into());
            }
        }
    }
    if m.max_in_flight == 0 {
        err("model.max_in_flight must be at least 1".into());
    }
}

fn check_sampling(config: &PipelineConfig, err: &mut impl FnMut(String)) {
    let s = &config.sampling;
    if !(s.temperature >= 0.0 && s.temperature.is_finite()) {
        err(format!(
            "sampling.temperature {} must be ≥ 0",
            s.temperature
        ));
    }
    if !(s.top_p > 0.0 && s.top_p <= 1.0) {
        err(format!("sampling.top_p {} must be in (0, 1]", s.top_p));
    }
    if s.top_k == Some(0) {
        err("sampling.top_k must be at least 1 (omit it to disable)".into());
    }
    if s.max_tokens == 0 {
        err("sampling.max_tokens must be at least 1".into());
    }
    if s.samples_per_problem == 0 {
        err("sampling.samples_per_problem must be at least 1".into());
    }
}

fn check_sources(config: &PipelineConfig, err: &mut impl FnMut(String)) {
    if config.sources.is_empty() {
        err("no [[sources]]: add at least one problem source".into());
    }
    let mut names = BTreeSet::new();
    for (i, s) in config.sources.iter().enumerate() {
        let at = format!("sources[{i}] ({})", s.name);
        if !names.insert(s.name.as_str()) {
            err(format!("{at}: duplicate source name"));
        }
        if s.name.is_empty() || s.name.contains(char::is_whitespace) {
            err(format!("{at}: name must be non-empty without spaces"));
        }
        if !(s.weight > 0.0 && s.weight.is_finite()) {
            err(format!("{at}: weight {} must be > 0", s.weight));
        }
        if let Err(m) = s.check_fields() {
            err(format!("{at}: {m}"));
        }
        if let Some(spec) = s.propose.as_ref().filter(|_| s.kind == SourceKind::Propose) {
            for seed in &spec.seeds {
                let ok = config
                    .sources
                    .iter()
                    .any(|o| &o.name == seed && o.kind.is_generator());
                if !ok {
                    err(format!(
                        "{at}: propose.seeds names `{seed}`, which is not a generator source of this pipeline"
                    ));
                }
            }
        }
        let dataset = !s.kind.is_generator();
        let bounded =
            dataset || s.size.is_some() || s.max_problems.is_some() || s.target_accepted.is_some();
        if !bounded
            && config.limits.max_problems.is_none()
            && config.limits.target_accepted.is_none()
            && config.limits.max_duration.is_none()
        {
            err(format!(
                "{at}: a generator never runs out; set limits.max_problems (or a source max_problems, a target, or max_duration)"
            ));
        }
    }
}

fn check_output(config: &PipelineConfig, err: &mut impl FnMut(String)) {
    let o = &config.output;
    if o.rows_per_shard == 0 {
        err("output.rows_per_shard must be at least 1".into());
    }
    if !["zstd", "snappy", "none"].contains(&o.compression.as_str()) {
        err(format!(
            "output.compression {:?}: use \"zstd\", \"snappy\" or \"none\"",
            o.compression
        ));
    }
    if !(1..=22).contains(&o.zstd_level) {
        err(format!(
            "output.zstd_level {} must be in 1..=22",
            o.zstd_level
        ));
    }
    if let Err(e) = humantime::parse_duration(&o.max_shard_age) {
        err(format!("output.max_shard_age {:?}: {e}", o.max_shard_age));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn check(model: &str) -> Result<(), Vec<String>> {
        let text = format!(
            "[run]\nname = \"t\"\n\n[limits]\nmax_problems = 1\n\n[model]\n{model}\n\n[[sources]]\nname = \"a\"\ntype = \"arithmetic\"\ntemplate = \"p.j2\"\n\n[[verifiers]]\ntype = \"answer\"\n"
        );
        let config = crate::config::load::load_str(&text, Path::new("x.toml"), Path::new("."), &[])
            .expect("parses");
        validate(&config, &Registry::builtin())
    }

    #[test]
    fn isq_is_checked_without_loading_a_model() {
        check("kind = \"mistralrs\"\nid = \"m\"\nisq = \"Q4K\"").expect("Q4K is an ISQ type");
        let errors = check("kind = \"mistralrs\"\nid = \"m\"\nisq = \"Q9X\"").unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains("model.isq = `Q9X`")),
            "{errors:?}"
        );
    }
}
