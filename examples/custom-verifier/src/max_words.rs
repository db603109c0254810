//! A custom verifier: the only file a verifier author writes. It needs `smelt-verifiers` alone.

use serde::Deserialize;
use smelt_verifiers::{Sample, Verdict, Verifier, VerifyError};

/// Options under `[[verifiers]] type = "max_words"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaxWordsConfig {
    /// Longest accepted completion, in whitespace-separated words.
    pub max_words: usize,
}

impl Default for MaxWordsConfig {
    fn default() -> Self {
        MaxWordsConfig { max_words: 200 }
    }
}

impl MaxWordsConfig {
    pub const KIND: &'static str = "max_words";
}

/// Rejects rambling completions: more than `max_words` words.
pub struct MaxWords {
    max_words: usize,
}

impl MaxWords {
    pub fn new(config: MaxWordsConfig) -> Result<Self, VerifyError> {
        if config.max_words == 0 {
            return Err(VerifyError::Config("max_words must be at least 1".into()));
        }
        Ok(MaxWords {
            max_words: config.max_words,
        })
    }
}

impl Verifier for MaxWords {
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        let words = sample.completion.split_whitespace().count();
        Ok(if words <= self.max_words {
            Verdict::accept(format!("{words} words"))
        } else {
            Verdict::reject("too_long", format!("{words} words > {}", self.max_words))
        })
    }

    fn name(&self) -> &str {
        MaxWordsConfig::KIND
    }

    fn version(&self) -> &str {
        "1"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smelt_verifiers::{assert_verifier_compliance, Expect};

    #[test]
    fn complies_with_the_verifier_spec() {
        let v = MaxWords::new(MaxWordsConfig { max_words: 3 }).unwrap();
        assert_verifier_compliance(
            &v,
            &[
                (Sample::new("answer is 4", None), Expect::Accept),
                (
                    Sample::new("one two three four five", None),
                    Expect::reject("too_long"),
                ),
            ],
        );
    }
}
