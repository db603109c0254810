//! Tests of the sources: generator ground truth recomputed independently from the structured
//! form, SMT-LIB checked in Z3, dataset loading and its error messages.

mod check;
mod check_expr;
mod dataset;
mod generators;
mod smt;
mod verifiers;

use crate::problem::Problem;
use crate::sources::{generate_fn, Generator, ProblemSource, SourceKind};

/// Every generator kind.
pub const GENERATORS: [SourceKind; 6] = [
    SourceKind::Arithmetic,
    SourceKind::LinearEquation,
    SourceKind::LinearSystem2,
    SourceKind::LinearSystem3,
    SourceKind::Modular,
    SourceKind::WordProblem,
];

/// Problem `index` of a generator of `kind` named after the kind.
pub fn generated(kind: SourceKind, seed: u64, difficulty: u32, index: u64) -> Problem {
    let generate = generate_fn(kind).expect("a generator kind");
    let g = Generator::new(kind.as_str(), seed, difficulty, None, generate);
    g.problem(index)
        .expect("an unbounded generator has every index")
}
