//! Finding arithmetic claims (`a op b = c`, chains `a = b = c`, GSM8K `<<a*b=c>>`) in text.
//!
//! A claim is a run of arithmetic tokens containing `=` (see [`super::runs`] for how runs are
//! delimited and when a side is dropped because the prose may have cut it). What remains must
//! have two sides and an operation to be checked; `x = 5` alone is a definition, recorded so
//! that claims using `x` can be evaluated. GSM8K annotations are calculator claims: always
//! checked, with no cutting.

use super::lex::{latex_to_plain, lex, Kind, Token};
use super::runs::{runs, Run};
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
    /// most a definition. Always true for annotations.
    pub has_operation: bool,
    /// A GSM8K calculator annotation: checked exactly, without rounding leeway.
    pub calculator: bool,
    /// The rest of the line mentions a remainder (`13 / 6 = 2 ... with a remainder of 1`):
    /// an integer quotient is then not a false claim.
    pub remainder_follows: bool,
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
                let run = Run {
                    toks: toks.clone(),
                    ctx: &toks,
                    start: 0,
                    end: toks.len(),
                };
                chain_from_run(&run, inner, line, Some(whole), &mut found);
            }
        }
        let prose = ANNOTATION.replace_all(raw, "");
        let prose = LIST_MARKER.replace(&prose, "");
        if !prose.contains('=') {
            continue;
        }
        if prose.len() > MAX_LINE_BYTES {
            found
                .unparsed
                .push((line, "(line too long to check)".to_owned()));
            continue;
        }
        let plain = latex_to_plain(&prose);
        let toks = lex(&plain, false);
        for run in runs(&toks) {
            chain_from_run(&run, &plain, line, None, &mut found);
        }
    }
    found
}

/// Prose lines longer than this are not checked (counted as skipped): lexing cost must stay
/// bounded on hostile input.
const MAX_LINE_BYTES: usize = 20_000;

fn is_op(t: &Token) -> bool {
    matches!(t.kind, Kind::Math(Tok::Op(_) | Tok::ImplicitMul))
}

/// Turns one run into a chain (or nothing). `annotation` is the whole `<<...>>` of a calculator
/// annotation, which is never cut.
fn chain_from_run(run: &Run, text: &str, line: usize, annotation: Option<&str>, found: &mut Found) {
    let mut sides: Vec<&[Token]> = run.toks.split(|t| t.kind == Kind::Eq).collect();
    if annotation.is_none() {
        if sides.first().is_some_and(|f| run.first_side_cut(f)) {
            sides.remove(0);
        }
        if sides.last().is_some_and(|l| run.last_side_cut(l)) {
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
            let b = sides[last].last().map_or(a, |t| t.end);
            text.get(a..b).unwrap_or("").to_owned()
        }
    };
    // A calculator annotation is always a claim, even `<<6=6>>`.
    let has_operation = annotation.is_some()
        || sides.iter().any(|s| {
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
        calculator: annotation.is_some(),
        remainder_follows: annotation.is_none() && {
            let rest = run.ctx.get(run.end..).unwrap_or(&[]);
            rest.iter()
                .any(|t| matches!(&t.kind, Kind::Word(w) if w.starts_with("remain")))
        },
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
    fn unit_words_are_dropped() {
        assert_eq!(
            texts("30 snakes * 3 birds/snake = 90 birds"),
            ["30 snakes * 3 birds/snake = 90"]
        );
        assert_eq!(
            texts("6 apples + 5 apples * 2 = 16 apples"),
            ["6 apples + 5 apples * 2 = 16"]
        );
        assert_eq!(
            texts("6 apples + 5 apples = 11 apples"),
            ["6 apples + 5 apples = 11"]
        );
        assert!(texts("29 + 24 decorations already up = 83").is_empty());
        assert!(texts("4.5 gallons = 4.5 * 8 = 36 pints")
            .iter()
            .all(|t| t == "4.5 * 8 = 36"));
        assert_eq!(
            texts("105 years / 3 = 35 years/person"),
            ["105 years / 3 = 35"]
        );
        assert_eq!(
            texts("$3456 / 4 accounts = $864/account"),
            ["3456 / 4 accounts = $864"]
        );
        assert_eq!(texts("$15/hour = 15*7 = $105"), ["15*7 = $105"]);
        assert_eq!(
            texts("3 inches + 6 inches + 1 inch * 2 = 11"),
            ["3 inches + 6 inches + 1 inch * 2 = 11"]
        );
        assert_eq!(
            texts("20 students x $4/day = $80."),
            ["20 students x $4/day = $80"]
        );
        assert!(texts("We know J = 4 N, so").is_empty());
        // Mixed units in a sum are not read as plain numbers.
        assert!(texts("2 hours + 30 minutes = 150 minutes").is_empty());
        // After `=`, a unit word ends the claim: `= 7 days * 2` is not `7 * 2`.
        assert_eq!(
            texts("3 + 4 = 7 days, 7 days * 2 = 14"),
            ["3 + 4 = 7", "7 days * 2 = 14"]
        );
        assert!(texts("4 + 3 = 7 days * 2 = 14 days").is_empty());
    }

    #[test]
    fn cut_sides_are_dropped() {
        assert!(texts("She has 6 apples - 3 eaten = 3").is_empty());
        assert!(texts("12 divided by 4 + 2 = 5").is_empty());
        assert_eq!(texts("a total of 4 + 2 = 6"), ["4 + 2 = 6"]);
        assert_eq!(texts("it increased by 4 + 2 = 6"), ["4 + 2 = 6"]);
        assert!(texts("half of 10 + 4 = 9").is_empty());
        assert!(texts("3 + 4 = 7 times 2").is_empty());
        assert_eq!(texts("5*11 = 55 times."), ["5*11 = 55"]);
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
