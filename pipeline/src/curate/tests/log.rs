//! The curation log: written once, resumable, tolerant of a torn tail.

use crate::curate::log::{read, CurationLog, FILE_NAME};
use crate::curate::{CurateError, Matched, Removal, RemovalKind};
use std::io::Write;
use std::path::PathBuf;

fn removal(index: u64) -> Removal {
    Removal {
        problem_id: format!("s-{index}"),
        source: "s".into(),
        index,
        kind: RemovalKind::NearDuplicate,
        matched: Matched::Problem {
            problem_id: "s-0".into(),
        },
        similarity: 0.875,
        ngram: None,
    }
}

#[test]
fn each_removal_is_written_once_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = CurationLog::open(dir.path()).unwrap();
    assert!(log.record(&removal(1)).unwrap());
    assert!(log.record(&removal(2)).unwrap());
    assert!(!log.record(&removal(1)).unwrap(), "already logged");
    log.sync().unwrap();
    drop(log);
    let mut log = CurationLog::open(dir.path()).unwrap();
    assert_eq!(log.len(), 2);
    assert!(!log.record(&removal(2)).unwrap());
    assert!(log.record(&removal(3)).unwrap());
    assert_eq!(log.appended(), 1);
    drop(log);
    let all = read(&dir.path().join(FILE_NAME)).unwrap();
    assert_eq!(all, vec![removal(1), removal(2), removal(3)]);
}

#[test]
fn lines_are_plain_json_with_what_was_matched() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = CurationLog::open(dir.path()).unwrap();
    let contaminated = Removal {
        problem_id: "g-4".into(),
        source: "g".into(),
        index: 4,
        kind: RemovalKind::Contaminated,
        matched: Matched::Benchmark {
            file: PathBuf::from("bench/gsm8k.jsonl"),
            line: 12,
        },
        similarity: 0.5,
        ngram: Some("a b c".into()),
    };
    log.record(&contaminated).unwrap();
    log.record(&removal(5)).unwrap();
    drop(log);
    let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"problem_id": "g-4", "source": "g", "index": 4,
            "kind": "contaminated", "matched": {"file": "bench/gsm8k.jsonl", "line": 12},
            "similarity": 0.5, "ngram": "a b c"})
    );
    assert_eq!(
        lines[1]["matched"],
        serde_json::json!({"problem_id": "s-0"})
    );
    assert_eq!(lines[1]["kind"], "near_duplicate");
    assert!(lines[1].get("ngram").is_none());
}

#[test]
fn a_torn_last_line_is_cut_and_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = CurationLog::open(dir.path()).unwrap();
    log.record(&removal(1)).unwrap();
    drop(log);
    let path = dir.path().join(FILE_NAME);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"{\"problem_id\":\"s-2\",\"sou").unwrap();
    drop(f);
    let mut log = CurationLog::open(dir.path()).unwrap();
    assert_eq!(log.len(), 1);
    assert!(log.record(&removal(2)).unwrap());
    drop(log);
    assert_eq!(read(&path).unwrap(), vec![removal(1), removal(2)]);
}

#[test]
fn a_bad_line_before_the_last_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = CurationLog::open(dir.path()).unwrap();
    log.record(&removal(1)).unwrap();
    log.record(&removal(2)).unwrap();
    drop(log);
    let path = dir.path().join(FILE_NAME);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"kind\"", "\"kin", 1)).unwrap();
    let err = CurationLog::open(dir.path()).unwrap_err();
    assert!(matches!(err, CurateError::LogLine { line: 1, .. }), "{err}");
    assert!(err.to_string().contains(FILE_NAME), "{err}");
}
