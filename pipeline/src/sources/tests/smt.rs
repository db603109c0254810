//! The generated SMT-LIB parses in Z3, is satisfied by the reference, and by nothing else.

use super::{generated, GENERATORS};
use crate::problem::Problem;
use crate::sources::exact::{parse_rat, smt_rat};
use proptest::prelude::*;
use z3::{SatResult, Solver};

/// `(= var value)` for every variable the reference pins.
fn pins(p: &Problem) -> Vec<String> {
    let reference = p.reference.as_deref().unwrap_or_default();
    let value = |s: &str| smt_rat(&parse_rat(s).expect("a rational reference"));
    match p.structured["kind"].as_str() {
        Some("linear_system") => reference
            .split(", ")
            .map(|part| {
                let (var, v) = part.split_once(" = ").expect("`x = v` parts");
                format!("(= {var} {})", value(v))
            })
            .collect(),
        Some("linear_equation") => {
            let var = p.structured["var"].as_str().expect("a variable");
            vec![format!("(= {var} {})", value(reference))]
        }
        _ => vec![format!("(= answer {})", value(reference))],
    }
}

fn solve(script: &str) -> SatResult {
    let solver = Solver::new();
    solver.from_string(script);
    solver.check()
}

fn check_in_z3(p: &Problem) -> Result<(), String> {
    let constraints = p.constraints.as_deref().ok_or("no constraints")?;
    let pins = pins(p);
    let all = match pins.as_slice() {
        [one] => one.clone(),
        _ => format!("(and {})", pins.join(" ")),
    };
    let holds = solve(&format!("{constraints}\n(assert {all})"));
    if holds != SatResult::Sat {
        return Err(format!(
            "reference does not satisfy:\n{constraints}\n{all}: {holds:?}"
        ));
    }
    // A parse error leaves no assertions, so this also fails on SMT-LIB Z3 cannot read.
    let other = solve(&format!("{constraints}\n(assert (not {all}))"));
    if other != SatResult::Unsat {
        return Err(format!(
            "not unique (or unparsable):\n{constraints}\n{all}: {other:?}"
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn constraints_pin_the_reference(
        kind in 0..GENERATORS.len(),
        difficulty in 1u32..=5,
        seed in any::<u64>(),
        index in any::<u64>(),
    ) {
        let p = generated(GENERATORS[kind], seed, difficulty, index);
        if let Err(e) = check_in_z3(&p) {
            return Err(TestCaseError::fail(e));
        }
    }
}

#[test]
fn a_wrong_answer_is_rejected() {
    let p = generated(crate::sources::SourceKind::LinearSystem2, 0, 3, 0);
    let constraints = p.constraints.as_deref().unwrap_or_default();
    let wrong = format!("{constraints}\n(assert (and (= x 1000001) (= y 1000001)))");
    assert_eq!(solve(&wrong), SatResult::Unsat);
}
