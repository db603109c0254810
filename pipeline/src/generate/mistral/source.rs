//! Where `model.id` points: a local model directory, a local GGUF file, or a Hugging Face hub
//! repository (optionally a GGUF file in it), resolved against the config file's directory.

use super::GenError;
use crate::config::ModelConfig;
use std::path::{Path, PathBuf};

/// What `model.id` names, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A local Hugging Face model directory.
    Dir(PathBuf),
    /// A local GGUF file: its directory and file name.
    Gguf { dir: PathBuf, file: String },
    /// A Hugging Face hub repository, downloaded on first use (needs a network).
    Hub(String),
    /// A GGUF file inside a hub repository (`org/repo/file.gguf`).
    HubGguf { repo: String, file: String },
}

pub(super) fn configured_id(cfg: &ModelConfig) -> Result<&str, GenError> {
    match cfg.id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(GenError::Load(
            "no model given: set `model.id` (or `MODEL=/path/to/dir`) to a local model \
             directory, a .gguf file or a hub id"
                .into(),
        )),
    }
}

/// A local path as `model.id` names it: `~/` expanded, a relative path against `base_dir`
/// first, then the working directory; the first candidate when neither exists.
pub fn resolve_local_file(id: &str, base_dir: &Path) -> PathBuf {
    let given = expand_home(id);
    if given.is_absolute() {
        return given;
    }
    let in_base = base_dir.join(&given);
    if in_base.exists() || !given.exists() {
        return absolute(&in_base);
    }
    absolute(&given)
}

/// Resolves `model.id`: an existing path (relative ones against `base_dir` first, then the
/// working directory) is local; `org/name` (or `org/name/file.gguf`) that is not a local path
/// is a hub id; anything else is a missing local path.
pub fn resolve_source(id: &str, base_dir: &Path) -> Result<ModelSource, GenError> {
    let given = expand_home(id);
    let candidates: Vec<PathBuf> = if given.is_absolute() {
        vec![given.clone()]
    } else {
        vec![base_dir.join(&given), given.clone()]
    };
    if let Some(path) = candidates.iter().find(|p| p.exists()) {
        return local_source(path);
    }
    if let Some(hub) = hub_source(id) {
        return Ok(hub);
    }
    let shown = candidates.first().unwrap_or(&given);
    Err(GenError::Load(format!(
        "model path `{}` does not exist; set `model.id` (or `MODEL=/path/to/dir`) to a local \
         model directory or .gguf file",
        shown.display()
    )))
}

fn local_source(path: &Path) -> Result<ModelSource, GenError> {
    if path.is_file() {
        if !is_gguf(path) {
            return Err(GenError::Load(format!(
                "model path `{}` is a file but not a .gguf; point `model.id` at a model \
                 directory or a .gguf file",
                path.display()
            )));
        }
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        return Ok(ModelSource::Gguf {
            dir: absolute(&dir),
            file,
        });
    }
    let dir = absolute(path);
    if dir.join("config.json").is_file() {
        return Ok(ModelSource::Dir(dir));
    }
    // A directory holding exactly one GGUF file and no config.json.
    let ggufs: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| {
            GenError::Load(format!(
                "cannot read model directory `{}`: {e}",
                dir.display()
            ))
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && is_gguf(p))
        .filter_map(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .collect();
    match ggufs.as_slice() {
        [file] => Ok(ModelSource::Gguf {
            dir,
            file: file.clone(),
        }),
        [] => Err(GenError::Load(format!(
            "model directory `{}` has no config.json (expected config.json, tokenizer.json and \
             *.safetensors, or a single .gguf file)",
            dir.display()
        ))),
        _ => Err(GenError::Load(format!(
            "model directory `{}` holds several .gguf files; set `model.id` to the one to load",
            dir.display()
        ))),
    }
}

fn hub_source(id: &str) -> Option<ModelSource> {
    fn valid(part: &str) -> bool {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    }
    let parts: Vec<&str> = id.split('/').collect();
    match *parts.as_slice() {
        [org, name] if valid(org) && valid(name) && !is_gguf(Path::new(name)) => {
            Some(ModelSource::Hub(id.to_owned()))
        }
        [org, name, file]
            if valid(org) && valid(name) && valid(file) && is_gguf(Path::new(file)) =>
        {
            Some(ModelSource::HubGguf {
                repo: format!("{org}/{name}"),
                file: file.to_owned(),
            })
        }
        _ => None,
    }
}

fn is_gguf(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
}

fn expand_home(id: &str) -> PathBuf {
    match (id.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(id),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

pub(super) fn has_chat_template(dir: &Path) -> bool {
    if dir.join("chat_template.jinja").is_file() || dir.join("chat_template.json").is_file() {
        return true;
    }
    std::fs::read_to_string(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v.get("chat_template").cloned())
        .is_some_and(|t| !t.is_null())
}
