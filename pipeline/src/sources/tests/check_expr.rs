//! A small independent parser for rendered arithmetic (`+ - × ÷`, parentheses, `(-7)`), so the
//! tests can check that the text a model sees has the value of the reference.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;

/// The exact value of `text` under the usual precedence (× ÷ before + −, left to right).
pub fn evaluate(text: &str) -> Result<BigRational, String> {
    let tokens: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut p = Parser { tokens, pos: 0 };
    let v = p.expr()?;
    if p.pos != p.tokens.len() {
        return Err(format!("trailing input at {} in `{text}`", p.pos));
    }
    Ok(v)
}

struct Parser {
    tokens: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.tokens.get(self.pos).copied()
    }

    fn expr(&mut self) -> Result<BigRational, String> {
        let mut v = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.pos += 1;
            let r = self.term()?;
            v = if op == '+' { v + r } else { v - r };
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<BigRational, String> {
        let mut v = self.factor()?;
        while let Some(op @ ('×' | '÷')) = self.peek() {
            self.pos += 1;
            let r = self.factor()?;
            if op == '×' {
                v *= r;
            } else if r.is_zero() {
                return Err("division by zero".into());
            } else {
                v /= r;
            }
        }
        Ok(v)
    }

    fn factor(&mut self) -> Result<BigRational, String> {
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                let v = self.expr()?;
                if self.peek() != Some(')') {
                    return Err(format!("expected `)` at {}", self.pos));
                }
                self.pos += 1;
                Ok(v)
            }
            Some('-') => {
                self.pos += 1;
                Ok(-self.factor()?)
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits: String = self.tokens[start..self.pos].iter().collect();
                let n: BigInt = digits.parse().map_err(|e| format!("{digits}: {e}"))?;
                Ok(BigRational::from_integer(n))
            }
            other => Err(format!("unexpected {other:?} at {}", self.pos)),
        }
    }
}

#[test]
fn precedence_and_parentheses() {
    let v = |s| evaluate(s).expect("parses");
    let int = |n: i64| BigRational::from_integer(BigInt::from(n));
    assert_eq!(v("2 + 3 × 4"), int(14));
    assert_eq!(v("(2 + 3) × 4"), int(20));
    assert_eq!(v("20 - 5 - 3"), int(12));
    assert_eq!(v("20 - (5 - 3)"), int(18));
    assert_eq!(v("48 ÷ 4 ÷ 2"), int(6));
    assert_eq!(v("(-7) × 3"), int(-21));
}
