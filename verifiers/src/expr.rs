//! Arithmetic expressions shared by the steps and equivalence verifiers: the syntax tree, a
//! parser over a token slice (each verifier has its own lexer), and exact evaluation with big
//! rationals.
//!
//! Implicit multiplication is made explicit by the lexers as [`Tok::ImplicitMul`]; the parser
//! rejects `a / b c` (is it `a/(bc)` or `(a/b)c`?) as ambiguous instead of guessing.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// Largest |exponent| evaluated exactly.
const MAX_EXPONENT: u32 = 4096;
/// Largest result (in bits of numerator or denominator) a power may produce.
const MAX_POW_BITS: u64 = 1 << 16;
/// Deepest nesting the recursive-descent parser accepts (hostile input must not overflow the
/// stack).
const MAX_DEPTH: usize = 200;
/// Most tokens in one expression: the tree (and every recursive walk over it, such as
/// evaluation) stays shallow enough for any thread's stack.
pub(crate) const MAX_TOKENS: usize = 2_000;

/// Mathematical constants, kept symbolic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Constant {
    Pi,
    E,
}

/// A token as the parser sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(BigRational),
    Var(String),
    Const(Constant),
    /// `+ - * / ^`
    Op(char),
    /// Multiplication by juxtaposition (`2x`, `2(x+1)`, `(a)(b)`).
    ImplicitMul,
    LParen,
    RParen,
    /// Postfix `%`.
    Percent,
    /// `sqrt` (index 2) or an n-th root; applies to the following primary.
    Root(u32),
}

/// The syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Num(BigRational),
    Var(String),
    Const(Constant),
    Neg(Box<Expr>),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Pow(Box<Expr>, Box<Expr>),
    /// The principal (non-negative) n-th root.
    Root(u32, Box<Expr>),
    Percent(Box<Expr>),
}

/// Why a token slice is not an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    Empty,
    Unexpected(String),
    Unbalanced,
    Ambiguous(&'static str),
    TooDeep,
    TooLong,
}

/// Parses a whole token slice as one expression.
pub(crate) fn parse(tokens: &[Tok]) -> Result<Expr, ParseError> {
    if tokens.is_empty() {
        return Err(ParseError::Empty);
    }
    if tokens.len() > MAX_TOKENS {
        return Err(ParseError::TooLong);
    }
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos != tokens.len() {
        return Err(match tokens[p.pos] {
            Tok::RParen => ParseError::Unbalanced,
            ref t => ParseError::Unexpected(format!("{t:?}")),
        });
    }
    Ok(e)
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(ParseError::TooDeep)
        } else {
            Ok(())
        }
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut lhs = self.term()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek() {
            let op = *op;
            self.pos += 1;
            let rhs = self.term()?;
            lhs = if op == '+' {
                Expr::Add(Box::new(lhs), Box::new(rhs))
            } else {
                Expr::Sub(Box::new(lhs), Box::new(rhs))
            };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        let mut after_division = false;
        loop {
            match self.peek() {
                Some(Tok::Op('*')) => {
                    self.pos += 1;
                    lhs = Expr::Mul(Box::new(lhs), Box::new(self.unary()?));
                    after_division = false;
                }
                Some(Tok::Op('/')) => {
                    self.pos += 1;
                    lhs = Expr::Div(Box::new(lhs), Box::new(self.unary()?));
                    after_division = true;
                }
                Some(Tok::ImplicitMul) => {
                    if after_division {
                        return Err(ParseError::Ambiguous("a / b c"));
                    }
                    self.pos += 1;
                    lhs = Expr::Mul(Box::new(lhs), Box::new(self.unary()?));
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(Tok::Op('-')) => {
                self.pos += 1;
                self.enter()?;
                let e = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Neg(Box::new(e)))
            }
            Some(Tok::Op('+')) => {
                self.pos += 1;
                self.enter()?;
                let e = self.unary();
                self.depth -= 1;
                e
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.postfix()?;
        if let Some(Tok::Op('^')) = self.peek() {
            self.pos += 1;
            self.enter()?;
            let exp = self.unary()?; // right associative; `2^-1` allowed
            self.depth -= 1;
            return Ok(Expr::Pow(Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        while let Some(Tok::Percent) = self.peek() {
            self.pos += 1;
            e = Expr::Percent(Box::new(e));
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(ParseError::Unexpected("end of expression".into()));
        };
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Var(v) => Ok(Expr::Var(v)),
            Tok::Const(c) => Ok(Expr::Const(c)),
            Tok::LParen => {
                let e = self.expr()?;
                match self.peek() {
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err(ParseError::Unbalanced),
                }
            }
            Tok::Root(n) => {
                self.enter()?;
                let arg = self.power()?;
                self.depth -= 1;
                Ok(Expr::Root(n, Box::new(arg)))
            }
            Tok::RParen => Err(ParseError::Unbalanced),
            other => Err(ParseError::Unexpected(format!("{other:?}"))),
        }
    }
}

/// How `%` is read during evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PercentMode {
    /// `20%` is 1/5.
    Divide,
    /// `20%` is 20 (a unit label).
    Label,
}

/// Why an expression has no exact rational value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EvalError {
    Unknown(String),
    Symbolic,
    DivisionByZero,
    Irrational,
    TooBig,
}

/// Evaluates exactly. `env` gives values of variables (None: unknown).
pub(crate) fn eval(
    e: &Expr,
    env: &dyn Fn(&str) -> Option<BigRational>,
    percent: PercentMode,
) -> Result<BigRational, EvalError> {
    let ev = |x: &Expr| eval(x, env, percent);
    Ok(match e {
        Expr::Num(n) => n.clone(),
        Expr::Var(v) => env(v).ok_or_else(|| EvalError::Unknown(v.clone()))?,
        Expr::Const(_) => return Err(EvalError::Symbolic),
        Expr::Neg(a) => -ev(a)?,
        Expr::Add(a, b) => ev(a)? + ev(b)?,
        Expr::Sub(a, b) => ev(a)? - ev(b)?,
        Expr::Mul(a, b) => ev(a)? * ev(b)?,
        Expr::Div(a, b) => {
            let d = ev(b)?;
            if d.is_zero() {
                return Err(EvalError::DivisionByZero);
            }
            ev(a)? / d
        }
        Expr::Pow(a, b) => pow(&ev(a)?, &ev(b)?)?,
        Expr::Root(n, a) => root(&ev(a)?, *n)?,
        Expr::Percent(a) => match percent {
            PercentMode::Divide => ev(a)? / BigRational::from_integer(BigInt::from(100)),
            PercentMode::Label => ev(a)?,
        },
    })
}

/// `base ^ exp` when the result is rational and of bounded size: integer exponents, and
/// rational exponents `p/q` when the q-th root is exact.
pub(crate) fn pow(base: &BigRational, exp: &BigRational) -> Result<BigRational, EvalError> {
    let q = exp.denom().to_u32().ok_or(EvalError::TooBig)?;
    let p = exp.numer().abs().to_u32().ok_or(EvalError::TooBig)?;
    if p > MAX_EXPONENT || q > MAX_EXPONENT {
        return Err(EvalError::TooBig);
    }
    let base = if q == 1 { base.clone() } else { root(base, q)? };
    if base.is_zero() {
        return if exp.is_negative() {
            Err(EvalError::DivisionByZero)
        } else if p == 0 {
            Ok(BigRational::one())
        } else {
            Ok(BigRational::zero())
        };
    }
    let bits = base.numer().bits().max(base.denom().bits());
    if bits.saturating_mul(u64::from(p)) > MAX_POW_BITS {
        return Err(EvalError::TooBig);
    }
    let r = num_traits::pow(base, p as usize);
    Ok(if exp.is_negative() { r.recip() } else { r })
}

/// The principal n-th root when it is rational.
pub(crate) fn root(x: &BigRational, n: u32) -> Result<BigRational, EvalError> {
    if n == 0 {
        return Err(EvalError::Irrational);
    }
    if x.is_negative() {
        if n.is_multiple_of(2) {
            return Err(EvalError::Irrational); // not real
        }
        return root(&-x, n).map(|r| -r);
    }
    let exact = |v: &BigInt| -> Option<BigInt> {
        let r = v.nth_root(n);
        (num_traits::pow(r.clone(), n as usize) == *v).then_some(r)
    };
    match (exact(x.numer()), exact(x.denom())) {
        (Some(a), Some(b)) => Ok(BigRational::new(a, b)),
        _ => Err(EvalError::Irrational),
    }
}

impl Expr {
    /// True when some `+`/`-` adds a percentage to a plain number (`200 + 10%`), where `%`
    /// has no single reading.
    pub(crate) fn mixes_percent_in_sum(&self) -> bool {
        match self {
            Expr::Add(a, b) | Expr::Sub(a, b) => {
                a.has_percent() != b.has_percent()
                    || a.mixes_percent_in_sum()
                    || b.mixes_percent_in_sum()
            }
            Expr::Neg(a) | Expr::Root(_, a) | Expr::Percent(a) => a.mixes_percent_in_sum(),
            Expr::Mul(a, b) | Expr::Div(a, b) | Expr::Pow(a, b) => {
                a.mixes_percent_in_sum() || b.mixes_percent_in_sum()
            }
            Expr::Num(_) | Expr::Var(_) | Expr::Const(_) => false,
        }
    }

    pub(crate) fn has_percent(&self) -> bool {
        match self {
            Expr::Percent(_) => true,
            Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) | Expr::Div(a, b) => {
                a.has_percent() || b.has_percent()
            }
            Expr::Pow(a, b) => a.has_percent() || b.has_percent(),
            Expr::Neg(a) | Expr::Root(_, a) => a.has_percent(),
            Expr::Num(_) | Expr::Var(_) | Expr::Const(_) => false,
        }
    }

    /// Names of the variables, in first-occurrence order.
    pub(crate) fn vars(&self, out: &mut Vec<String>) {
        match self {
            Expr::Var(v) => {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) | Expr::Div(a, b) => {
                a.vars(out);
                b.vars(out);
            }
            Expr::Pow(a, b) => {
                a.vars(out);
                b.vars(out);
            }
            Expr::Neg(a) | Expr::Root(_, a) | Expr::Percent(a) => a.vars(out),
            Expr::Num(_) | Expr::Const(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: i64) -> Tok {
        Tok::Num(BigRational::from_integer(v.into()))
    }
    fn op(c: char) -> Tok {
        Tok::Op(c)
    }
    fn q(a: i64, b: i64) -> BigRational {
        BigRational::new(a.into(), b.into())
    }
    fn value(toks: &[Tok]) -> Result<BigRational, EvalError> {
        let e = parse(toks).expect("parses");
        eval(&e, &|_| None, PercentMode::Divide)
    }

    #[test]
    fn precedence_and_associativity() {
        // 2 + 3 * 4 = 14
        assert_eq!(value(&[n(2), op('+'), n(3), op('*'), n(4)]), Ok(q(14, 1)));
        // 10 - 4 - 3 = 3
        assert_eq!(value(&[n(10), op('-'), n(4), op('-'), n(3)]), Ok(q(3, 1)));
        // 2 ^ 3 ^ 2 = 512
        assert_eq!(value(&[n(2), op('^'), n(3), op('^'), n(2)]), Ok(q(512, 1)));
        // -2 ^ 2 = -4
        assert_eq!(value(&[op('-'), n(2), op('^'), n(2)]), Ok(q(-4, 1)));
        // 2 ^ -1 = 1/2
        assert_eq!(value(&[n(2), op('^'), op('-'), n(1)]), Ok(q(1, 2)));
        // 48 / 2 / 3 = 8
        assert_eq!(value(&[n(48), op('/'), n(2), op('/'), n(3)]), Ok(q(8, 1)));
        // 2 (3 + 4) = 14
        let toks = [
            n(2),
            Tok::ImplicitMul,
            Tok::LParen,
            n(3),
            op('+'),
            n(4),
            Tok::RParen,
        ];
        assert_eq!(value(&toks), Ok(q(14, 1)));
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&[]), Err(ParseError::Empty));
        assert_eq!(parse(&[Tok::LParen, n(1)]), Err(ParseError::Unbalanced));
        assert_eq!(parse(&[n(1), Tok::RParen]), Err(ParseError::Unbalanced));
        assert!(parse(&[n(1), n(2)]).is_err());
        assert!(parse(&[n(1), op('+')]).is_err());
        let amb = [n(1), op('/'), n(2), Tok::ImplicitMul, Tok::Var("x".into())];
        assert_eq!(parse(&amb), Err(ParseError::Ambiguous("a / b c")));
        let deep: Vec<Tok> = std::iter::repeat_n(Tok::LParen, 1_000).collect();
        assert_eq!(parse(&deep), Err(ParseError::TooDeep));
        let minus: Vec<Tok> = std::iter::repeat_n(op('-'), 150).chain([n(1)]).collect();
        assert_eq!(value(&minus), Ok(q(1, 1)));
        let minus: Vec<Tok> = std::iter::repeat_n(op('-'), 1_000).chain([n(1)]).collect();
        assert_eq!(parse(&minus), Err(ParseError::TooDeep));
        let long: Vec<Tok> = (0..MAX_TOKENS)
            .flat_map(|_| [n(1), op('+')])
            .chain([n(1)])
            .collect();
        assert_eq!(parse(&long), Err(ParseError::TooLong));
        assert_eq!(
            value(&[n(1), op('/'), n(0)]),
            Err(EvalError::DivisionByZero)
        );
        assert_eq!(value(&[n(10), op('^'), n(100_000)]), Err(EvalError::TooBig));
        assert_eq!(
            value(&[Tok::Var("x".into())]),
            Err(EvalError::Unknown("x".into()))
        );
    }

    #[test]
    fn roots_and_rational_powers() {
        assert_eq!(root(&q(9, 4), 2), Ok(q(3, 2)));
        assert_eq!(root(&q(-27, 1), 3), Ok(q(-3, 1)));
        assert_eq!(root(&q(2, 1), 2), Err(EvalError::Irrational));
        assert_eq!(root(&q(-4, 1), 2), Err(EvalError::Irrational));
        assert_eq!(pow(&q(8, 1), &q(2, 3)), Ok(q(4, 1)));
        assert_eq!(pow(&q(0, 1), &q(0, 1)), Ok(q(1, 1)));
        assert_eq!(pow(&q(0, 1), &q(-1, 1)), Err(EvalError::DivisionByZero));
    }

    #[test]
    fn percent_modes() {
        let e = parse(&[n(50), op('*'), n(20), Tok::Percent]).expect("parses");
        assert_eq!(eval(&e, &|_| None, PercentMode::Divide), Ok(q(10, 1)));
        assert_eq!(eval(&e, &|_| None, PercentMode::Label), Ok(q(1000, 1)));
        assert!(!e.mixes_percent_in_sum());
        let sum = parse(&[n(200), op('+'), n(20), Tok::Percent]).expect("parses");
        assert!(sum.mixes_percent_in_sum());
        let pure = parse(&[n(100), Tok::Percent, op('-'), n(40), Tok::Percent]).expect("parses");
        assert!(!pure.mixes_percent_in_sum());
    }
}
