//! Deterministic randomness: problem `index` of source `name` under run seed `seed` draws from
//! its own ChaCha8 stream, so any problem can be regenerated alone (resume, sharding).
//!
//! The stream is keyed by SHA-256 of (seed, name, index), which is stable across platforms and
//! Rust versions (unlike `std`'s hashers). The draws themselves follow `rand`'s algorithms, which
//! `Cargo.lock` pins: upgrading `rand` may change which problem an index names.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// The random stream for one problem.
pub fn rng_for(seed: u64, name: &str, index: u64) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(b"smelt/source/v1\0");
    h.update(seed.to_le_bytes());
    h.update((name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update(index.to_le_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(&h.finalize());
    ChaCha8Rng::from_seed(key)
}

/// A uniform integer in `lo..=hi`.
pub fn int(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    rng.random_range(lo..=hi)
}

/// A uniform nonzero integer in `lo..=hi` (the range must contain a nonzero value).
pub fn nonzero(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    loop {
        let v = rng.random_range(lo..=hi);
        if v != 0 {
            return v;
        }
    }
}

/// One element of a non-empty slice.
pub fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// True with probability `p`.
pub fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random_bool(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_depend_on_seed_name_and_index() {
        let first = |seed, name, index| rng_for(seed, name, index).next_u64();
        assert_eq!(first(1, "a", 0), first(1, "a", 0));
        assert_ne!(first(1, "a", 0), first(2, "a", 0));
        assert_ne!(first(1, "a", 0), first(1, "b", 0));
        assert_ne!(first(1, "a", 0), first(1, "a", 1));
        // The name is length-prefixed, so ("ab", ...) and ("a", ...) cannot collide by concatenation.
        assert_ne!(first(1, "ab", 0), first(1, "a", 0));
    }
}
