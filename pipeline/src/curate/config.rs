//! The `[curation]` section of a pipeline config and its pure validation.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Most hash functions a signature may have (`bands × rows`): 4 bytes each per kept problem.
pub const MAX_HASHES: usize = 1024;

/// What curation removes, and how. Absent `[curation]` section: nothing is removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurationConfig {
    /// Remove problems whose normalised text equals a kept problem's.
    #[serde(default = "default_true")]
    pub exact: bool,
    /// Remove near duplicates of kept problems (MinHash LSH).
    #[serde(default = "default_true")]
    pub near_duplicates: bool,
    /// Words per shingle for near duplicates (datatrove: 5).
    #[serde(default = "default_ngram")]
    pub ngram: usize,
    /// LSH bands (datatrove: 14).
    #[serde(default = "default_bands")]
    pub bands: usize,
    /// Hashes per band (datatrove: 8).
    #[serde(default = "default_rows")]
    pub rows: usize,
    /// A candidate is a near duplicate when its estimated Jaccard similarity is at least this.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Benchmark files to decontaminate against (paths relative to the config file).
    #[serde(default)]
    pub decontaminate: Vec<BenchmarkFile>,
    /// Words per n-gram for decontamination (GPT-3, OLMo: 13).
    #[serde(default = "default_decontam_ngram")]
    pub decontam_ngram: usize,
    /// Distinct n-grams a problem must share with one benchmark item to be contaminated.
    #[serde(default = "default_min_overlap")]
    pub min_overlap: usize,
}

/// One benchmark file: JSONL with the item text in `field`, or plain text without `field`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkFile {
    pub path: PathBuf,
    /// The JSONL field holding the item (`question` for GSM8K, `prompt` for HumanEval).
    #[serde(default)]
    pub field: Option<String>,
}

fn default_true() -> bool {
    true
}
fn default_ngram() -> usize {
    5
}
fn default_bands() -> usize {
    14
}
fn default_rows() -> usize {
    8
}
fn default_threshold() -> f64 {
    0.8
}
fn default_decontam_ngram() -> usize {
    13
}
fn default_min_overlap() -> usize {
    1
}

impl Default for CurationConfig {
    fn default() -> Self {
        CurationConfig {
            exact: true,
            near_duplicates: true,
            ngram: default_ngram(),
            bands: default_bands(),
            rows: default_rows(),
            threshold: default_threshold(),
            decontaminate: Vec::new(),
            decontam_ngram: default_decontam_ngram(),
            min_overlap: default_min_overlap(),
        }
    }
}

impl CurationConfig {
    /// Every problem found, one message each, naming the field (`curation.threshold`). Pure:
    /// benchmark files are read when the run builds its curator.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.ngram == 0 {
            errors.push("curation.ngram must be at least 1 (words per shingle)".into());
        }
        if self.bands == 0 {
            errors.push("curation.bands must be at least 1".into());
        }
        if self.rows == 0 {
            errors.push("curation.rows must be at least 1".into());
        }
        if self.bands.saturating_mul(self.rows) > MAX_HASHES {
            errors.push(format!(
                "curation.bands × curation.rows = {} is more than {MAX_HASHES} hashes",
                self.bands.saturating_mul(self.rows)
            ));
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            errors.push(format!(
                "curation.threshold {} must be in (0, 1]",
                self.threshold
            ));
        }
        if self.decontam_ngram == 0 {
            errors.push("curation.decontam_ngram must be at least 1".into());
        }
        if self.min_overlap == 0 {
            errors.push("curation.min_overlap must be at least 1".into());
        }
        for (i, b) in self.decontaminate.iter().enumerate() {
            let at = format!("curation.decontaminate[{i}]");
            let name = b.path.to_string_lossy();
            if name.is_empty() {
                errors.push(format!("{at}.path must name a benchmark file"));
            }
            match b.field.as_deref() {
                Some("") => errors.push(format!("{at}.field must not be empty")),
                None if name.ends_with(".jsonl") || name.ends_with(".jsonl.gz") => {
                    errors.push(format!(
                        "{at}.field: {name} is JSONL; name the field holding the item (e.g. \"question\" for GSM8K, \"prompt\" for HumanEval)"
                    ))
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
