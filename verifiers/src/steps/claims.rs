//! Finding arithmetic claims (`a op b = c`, chains `a = b = c`, GSM8K `<<a*b=c>>`) in text.
//!
//! A claim is a maximal run of arithmetic tokens containing `=`. Runs are cut by words and
//! punctuation, so `5 hours = 300 minutes` holds no claim. Because a cut can truncate an
//! expression, a side is dropped (not checked) when its text may be incomplete:
//!
//! * the first side starts with a binary operator after a word (`6 apples + 5 = 11`), or
//!   follows a multiplicative word (`3 times 4 + 2 = 14`, `half of 10 + 4 = 9`);
//! * the last side ends with an operator, or is followed by a scale word (`7*2 = 14 billion`);
//! * a side is next to an approximation marker (`≈`, `~`, `...`).
//!
//! What remains must have two sides and an operation to be checked; `x = 5` alone is a
//! definition, recorded so that claims using `x` can be evaluated.

use super::lex::{latex_to_plain, lex, Kind, Token};
use crate::expr::{parse, Expr, Tok};
use regex::Regex;
use std::sync::LazyLock;

static ANNOTATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<<([^<>\n]{0,500})>>").unwrap_or_else(|e| panic!("static regex: {e}"))
});
static LIST_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:(?:\d{1,3}|[a-zA-Z])[.)]|[-*•+]|#{1,6}|>)\s+")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// Words after which an expression may have been cut on the left.
const LEFT_CUT_WORDS: &[&str] = &[
    "times", "of", "by", "per", "half", "twice", "double", "triple", "thrice", "quarter",
    "third", "thirds", "over", "into", "divided", "multiplied", "plus", "minus", "less", "more",
    "than", "and", "from", "squared", "cubed", "sqrt", "root", "product", "sum", "difference",
    "quotient", "ratio",
];
/// Words before which an expression may continue on the right.
const RIGHT_CUT_WORDS: &[&str] = &[
    "times", "squared", "cubed", "hundred", "thousand", "million", "billion", "trillion",
    "dozen", "dozens", "percent", "k", "m", "bn",
];

/// One side of a claim.
#[derive(Debug, Clone)]
pub(super) struct Side {
    pub expr: Expr,
    /// `Some(decimals written)` when the side is a lone numeral (optionally with `%`).
    pub literal_decimals: Option<usize>,
    /// The side is a single unknown (`x` in `x = 5`).
    pub lone_var: Option<String>,
}

/// A chain `s0 = s1 = ...` as found in the text.
#[derive(Debug, Clone)]
pub(super) struct Chain {
    /// 1-based line number.
    pub line: usize,
    /// The claim as written.
    pub text: String,
    pub sides: Vec<Side>,
    /// Whether some side computes something (an operator or `%`); otherwise the chain is at
    /// most a definition.
    pub has_operation: bool,
}

/// What extraction found.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub chains: Vec<Chain>,
    /// Claim-like text that could not be parsed (counted as skipped).
    pub unparsed: Vec<(usize, String)>,
}

/// Finds all claims in `text`.
pub(super) fn extract(text: &str) -> Found {
    let mut found = Found::default();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        if !raw.contains('=') {
            continue;
        }
        for cap in ANNOTATION.captures_iter(raw) {
            let inner = cap.get(1).map_or("", |m| m.as_str());
            if inner.contains('=') {
                let toks = lex(inner, true);
                let whole = cap.get(0).map_or("", |m| m.as_str());
                chain_from_run(&toks, inner, None, None, line, Some(whole), &mut found);
            }
        }
        let prose = ANNOTATION.replace_all(raw, "");
        let prose = LIST_MARKER.replace(&prose, "");
        if !prose.contains('=') {
            continue;
        }
        let plain = latex_to_plain(&prose);
        let toks = lex(&plain, false);
        let mut k = 0;
        while k < toks.len() {
            if !toks[k].is_math() {
                k += 1;
                continue;
            }
            let start = k;
            while k < toks.len() && toks[k].is_math() {
                k += 1;
            }
            let run = &toks[start..k];
            if run.iter().any(|t| t.kind == Kind::Eq) {
                let before = start.checked_sub(1).map(|p| &toks[p]);
                chain_from_run(run, &plain, before, toks.get(k), line, None, &mut found);
            }
        }
    }
    found
}

fn is_cut_word(t: Option<&Token>, words: &[&str]) -> bool {
    matches!(t.map(|t| &t.kind), Some(Kind::Word(w)) if words.contains(&w.as_str()))
}

fn is_op(t: &Token) -> bool {
    matches!(t.kind, Kind::Math(Tok::Op(_) | Tok::ImplicitMul))
}

/// Turns one run of arithmetic tokens into a chain (or nothing).
fn chain_from_run(
    run: &[Token],
    text: &str,
    before: Option<&Token>,
    after: Option<&Token>,
    line: usize,
    annotation: Option<&str>,
    found: &mut Found,
) {
    let mut sides: Vec<&[Token]> = run.split(|t| t.kind == Kind::Eq).collect();
    // The first side: empty (`Total = 5 + 3 = 8`), cut on the left, or after `≈`.
    if let Some(first) = sides.first() {
        let cut = match first.first() {
            None => true,
            Some(t) if is_op(t) => {
                let unary = matches!(t.kind, Kind::Math(Tok::Op('-' | '+')))
                    && first.get(1).is_some_and(|n| !n.space_before)
                    && !matches!(before.map(|b| &b.kind), Some(Kind::Word(_)));
                !unary
            }
            Some(_) => {
                is_cut_word(before, LEFT_CUT_WORDS)
                    || matches!(before.map(|b| &b.kind), Some(Kind::Approx))
            }
        };
        if cut {
            sides.remove(0);
        }
    }
    if let Some(last) = sides.last() {
        let cut = match last.last() {
            None => true,
            Some(t) if is_op(t) => true,
            Some(_) => {
                is_cut_word(after, RIGHT_CUT_WORDS)
                    || matches!(after.map(|a| &a.kind), Some(Kind::Approx))
            }
        };
        if cut {
            sides.pop();
        }
    }
    if sides.len() < 2 {
        return;
    }
    let last = sides.len() - 1;
    for (n, side) in sides.iter_mut().enumerate() {
        *side = trim_unmatched_parens(side, n == 0, n == last);
    }
    let span_text = match annotation {
        Some(a) => a.to_owned(),
        None => {
            let a = sides[0].first().map_or(0, |t| t.start);
            let b = sides[sides.len() - 1].last().map_or(a, |t| t.end);
            text.get(a..b).unwrap_or("").to_owned()
        }
    };
    let has_operation = sides.iter().any(|s| {
        s.iter()
            .any(|t| is_op(t) || t.kind == Kind::Math(Tok::Percent))
    });
    let mut parsed = Vec::with_capacity(sides.len());
    for side in &sides {
        let toks: Vec<Tok> = side
            .iter()
            .filter_map(|t| match &t.kind {
                Kind::Math(tok) => Some(tok.clone()),
                _ => None,
            })
            .collect();
        let Ok(expr) = parse(&toks) else {
            if has_operation {
                found.unparsed.push((line, span_text));
            }
            return;
        };
        let literal_decimals = match toks.as_slice() {
            [Tok::Num(_)] | [Tok::Num(_), Tok::Percent] => side.first().map(|t| t.decimals),
            _ => None,
        };
        let lone_var = match toks.as_slice() {
            [Tok::Var(v)] => Some(v.clone()),
            _ => None,
        };
        parsed.push(Side {
            expr,
            literal_decimals,
            lone_var,
        });
    }
    found.chains.push(Chain {
        line,
        text: span_text,
        sides: parsed,
        has_operation,
    });
}

/// Drops a `(` that opens before the claim (on the first side) and a `)` that closes after it
/// (on the last side): `(so 5 + 3 = 8)`.
fn trim_unmatched_parens(mut side: &[Token], first: bool, last: bool) -> &[Token] {
    let is = |t: &Token, p: Tok| t.kind == Kind::Math(p);
    let balance = |s: &[Token]| -> i64 {
        s.iter()
            .map(|t| {
                if is(t, Tok::LParen) {
                    1
                } else if is(t, Tok::RParen) {
                    -1
                } else {
                    0
                }
            })
            .sum()
    };
    while first && balance(side) > 0 && side.first().is_some_and(|t| is(t, Tok::LParen)) {
        side = &side[1..];
    }
    while last && balance(side) < 0 && side.last().is_some_and(|t| is(t, Tok::RParen)) {
        side = &side[..side.len() - 1];
    }
    side
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        extract(s)
            .chains
            .into_iter()
            .filter(|c| c.has_operation)
            .map(|c| c.text)
            .collect()
    }

    #[test]
    fn finds_prose_and_annotation_claims() {
        let t = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nSo 48+24 = 72.";
        assert_eq!(texts(t), ["<<48/2=24>>", "48/2 = 24", "48+24 = 72"]);
        let found = extract(t);
        assert_eq!(found.chains[2].line, 2);
    }

    #[test]
    fn cut_sides_are_dropped() {
        assert!(texts("6 apples + 5 apples = 11 apples").is_empty());
        assert!(texts("3 times 4 + 2 = 14").is_empty());
        assert!(texts("He travels 7*2=14 billion miles").is_empty());
        assert!(texts("10/3 ≈ 3.33").is_empty());
        assert_eq!(texts("Total = 5 + 3 = 8"), ["5 + 3 = 8"]);
        assert_eq!(texts("(so 5 + 3 = 8)"), ["5 + 3 = 8"]);
        assert!(texts("It is -3 + 5 = 2").is_empty());
        assert_eq!(texts("-3 + 5 = 2"), ["-3 + 5 = 2"]);
    }

    #[test]
    fn definitions_are_chains_without_operations() {
        let found = extract("x = 4");
        assert_eq!(found.chains.len(), 1);
        assert!(!found.chains[0].has_operation);
        assert_eq!(found.chains[0].sides[0].lone_var.as_deref(), Some("x"));
    }

    #[test]
    fn list_markers_times_and_dates_are_not_claims() {
        assert_eq!(texts("1. 5 + 3 = 8"), ["5 + 3 = 8"]);
        assert!(texts("Meet at 3:00 = 15:00").is_empty());
        assert!(texts("On 1/2/2020 = day one").is_empty());
    }

    #[test]
    fn unparsable_claims_are_counted() {
        let found = extract("5 + (3 = 8 + )");
        assert!(found.chains.is_empty());
        assert_eq!(found.unparsed.len(), 1);
    }
}
