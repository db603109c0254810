//! Runs: maximal stretches of arithmetic tokens in a line, and whether the prose around a run
//! may hide part of it.
//!
//! A run is cut by words and punctuation, except unit words between a number and an operator
//! before the first `=` (`30 snakes * 3 birds/snake = 90`), which are dropped. Units right
//! before `=` are dropped only when the side already computes something (`4.5 gallons = 4.5 * 8
//! = 36` is a conversion, not `4.5 = 36`). Units next to `+`/`-` must name the same unit
//! (`2 hours + 30 minutes = 150` is not read as `2 + 30`).
//!
//! Because a cut can truncate an expression, a side is dropped (not checked) when its text may
//! be incomplete:
//!
//! * the first side starts with a binary operator after a word (`apples - 3 = 7`), follows an
//!   operator word (`3 times 4 + 2 = 14`, `half of 10 + 4 = 9`, `12 divided by 4 + 2 = 5`),
//!   follows unit words after an operator, or is a lone integer right after a word
//!   (`Section 2 = x + 200`, a label);
//! * the last side ends with an operator, is followed by a scale word (`= 14 billion`), by
//!   `times` and a number, by unit words and an operator (`6W / 6 = 30 feet / 6`), or converts
//!   dollars to cents (`$1 / 2 = 50 cents`);
//! * a side is next to an approximation marker (`≈`, `~`, `...`).

use super::lex::{Kind, Token};
use crate::expr::Tok;

/// Words that make the expression before them part of the claim (`3 times 4 + 2`).
const LEFT_CUT_WORDS: &[&str] = &[
    "x",
    "times",
    "plus",
    "minus",
    "over",
    "divided",
    "multiplied",
    "squared",
    "cubed",
    "sqrt",
    "root",
    "half",
    "twice",
    "double",
    "triple",
    "thrice",
    "quarter",
    "third",
    "thirds",
    "than",
];
/// Words after which `of`/`by` make the preceding quantity a factor (`half of`, `divided by`).
const FACTOR_WORDS: &[&str] = &[
    "half",
    "halves",
    "third",
    "thirds",
    "quarter",
    "quarters",
    "fourth",
    "fourths",
    "fifth",
    "fifths",
    "sixth",
    "sixths",
    "eighth",
    "eighths",
    "tenth",
    "tenths",
    "twice",
    "double",
    "triple",
    "percent",
    "fraction",
    "product",
    "multiple",
    "divided",
    "multiplied",
    "times",
    "square",
    "cube",
    "root",
    "x",
];
/// Scale words after a result: `= 14 billion` may or may not be in the same scale as the left.
const SCALE_WORDS: &[&str] = &[
    "hundred",
    "thousand",
    "million",
    "billion",
    "trillion",
    "dozen",
    "dozens",
    "percent",
    "k",
    "bn",
    "squared",
    "cubed",
    "hundreds",
    "thousands",
    "millions",
    "billions",
    "half",
    "halves",
    "thirds",
    "quarters",
];
/// Words that are never dropped as units: verbs, conjunctions, prepositions, operator words.
const NOT_UNITS: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "equals",
    "equal",
    "gives",
    "give",
    "makes",
    "make",
    "so",
    "then",
    "thus",
    "hence",
    "which",
    "that",
    "this",
    "these",
    "those",
    "it",
    "and",
    "or",
    "to",
    "of",
    "than",
    "from",
    "by",
    "with",
    "for",
    "in",
    "on",
    "at",
    "as",
    "if",
    "but",
    "because",
    "since",
    "times",
    "plus",
    "minus",
    "over",
    "into",
    "divided",
    "multiplied",
    "less",
    "more",
    "has",
    "have",
    "had",
    "get",
    "gets",
    "got",
    "not",
    "no",
    "the",
    "an",
    "we",
    "he",
    "she",
    "they",
    "you",
    "i",
    "will",
    "would",
    "can",
    "could",
    "should",
    "already",
    "up",
    "down",
    "altogether",
    "together",
    "now",
    "still",
    "only",
    "just",
    "all",
    "also",
    "too",
    "left",
    "remaining",
    "a",
    "#",
];
/// Words after which a dollar amount was converted to cents.
const CENT_WORDS: &[&str] = &["cents", "cent", "pennies"];

/// A run of arithmetic tokens and where it sits in its line's tokens.
pub(super) struct Run<'a> {
    /// The run's tokens, unit words dropped.
    pub toks: Vec<Token>,
    /// All tokens of the line (or annotation).
    pub ctx: &'a [Token],
    /// `ctx[start..end]` is the run's stretch (including dropped unit words).
    pub start: usize,
    pub end: usize,
}

fn word(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.kind) {
        Some(Kind::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

fn is_op(t: &Token) -> bool {
    matches!(t.kind, Kind::Math(Tok::Op(_) | Tok::ImplicitMul))
}

fn is_binary_op(t: Option<&Token>) -> bool {
    matches!(t.map(|t| &t.kind), Some(Kind::Math(Tok::Op(_))))
}

fn is_operand_end(t: Option<&Token>) -> bool {
    matches!(
        t.map(|t| &t.kind),
        Some(Kind::Math(Tok::Num(_) | Tok::Percent | Tok::RParen))
    )
}

/// Whether two unit words name the same unit (`inch`/`inches`, `box`/`boxes`).
fn same_word(a: &str, b: &str) -> bool {
    let plural =
        |p: &str, s: &str| p.strip_suffix('s') == Some(s) || p.strip_suffix("es") == Some(s);
    a == b || plural(a, b) || plural(b, a)
}

/// Two unit phrases agree when they share a word (`total meters` and `meters`).
fn same_unit(a: &[&str], b: &[&str]) -> bool {
    a.iter().any(|x| b.iter().any(|y| same_word(x, y)))
}

/// Collects the run starting at `ctx[start]` (a math token). With `absorb`, unit words are
/// dropped as described in the module docs. Returns `None` when absorbing mixed units in a sum.
fn collect(ctx: &[Token], start: usize, absorb: bool) -> Option<(Vec<Token>, usize)> {
    let mut toks: Vec<Token> = Vec::new();
    let mut additive_units: Vec<Vec<&str>> = Vec::new();
    let mut seen_eq = false;
    let mut k = start;
    let is_unit = |t: &Token| matches!(&t.kind, Kind::Word(w) if !NOT_UNITS.contains(&w.as_str()) && !SCALE_WORDS.contains(&w.as_str()));
    while k < ctx.len() {
        let t = &ctx[k];
        if t.is_math() {
            seen_eq |= t.kind == Kind::Eq;
            toks.push(t.clone());
            k += 1;
            continue;
        }
        let last_is_slash = matches!(toks.last().map(|t| &t.kind), Some(Kind::Math(Tok::Op('/'))));
        if seen_eq || !absorb {
            // `= $864/account`: a trailing `/unit` is not division.
            if last_is_slash && is_unit(t) {
                toks.pop();
            }
            break;
        }
        // Unit words after a number, then an operator (`30 snakes * 3`), or after `/` as the
        // rest of a rate (`3 birds/snake =`).
        let n = ctx[k..].iter().take(4).take_while(|t| is_unit(t)).count();
        let next = ctx.get(k + n);
        let op_next = matches!(next.map(|t| &t.kind), Some(Kind::Math(Tok::Op(_))));
        let eq_next = matches!(next.map(|t| &t.kind), Some(Kind::Eq));
        // Before `=`, only when the side already computes something: `$15/hour = 15*7` is a
        // rate restated, not `15 = 15*7`.
        let side_has_op = toks.len() > 1 && toks[..toks.len() - 1].iter().any(is_op);
        let ratio = last_is_slash && n <= 3 && (op_next || (eq_next && side_has_op));
        let unit = is_operand_end(toks.last()) && (op_next || (eq_next && side_has_op && n <= 3));
        if n == 0 || !(ratio || unit) {
            if last_is_slash && n > 0 {
                toks.pop();
            }
            break;
        }
        if ratio {
            toks.pop(); // `birds/snake`: the `/snake` is part of the unit
        } else {
            let words: Vec<&str> = ctx[k..k + n].iter().filter_map(|t| word(Some(t))).collect();
            let op_before = toks.len().checked_sub(2).and_then(|p| toks.get(p));
            let additive = |t: Option<&Token>| {
                matches!(t.map(|t| &t.kind), Some(Kind::Math(Tok::Op('+' | '-'))))
            };
            if additive(next) || additive(op_before) {
                additive_units.push(words);
            }
        }
        k += n;
    }
    if additive_units.windows(2).any(|w| !same_unit(&w[0], &w[1])) {
        return None;
    }
    Some((toks, k))
}

/// Finds the runs containing `=` in a line's tokens.
pub(super) fn runs(ctx: &[Token]) -> Vec<Run<'_>> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < ctx.len() {
        if !ctx[k].is_math() {
            k += 1;
            continue;
        }
        let (toks, end) = collect(ctx, k, true)
            .or_else(|| collect(ctx, k, false))
            .unwrap_or_default();
        let end = end.max(k + 1);
        if toks.iter().any(|t| t.kind == Kind::Eq) {
            out.push(Run {
                toks,
                ctx,
                start: k,
                end,
            });
        }
        k = end;
    }
    out
}

impl Run<'_> {
    fn before(&self, n: usize) -> Option<&Token> {
        self.start.checked_sub(n).map(|p| &self.ctx[p])
    }

    fn after(&self, n: usize) -> Option<&Token> {
        self.ctx.get(self.end + n)
    }

    /// The first non-word token before the run, looking back over at most three words.
    fn before_words(&self) -> Option<&Token> {
        self.ctx[..self.start]
            .iter()
            .rev()
            .take(4)
            .find(|t| !matches!(t.kind, Kind::Word(_)))
    }

    /// The first non-word token after the run, looking ahead over at most three words.
    fn after_words(&self) -> Option<&Token> {
        self.ctx[self.end..]
            .iter()
            .take(4)
            .find(|t| !matches!(t.kind, Kind::Word(_)))
    }

    /// Whether the prose before the run may hide part of its first side.
    pub fn first_side_cut(&self, first: &[Token]) -> bool {
        let before = self.before(1);
        let before_word = word(before);
        match first.first() {
            None => true,
            Some(t) if is_op(t) => {
                let unary = matches!(t.kind, Kind::Math(Tok::Op('-' | '+')))
                    && first.get(1).is_some_and(|n| !n.space_before)
                    && before_word.is_none();
                !unary
            }
            Some(_) => {
                let lone_integer = matches!(first, [t] if matches!(t.kind, Kind::Math(Tok::Num(_)))
                    && t.decimals == 0 && !t.dollar);
                let operator_word = match before_word {
                    Some("of" | "by") => {
                        let w2 = self.before(2);
                        is_operand_end(w2) || word(w2).is_some_and(|w| FACTOR_WORDS.contains(&w))
                    }
                    Some(w) => LEFT_CUT_WORDS.contains(&w),
                    None => false,
                };
                operator_word
                    || matches!(before.map(|b| &b.kind), Some(Kind::Approx))
                    // `6 apples x 2/3 = 4`: an operator before the words.
                    || (before_word.is_some() && is_binary_op(self.before_words()))
                    // `.8 + . 84 + .82`: a stray `.` inside an expression.
                    || (matches!(before.map(|b| &b.kind), Some(Kind::Punct))
                        && is_binary_op(self.before(2)))
                    // `Section 2 = x + 200`: a label, not a value.
                    || (lone_integer && before_word.is_some())
            }
        }
    }

    /// Whether the prose after the run may continue its last side.
    pub fn last_side_cut(&self, last: &[Token]) -> bool {
        let after = self.after(0);
        let after_word = word(after);
        match last.last() {
            None => true,
            Some(t) if is_op(t) => true,
            Some(_) => {
                let dollars = self.toks.iter().any(|t| t.dollar);
                let times_number = after_word == Some("times")
                    && matches!(
                        self.after(1).map(|t| &t.kind),
                        Some(Kind::Math(Tok::Num(_)))
                    );
                // `30 feet / 6`: the expression continues after a unit word (but `11 miles/hour`
                // is a rate).
                let op_after_words = self.after_words().filter(|t| is_binary_op(Some(t)));
                let continues = op_after_words.is_some_and(|op| {
                    let rate = op.kind == Kind::Math(Tok::Op('/'))
                        && self.ctx[self.end..]
                            .iter()
                            .skip_while(|t| matches!(t.kind, Kind::Word(_)))
                            .nth(1)
                            .is_some_and(|t| matches!(t.kind, Kind::Word(_)));
                    !rate
                });
                // `J = 4 N`: a letter after the value is probably an unknown.
                let letter = after_word
                    .is_some_and(|w| w.len() == 1 && w.chars().all(|c| c.is_ascii_alphabetic()));
                after_word.is_some_and(|w| SCALE_WORDS.contains(&w))
                    || times_number
                    || letter
                    || matches!(after.map(|a| &a.kind), Some(Kind::Approx))
                    || (after_word.is_some() && continues)
                    // `$1 / 2 = 50 cents`: a unit conversion.
                    || (dollars && after_word.is_some_and(|w| CENT_WORDS.contains(&w)))
            }
        }
    }
}
