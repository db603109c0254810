//! What a verifier answers.

use serde::{Deserialize, Serialize};

/// The verifier's judgement of a sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The sample holds. `score` is in `[0, 1]` (1 for a binary check); `evidence` says why.
    Accept { score: f64, evidence: String },
    /// The sample does not hold. `reason` is a stable snake_case code (`wrong_answer`,
    /// `no_answer`, `false_step`, …) that becomes a counter; `detail` is for humans.
    Reject { reason: String, detail: String },
}

impl Verdict {
    pub fn accept(evidence: impl Into<String>) -> Self {
        Verdict::Accept {
            score: 1.0,
            evidence: evidence.into(),
        }
    }

    pub fn reject(reason: impl Into<String>, detail: impl Into<String>) -> Self {
        Verdict::Reject {
            reason: reason.into(),
            detail: detail.into(),
        }
    }

    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept { .. })
    }
}

/// The verifier could not produce a verdict. This is not "the sample is wrong": the pipeline
/// counts these separately and records the sample as not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("verifier crashed: {0}")]
    Crashed(String),
    #[error("verifier protocol error: {0}")]
    Protocol(String),
    #[error("verifier misconfigured: {0}")]
    Config(String),
    #[error("{0}")]
    Other(String),
}

impl VerifyError {
    /// A stable snake_case code for counting.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Timeout(_) => "verifier_timeout",
            VerifyError::Crashed(_) => "verifier_crashed",
            VerifyError::Protocol(_) => "verifier_protocol",
            VerifyError::Config(_) => "verifier_config",
            VerifyError::Other(_) => "verifier_error",
        }
    }
}

/// A verdict as recorded on an output row: who judged, which version, and what they said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub verifier: String,
    pub version: String,
    pub accepted: bool,
    /// Reject reason, or the error code when the verifier could not run; empty on accept.
    pub reason: String,
    /// Evidence on accept, detail on reject, the error message on error.
    pub detail: String,
    pub score: f64,
    /// True when the verifier could not run (see [`VerifyError`]).
    pub error: bool,
    pub elapsed_us: u64,
}

impl VerdictRecord {
    pub fn from_result(
        verifier: &str,
        version: &str,
        result: &Result<Verdict, VerifyError>,
        elapsed: std::time::Duration,
    ) -> Self {
        let (accepted, reason, detail, score, error) = match result {
            Ok(Verdict::Accept { score, evidence }) => {
                (true, String::new(), evidence.clone(), *score, false)
            }
            Ok(Verdict::Reject { reason, detail }) => {
                (false, reason.clone(), detail.clone(), 0.0, false)
            }
            Err(e) => (false, e.code().to_owned(), e.to_string(), 0.0, true),
        };
        VerdictRecord {
            verifier: verifier.to_owned(),
            version: version.to_owned(),
            accepted,
            reason,
            detail,
            score,
            error,
            elapsed_us: elapsed.as_micros().min(u64::MAX as u128) as u64,
        }
    }
}
