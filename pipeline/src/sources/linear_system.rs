//! `linear_system2` / `linear_system3`: n×n integer systems with a nonzero determinant (checked
//! exactly), hence a unique rational solution. Easy levels have integer solutions.
//!
//! Structured form: `{"kind":"linear_system","vars":["x","y"],"matrix":[["2","3"],["1","-4"]],
//! "rhs":["7","-2"],"solution":{"x":"1/2","y":"2"}}`; the reference is `x = 1/2, y = 2` in
//! declaration order.

use super::exact::{linear_text, rat_text, smt_int, smt_linear};
use super::generator::Generated;
use super::seed::{int, nonzero};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

const VARS: [&str; 3] = ["x", "y", "z"];

/// Per difficulty: coefficient range, rhs bound (rational levels) or solution bound (integer).
fn params(difficulty: u32) -> (i64, i64, i64, bool) {
    match difficulty {
        0 | 1 => (1, 5, 9, true),
        2 => (-9, 9, 10, true),
        3 => (-9, 9, 20, false),
        4 => (-20, 20, 50, false),
        _ => (-50, 50, 200, false),
    }
}

/// A 2×2 system.
pub fn generate2(rng: &mut ChaCha8Rng, difficulty: u32) -> Generated {
    generate(rng, difficulty, 2)
}

/// A 3×3 system.
pub fn generate3(rng: &mut ChaCha8Rng, difficulty: u32) -> Generated {
    generate(rng, difficulty, 3)
}

fn generate(rng: &mut ChaCha8Rng, difficulty: u32, n: usize) -> Generated {
    let (lo, hi, bound, integer_solution) = params(difficulty);
    let vars = &VARS[..n];
    let (matrix, rhs, solution) = loop {
        let matrix: Vec<Vec<BigInt>> = (0..n)
            .map(|_| (0..n).map(|_| BigInt::from(int(rng, lo, hi))).collect())
            .collect();
        let rhs: Vec<BigInt> = if integer_solution {
            let x: Vec<BigInt> = (0..n)
                .map(|_| BigInt::from(int(rng, -bound, bound)))
                .collect();
            matrix
                .iter()
                .map(|row| row.iter().zip(&x).map(|(a, v)| a * v).sum())
                .collect()
        } else {
            (0..n)
                .map(|_| BigInt::from(nonzero(rng, -bound, bound)))
                .collect()
        };
        if let Some(solution) = solve(&matrix, &rhs) {
            break (matrix, rhs, solution);
        }
    };
    let equations: Vec<String> = matrix
        .iter()
        .zip(&rhs)
        .map(|(row, r)| format!("{} = {r}", linear_text(row, vars, None)))
        .collect();
    let names = match n {
        2 => "x and y",
        _ => "x, y and z",
    };
    let mut constraints: Vec<String> = vars
        .iter()
        .map(|v| format!("(declare-const {v} Real)"))
        .collect();
    for (row, r) in matrix.iter().zip(&rhs) {
        constraints.push(format!(
            "(assert (= {} {}))",
            smt_linear(row, vars, None),
            smt_int(r)
        ));
    }
    let reference = vars
        .iter()
        .zip(&solution)
        .map(|(v, s)| format!("{v} = {}", rat_text(s)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut solution_json = Map::new();
    for (v, s) in vars.iter().zip(&solution) {
        solution_json.insert((*v).to_owned(), Value::String(rat_text(s)));
    }
    let text_rows = |m: &[Vec<BigInt>]| -> Vec<Vec<String>> {
        m.iter()
            .map(|row| row.iter().map(BigInt::to_string).collect())
            .collect()
    };
    Generated {
        text: format!(
            "Solve the system of equations for {names}:\n{}",
            equations.join("\n")
        ),
        reference,
        structured: json!({
            "kind": "linear_system",
            "vars": vars,
            "matrix": text_rows(&matrix),
            "rhs": rhs.iter().map(BigInt::to_string).collect::<Vec<_>>(),
            "solution": solution_json,
        }),
        constraints: constraints.join("\n"),
    }
}

/// Gaussian elimination over exact rationals; `None` when the determinant is zero.
pub fn solve(matrix: &[Vec<BigInt>], rhs: &[BigInt]) -> Option<Vec<BigRational>> {
    let n = matrix.len();
    let mut m: Vec<Vec<BigRational>> = matrix
        .iter()
        .zip(rhs)
        .map(|(row, r)| {
            row.iter()
                .chain(std::iter::once(r))
                .map(|v| BigRational::from_integer(v.clone()))
                .collect()
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| !m[r][col].is_zero())?;
        m.swap(col, pivot);
        let p = m[col][col].clone();
        for v in m[col].iter_mut() {
            *v /= &p;
        }
        for r in 0..n {
            if r != col && !m[r][col].is_zero() {
                let f = m[r][col].clone();
                let pivot_row = m[col].clone();
                for (v, pv) in m[r].iter_mut().zip(&pivot_row) {
                    *v -= &f * pv;
                }
            }
        }
    }
    debug_assert!((0..n).all(|i| m[i][i].is_one()));
    Some(m.into_iter().map(|row| row[n].clone()).collect())
}
