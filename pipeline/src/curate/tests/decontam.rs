//! Decontamination against benchmark files.

use super::fixture;
use crate::curate::decontam::BenchmarkIndex;
use crate::curate::normalize::normalize;
use crate::curate::{BenchmarkFile, CurateError};
use std::path::{Path, PathBuf};

const NATALIA: &str = "Natalia sold clips to 48 of her friends in April, and then she sold half \
    as many clips in May. How many clips did Natalia sell altogether in April and May?";

fn gsm8k_index() -> BenchmarkIndex {
    let files = [BenchmarkFile {
        path: PathBuf::from("gsm8k_sample.jsonl"),
        field: Some("question".into()),
    }];
    BenchmarkIndex::load(&files, &fixture(""), 13, 1).expect("fixture loads")
}

#[test]
fn a_planted_question_is_found_verbatim() {
    let index = gsm8k_index();
    assert_eq!(index.items(), 6);
    let c = index.check(&normalize(NATALIA)).expect("contaminated");
    assert_eq!(c.item.file, Path::new("gsm8k_sample.jsonl"));
    assert_eq!(c.item.line, 1);
    assert_eq!(
        c.ngram,
        "natalia sold clips to 48 of her friends in april and then she"
    );
    assert_eq!(c.share, 1.0);
}

#[test]
fn small_edits_do_not_hide_a_question() {
    let index = gsm8k_index();
    // A changed number and name, an added preamble: a 13-word run survives.
    let edited = "Question: Natalia sold clips to 52 of her friends in April, and then she \
        sold half as many clips in May. How many clips did Maria sell altogether in April and May?";
    let c = index.check(&normalize(edited)).expect("still contaminated");
    assert_eq!(c.item.line, 1);
    assert!(c.share < 1.0, "{}", c.share);
    // Case, spacing and punctuation are folded before the n-grams are taken.
    let shouted = "WENG EARNS $12 AN HOUR FOR BABYSITTING;  YESTERDAY SHE JUST DID 50 MINUTES \
        OF BABYSITTING — HOW MUCH DID SHE EARN";
    assert_eq!(
        index.check(&normalize(shouted)).map(|c| c.item.line),
        Some(2)
    );
}

#[test]
fn a_fresh_problem_is_not_contaminated() {
    let index = gsm8k_index();
    let fresh = "Natalia bought 48 pencils in April and gave half of them to her friends in \
        May. How many pencils does she have left at the end of May?";
    assert_eq!(index.check(&normalize(fresh)), None);
    // A 13-word run is one shared 13-gram; a 12-word run shares none.
    let thirteen = "Natalia sold clips to 48 of her friends in April and then she bought \
        cookies for everyone";
    assert!(index.check(&normalize(thirteen)).is_some());
    let twelve = "Natalia sold clips to 48 of her friends in April and then bought cookies";
    assert_eq!(index.check(&normalize(twelve)), None);
}

#[test]
fn min_overlap_needs_that_many_distinct_ngrams() {
    let files = [BenchmarkFile {
        path: PathBuf::from("gsm8k_sample.jsonl"),
        field: Some("question".into()),
    }];
    let index = BenchmarkIndex::load(&files, &fixture(""), 13, 3).unwrap();
    // Exactly 13 shared words: one shared 13-gram.
    let one = "Natalia sold clips to 48 of her friends in April and then she bought cookies";
    assert_eq!(index.check(&normalize(one)), None);
    // 15 shared words: three.
    let three = "Natalia sold clips to 48 of her friends in April and then she sold half of them";
    assert_eq!(index.check(&normalize(three)).map(|c| c.overlap), Some(3));
}

#[test]
fn humaneval_prompts_and_plain_text_files() {
    let files = [
        BenchmarkFile {
            path: PathBuf::from("humaneval_sample.jsonl"),
            field: Some("prompt".into()),
        },
        BenchmarkFile {
            path: PathBuf::from("items.txt"),
            field: None,
        },
    ];
    let index = BenchmarkIndex::load(&files, &fixture(""), 13, 1).unwrap();
    // 3 prompts + 3 non-blank lines.
    assert_eq!(index.items(), 6);
    let code = "Write has_close_elements: Check if in given list of numbers, are any two \
        numbers closer to each other than given threshold.";
    let c = index
        .check(&normalize(code))
        .expect("HumanEval prompt found");
    assert_eq!(
        (c.item.file.as_path(), c.item.line),
        (Path::new("humaneval_sample.jsonl"), 1)
    );
    let train = "A train leaves the station at nine in the morning travelling at sixty miles \
        per hour. When does it arrive?";
    let c = index.check(&normalize(train)).expect("text item found");
    assert_eq!(
        (c.item.file.as_path(), c.item.line),
        (Path::new("items.txt"), 1)
    );
    // Line numbers count blank lines.
    let primes = "How many prime numbers are there between ten and fifty inclusive?";
    assert_eq!(
        index.check(&normalize(primes)).map(|c| c.item.line),
        Some(3)
    );
}

#[test]
fn short_texts_match_only_whole() {
    let files = [BenchmarkFile {
        path: PathBuf::from("items.txt"),
        field: None,
    }];
    let index = BenchmarkIndex::load(&files, &fixture(""), 13, 1).unwrap();
    // "Short item here" has fewer than 13 words: it is one n-gram, the whole item.
    assert_eq!(
        index
            .check(&normalize("short item, here!"))
            .map(|c| c.item.line),
        Some(4)
    );
    assert_eq!(index.check(&normalize("Short item")), None);
    assert_eq!(
        index.check(&normalize(
            "Short item here and then some more words follow it"
        )),
        None
    );
}

#[test]
fn bad_files_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.jsonl"),
        "{\"question\": \"fine\"}\n\n{\"q\": \"x\"}\n",
    )
    .unwrap();
    let files = [BenchmarkFile {
        path: PathBuf::from("b.jsonl"),
        field: Some("question".into()),
    }];
    let err = BenchmarkIndex::load(&files, dir.path(), 13, 1).unwrap_err();
    assert!(
        matches!(err, CurateError::Benchmark { line: 3, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("b.jsonl") && text.contains("no field `question`"),
        "{text}"
    );

    std::fs::write(dir.path().join("n.jsonl"), "{\"question\": 3}\n").unwrap();
    let files = [BenchmarkFile {
        path: PathBuf::from("n.jsonl"),
        field: Some("question".into()),
    }];
    let text = BenchmarkIndex::load(&files, dir.path(), 13, 1)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("line 1") && text.contains("not a string (found a number)"),
        "{text}"
    );

    let files = [BenchmarkFile {
        path: PathBuf::from("missing.txt"),
        field: None,
    }];
    let text = BenchmarkIndex::load(&files, dir.path(), 13, 1)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("missing.txt") && text.contains("cannot read"),
        "{text}"
    );
}

#[test]
fn gzipped_jsonl_is_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        std::fs::read(fixture("gsm8k_sample.jsonl"))
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    std::fs::write(dir.path().join("g.jsonl.gz"), gz.finish().unwrap()).unwrap();
    let files = [BenchmarkFile {
        path: PathBuf::from("g.jsonl.gz"),
        field: Some("question".into()),
    }];
    let index = BenchmarkIndex::load(&files, dir.path(), 13, 1).unwrap();
    assert_eq!(
        index.check(&normalize(NATALIA)).map(|c| c.item.line),
        Some(1)
    );
}
