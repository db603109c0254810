//! Independent checks of generated problems: each recomputes the answer from the structured
//! form with its own arithmetic (never the generator's code) and compares it with the reference.

use crate::problem::Problem;
use crate::sources::exact::{parse_int, parse_rat};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde_json::Value;

type R = Result<(), String>;

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("structured has no string `{key}`: {v}"))
}

fn int(v: &Value, key: &str) -> Result<BigInt, String> {
    parse_int(field(v, key)?).ok_or_else(|| format!("`{key}` is not an integer"))
}

fn rat(s: &str) -> Result<BigRational, String> {
    parse_rat(s).ok_or_else(|| format!("`{s}` is not a rational"))
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> R {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// The text mentions `n` (by its magnitude: signs are rendered as operators).
fn mentions(p: &Problem, n: &BigInt) -> R {
    let digits = n.abs().to_string();
    ensure(p.text.contains(&digits), || {
        format!("text does not mention {digits}: {}", p.text)
    })
}

/// Dispatches on `structured.kind`; `difficulty` enables the integer-solution checks.
pub fn check(p: &Problem, difficulty: u32) -> R {
    let s = &p.structured;
    let reference = p.reference.clone().ok_or("no reference")?;
    ensure(p.constraints.is_some(), || "no constraints".into())?;
    match field(s, "kind")? {
        "arithmetic" => arithmetic(p, s, &reference),
        "linear_equation" => linear_equation(p, s, &reference, difficulty),
        "linear_system" => linear_system(p, s, &reference, difficulty),
        "modular" => modular(p, s, &reference),
        "word_problem" => word_problem(p, s, &reference),
        other => Err(format!("unknown kind {other}")),
    }
}

fn arithmetic(p: &Problem, s: &Value, reference: &str) -> R {
    let mut leaves = Vec::new();
    let value = eval_tree(s.get("tree").ok_or("no tree")?, &mut leaves)?;
    ensure(value.is_integer(), || {
        format!("value {value} is not an integer")
    })?;
    ensure(value.to_string() == reference, || {
        format!("tree evaluates to {value}, reference {reference}")
    })?;
    ensure(field(s, "answer")? == reference, || {
        "answer != reference".into()
    })?;
    // The rendered expression, parsed with the usual precedence, has the same value.
    let expression = field(s, "expression")?;
    let parsed = super::check_expr::evaluate(expression)?;
    ensure(parsed == value, || {
        format!("`{expression}` parses to {parsed}, tree says {value}")
    })?;
    ensure(p.text.contains(expression), || {
        "text lacks the expression".into()
    })?;
    leaves.iter().try_for_each(|n| mentions(p, n))
}

fn eval_tree(node: &Value, leaves: &mut Vec<BigInt>) -> Result<BigRational, String> {
    if let Some(leaf) = node.as_str() {
        let n: BigInt = leaf.parse().map_err(|e| format!("leaf {leaf:?}: {e}"))?;
        leaves.push(n.clone());
        return Ok(BigRational::from_integer(n));
    }
    let Some([op, left, right]) = node.as_array().map(Vec::as_slice) else {
        return Err(format!(
            "node {node} is neither a leaf nor [op, left, right]"
        ));
    };
    let l = eval_tree(left, leaves)?;
    let r = eval_tree(right, leaves)?;
    Ok(match op.as_str().ok_or("op is not a string")? {
        "+" => l + r,
        "-" => l - r,
        "*" => l * r,
        "/" => {
            ensure(!r.is_zero(), || "division by zero".into())?;
            let q = l / r;
            ensure(q.is_integer(), || format!("inexact division gives {q}"))?;
            q
        }
        op => return Err(format!("unknown op {op}")),
    })
}

fn linear_equation(p: &Problem, s: &Value, reference: &str, difficulty: u32) -> R {
    let [a, b, c, d] = [int(s, "a")?, int(s, "b")?, int(s, "c")?, int(s, "d")?];
    ensure(a != c, || "a == c: no unique solution".into())?;
    let x = rat(reference)?;
    ensure(field(s, "solution")? == reference, || {
        "solution != reference".into()
    })?;
    let lhs = BigRational::from_integer(a.clone()) * &x + BigRational::from_integer(b.clone());
    let rhs = BigRational::from_integer(c.clone()) * &x + BigRational::from_integer(d.clone());
    ensure(lhs == rhs, || format!("x = {x} gives {lhs} != {rhs}"))?;
    ensure(difficulty > 2 || x.is_integer(), || {
        format!("{x} at difficulty {difficulty}")
    })?;
    ensure(p.text.contains(field(s, "var")?), || {
        "text lacks the variable".into()
    })?;
    for n in [&a, &c] {
        if n.abs() > BigInt::one() {
            mentions(p, n)?;
        }
    }
    for n in [&b, &d] {
        if !n.is_zero() {
            mentions(p, n)?;
        }
    }
    Ok(())
}

fn strings(v: &Value, key: &str) -> Result<Vec<String>, String> {
    v.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no array `{key}`"))?
        .iter()
        .map(|x| {
            x.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("`{key}` holds a non-string"))
        })
        .collect()
}

fn linear_system(p: &Problem, s: &Value, reference: &str, difficulty: u32) -> R {
    let vars = strings(s, "vars")?;
    let rhs: Vec<BigInt> = strings(s, "rhs")?
        .iter()
        .filter_map(|x| parse_int(x))
        .collect();
    let matrix: Vec<Vec<BigInt>> = s
        .get("matrix")
        .and_then(Value::as_array)
        .ok_or("no matrix")?
        .iter()
        .map(|row| strings(&serde_json::json!({ "r": row }), "r"))
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .map(|row| row.iter().filter_map(|x| parse_int(x)).collect())
        .collect();
    let n = vars.len();
    ensure(
        rhs.len() == n && matrix.len() == n && matrix.iter().all(|r| r.len() == n),
        || "malformed system".into(),
    )?;
    ensure(!determinant(&matrix).is_zero(), || "singular matrix".into())?;
    let solution = s.get("solution").ok_or("no solution")?;
    let x: Vec<BigRational> = vars
        .iter()
        .map(|v| rat(field(solution, v)?))
        .collect::<Result<_, _>>()?;
    for (row, r) in matrix.iter().zip(&rhs) {
        let lhs: BigRational = row
            .iter()
            .zip(&x)
            .map(|(a, v)| BigRational::from_integer(a.clone()) * v)
            .sum();
        ensure(lhs == BigRational::from_integer(r.clone()), || {
            format!("row {row:?}: {lhs} != {r}")
        })?;
        mentions(p, r)?;
        for a in row.iter().filter(|a| a.abs() > BigInt::one()) {
            mentions(p, a)?;
        }
    }
    let expected: Vec<String> = vars
        .iter()
        .zip(&x)
        .map(|(v, x)| format!("{v} = {}", crate::sources::exact::rat_text(x)))
        .collect();
    ensure(expected.join(", ") == reference, || {
        format!("reference {reference} != {expected:?}")
    })?;
    ensure(
        difficulty > 2 || x.iter().all(BigRational::is_integer),
        || "non-integer solution at an easy level".into(),
    )
}

/// Cofactor expansion along the first row.
fn determinant(m: &[Vec<BigInt>]) -> BigInt {
    if m.len() == 1 {
        return m[0][0].clone();
    }
    let mut det = BigInt::zero();
    for (j, a) in m[0].iter().enumerate() {
        let minor: Vec<Vec<BigInt>> = m[1..]
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|(k, _)| *k != j)
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .collect();
        let term = a * determinant(&minor);
        det = if j % 2 == 0 { det + term } else { det - term };
    }
    det
}

fn modular(p: &Problem, s: &Value, reference: &str) -> R {
    let m = int(s, "m")?;
    let answer = parse_int(reference).ok_or("reference is not an integer")?;
    ensure(field(s, "answer")? == reference, || {
        "answer != reference".into()
    })?;
    ensure(!answer.is_negative() && answer < m, || {
        format!("{answer} is not a residue mod {m}")
    })?;
    mentions(p, &m)?;
    let expected = match field(s, "family")? {
        "remainder" => {
            let n = int(s, "n")?;
            mentions(p, &n)?;
            // n is non-negative: truncating division is floor division.
            &n - (&n / &m) * &m
        }
        "power_sum" => {
            let [a, k, b] = [int(s, "a")?, int(s, "k")?, int(s, "b")?];
            [&a, &k, &b].into_iter().try_for_each(|n| mentions(p, n))?;
            let k = u32::try_from(&k).map_err(|e| e.to_string())?;
            (num_traits::pow(a, k as usize) + b).mod_floor(&m)
        }
        "product_sum" => {
            let [a, b, c] = [int(s, "a")?, int(s, "b")?, int(s, "c")?];
            [&a, &b, &c].into_iter().try_for_each(|n| mentions(p, n))?;
            (a * b + c).mod_floor(&m)
        }
        "congruence" => {
            let [a, b] = [int(s, "a")?, int(s, "b")?];
            [&a, &b].into_iter().try_for_each(|n| mentions(p, n))?;
            ensure(a.gcd(&m).is_one(), || "a and m are not coprime".into())?;
            // The unique residue: check the congruence holds for the answer.
            ensure((&a * &answer - &b).mod_floor(&m).is_zero(), || {
                format!("{a}·{answer} ≢ {b} (mod {m})")
            })?;
            answer.clone()
        }
        f => return Err(format!("unknown family {f}")),
    };
    ensure(expected == answer, || {
        format!("expected {expected}, reference {answer}")
    })
}

fn word_problem(p: &Problem, s: &Value, reference: &str) -> R {
    let q = s.get("quantities").ok_or("no quantities")?;
    let get = |k: &str| int(q, k);
    let answer = parse_int(reference).ok_or("reference is not an integer")?;
    ensure(!answer.is_negative(), || {
        format!("negative answer {answer}")
    })?;
    if let Value::Object(map) = q {
        for k in map.keys() {
            mentions(p, &get(k)?)?;
        }
    }
    let expected = match field(s, "template")? {
        "shopping" => {
            let mut total = BigInt::zero();
            for i in 1.. {
                let (Ok(c), Ok(price)) = (get(&format!("count{i}")), get(&format!("price{i}")))
                else {
                    break;
                };
                total += c * price;
            }
            get("paid")? - total
        }
        "travel" => {
            let mut total = BigInt::zero();
            for i in 1.. {
                let (Ok(v), Ok(h)) = (get(&format!("speed{i}")), get(&format!("hours{i}"))) else {
                    break;
                };
                total += v * h;
            }
            total
        }
        "fill_time" => {
            let (filled, rate) = (get("capacity")? - get("start")?, get("rate")?);
            ensure(filled.is_multiple_of(&rate), || {
                "pump time is not whole".into()
            })?;
            filled / rate
        }
        "sharing" => {
            let (rest, friends) = (get("total")? - get("keep")?, get("friends")?);
            ensure(rest.is_multiple_of(&friends), || {
                "shares are not whole".into()
            })?;
            rest / friends
        }
        "discount" => {
            let paid = get("price")? * (BigInt::from(100) - get("percent")?) * get("qty")?;
            ensure(paid.is_multiple_of(&BigInt::from(100)), || {
                "price is not whole".into()
            })?;
            paid / 100
        }
        "bakery" => {
            let rest = get("batches")? * get("per")? - get("morning")?;
            ensure(rest.is_even() && rest.is_positive(), || {
                format!("rest {rest}")
            })?;
            rest / 2
        }
        "ages" => {
            let older = get("older").unwrap_or_default();
            get("age")? * get("times")? + older + get("years")?
        }
        t => return Err(format!("unknown template {t}")),
    };
    ensure(expected == answer, || {
        format!("expected {expected}, reference {answer}")
    })
}
