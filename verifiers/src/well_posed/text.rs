//! Does the formal statement speak about the text? Every number written in the text must
//! occur among the statement's numerals.

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
