//! Reads a cleaned final answer (see `clean.rs`) as a structure whose leaves are scalar
//! expressions: tuples, intervals, unions, sets, `name = value`, equations, matrices.
//!
//! Tried in order: `name ∈ S` (the name is dropped); unions (`∪`); lists (top-level commas,
//! `;`, and the words `or`/`and`); inequalities (`-2 ≤ x < 7`, `x > 3`) as intervals;
//! `name = value` (also `f(x) = …` and `(x, y) = (1, 2)`), other equations; `«…»` sets;
//! bracketed lists `(…)`, `[…]`, `[…)`, `(…]`; `∞`; `\begin{pmatrix}` matrices; else a leaf.

/// A final answer's structure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A scalar expression or a word, compared by the leaf comparison.
    Leaf(String),
    /// `∞` (false) or `-∞` (true).
    Infinity(bool),
    /// An ordered list. `open`/`close` are its brackets (`(`, `[`, `)`, `]`), or `' '` for a
    /// bare comma list. Intervals are two-item lists (`[a, b)`), inequalities become them.
    List {
        open: char,
        close: char,
        items: Vec<Value>,
    },
    /// A set `\{…\}`: order and repetition do not matter.
    Set(Vec<Value>),
    /// A union of intervals: order does not matter.
    Union(Vec<Value>),
    /// `name = value` pairs: order does not matter, names must agree.
    Named(Vec<(String, Value)>),
    /// `lhs = rhs` where `lhs` is not a name.
    Equation(String, String),
    /// Rows of cells.
    Matrix(Vec<Vec<Value>>),
}

/// Deepest nesting of structures read.
const MAX_DEPTH: usize = 8;
/// Most items in one list, set or union.
pub(crate) const MAX_ITEMS: usize = 64;

/// Reads a cleaned answer.
pub(crate) fn parse(s: &str) -> Value {
    parse_depth(s, 0)
}

fn parse_depth(raw: &str, depth: usize) -> Value {
    let s = raw.trim();
    if depth > MAX_DEPTH {
        return Value::Leaf(s.to_owned());
    }
    let sub = |t: &str| parse_depth(t, depth + 1);
    if let Some((lhs, rhs)) = split_once_top(s, '∈') {
        if is_name(lhs.trim()) {
            return sub(rhs);
        }
    }
    let union = split_top(s, |c| c == '∪');
    if union.len() > 1 {
        return Value::Union(union.iter().map(|p| sub(p)).collect());
    }
    let parts = split_list(s);
    if parts.len() > 1 {
        return list(parts.iter().map(|p| sub(p)).collect());
    }
    if let Some((lhs, rhs)) = split_once_top(s, '±') {
        let (l, r) = (lhs.trim(), rhs.trim());
        let items = if l.is_empty() {
            vec![format!("({r})"), format!("-({r})")]
        } else {
            vec![format!("{l}+({r})"), format!("{l}-({r})")]
        };
        return bare(items.iter().map(|t| sub(t)).collect());
    }
    if let Some(v) = inequality(s, depth) {
        return v;
    }
    if let Some(v) = equation(s, depth) {
        return v;
    }
    if let Some(inner) = s.strip_prefix('«').and_then(|x| x.strip_suffix('»')) {
        if enclosing(s) {
            let items = split_top_with(inner, |c| c == ',' || c == ';', false);
            if inner.trim().is_empty() {
                return Value::Set(Vec::new());
            }
            return Value::Set(items.iter().map(|p| sub(p)).collect());
        }
    }
    if s == "∅" {
        return Value::Set(Vec::new());
    }
    let chars: Vec<char> = s.chars().collect();
    if let (Some(&open @ ('(' | '[')), Some(&close @ (')' | ']'))) = (chars.first(), chars.last()) {
        if enclosing(s) {
            let inner: String = chars[1..chars.len() - 1].iter().collect();
            let items = split_top_with(&inner, |c| c == ',' || c == ';', false);
            if items.len() > 1 {
                return Value::List {
                    open,
                    close,
                    items: items.iter().map(|p| sub(p)).collect(),
                };
            }
            if open == '(' && close == ')' {
                return sub(&inner);
            }
        }
    }
    match s {
        "∞" | "+∞" => return Value::Infinity(false),
        "-∞" | "−∞" => return Value::Infinity(true),
        _ => {}
    }
    if let Some(m) = matrix(s, depth) {
        return m;
    }
    Value::Leaf(s.to_owned())
}

/// A list of parts: solutions of one name (`x = 1, x = 2`) become a bare list of values;
/// distinct names a `Named`; inequalities a union; anything else a bare list.
fn list(items: Vec<Value>) -> Value {
    let named: Option<Vec<(String, Value)>> = items
        .iter()
        .map(|v| match v {
            Value::Named(p) if p.len() == 1 => Some(p[0].clone()),
            _ => None,
        })
        .collect();
    if let Some(named) = named {
        let first = &named[0].0;
        if named.iter().all(|(n, _)| n == first) {
            return bare(named.into_iter().map(|(_, v)| v).collect());
        }
        return Value::Named(named);
    }
    let interval = |v: &Value| matches!(v, Value::List { open, items, .. } if *open != ' ' && items.len() == 2 && items.iter().any(|i| matches!(i, Value::Infinity(_))));
    if items.iter().all(interval) {
        return Value::Union(items);
    }
    bare(items)
}

fn bare(items: Vec<Value>) -> Value {
    Value::List {
        open: ' ',
        close: ' ',
        items,
    }
}

/// True for a name: letters, digits and `_`, starting with a letter, optionally with
/// arguments (`f(x)`).
pub(crate) fn is_name(s: &str) -> bool {
    let (head, args) = match s.split_once('(') {
        Some((h, rest)) => (h, Some(rest)),
        None => (s, None),
    };
    let ident = |t: &str| {
        let mut cs = t.trim().chars();
        cs.next().is_some_and(|c| c.is_alphabetic())
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    ident(head)
        && args.is_none_or(|a| {
            a.strip_suffix(')')
                .is_some_and(|inner| inner.split(',').all(ident))
        })
}

/// `lhs = rhs`.
fn equation(s: &str, depth: usize) -> Option<Value> {
    let (lhs, rhs) = split_once_top(s, '=')?;
    let (lhs, rhs) = (lhs.trim(), rhs.trim());
    if rhs.contains('=') || lhs.is_empty() || rhs.is_empty() {
        return None;
    }
    if is_name(lhs) {
        return Some(Value::Named(vec![(
            lhs.to_owned(),
            parse_depth(rhs, depth + 1),
        )]));
    }
    // `(x, y) = (1, 2)` is the ordered pair `(1, 2)`.
    if let (Value::List { items: names, .. }, values @ Value::List { .. }) =
        (parse_depth(lhs, depth + 1), parse_depth(rhs, depth + 1))
    {
        let all_names = names
            .iter()
            .all(|n| matches!(n, Value::Leaf(t) if is_name(t)));
        if all_names && matches!(&values, Value::List { items, .. } if items.len() == names.len()) {
            return Some(values);
        }
    }
    Some(Value::Equation(lhs.to_owned(), rhs.to_owned()))
}

/// An inequality chain as an interval: `a < x ≤ b`, `x > a`, `a ≥ x`.
fn inequality(s: &str, depth: usize) -> Option<Value> {
    let ops = |c: char| matches!(c, '<' | '>' | '≤' | '≥');
    let parts = split_top(s, ops);
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let found: Vec<char> = s.chars().filter(|c| ops(*c)).collect();
    let less = found.iter().all(|c| matches!(c, '<' | '≤'));
    let greater = found.iter().all(|c| matches!(c, '>' | '≥'));
    if !(less || greater) || parts.iter().any(|p| p.trim().is_empty()) {
        return None;
    }
    let closed: Vec<bool> = found.iter().map(|c| matches!(c, '≤' | '≥')).collect();
    let leaf = |t: &str| parse_depth(t, depth + 1);
    let (lo, lo_closed, hi, hi_closed) = if parts.len() == 3 {
        if !is_name(parts[1].trim()) {
            return None;
        }
        let (a, b) = (leaf(parts[0]), leaf(parts[2]));
        if less {
            (a, closed[0], b, closed[1])
        } else {
            (b, closed[1], a, closed[0])
        }
    } else {
        let (l, r) = (parts[0].trim(), parts[1].trim());
        let var_left = is_name(l);
        if var_left == is_name(r) {
            return None;
        }
        // `x < a` and `a > x` are (-∞, a); `x > a` and `a < x` are (a, ∞).
        let bound = leaf(if var_left { r } else { l });
        if var_left == less {
            (Value::Infinity(true), false, bound, closed[0])
        } else {
            (bound, closed[0], Value::Infinity(false), false)
        }
    };
    Some(Value::List {
        open: if lo_closed { '[' } else { '(' },
        close: if hi_closed { ']' } else { ')' },
        items: vec![lo, hi],
    })
}

/// `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` (also `bmatrix`, `matrix`, `Bmatrix`).
fn matrix(s: &str, depth: usize) -> Option<Value> {
    let rest = s.strip_prefix("\\begin")?.trim_start();
    let (kind, rest) = rest.strip_prefix('{')?.split_once('}')?;
    if !matches!(kind, "pmatrix" | "bmatrix" | "matrix" | "Bmatrix") {
        return None;
    }
    let body = rest.trim_end().strip_suffix(&format!("\\end{{{kind}}}"))?;
    let rows: Vec<Vec<Value>> = body
        .split("\\\\")
        .filter(|r| !r.trim().is_empty())
        .map(|r| r.split('&').map(|c| parse_depth(c, depth + 1)).collect())
        .collect();
    (!rows.is_empty()).then_some(Value::Matrix(rows))
}

/// True when the first character's bracket closes at the last character.
fn enclosing(s: &str) -> bool {
    let n = s.chars().count();
    let mut depth = 0i32;
    for (i, c) in s.chars().enumerate() {
        match c {
            '(' | '[' | '{' | '«' => depth += 1,
            ')' | ']' | '}' | '»' => {
                depth -= 1;
                if depth == 0 && i != n - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// Splits at top-level commas and `;` (not thousands separators) and the words `or`/`and`.
fn split_list(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for part in split_top(s, |c| c == ',' || c == ';') {
        out.extend(split_words(part));
    }
    out
}

fn split_words(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        let cut = [" or ", " and "]
            .iter()
            .filter_map(|w| rest.find(w).map(|i| (i, w.len())))
            .min();
        match cut {
            Some((i, len)) => {
                out.push(&rest[..i]);
                rest = &rest[i + len..];
            }
            None => {
                out.push(rest);
                return out;
            }
        }
    }
}

fn split_once_top(s: &str, sep: char) -> Option<(&str, &str)> {
    let parts = split_top(s, |c| c == sep);
    (parts.len() == 2).then(|| (parts[0], parts[1]))
}

/// Splits at characters `is_sep` outside brackets. A comma between a digit and exactly three
/// digits (`1,234`) is a thousands separator, not a split.
pub(crate) fn split_top(s: &str, is_sep: impl Fn(char) -> bool) -> Vec<&str> {
    split_top_with(s, is_sep, true)
}

/// [`split_top`], with the thousands rule only when `thousands` (inside brackets `(1,234)` is a
/// pair).
fn split_top_with(s: &str, is_sep: impl Fn(char) -> bool, thousands: bool) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' | '«' => depth += 1,
            ')' | ']' | '}' | '»' => depth -= 1,
            c if depth == 0 && is_sep(c) => {
                let after = &s[i + c.len_utf8()..];
                let digits = after.chars().take_while(char::is_ascii_digit).count();
                let thousands = thousands
                    && c == ','
                    && prev.is_ascii_digit()
                    && digits == 3
                    && !after[3..].starts_with(|d: char| d.is_ascii_digit() || d == '.');
                if !thousands {
                    parts.push(&s[start..i]);
                    start = i + c.len_utf8();
                }
            }
            _ => {}
        }
        prev = c;
    }
    parts.push(&s[start..]);
    parts
}
