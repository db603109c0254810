//! Property tests over every generator and difficulty.

use super::check::check;
use super::{generated, GENERATORS};
use crate::sources::{generate_fn, Generator, ProblemSource, SourceError, SourceKind};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ground_truth_solves_the_problem(
        kind in 0..GENERATORS.len(),
        difficulty in 1u32..=5,
        seed in any::<u64>(),
        index in any::<u64>(),
    ) {
        let p = generated(GENERATORS[kind], seed, difficulty, index);
        if let Err(e) = check(&p, difficulty) {
            return Err(TestCaseError::fail(format!("{e}\nproblem: {p:#?}")));
        }
    }

    #[test]
    fn same_index_same_problem(
        kind in 0..GENERATORS.len(),
        difficulty in 1u32..=5,
        seed in any::<u64>(),
        index in any::<u64>(),
    ) {
        let a = generated(GENERATORS[kind], seed, difficulty, index);
        let b = generated(GENERATORS[kind], seed, difficulty, index);
        prop_assert_eq!(a, b);
    }
}

/// Different seeds (and indices) give different problems: among 50 draws almost all differ.
#[test]
fn different_seeds_and_indices_differ() {
    for kind in GENERATORS {
        for difficulty in 0..=5 {
            let by_seed: std::collections::HashSet<String> = (0..50)
                .map(|seed| generated(kind, seed, difficulty, 7).text)
                .collect();
            let by_index: std::collections::HashSet<String> = (0..50)
                .map(|index| generated(kind, 7, difficulty, index).text)
                .collect();
            assert!(
                by_seed.len() >= 40,
                "{kind:?} d{difficulty}: {} distinct",
                by_seed.len()
            );
            assert!(
                by_index.len() >= 40,
                "{kind:?} d{difficulty}: {} distinct",
                by_index.len()
            );
        }
    }
}

/// Harder levels draw bigger numbers: the mean length of the reference grows from 1 to 5.
#[test]
fn difficulty_changes_the_problems() {
    for kind in GENERATORS {
        let size =
            |d: u32| -> usize { (0..200).map(|i| generated(kind, 1, d, i).text.len()).sum() };
        assert!(
            size(5) > size(1),
            "{kind:?}: level 5 is not longer than level 1"
        );
    }
}

#[test]
fn ids_and_metadata() {
    let p = generated(SourceKind::Modular, 3, 2, 41);
    assert_eq!(p.id, "modular-41");
    assert_eq!(p.source, "modular");
    assert_eq!(p.index, 41);
    assert!(p.tests.is_none() && p.entry_point.is_none());
}

#[test]
fn a_sized_generator_ends() {
    let generate = generate_fn(SourceKind::Arithmetic).expect("generator");
    let g = Generator::new("a", 0, 1, Some(3), generate);
    assert_eq!(g.len(), Some(3));
    assert!(g.problem(2).is_ok());
    assert!(matches!(
        g.problem(3),
        Err(SourceError::OutOfRange { index: 3, .. })
    ));
}

/// A sample of every kind, for reading by eye with `--nocapture`.
#[test]
fn print_examples() {
    for kind in GENERATORS {
        for difficulty in [1, 3, 5] {
            let p = generated(kind, 0, difficulty, 0);
            println!("{kind:?} d{difficulty}: {}\n  => {:?}", p.text, p.reference);
        }
    }
}
