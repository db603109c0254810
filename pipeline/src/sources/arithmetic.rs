//! `arithmetic`: multi-step integer expressions with + − × and exact ÷, with parentheses.
//!
//! The expression is built as a tree whose every division is exact; the reference is the
//! integer value. Structured form:
//! `{"kind":"arithmetic","expression":"(3 + 4) × 5","tree":["*",["+","3","4"],"5"],"answer":"35"}`:
//! the tree in prefix form, a leaf being its exact value as a decimal string (`"-7"`).

use super::exact::smt_int_answer;
use super::generator::Generated;
use super::seed::{chance, int, pick};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }

    fn display(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "×",
            Op::Div => "÷",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            Op::Add | Op::Sub => 1,
            Op::Mul | Op::Div => 2,
        }
    }
}

#[derive(Debug, Clone)]
enum Expr {
    Num(BigInt),
    Bin(Op, Box<Expr>, Box<Expr>),
}

/// Per difficulty: operations, largest leaf, largest multiplier/divisor, negative leaves.
struct Params {
    ops: usize,
    max_leaf: i64,
    max_factor: i64,
    negatives: bool,
}

fn params(difficulty: u32) -> Params {
    let (ops, max_leaf, max_factor, negatives) = match difficulty {
        // Warm-up, for small models: one operation on numbers up to 10.
        0 => (1, 10, 9, false),
        1 => (2, 20, 9, false),
        2 => (3, 50, 12, false),
        3 => (4, 100, 15, false),
        4 => (5, 300, 25, true),
        _ => (7, 999, 50, true),
    };
    Params {
        ops,
        max_leaf,
        max_factor,
        negatives,
    }
}

/// Draws one expression problem.
pub fn generate(rng: &mut ChaCha8Rng, difficulty: u32) -> Generated {
    let p = params(difficulty);
    let (expr, value) = build(rng, &p, p.ops);
    let expression = render(&expr);
    Generated {
        text: format!("Evaluate the expression: {expression}"),
        reference: value.to_string(),
        structured: object([
            ("kind", "arithmetic".into()),
            ("expression", expression.into()),
            ("tree", tree_json(&expr)),
            ("answer", value.to_string().into()),
        ]),
        constraints: smt_int_answer(&value),
    }
}

fn leaf(rng: &mut ChaCha8Rng, p: &Params) -> (Expr, BigInt) {
    let mut v = int(rng, 1, p.max_leaf);
    if p.negatives && chance(rng, 0.25) {
        v = -v;
    }
    let v = BigInt::from(v);
    (Expr::Num(v.clone()), v)
}

fn factor(rng: &mut ChaCha8Rng, p: &Params) -> BigInt {
    let mut v = int(rng, 2, p.max_factor);
    if p.negatives && chance(rng, 0.2) {
        v = -v;
    }
    BigInt::from(v)
}

fn bin(op: Op, l: Expr, r: Expr) -> Expr {
    Expr::Bin(op, Box::new(l), Box::new(r))
}

/// An expression with exactly `ops` operations, and its value.
fn build(rng: &mut ChaCha8Rng, p: &Params, ops: usize) -> (Expr, BigInt) {
    if ops == 0 {
        return leaf(rng, p);
    }
    match *pick(rng, &[Op::Add, Op::Sub, Op::Mul, Op::Div]) {
        op @ (Op::Add | Op::Sub) => {
            let left_ops = int(rng, 0, (ops - 1) as i64) as usize;
            let (l, lv) = build(rng, p, left_ops);
            let (r, rv) = build(rng, p, ops - 1 - left_ops);
            let v = if op == Op::Add { lv + rv } else { lv - rv };
            (bin(op, l, r), v)
        }
        Op::Mul => {
            // One side is a small factor, so values stay readable.
            let (e, ev) = build(rng, p, ops - 1);
            let f = factor(rng, p);
            let v = &ev * &f;
            if chance(rng, 0.5) {
                (bin(Op::Mul, e, Expr::Num(f)), v)
            } else {
                (bin(Op::Mul, Expr::Num(f), e), v)
            }
        }
        Op::Div => division(rng, p, ops),
    }
}

/// `e ÷ d` with `d` a divisor of `e`'s value, or `n ÷ e` with `n` a multiple of `e`'s value.
fn division(rng: &mut ChaCha8Rng, p: &Params, ops: usize) -> (Expr, BigInt) {
    let (e, ev) = build(rng, p, ops - 1);
    if chance(rng, 0.5) {
        let divisors: Vec<i64> = (2..=p.max_factor)
            .filter(|d| ev.is_multiple_of(&BigInt::from(*d)))
            .collect();
        if !divisors.is_empty() && !ev.is_zero() {
            let d = BigInt::from(*pick(rng, &divisors));
            let v = &ev / &d;
            return (bin(Op::Div, e, Expr::Num(d)), v);
        }
    }
    if ev.is_zero() {
        // Nothing divides by zero: use the subexpression as a dividend instead.
        let d = factor(rng, p);
        return (bin(Op::Div, e, Expr::Num(d)), BigInt::zero());
    }
    let q = factor(rng, p);
    let n = &q * &ev;
    (bin(Op::Div, Expr::Num(n), e), q)
}

fn render(e: &Expr) -> String {
    match e {
        Expr::Num(v) if v.is_negative() => format!("({v})"),
        Expr::Num(v) => v.to_string(),
        Expr::Bin(op, l, r) => {
            let side = |child: &Expr, right: bool| {
                let text = render(child);
                match child {
                    Expr::Bin(c, _, _) if needs_parens(*op, *c, right) => format!("({text})"),
                    _ => text,
                }
            };
            format!(
                "{} {} {}",
                side(l.as_ref(), false),
                op.display(),
                side(r.as_ref(), true)
            )
        }
    }
}

/// Parentheses for a lower-precedence child, and for an equal-precedence right child unless
/// the operation is associative with itself (`a + (b + c)` reads as `a + b + c`).
fn needs_parens(parent: Op, child: Op, right: bool) -> bool {
    child.precedence() < parent.precedence()
        || (right
            && child.precedence() == parent.precedence()
            && !(parent == child && matches!(parent, Op::Add | Op::Mul)))
}

/// The tree in prefix form: a leaf is its value as a decimal string, an operation is
/// `[op, left, right]` (`["*", ["+", "3", "4"], "5"]`). Arrays, not objects: a problem's tree is
/// built and serialized once per problem, and objects cost a map with owned keys per node.
fn tree_json(e: &Expr) -> Value {
    match e {
        Expr::Num(v) => Value::String(v.to_string()),
        Expr::Bin(op, l, r) => Value::Array(vec![op.symbol().into(), tree_json(l), tree_json(r)]),
    }
}

fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}
