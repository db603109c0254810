//! Decontamination: an index of the word n-grams of benchmark items, and the check of a
//! problem against it.
//!
//! A benchmark file is JSONL (`.jsonl` or gzip-compressed, one object per line; the item is the
//! string in `field`, e.g. `question` for GSM8K, `prompt` for HumanEval) or, without a `field`,
//! plain text with one item per line. Blank lines are skipped. Items are normalised like
//! problems ([`super::normalize`]) and indexed by the 64-bit hashes of their word n-grams
//! (13-grams by default, the window GPT-3 and OLMo's decontamination use).
//!
//! A problem is contaminated when it shares at least `min_overlap` distinct n-grams with one
//! benchmark item. Texts of fewer than `n` words are one n-gram, the whole text: a short item
//! matches a problem that normalises to exactly that item, and a short problem matches a short
//! item equal to it (neither is looked for inside longer texts). Hashes stand in for n-gram
//! text; a false match needs a 64-bit collision.

use super::normalize::{normalize, shingles, stable_hash};
use super::{BenchmarkFile, CurateError};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Where a benchmark item is: the file (its path as configured) and its 1-based line.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPlace {
    pub file: PathBuf,
    pub line: u64,
}

/// What a contaminated problem matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Contamination {
    pub item: ItemPlace,
    /// The first shared n-gram, as normalised text.
    pub ngram: String,
    /// Distinct n-grams shared with the item.
    pub overlap: usize,
    /// `overlap` over the problem's distinct n-grams.
    pub share: f64,
}

/// The n-grams of every item of the benchmark files.
#[derive(Debug, Clone, Default)]
pub struct BenchmarkIndex {
    ngram: usize,
    min_overlap: usize,
    files: Vec<PathBuf>,
    /// (file position, line) of each item.
    items: Vec<(u32, u64)>,
    /// n-gram hash → the items holding it (ascending, each once).
    grams: HashMap<u64, Vec<u32>>,
}

impl BenchmarkIndex {
    /// An empty index over word `ngram`-grams.
    pub fn new(ngram: usize, min_overlap: usize) -> Self {
        BenchmarkIndex {
            ngram: ngram.max(1),
            min_overlap: min_overlap.max(1),
            ..BenchmarkIndex::default()
        }
    }

    /// Reads every file of `files` (paths relative to `base`, the config file's directory).
    pub fn load(
        files: &[BenchmarkFile],
        base: &Path,
        ngram: usize,
        min_overlap: usize,
    ) -> Result<Self, CurateError> {
        let mut index = BenchmarkIndex::new(ngram, min_overlap);
        for file in files {
            let path = if file.path.is_absolute() {
                file.path.clone()
            } else {
                base.join(&file.path)
            };
            index.add_file(&path, &file.path, file.field.as_deref())?;
        }
        Ok(index)
    }

    /// How many items the index holds.
    pub fn items(&self) -> usize {
        self.items.len()
    }

    /// Whether the index has no item (nothing can be contaminated).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Reads the file at `path`, named `label` in removals (the path as configured): JSONL when
    /// `field` is given, plain text (one item per line) otherwise.
    pub fn add_file(
        &mut self,
        path: &Path,
        label: &Path,
        field: Option<&str>,
    ) -> Result<(), CurateError> {
        let file_error = |e: std::io::Error| CurateError::BenchmarkFile {
            path: path.to_path_buf(),
            message: format!("cannot read: {e}"),
        };
        let file = File::open(path).map_err(file_error)?;
        let mut reader = BufReader::new(file);
        let gzip = reader
            .fill_buf()
            .map_err(file_error)?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
        } else {
            Box::new(reader)
        };
        let position = self.files.len() as u32;
        self.files.push(label.to_path_buf());
        for (i, line) in reader.lines().enumerate() {
            let n = i as u64 + 1;
            let line = line.map_err(|e| CurateError::Benchmark {
                path: path.to_path_buf(),
                line: n,
                message: format!("cannot read: {e}"),
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let text = match field {
                Some(field) => {
                    item_field(&line, field).map_err(|message| CurateError::Benchmark {
                        path: path.to_path_buf(),
                        line: n,
                        message,
                    })?
                }
                None => line,
            };
            self.add_item(position, n, &text);
        }
        Ok(())
    }

    fn add_item(&mut self, file: u32, line: u64, text: &str) {
        let normalized = normalize(text);
        if normalized.is_empty() {
            return;
        }
        let id = self.items.len() as u32;
        self.items.push((file, line));
        for gram in shingles(&normalized, self.ngram) {
            let holders = self.grams.entry(stable_hash(gram.as_bytes())).or_default();
            if holders.last() != Some(&id) {
                holders.push(id);
            }
        }
    }

    /// The benchmark item a normalised problem text is contaminated by (the one sharing the
    /// most n-grams, the earliest on ties), if any shares at least `min_overlap`.
    pub fn check(&self, normalized: &str) -> Option<Contamination> {
        if self.grams.is_empty() {
            return None;
        }
        let grams = shingles(normalized, self.ngram);
        let mut seen = std::collections::HashSet::new();
        // item → (shared n-grams, first shared n-gram)
        let mut shared: HashMap<u32, (usize, &str)> = HashMap::new();
        for &gram in &grams {
            let h = stable_hash(gram.as_bytes());
            if !seen.insert(h) {
                continue;
            }
            for &item in self.grams.get(&h).map_or(&[][..], Vec::as_slice) {
                shared.entry(item).or_insert((0, gram)).0 += 1;
            }
        }
        let (item, (overlap, gram)) = shared
            .into_iter()
            .filter(|(_, (count, _))| *count >= self.min_overlap)
            .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.0.cmp(&a.0)))?;
        let (file, line) = *self.items.get(item as usize)?;
        Some(Contamination {
            item: ItemPlace {
                file: self.files.get(file as usize)?.clone(),
                line,
            },
            ngram: gram.to_owned(),
            overlap,
            share: overlap as f64 / seen.len().max(1) as f64,
        })
    }
}

/// The string in `field` of a JSONL line.
fn item_field(line: &str, field: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    match value.get(field) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "field `{field}` is not a string (found {})",
            json_type(other)
        )),
        None if value.is_object() => Err(format!("no field `{field}`")),
        None => Err("expected a JSON object".into()),
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
