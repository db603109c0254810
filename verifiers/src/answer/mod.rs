//! `AnswerVerifier`: the completion's final answer must equal the reference, exactly.
//!
//! Answers are read as people write them, LaTeX included (see `crate::final_answer`): numbers
//! exactly as rationals, tuples, intervals and inequalities, sets, `x = 3`, matrices, words;
//! expressions with roots, `π` or `e` are equal only when Z3 proves it (no numeric evidence).
//!
//! Reasons: `missing_ground_truth` (no reference), `no_answer` (no final answer found, or an
//! unbalanced `\boxed{`), `unparsable_answer` (the answer cannot be read in the reference's form,
//! e.g. `seventy` against `70`), `malformed_reference`, `wrong_answer`, `solver_unknown` (Z3
//! could not decide within its limits).

mod extract;
mod value;

pub use extract::extract_answer;
pub(crate) use extract::extract_with;
pub use value::{compare, normalize_text, parse_answer, AnswerValue, Comparison};

use crate::{Sample, SolverLimits, Verdict, Verifier, VerifyError};
use regex::Regex;
use serde::Deserialize;

/// Configuration of [`AnswerVerifier`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnswerConfig {
    /// Extra regular expressions locating the answer, tried before the built-in forms; the
    /// first capture group (or the whole match) of the last match is the answer.
    pub patterns: Vec<String>,
    /// Wall-clock budget per sample for Z3 (used only for irrational expressions).
    pub timeout_ms: u64,
    /// Z3 resource limit per solver check.
    pub rlimit: u32,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        let limits = SolverLimits::default();
        AnswerConfig {
            patterns: Vec::new(),
            timeout_ms: limits.timeout_ms,
            rlimit: limits.rlimit,
        }
    }
}

impl AnswerConfig {
    pub const KIND: &'static str = "answer";
}

/// Compares a completion's final answer with `sample.reference`.
#[derive(Debug, Clone)]
pub struct AnswerVerifier {
    patterns: Vec<Regex>,
    limits: SolverLimits,
}

impl AnswerVerifier {
    /// Compiles the configured patterns; a bad regex or limit is a [`VerifyError::Config`].
    pub fn new(cfg: AnswerConfig) -> Result<Self, VerifyError> {
        let patterns = compile_patterns(&cfg.patterns)?;
        let limits = SolverLimits {
            timeout_ms: cfg.timeout_ms,
            rlimit: cfg.rlimit,
        };
        limits.validate().map_err(VerifyError::Config)?;
        Ok(AnswerVerifier { patterns, limits })
    }

    /// Compares two final answers (the answer first).
    pub fn compare(&self, answer: &str, reference: &str) -> Result<Verdict, VerifyError> {
        crate::final_answer::judge(answer, reference, self.limits)
    }

    /// The final answer as this verifier reads it (configured patterns, then built-ins).
    pub fn extract(&self, completion: &str) -> Option<String> {
        extract::extract_with(completion, &self.patterns)
    }
}

/// Compiles answer patterns (shared with the SMT verifier).
pub(crate) fn compile_patterns(patterns: &[String]) -> Result<Vec<Regex>, VerifyError> {
    patterns
        .iter()
        .map(|p| {
            regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| VerifyError::Config(format!("answer pattern {p:?}: {e}")))
        })
        .collect()
}

impl Verifier for AnswerVerifier {
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        let Some(reference) = sample.reference.as_deref().filter(|r| !r.trim().is_empty()) else {
            return Ok(Verdict::reject(
                "missing_ground_truth",
                "the sample has no reference answer",
            ));
        };
        let Some(answer) = self.extract(&sample.completion) else {
            return Ok(Verdict::reject(
                "no_answer",
                "no final answer found (\\boxed{}, ####, Answer:, The answer is)",
            ));
        };
        self.compare(&answer, reference)
    }

    fn name(&self) -> &str {
        AnswerConfig::KIND
    }

    fn version(&self) -> &str {
        "2"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::{assert_verifier_compliance, Expect};

    fn verdict(completion: &str, reference: Option<&str>) -> Verdict {
        let v = AnswerVerifier::new(AnswerConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        v.verify(&Sample::new(completion, reference))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn reason(v: &Verdict) -> &str {
        match v {
            Verdict::Reject { reason, .. } => reason,
            Verdict::Accept { .. } => "accepted",
        }
    }

    #[test]
    fn reasons() {
        assert!(verdict("so \\boxed{72}", Some("72")).is_accept());
        assert_eq!(
            reason(&verdict("so \\boxed{71}", Some("72"))),
            "wrong_answer"
        );
        assert_eq!(
            reason(&verdict("so \\boxed{72}", None)),
            "missing_ground_truth"
        );
        assert_eq!(
            reason(&verdict("so \\boxed{72}", Some("  "))),
            "missing_ground_truth"
        );
        assert_eq!(reason(&verdict("I think 72", Some("72"))), "no_answer");
        assert_eq!(reason(&verdict("\\boxed{72", Some("72"))), "no_answer");
        assert_eq!(reason(&verdict("", Some("72"))), "no_answer");
        assert_eq!(
            reason(&verdict("Answer: seventy-two", Some("72"))),
            "unparsable_answer"
        );
        assert_eq!(
            reason(&verdict("Answer: about 72", Some("72"))),
            "unparsable_answer"
        );
    }

    #[test]
    fn bad_pattern_is_a_config_error() {
        let cfg = AnswerConfig {
            patterns: vec!["(unclosed".into()],
            ..AnswerConfig::default()
        };
        assert!(matches!(
            AnswerVerifier::new(cfg),
            Err(VerifyError::Config(_))
        ));
        let json = serde_json::json!({"patterns": ["x"], "tolerance": 0.1});
        assert!(serde_json::from_value::<AnswerConfig>(json).is_err());
    }

    #[test]
    fn configured_patterns() {
        let cfg = AnswerConfig {
            patterns: vec![r"RESULT:\s*(\S+)".into()],
            ..AnswerConfig::default()
        };
        let v = AnswerVerifier::new(cfg).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.extract("RESULT: 9\n#### 8").as_deref(), Some("9"));
        assert!(v
            .verify(&Sample::new("RESULT: 9\n#### 8", Some("9")))
            .unwrap_or_else(|e| panic!("{e}"))
            .is_accept());
    }

    #[test]
    fn compliance() {
        let v = AnswerVerifier::new(AnswerConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        let cases = vec![
            (
                Sample::new("48/2 = 24\n#### 72", Some("72")),
                Expect::Accept,
            ),
            (
                Sample::new("The answer is $\\frac{3}{4}$.", Some("0.75")),
                Expect::Accept,
            ),
            (
                Sample::new("\\boxed{(1, -1/2)}", Some("(1, -0.5)")),
                Expect::Accept,
            ),
            (
                Sample::new("#### 71", Some("72")),
                Expect::reject("wrong_answer"),
            ),
            (
                Sample::new("#### 72", None),
                Expect::reject("missing_ground_truth"),
            ),
            (
                Sample::new("\\boxed{72", Some("72")),
                Expect::reject("no_answer"),
            ),
        ];
        assert_verifier_compliance(&v, &cases);
    }
}
