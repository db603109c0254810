//! Text normalisation for curation: two problems that differ only in case, spacing, Unicode
//! presentation or prose punctuation normalise to the same text.
//!
//! Steps, in order:
//! 1. NFKC (compatibility composition: full-width digits, ligatures and the like become their
//!    plain forms);
//! 2. Unicode-aware lowercase;
//! 3. prose punctuation (Unicode category P: `. , ; : ! ? ' "`, curly quotes, dashes, …) becomes
//!    a word break; the punctuation that carries meaning in mathematics and code stays:
//!    brackets `( ) [ ] { }` and `* / % - \ # & @ _`. Symbols (category S: `+ = < > ^ $ ×`)
//!    are not punctuation and stay too;
//! 4. whitespace runs collapse to one space, with none at either end.
//!
//! Numbers are kept as written: "2+3" and "2+4" are different problems. A `.` or `,` inside a
//! number is a word break like any other, so "3.5" becomes "3 5" (still distinct from "35").

use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// Unicode punctuation except the characters listed in the module docs.
static PROSE_PUNCTUATION: LazyLock<regex::Regex> = LazyLock::new(|| {
    // A fixed pattern, checked by the tests: building it cannot fail.
    regex::Regex::new(r"[\p{P}--[()\[\]{}*/%\-\\#&@_]]+").expect("valid pattern")
});

/// The normalised form of `text` (see the module docs): words separated by single spaces.
pub fn normalize(text: &str) -> String {
    let folded: String = text.nfkc().collect::<String>().to_lowercase();
    let spaced = PROSE_PUNCTUATION.replace_all(&folded, " ");
    let mut out = String::with_capacity(spaced.len());
    for word in spaced.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The word n-grams ("shingles") of a normalised text, as slices of it: every window of `n`
/// consecutive words, in order, joined by their single spaces. A text of fewer than `n` words
/// (the empty text included) is one shingle, the whole text, so every text has at least one.
pub fn shingles(normalized: &str, n: usize) -> Vec<&str> {
    let n = n.max(1);
    // Byte ranges of the words (the text has single spaces and no leading/trailing space).
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, b) in normalized.bytes().enumerate() {
        if b == b' ' {
            spans.push((start, i));
            start = i + 1;
        }
    }
    if !normalized.is_empty() {
        spans.push((start, normalized.len()));
    }
    if spans.len() < n {
        return vec![normalized];
    }
    spans
        .windows(n)
        .map(|w| &normalized[w[0].0..w[n - 1].1])
        .collect()
}

/// The number of words of a normalised text.
pub fn word_count(normalized: &str) -> usize {
    if normalized.is_empty() {
        0
    } else {
        normalized.bytes().filter(|&b| b == b' ').count() + 1
    }
}

/// A 64-bit hash of `bytes`, the same on every machine and every run (xxHash3, seed 0).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}
