//! Reading a config file: TOML → [`PipelineConfig`], with `--set` overrides applied to the
//! document first so that errors still point at the user's lines.

use super::PipelineConfig;
use std::path::{Path, PathBuf};

/// A config that could not be read. The message names the file and, where known, line and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("--set {arg}: {message}")]
    Override { arg: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Reads `path`, applies `overrides` (`key.path=value`, value parsed as TOML, else a string).
pub fn load(path: &Path, overrides: &[String]) -> Result<PipelineConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    load_str(&text, path, &base, overrides)
}

/// Like [`load`], from text; `path` is only used in messages, `base` resolves relative paths.
pub fn load_str(
    text: &str,
    path: &Path,
    base: &Path,
    overrides: &[String],
) -> Result<PipelineConfig, ConfigError> {
    let text = apply_overrides(text, path, overrides)?;
    let mut config: PipelineConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    config.base_dir = base.to_path_buf();
    config.source_path = path.to_path_buf();
    config.source_text = text;
    Ok(config)
}

fn apply_overrides(text: &str, path: &Path, overrides: &[String]) -> Result<String, ConfigError> {
    if overrides.is_empty() {
        return Ok(text.to_owned());
    }
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.to_string().trim_end().to_owned(),
            })?;
    for arg in overrides {
        set_one(&mut doc, arg)?;
    }
    Ok(doc.to_string())
}

fn set_one(doc: &mut toml_edit::DocumentMut, arg: &str) -> Result<(), ConfigError> {
    let err = |message: &str| ConfigError::Override {
        arg: arg.to_owned(),
        message: message.to_owned(),
    };
    let (key, raw) = arg
        .split_once('=')
        .ok_or_else(|| err("expected KEY=VALUE, e.g. sampling.temperature=0.6"))?;
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(err("empty key segment"));
    }
    let value = parse_value(raw.trim());
    let (last, parents) = parts.split_last().ok_or_else(|| err("empty key"))?;
    let mut item = doc.as_item_mut();
    for part in parents {
        let table = item
            .as_table_like_mut()
            .ok_or_else(|| err(&format!("`{part}` is not inside a table")))?;
        if table.get(part).is_none() {
            table.insert(part, toml_edit::Item::Table(toml_edit::Table::new()));
        }
        item = table
            .get_mut(part)
            .ok_or_else(|| err(&format!("cannot create `{part}`")))?;
    }
    let table = item
        .as_table_like_mut()
        .ok_or_else(|| err("the parent of the key is not a table"))?;
    table.insert(last, toml_edit::Item::Value(value));
    Ok(())
}

/// `0.6` → float, `true` → bool, `"x"`/`[1,2]` → as written; anything else → a string.
fn parse_value(raw: &str) -> toml_edit::Value {
    let probe = format!("v = {raw}");
    probe
        .parse::<toml_edit::DocumentMut>()
        .ok()
        .and_then(|d| d.get("v").and_then(|i| i.as_value().cloned()))
        .unwrap_or_else(|| toml_edit::Value::from(raw))
}

/// The 1-based line of `key` inside the `index`-th `[[array]]` table of `text`, for messages
/// about tables deserialized without spans (verifier options).
pub(crate) fn locate_array_key(text: &str, array: &str, index: usize, key: &str) -> Option<usize> {
    let header = format!("[[{array}]]");
    let mut seen = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            if t.starts_with(&header) {
                seen = Some(seen.map_or(0, |s| s + 1));
            } else if seen == Some(index) {
                return None;
            }
            if seen == Some(index) && key.is_empty() {
                return Some(n + 1);
            }
            continue;
        }
        if seen == Some(index) {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    return Some(n + 1);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[run]
name = "t"

[model]
kind = "replay"
path = "c.jsonl"

[[sources]]
name = "a"
type = "arithmetic"
template = "p.j2"

[[verifiers]]
type = "answer"
"#;

    fn parse(text: &str, set: &[&str]) -> Result<PipelineConfig, ConfigError> {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        load_str(text, Path::new("x.toml"), Path::new("."), &set)
    }

    #[test]
    fn minimal_config_parses_with_defaults() {
        let c = parse(MINIMAL, &[]).unwrap();
        assert_eq!(c.run.name, "t");
        assert_eq!(c.sampling.samples_per_problem, 1);
        assert_eq!(c.output.rows_per_shard, 10_000);
        assert_eq!(c.verifiers.len(), 1);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = MINIMAL.replace("name = \"t\"", "name = \"t\"\nsed = 4");
        let err = parse(&text, &[]).unwrap_err().to_string();
        assert!(err.contains("x.toml"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("unknown field `sed`"), "{err}");
    }

    #[test]
    fn malformed_toml_names_line() {
        let err = parse("[run\nname = 1", &[]).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn overrides_set_typed_values() {
        let c = parse(
            MINIMAL,
            &[
                "sampling.temperature=0.25",
                "run.seed=9",
                "model.id=/m",
                "limits.max_problems=5",
            ],
        )
        .unwrap();
        assert_eq!(c.sampling.temperature, 0.25);
        assert_eq!(c.run.seed, 9);
        assert_eq!(c.model.id.as_deref(), Some("/m"));
        assert_eq!(c.limits.max_problems, Some(5));
    }

    #[test]
    fn bad_override_is_an_error() {
        assert!(parse(MINIMAL, &["sampling.temperature"]).is_err());
        let err = parse(MINIMAL, &["sampling.tempreature=1"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("tempreature"), "{err}");
    }

    #[test]
    fn locates_keys_in_array_tables() {
        let text = "[[verifiers]]\ntype = \"a\"\n\n[[verifiers]]\ntype = \"b\"\nbad = 1\n";
        assert_eq!(locate_array_key(text, "verifiers", 1, "bad"), Some(6));
        assert_eq!(locate_array_key(text, "verifiers", 0, "bad"), None);
        assert_eq!(locate_array_key(text, "verifiers", 1, ""), Some(4));
    }
}
