//! Normalisation and shingles.

use crate::curate::normalize::*;

#[test]
fn case_spacing_and_prose_punctuation_are_folded() {
    assert_eq!(
        normalize("  What is  2+3?\n\tAnswer, please!  "),
        "what is 2+3 answer please"
    );
    assert_eq!(normalize("“Quoted” — text…"), "quoted text");
    assert_eq!(normalize("ÄPFEL Über"), "äpfel über");
    // NFKC: full-width digits and letters are their plain forms.
    assert_eq!(normalize("Ｘ＝１２"), "x=12");
}

#[test]
fn numbers_and_math_punctuation_are_kept() {
    assert_ne!(normalize("What is 2+3?"), normalize("What is 2+4?"));
    assert_ne!(normalize("(3 + 4) × 5"), normalize("3 + (4 × 5)"));
    assert_ne!(normalize("6 * 3"), normalize("6 / 3"));
    assert_ne!(normalize("x - 3 = 5"), normalize("x + 3 = 5"));
    assert_ne!(normalize("3.5"), normalize("35"));
    assert_eq!(normalize("Solve: 2x - 1 = 7."), "solve 2x - 1 = 7");
}

#[test]
fn shingles_are_word_windows() {
    let t = normalize("a b c d");
    assert_eq!(shingles(&t, 2), vec!["a b", "b c", "c d"]);
    assert_eq!(shingles(&t, 4), vec!["a b c d"]);
    // Fewer words than n: the whole text is one shingle.
    assert_eq!(shingles(&t, 5), vec!["a b c d"]);
    assert_eq!(shingles("", 5), vec![""]);
    assert_eq!(word_count(&t), 4);
    assert_eq!(word_count(""), 0);
}

#[test]
fn stable_hash_is_fixed() {
    // xxh3_64 of the empty input, a published constant: the hash is the same everywhere.
    assert_eq!(stable_hash(b""), 0x2d06_8005_38d3_94c2);
    assert_ne!(stable_hash(b"a b"), stable_hash(b"a c"));
}
