//! From a config file to the parts of a pipeline: shared by `validate`, `render` and `run`.

use super::{exit, ConfigArgs};
use crate::config::{self, PipelineConfig};
use crate::prompt::PromptTemplate;
use crate::registry::Registry;
use crate::runtime::chain::Chain;
use crate::sources::{self, ProblemSource};
use anyhow::Context;
use std::sync::Arc;

/// A config that failed validation: printed as a list, exit code 2.
#[derive(Debug)]
pub struct Invalid(pub Vec<String>);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid config:")?;
        for e in &self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

/// Reads, overrides and validates (pure) the config.
pub fn load_config(args: &ConfigArgs, registry: &Registry) -> anyhow::Result<PipelineConfig> {
    let mut config =
        config::load(&args.config, &args.set).map_err(|e| Invalid(vec![e.to_string()]))?;
    if let Some(out) = &args.output {
        config.run.output = Some(out.clone());
    }
    config::validate(&config, registry).map_err(|errors| {
        let path = args.config.display().to_string();
        Invalid(errors.into_iter().map(|e| format!("{path}: {e}")).collect())
    })?;
    Ok(config)
}

/// The sources of a pipeline and their templates, in config order.
pub type SourcesAndTemplates = (Vec<Arc<dyn ProblemSource>>, Vec<Arc<PromptTemplate>>);

/// Opens every source (datasets are read) and loads every template (placeholders checked).
pub fn build_sources(config: &PipelineConfig) -> anyhow::Result<SourcesAndTemplates> {
    let mut built = Vec::new();
    let mut templates = Vec::new();
    for entry in &config.sources {
        let source = sources::build(entry, &config.base_dir, config.run.seed)
            .with_context(|| format!("source `{}`", entry.name))?;
        built.push(Arc::from(source));
        let path = config.resolve(&entry.template);
        let template = PromptTemplate::load(&path)
            .with_context(|| format!("source `{}`: template", entry.name))?;
        templates.push(Arc::new(template));
    }
    Ok((built, templates))
}

/// Builds the verifier chain.
pub fn build_chain(config: &PipelineConfig, registry: &Registry) -> anyhow::Result<Chain> {
    let verifiers = config
        .verifiers
        .iter()
        .enumerate()
        .map(|(i, table)| {
            registry
                .build(table)
                .map_err(|e| anyhow::anyhow!("verifiers[{i}]: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Chain {
        verifiers,
        mode: config.verify.mode,
    })
}

/// Maps a validation failure to exit code 2 with its message; other errors propagate.
pub fn usage_or(e: anyhow::Error) -> anyhow::Result<i32> {
    match e.downcast_ref::<Invalid>() {
        Some(invalid) => {
            eprintln!("error: {invalid}");
            Ok(exit::USAGE)
        }
        None => Err(e),
    }
}

pub fn validate_cmd(args: &ConfigArgs, registry: &Registry) -> anyhow::Result<i32> {
    let config = match load_config(args, registry) {
        Ok(c) => c,
        Err(e) => return usage_or(e),
    };
    let (sources, templates) = build_sources(&config)?;
    let _chain = build_chain(&config, registry)?;
    for (s, t) in sources.iter().zip(&templates) {
        let len = s
            .len()
            .map_or("unbounded".to_string(), |n| format!("{n} problems"));
        println!(
            "source {:<16} {len:<18} template {}",
            s.name(),
            &t.hash()[..12]
        );
    }
    println!(
        "ok: {} source(s), {} verifier(s), model {:?} {}, output {}",
        sources.len(),
        config.verifiers.len(),
        config.model.kind,
        config.model.id.as_deref().unwrap_or(""),
        config.output_dir().display()
    );
    Ok(exit::OK)
}

pub fn render_cmd(
    args: &ConfigArgs,
    index: u64,
    source: Option<&str>,
    registry: &Registry,
) -> anyhow::Result<i32> {
    let config = match load_config(args, registry) {
        Ok(c) => c,
        Err(e) => return usage_or(e),
    };
    let (sources, templates) = build_sources(&config)?;
    let i = match source {
        None => 0,
        Some(name) => sources
            .iter()
            .position(|s| s.name() == name)
            .with_context(|| format!("no source named `{name}`"))?,
    };
    let problem = sources[i].problem(index)?;
    print!("{}", templates[i].render(&problem)?);
    Ok(exit::OK)
}
