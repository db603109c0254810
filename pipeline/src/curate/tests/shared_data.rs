//! Decontamination against the real GSM8K and HumanEval files in `../shared/data`, when
//! present (skipped with a message otherwise; the fixtures cover the same paths).

use crate::curate::decontam::BenchmarkIndex;
use crate::curate::normalize::normalize;
use crate::curate::BenchmarkFile;
use std::path::PathBuf;

fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

/// The `field` of line `line` (1-based) of a JSONL file, read independently of the index.
fn item(path: &std::path::Path, line: usize, field: &str) -> String {
    use std::io::{BufRead, BufReader, Read};
    let file = std::fs::File::open(path).unwrap();
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let text = BufReader::new(reader)
        .lines()
        .nth(line - 1)
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v[field].as_str().unwrap().to_owned()
}

#[test]
fn gsm8k_train_and_humaneval_find_planted_items() {
    let (Some(gsm), Some(he)) = (
        shared("gsm8k/train.jsonl"),
        shared("humaneval/HumanEval.jsonl.gz"),
    ) else {
        return;
    };
    let files = [
        BenchmarkFile {
            path: gsm.clone(),
            field: Some("question".into()),
        },
        BenchmarkFile {
            path: he.clone(),
            field: Some("prompt".into()),
        },
    ];
    let index = BenchmarkIndex::load(&files, std::path::Path::new("."), 13, 1).unwrap();
    assert_eq!(index.items(), 7473 + 164);
    // Verbatim and lightly edited GSM8K questions are found at their own line.
    for line in [1, 500, 7473] {
        let q = item(&gsm, line, "question");
        let c = index.check(&normalize(&q)).expect("verbatim");
        assert_eq!(
            (c.item.file.as_path(), c.item.line),
            (gsm.as_path(), line as u64)
        );
        let edited = format!("Solve this: {}", q.replacen(' ', "  ", 3).to_uppercase());
        assert!(
            index.check(&normalize(&edited)).is_some(),
            "edited line {line}"
        );
    }
    // A HumanEval prompt planted in a problem statement.
    let prompt = item(&he, 100, "prompt");
    let c = index
        .check(&normalize(&format!("Complete the function.\n{prompt}")))
        .expect("HumanEval prompt");
    assert_eq!((c.item.file.as_path(), c.item.line), (he.as_path(), 100));
    // Fresh problems are not contaminated.
    for fresh in [
        "A bakery sells 14 loaves on Monday and 3 times as many on Tuesday. If each loaf costs \
         $4, how much money does the bakery make over the two days?",
        "Find all integers n such that n^2 + 3n + 2 is divisible by 7 and 0 < n < 50.",
    ] {
        assert_eq!(index.check(&normalize(fresh)), None, "{fresh}");
    }
}
