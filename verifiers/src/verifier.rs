//! The trait, the closure adapter, and the one function that runs a verifier safely.

use crate::{Sample, Verdict, VerdictRecord, VerifyError};
use std::time::Instant;

/// Checks samples. Implementations must be `Send + Sync`: the pipeline calls `verify` from
/// several worker threads at once. `verify` is synchronous and may block (solvers, processes);
/// the pipeline runs it on dedicated threads, never on the async runtime. Each worker thread
/// calls `verify` on its own thread, so thread-local state (such as a Z3 context) is safe.
pub trait Verifier: Send + Sync {
    /// Judge one sample. The only required method.
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError>;

    /// The name recorded on every verdict (and used in the config's chain).
    fn name(&self) -> &str {
        short_type_name(std::any::type_name::<Self>())
    }

    /// A version string recorded on every verdict; bump it whenever verdicts may change.
    fn version(&self) -> &str {
        "0"
    }
}

fn short_type_name(full: &str) -> &str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Runs `verifier` on `sample`, timing it and turning a panic into a [`VerifyError`], and returns
/// the record that goes on the output row.
pub fn run_verifier(verifier: &dyn Verifier, sample: &Sample) -> VerdictRecord {
    let start = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verifier.verify(sample)))
        .unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(VerifyError::Crashed(format!("panicked: {msg}")))
        });
    let result = match result {
        Ok(Verdict::Accept { score, .. }) if !(0.0..=1.0).contains(&score) || score.is_nan() => {
            Err(VerifyError::Protocol(format!(
                "score {score} outside [0, 1]"
            )))
        }
        Ok(Verdict::Reject { ref reason, .. }) if !is_snake_case(reason) => Err(
            VerifyError::Protocol(format!("reject reason {reason:?} is not snake_case")),
        ),
        other => other,
    };
    VerdictRecord::from_result(
        verifier.name(),
        verifier.version(),
        &result,
        start.elapsed(),
    )
}

/// `true` for a non-empty `[a-z0-9_]` string starting with a letter.
pub(crate) fn is_snake_case(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A verifier made from a closure.
pub struct FnVerifier<F> {
    name: String,
    version: String,
    f: F,
}

/// Makes a verifier from a name, a version and a closure.
///
/// ```
/// use smelt_verifiers::{from_fn, Verdict, Verifier, Sample};
/// let nonempty = from_fn("nonempty", "1", |s: &Sample| {
///     Ok(if s.completion.trim().is_empty() {
///         Verdict::reject("empty_completion", "the completion is empty")
///     } else {
///         Verdict::accept("has text")
///     })
/// });
/// assert!(nonempty.verify(&Sample::new("42", None)).unwrap().is_accept());
/// ```
pub fn from_fn<F>(name: impl Into<String>, version: impl Into<String>, f: F) -> FnVerifier<F>
where
    F: Fn(&Sample) -> Result<Verdict, VerifyError> + Send + Sync,
{
    FnVerifier {
        name: name.into(),
        version: version.into(),
        f,
    }
}

impl<F> Verifier for FnVerifier<F>
where
    F: Fn(&Sample) -> Result<Verdict, VerifyError> + Send + Sync,
{
    fn verify(&self, sample: &Sample) -> Result<Verdict, VerifyError> {
        (self.f)(sample)
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn version(&self) -> &str {
        &self.version
    }
}
