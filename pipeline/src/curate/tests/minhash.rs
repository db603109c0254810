//! MinHash estimates and the LSH index.

use super::words;
use crate::curate::minhash::{similarity, LshIndex, MinHasher};
use crate::curate::normalize::{normalize, shingles};
use std::collections::HashSet;

fn jaccard(a: &str, b: &str, n: usize) -> f64 {
    let a: HashSet<&str> = shingles(a, n).into_iter().collect();
    let b: HashSet<&str> = shingles(b, n).into_iter().collect();
    a.intersection(&b).count() as f64 / a.union(&b).count() as f64
}

#[test]
fn estimate_is_close_to_the_true_jaccard() {
    let hasher = MinHasher::new(5, 112);
    let base = words("w", 200);
    // Replace a growing tail of the text with other words: the true similarity falls from ~1
    // to 0; the estimate follows within 4 standard errors of 112 samples (≤ 0.19).
    for replaced in [0, 10, 40, 80, 120, 200] {
        let mut other = base.clone();
        for (i, w) in other.iter_mut().rev().take(replaced).enumerate() {
            *w = format!("x{i}");
        }
        let (a, b) = (base.join(" "), other.join(" "));
        let truth = jaccard(&a, &b, 5);
        let estimate = similarity(&hasher.signature(&a), &hasher.signature(&b));
        let sigma = (truth * (1.0 - truth) / 112.0).sqrt();
        assert!(
            (estimate - truth).abs() <= 4.0 * sigma + 1e-9,
            "replaced {replaced}: estimate {estimate}, true {truth}"
        );
    }
}

#[test]
fn signatures_are_deterministic() {
    let text = normalize("Tom has 3 apples and buys 4 more. How many apples does he have now?");
    let a = MinHasher::new(5, 112).signature(&text);
    let b = MinHasher::new(5, 112).signature(&text);
    assert_eq!(a, b);
    assert_eq!(a.len(), 112);
    // Pinned: a change to the hash family would silently change every run's decisions.
    assert_eq!(&a[..2], &PINNED_PREFIX);
}

/// The first two values of the signature in `signatures_are_deterministic`.
const PINNED_PREFIX: [u32; 2] = [233_383_973, 122_820_775];

/// A 40-word problem-like text.
fn forty_words() -> Vec<String> {
    "a farmer has 17 cows and 23 sheep on his farm he sells 5 cows at the market \
     on monday and buys 12 sheep on tuesday from his neighbour how many animals does the \
     farmer have on his farm now"
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[test]
fn lsh_finds_a_near_duplicate_with_one_word_changed() {
    let hasher = MinHasher::new(5, 14 * 8);
    let text = forty_words();
    assert_eq!(text.len(), 40);
    let mut index = LshIndex::new(14, 8);
    let kept = index.insert(&hasher.signature(&text.join(" ")));
    // One word changed near the end: 34 of 38 shingles shared (Jaccard 0.89).
    let mut edited = text.clone();
    edited[38] = "today".into();
    let edited = edited.join(" ");
    assert!((jaccard(&text.join(" "), &edited, 5) - 34.0 / 38.0).abs() < 1e-9);
    let (id, s) = index
        .best_match(&hasher.signature(&edited), 0.8)
        .expect("near duplicate found");
    assert_eq!(id, kept);
    assert!(s >= 0.8, "{s}");
    // One word changed in the middle touches 5 shingles: Jaccard 31/41 ≈ 0.76, below the
    // default threshold; the estimate says so too.
    let mut middle = text.clone();
    middle[20] = "tuesday".into();
    let middle = middle.join(" ");
    let truth = jaccard(&text.join(" "), &middle, 5);
    assert!((truth - 31.0 / 41.0).abs() < 1e-9, "{truth}");
    let estimate = similarity(
        &hasher.signature(&text.join(" ")),
        &hasher.signature(&middle),
    );
    assert!((estimate - truth).abs() < 0.17, "{estimate} vs {truth}");
}

#[test]
fn lsh_does_not_pair_unrelated_texts() {
    let hasher = MinHasher::new(5, 112);
    let mut index = LshIndex::new(14, 8);
    for i in 0..200 {
        let text = words(&format!("t{i}x"), 40).join(" ");
        let sig = hasher.signature(&text);
        assert_eq!(index.best_match(&sig, 0.8), None, "text {i}");
        index.insert(&sig);
    }
    assert_eq!(index.len(), 200);
    // The same text again is found, as entry 17.
    let again = hasher.signature(&words("t17x", 40).join(" "));
    assert_eq!(index.best_match(&again, 0.8), Some((17, 1.0)));
}

#[test]
fn candidates_come_from_shared_buckets_only() {
    let mut index = LshIndex::new(2, 2);
    let a = index.insert(&[1, 2, 3, 4]);
    let b = index.insert(&[1, 2, 9, 9]);
    let c = index.insert(&[7, 7, 3, 4]);
    assert_eq!(index.candidates(&[1, 2, 3, 4]), vec![a, b, c]);
    assert_eq!(index.candidates(&[1, 2, 0, 0]), vec![a, b]);
    assert_eq!(index.candidates(&[0, 0, 0, 0]), Vec::<u32>::new());
    // Similarities 1.0 (a) and 0.5 (b): the best at threshold 0.5 is a; b alone below 0.6.
    assert_eq!(index.best_match(&[1, 2, 3, 4], 0.5), Some((a, 1.0)));
    assert_eq!(index.best_match(&[1, 2, 9, 0], 0.6), Some((b, 0.75)));
    assert_eq!(index.best_match(&[1, 2, 0, 0], 0.6), None);
    assert_eq!(index.signature(c), &[7, 7, 3, 4]);
}
