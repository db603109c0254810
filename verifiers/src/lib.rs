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
//!
//! Built-in math verifiers (each an `XConfig` with `KIND` plus `X::new(cfg)`):
//! [`AnswerVerifier`] (`answer`: the final answer equals the reference, exactly, via
//! [`numbers::parse_number`] and [`extract_answer`]), [`StepsVerifier`] (`steps`: every
//! arithmetic claim in the chain of thought is true), [`SmtVerifier`] (`smt`: the answer
//! satisfies the sample's SMT-LIB constraints, uniquely) and [`EquivalenceVerifier`]
//! (`equivalence`: the answer equals the reference as an expression). The last two run Z3 under
//! [`SolverLimits`]. [`well_posed`] proves that a model-proposed problem's formal statement has
//! exactly one answer (the `propose` source's gate).

pub mod answer;
pub mod code_block;
mod compliance;
pub mod equivalence;
mod expr;
pub mod external;
mod final_answer;
pub mod numbers;
mod python_fork_server;
pub mod python_tests;
mod sample;
pub mod sandbox;
mod semaphore;
pub mod smt;
mod solver;
pub mod steps;
mod verdict;
mod verifier;
pub mod well_posed;

pub use answer::{extract_answer, AnswerConfig, AnswerVerifier};
pub use compliance::{
    assert_verifier_compliance, check_verifier_compliance, ComplianceOptions, ComplianceReport,
    Expect,
};
pub use equivalence::{EquivalenceConfig, EquivalenceVerifier};
pub use external::{ExternalConfig, ExternalVerifier};
pub use python_tests::{PythonTestsConfig, PythonTestsVerifier};
pub use sample::{IoCase, Sample, TestSpec};
pub use smt::{SmtConfig, SmtVerifier};
pub use solver::SolverLimits;
pub use steps::{Rounding, StepsConfig, StepsReport, StepsVerifier};
pub use verdict::{Verdict, VerdictRecord, VerifyError};
pub use verifier::{from_fn, run_verifier, FnVerifier, Verifier};
