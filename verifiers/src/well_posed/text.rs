//! Does the formal statement speak about the text? Every number written in the text must
//! occur among the statement's numerals, and the statement may use no number the text does
//! not give: a numeral of its own is an unstated fact (`answer = 2 * 5` for a text that
//! mentions only 2). The statement may always use 0 and 1; it may use a number word of the
//! text (`twice` 2, `dozen` 12, `half` 2, `seven` 7, …) and 100 where the text has a `%`;
//! a percentage or a fraction of the text may also appear as its value (`0.25` for `25%`).

use super::numeral_of;
use crate::numbers::parse_number;
use crate::smt::sexp::{self, Sexp};
use num_rational::BigRational;
use num_traits::Signed;
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// A number in running text: digits with optional thousands separators and decimals, then an
/// optional `/denominator` or `%`. Numbers glued to letters (`x2`, `1st`) are not numbers.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d+(?:,\d{3})*(?:\.\d+)?)\b(?:(/\d+)\b|(%))?").expect("a valid pattern")
});

/// The text's numbers (as written) that the statement does not contain.
pub(super) fn missing_numbers(text: &str, smt: &str) -> Result<Vec<String>, String> {
    let mut known = HashSet::new();
    for e in sexp::top_level(smt)? {
        collect(&e, &mut known);
    }
    let has = |v: &BigRational| known.contains(&v.abs());
    let mut missing = Vec::new();
    for m in NUMBER.captures_iter(text) {
        let whole = m.get(0).map_or("", |g| g.as_str());
        let Some(digits) = m.get(1).map(|g| g.as_str().replace(',', "")) else {
            continue;
        };
        let Ok(value) = parse_number(&digits) else {
            continue;
        };
        let found = if let Some(den) = m.get(2) {
            let den = parse_number(den.as_str().trim_start_matches('/')).ok();
            den.is_some_and(|d| {
                (d != BigRational::from_integer(0.into()) && has(&(value.clone() / d.clone())))
                    || (has(&value) && has(&d))
            })
        } else if m.get(3).is_some() {
            has(&value) || has(&(value.clone() / BigRational::from_integer(100.into())))
        } else {
            has(&value)
        };
        if !found && !missing.iter().any(|w: &String| w == whole) {
            missing.push(whole.to_string());
        }
    }
    Ok(missing)
}

/// Number words a statement may write as numerals, by the value written.
const WORDS: &[(&str, u32)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
    ("hundred", 100),
    ("thousand", 1000),
    ("million", 1_000_000),
    ("twice", 2),
    ("double", 2),
    ("doubles", 2),
    ("doubled", 2),
    ("half", 2),
    ("halves", 2),
    ("triple", 3),
    ("tripled", 3),
    ("thrice", 3),
    ("third", 3),
    ("thirds", 3),
    ("quarter", 4),
    ("quarters", 4),
    ("dozen", 12),
    ("dozens", 12),
    ("pair", 2),
    ("pairs", 2),
    ("percent", 100),
];

/// The statement's atoms (as written) that are no number of the text (module docs).
pub(super) fn invented_numbers(text: &str, smt: &str) -> Result<Vec<String>, String> {
    let int = |n: u32| BigRational::from_integer(n.into());
    let mut given: HashSet<BigRational> = [int(0), int(1)].into_iter().collect();
    for m in NUMBER.captures_iter(text) {
        let Some(Ok(value)) = m.get(1).map(|g| parse_number(&g.as_str().replace(',', ""))) else {
            continue;
        };
        if let Some(Ok(den)) = m
            .get(2)
            .map(|d| parse_number(d.as_str().trim_start_matches('/')))
        {
            if den != int(0) {
                given.insert(value.clone() / den.clone());
            }
            given.insert(den);
        }
        if m.get(3).is_some() {
            given.insert(value.clone() / int(100));
            given.insert(int(100));
        }
        given.insert(value);
    }
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphabetic()) {
        if let Some((_, v)) = WORDS.iter().find(|(w, _)| *w == word) {
            given.insert(int(*v));
        }
    }
    let mut invented = Vec::new();
    for e in sexp::top_level(smt)? {
        atoms(&e, &mut |atom| {
            if let Some(v) = numeral_of(&Sexp::Atom(atom.to_string())) {
                if !given.contains(&v.abs()) && !invented.iter().any(|w: &String| w == atom) {
                    invented.push(atom.to_string());
                }
            }
        });
    }
    Ok(invented)
}

fn atoms(e: &Sexp, f: &mut impl FnMut(&str)) {
    match e {
        Sexp::Atom(a) => f(a),
        Sexp::List(items) => items.iter().for_each(|i| atoms(i, f)),
    }
}

/// Every numeral of the statement (atoms and `(/ a b)` quotients), by absolute value.
fn collect(e: &Sexp, into: &mut HashSet<BigRational>) {
    if let Some(v) = numeral_of(e) {
        into.insert(v.abs());
    }
    if let Sexp::List(items) = e {
        for item in items {
            collect(item, into);
        }
    }
}
