//! `linear_equation`: `a·x + b = c·x + d` with `a ≠ c`, so the solution `(d − b)/(a − c)` is
//! unique. Easy levels have integer solutions, harder ones rational.
//!
//! Structured form:
//! `{"kind":"linear_equation","var":"x","a":"3","b":"5","c":"-2","d":"7","solution":"2/5"}`.

use super::exact::{linear_text, rat_text, smt_linear};
use super::generator::Generated;
use super::seed::{chance, int, nonzero, pick};
use num_bigint::BigInt;
use num_rational::BigRational;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const VARS: [&str; 5] = ["x", "y", "z", "n", "t"];

/// Per difficulty: coefficient bound, constant bound, integer solution.
fn params(difficulty: u32) -> (i64, i64, bool) {
    match difficulty {
        // Warm-up, for small models: `a·x + b = d` with the variable on one side only.
        0 => (5, 10, true),
        1 => (9, 20, true),
        2 => (12, 50, true),
        3 => (12, 30, false),
        4 => (30, 100, false),
        _ => (99, 999, false),
    }
}

/// Draws one equation.
pub fn generate(rng: &mut ChaCha8Rng, difficulty: u32) -> Generated {
    let (max_coef, max_const, integer_solution) = params(difficulty);
    let var = *pick(rng, &VARS);
    let low = if difficulty <= 1 { 1 } else { -max_coef };
    let a = nonzero(rng, low, max_coef);
    let c = if difficulty == 0 {
        0
    } else {
        loop {
            let c = if chance(rng, 0.3) {
                0
            } else {
                nonzero(rng, low, max_coef)
            };
            if c != a {
                break c;
            }
        }
    };
    let b = int(rng, -max_const, max_const);
    let d = if integer_solution {
        let x = int(rng, -max_const / 2, max_const / 2);
        (a - c) * x + b
    } else {
        int(rng, -max_const, max_const)
    };
    let [a, b, c, d] = [a, b, c, d].map(BigInt::from);
    let solution = BigRational::new(&d - &b, &a - &c);
    let text = format!(
        "Solve for {var}: {} = {}",
        linear_text(std::slice::from_ref(&a), &[var], Some(&b)),
        linear_text(std::slice::from_ref(&c), &[var], Some(&d)),
    );
    let constraints = format!(
        "(declare-const {var} Real)\n(assert (= {} {}))",
        smt_linear(std::slice::from_ref(&a), &[var], Some(&b)),
        smt_linear(std::slice::from_ref(&c), &[var], Some(&d)),
    );
    Generated {
        text,
        reference: rat_text(&solution),
        structured: json!({
            "kind": "linear_equation",
            "var": var,
            "a": a.to_string(),
            "b": b.to_string(),
            "c": c.to_string(),
            "d": d.to_string(),
            "solution": rat_text(&solution),
        }),
        constraints,
    }
}
