//! `my-smelt`: the full smelt CLI plus one verifier of our own.

mod max_words;

use max_words::{MaxWords, MaxWordsConfig};

fn main() {
    let mut registry = smelt::registry::Registry::builtin();
    registry.register(MaxWordsConfig::KIND, MaxWords::new);
    std::process::exit(smelt::cli::main_with(registry));
}
