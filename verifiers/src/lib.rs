//! `smelt-verifiers`: the extension point of smelt.
//!
//! A verifier takes a [`Sample`] (a problem, a model's completion and whatever ground truth the
//! problem carries) and returns a [`Verdict`]: accept with evidence, or reject with a snake_case
//! reason. When the verifier itself cannot run (a timeout, a crashed process) it returns a
//! [`VerifyError`] instead; the pipeline counts those and never treats them as an accept.
//!
//! Writing a verifier needs only this crate: implement [`Verifier`] (one required method), or
//! wrap a closure with [`from_fn`], and call [`assert_verifier_compliance`] in your tests.
//! `SPEC.md` beside this crate states the contract in MUST/SHOULD terms.

pub mod answer;
pub mod code_block;
mod compliance;
pub mod equivalence;
pub mod external;
mod expr;
pub mod numbers;
mod solver;
mod sample;
pub mod smt;
mod python_fork_server;
pub mod python_tests;
pub mod sandbox;
mod semaphore;
pub mod steps;
mod verdict;
mod verifier;

pub use sample::{IoCase, Sample, TestSpec};
pub use verdict::{Verdict, VerdictRecord, VerifyError};
pub use verifier::{from_fn, run_verifier, FnVerifier, Verifier};
pub use answer::{extract_answer, AnswerConfig, AnswerVerifier};
pub use compliance::{
    assert_verifier_compliance, check_verifier_compliance, ComplianceOptions, ComplianceReport,
    Expect,
};
pub use equivalence::{EquivalenceConfig, EquivalenceVerifier};
pub use smt::{SmtConfig, SmtVerifier};
pub use solver::SolverLimits;
pub use steps::{Rounding, StepsConfig, StepsReport, StepsVerifier};
pub use python_tests::{PythonTestsConfig, PythonTestsVerifier};
pub use external::{ExternalConfig, ExternalVerifier};
