//! The verifier registry: `type = "<kind>"` in `[[verifiers]]` → a constructed verifier.
//!
//! Built-in verifiers are registered by [`Registry::builtin`]; a user-built `smelt` binary adds
//! its own with [`Registry::register`] and runs `smelt::cli::main_with(registry)`.

use serde::de::DeserializeOwned;
use smelt_verifiers::{Verifier, VerifyError};
use std::collections::BTreeMap;
use std::sync::Arc;

type BuildFn = dyn Fn(&toml::Table) -> Result<Arc<dyn Verifier>, String> + Send + Sync;

struct Entry {
    build: Box<BuildFn>,
}

/// Known verifier kinds.
#[derive(Default)]
pub struct Registry {
    kinds: BTreeMap<String, Entry>,
}

impl Registry {
    /// Every built-in verifier of `smelt-verifiers`.
    pub fn builtin() -> Self {
        use smelt_verifiers as v;
        let mut r = Registry::empty();
        r.register(v::AnswerConfig::KIND, v::AnswerVerifier::new)
            .register(v::StepsConfig::KIND, v::StepsVerifier::new)
            .register(v::SmtConfig::KIND, v::SmtVerifier::new)
            .register(v::EquivalenceConfig::KIND, v::EquivalenceVerifier::new)
            .register(v::PythonTestsConfig::KIND, v::PythonTestsVerifier::new)
            .register(v::ExternalConfig::KIND, v::ExternalVerifier::new);
        r
    }

    /// An empty registry (no built-ins).
    pub fn empty() -> Self {
        Registry::default()
    }

    /// Registers `kind`: its options deserialize into `C` and `make` turns them into a
    /// verifier. By the verifier contract (`verifiers/SPEC.md`) construction is pure (no
    /// files, no processes), so `validate` runs both and reports a bad regex or limit too.
    pub fn register<C, V, F>(&mut self, kind: &str, make: F) -> &mut Self
    where
        C: DeserializeOwned + 'static,
        V: Verifier + 'static,
        F: Fn(C) -> Result<V, VerifyError> + Send + Sync + 'static,
    {
        let build = move |table: &toml::Table| {
            let config = parse::<C>(table)?;
            make(config)
                .map(|v| Arc::new(v) as Arc<dyn Verifier>)
                .map_err(|e| e.to_string())
        };
        self.kinds.insert(
            kind.to_owned(),
            Entry {
                build: Box::new(build),
            },
        );
        self
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.kinds.keys().map(String::as_str)
    }

    /// Checks a `[[verifiers]]` table: its options parse and the verifier can be constructed
    /// (pure: no process starts, no file is read).
    pub fn check(&self, table: &toml::Table) -> Result<(), String> {
        self.build(table).map(drop)
    }

    /// Builds the verifier a `[[verifiers]]` table describes.
    pub fn build(&self, table: &toml::Table) -> Result<Arc<dyn Verifier>, String> {
        let (entry, options) = self.entry(table)?;
        (entry.build)(&options)
    }

    fn entry(&self, table: &toml::Table) -> Result<(&Entry, toml::Table), String> {
        let kind = match table.get("type") {
            Some(toml::Value::String(kind)) => kind,
            Some(_) => return Err("`type` must be a string".into()),
            None => return Err("missing `type` (the verifier kind)".into()),
        };
        let entry = self.kinds.get(kind).ok_or_else(|| {
            let known: Vec<&str> = self.kinds().collect();
            format!(
                "unknown verifier type `{kind}` (known: {})",
                known.join(", ")
            )
        })?;
        let mut options = table.clone();
        options.remove("type");
        Ok((entry, options))
    }
}

fn parse<C: DeserializeOwned>(table: &toml::Table) -> Result<C, String> {
    toml::Value::Table(table.clone())
        .try_into::<C>()
        .map_err(|e| e.to_string().trim_end().to_owned())
}
