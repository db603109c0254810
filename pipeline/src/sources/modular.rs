//! `modular`: remainders and modular arithmetic, exact via big integers. Families:
//! `remainder` (`n mod m`), `power_sum` (`(a^k + b) mod m`), `product_sum` (`(a × b + c) mod m`)
//! and, from difficulty 3, `congruence` (smallest `x ≥ 0` with `a·x ≡ b (mod m)`, `gcd(a, m) = 1`).
//! Every answer is the least non-negative residue.
//!
//! Structured form: `{"kind":"modular","family":"power_sum","a":"7","k":"5","b":"3","m":"11",
//! "answer":"…"}` (the fields a family uses).

use super::exact::smt_int_answer;
use super::generator::Generated;
use super::seed::{int, pick};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Zero};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

struct Params {
    max_n: i64,
    max_base: i64,
    max_exp: i64,
    max_mod: i64,
    negatives: bool,
}

fn params(difficulty: u32) -> Params {
    let (max_n, max_base, max_exp, max_mod, negatives) = match difficulty {
        0 | 1 => (100, 9, 3, 9, false),
        2 => (10_000, 20, 6, 20, false),
        3 => (1_000_000, 50, 20, 50, true),
        4 => (1_000_000_000, 200, 100, 200, true),
        _ => (1_000_000_000_000, 1000, 2000, 1000, true),
    };
    Params {
        max_n,
        max_base,
        max_exp,
        max_mod,
        negatives,
    }
}

/// Draws one problem.
pub fn generate(rng: &mut ChaCha8Rng, difficulty: u32) -> Generated {
    let p = params(difficulty);
    let families: &[&str] = if difficulty >= 3 {
        &["remainder", "power_sum", "product_sum", "congruence"]
    } else {
        &["remainder", "power_sum", "product_sum"]
    };
    let m = BigInt::from(int(rng, 2, p.max_mod));
    let family = *pick(rng, families);
    let (text, fields, answer) = match family {
        "remainder" => {
            let n = BigInt::from(int(rng, p.max_mod, p.max_n));
            let answer = n.mod_floor(&m);
            (
                format!("What is the remainder when {n} is divided by {m}?"),
                json!({ "n": n.to_string() }),
                answer,
            )
        }
        "power_sum" => {
            let a = BigInt::from(int(rng, 2, p.max_base));
            let k = BigInt::from(int(rng, 2, p.max_exp));
            let b = BigInt::from(int(rng, 0, p.max_base));
            let answer = (a.modpow(&k, &m) + &b).mod_floor(&m);
            (
                format!("What is ({a}^{k} + {b}) mod {m}? Give the least non-negative residue."),
                json!({ "a": a.to_string(), "k": k.to_string(), "b": b.to_string() }),
                answer,
            )
        }
        "product_sum" => {
            let a = BigInt::from(int(rng, 2, p.max_n.min(1_000_000)));
            let b = BigInt::from(int(rng, 2, p.max_n.min(1_000_000)));
            let lo = if p.negatives { -p.max_base } else { 0 };
            let c = BigInt::from(int(rng, lo, p.max_base));
            let answer = (&a * &b + &c).mod_floor(&m);
            let c_text = if c < BigInt::zero() {
                format!("- {}", -&c)
            } else {
                format!("+ {c}")
            };
            (
                format!(
                    "What is ({a} × {b} {c_text}) mod {m}? Give the least non-negative residue."
                ),
                json!({ "a": a.to_string(), "b": b.to_string(), "c": c.to_string() }),
                answer,
            )
        }
        _ => congruence(rng, &p, &m),
    };
    let mut structured = json!({
        "kind": "modular",
        "family": family,
        "m": m.to_string(),
        "answer": answer.to_string(),
    });
    if let (Value::Object(s), Value::Object(f)) = (&mut structured, fields) {
        s.extend(f);
    }
    Generated {
        text,
        reference: answer.to_string(),
        structured,
        constraints: smt_int_answer(&answer),
    }
}

/// Smallest `x ≥ 0` with `a·x ≡ b (mod m)`, `gcd(a, m) = 1`, via the modular inverse of `a`.
fn congruence(rng: &mut ChaCha8Rng, p: &Params, m: &BigInt) -> (String, Value, BigInt) {
    let a = loop {
        let a = BigInt::from(int(rng, 2, p.max_base.max(3)));
        if a.gcd(m).is_one() {
            break a;
        }
    };
    let b = BigInt::from(int(rng, 1, p.max_base));
    let inverse = modular_inverse(&a, m);
    let answer = (inverse * &b).mod_floor(m);
    (
        format!("Find the smallest non-negative integer x such that {a}x ≡ {b} (mod {m})."),
        json!({ "a": a.to_string(), "b": b.to_string() }),
        answer,
    )
}

/// The inverse of `a` modulo `m` for coprime `a`, `m` (extended Euclid).
fn modular_inverse(a: &BigInt, m: &BigInt) -> BigInt {
    let e = a.extended_gcd(m);
    e.x.mod_floor(m)
}
