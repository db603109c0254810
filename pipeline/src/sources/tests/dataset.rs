//! Dataset sources: the GSM8K fixture, gzip, Parquet written here, the shared full datasets
//! when present, and the error messages for bad input.

use crate::env::crate_dir;
use crate::sources::{build, ProblemSource, SourceEntry, SourceError};
use arrow::array::{ArrayRef, Float64Array, Int64Array, ListBuilder, StringArray, StringBuilder};
use arrow::record_batch::RecordBatch;
use smelt_verifiers::TestSpec;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn entry(toml_text: &str) -> SourceEntry {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("bad test entry: {e}"))
}

fn jsonl_entry(path: &Path, more: &str) -> SourceEntry {
    entry(&format!(
        "name = 'gsm8k'\ntype = 'jsonl'\ntemplate = 't.j2'\npath = {:?}\n{more}",
        path.display().to_string()
    ))
}

fn load(e: &SourceEntry) -> Result<Box<dyn ProblemSource>, SourceError> {
    build(e, &crate_dir(), 0)
}

fn load_err(e: &SourceEntry) -> String {
    match load(e) {
        Ok(_) => panic!("expected an error loading {:?}", e.path),
        Err(err) => err.to_string(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

const MINI: &str = "tests/fixtures/gsm8k_mini.jsonl";

#[test]
fn gsm8k_fixture() {
    let s = load(&jsonl_entry(Path::new(MINI), "answer_after = '####'")).expect("loads");
    assert_eq!(s.len(), Some(20));
    let p = s.problem(0).expect("row 0");
    assert_eq!(p.id, "gsm8k-0");
    assert_eq!(p.reference.as_deref(), Some("72"));
    assert!(p.text.starts_with("Natalia sold clips"));
    assert_eq!(
        s.problem(15).expect("row 15").reference.as_deref(),
        Some("448000")
    );
    assert!(matches!(
        s.problem(20),
        Err(SourceError::OutOfRange { index: 20, .. })
    ));
}

#[test]
fn gzip_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mini.jsonl.gz");
    let raw = std::fs::read(crate_dir().join(MINI)).expect("fixture");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).expect("compress");
    std::fs::write(&path, gz.finish().expect("compress")).expect("write");
    let s = load(&jsonl_entry(&path, "answer_after = '####'")).expect("loads");
    assert_eq!(s.len(), Some(20));
    assert_eq!(
        s.problem(1).expect("row 1").reference.as_deref(),
        Some("10")
    );
}

#[test]
fn column_mapping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "d.jsonl",
        concat!(
            r#"{"q": "1+1?", "a": 2, "key": "k1", "smt": "(declare-const answer Int)", "lvl": 3}"#,
            "\n\n",
            r#"{"q": "2+2?", "a": " 4 ", "key": 7, "smt": "", "lvl": "hard"}"#,
            "\n",
        ),
    );
    let more = "question_field='q'\nanswer_field='a'\nid_field='key'\nconstraints_field='smt'\nextra_fields=['lvl']";
    let s = load(&jsonl_entry(&path, more)).expect("loads");
    assert_eq!(s.len(), Some(2));
    let (a, b) = (s.problem(0).expect("0"), s.problem(1).expect("1"));
    assert_eq!((a.id.as_str(), a.reference.as_deref()), ("k1", Some("2")));
    assert_eq!((b.id.as_str(), b.reference.as_deref()), ("7", Some("4")));
    assert_eq!(a.constraints.as_deref(), Some("(declare-const answer Int)"));
    assert_eq!(a.extra.get("lvl").map(String::as_str), Some("3"));
    assert_eq!(b.extra.get("lvl").map(String::as_str), Some("hard"));
}

#[test]
fn code_dataset_has_tests_and_no_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "code.jsonl",
        concat!(
            r#"{"prompt": "def f(x):\n", "test": "def check(candidate):\n    assert candidate(1) == 2\n", "entry_point": "f", "task_id": "T/0"}"#,
            "\n",
            r#"{"prompt": "def g(x):\n", "test": ["assert g(1) == 1"], "entry_point": "g", "task_id": "T/1"}"#,
            "\n",
        ),
    );
    let more = "question_field='prompt'\ntests_field='test'\nentry_point_field='entry_point'\nid_field='task_id'";
    let s = load(&jsonl_entry(&path, more)).expect("loads");
    let a = s.problem(0).expect("0");
    assert_eq!(a.reference, None);
    assert_eq!(a.entry_point.as_deref(), Some("f"));
    assert!(matches!(&a.tests, Some(TestSpec::Check { code }) if code.contains("def check")));
    let b = s.problem(1).expect("1");
    assert_eq!(
        b.tests,
        Some(TestSpec::Asserts {
            asserts: vec!["assert g(1) == 1".into()]
        })
    );
    assert_eq!(b.id, "T/1");
}

#[test]
fn bad_jsonl_names_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = r#"{"question": "q", "answer": "1"}"#;
    let cases = [
        ("missing.jsonl", None, "cannot open"),
        (
            "json.jsonl",
            Some(format!("{ok}\n{ok}\n{{\"question\": \n")),
            "line 3: invalid JSON",
        ),
        (
            "noanswer.jsonl",
            Some(format!("{ok}\n{{\"question\": \"q\"}}\n")),
            "line 2: missing `answer`",
        ),
        (
            "null.jsonl",
            Some("{\"question\": \"q\", \"answer\": null}\n".to_owned()),
            "line 1: missing `answer`",
        ),
        (
            "type.jsonl",
            Some(format!("{ok}\n{{\"question\": 5, \"answer\": \"1\"}}\n")),
            "line 2: `question` is a number; expected a string",
        ),
        (
            "array.jsonl",
            Some("[1, 2]\n".to_owned()),
            "line 1: expected a JSON object",
        ),
        ("dup.jsonl", Some(format!("{ok}\n{ok}\n")), ""),
        ("blank.jsonl", Some("\n\n".to_owned()), "has no rows"),
        (
            "empty.jsonl",
            Some("{\"question\": \"q\", \"answer\": \"  \"}\n".to_owned()),
            "line 1: `answer` is empty",
        ),
    ];
    for (name, text, expected) in cases {
        let path = match text {
            Some(t) => write(dir.path(), name, &t),
            None => dir.path().join(name),
        };
        let e = jsonl_entry(&path, "");
        if name == "dup.jsonl" {
            // Without id_field the ids are row numbers: duplicates are fine.
            assert!(load(&e).is_ok());
            continue;
        }
        let msg = load_err(&e);
        assert!(msg.contains(name), "{msg}");
        assert!(msg.contains(expected), "{name}: `{msg}` lacks `{expected}`");
    }
}

#[test]
fn answer_after_marker_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "m.jsonl",
        "{\"question\": \"q\", \"answer\": \"So 5\"}\n",
    );
    let msg = load_err(&jsonl_entry(&path, "answer_after = '####'"));
    assert!(
        msg.contains("line 1: `answer` has no `####` marker"),
        "{msg}"
    );
    let path = write(
        dir.path(),
        "e.jsonl",
        "{\"question\": \"q\", \"answer\": \"So 5\\n####  \"}\n",
    );
    let msg = load_err(&jsonl_entry(&path, "answer_after = '####'"));
    assert!(msg.contains("empty after the last `####`"), "{msg}");
    let path = write(
        dir.path(),
        "t.jsonl",
        "{\"question\": \"q\", \"answer\": \"#### 1\\n#### 1,234 \"}\n",
    );
    let s = load(&jsonl_entry(&path, "answer_after = '####'")).expect("loads");
    assert_eq!(s.problem(0).expect("0").reference.as_deref(), Some("1,234"));
}

#[test]
fn duplicate_ids_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let row = r#"{"id": "a", "question": "q", "answer": "1"}"#;
    let path = write(dir.path(), "d.jsonl", &format!("{row}\n{row}\n"));
    let msg = load_err(&jsonl_entry(&path, "id_field = 'id'"));
    assert!(
        msg.contains("line 2: id `a` repeats the id of line 1"),
        "{msg}"
    );
}

fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let file = std::fs::File::create(path).expect("create");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

fn parquet_entry(path: &Path, more: &str) -> SourceEntry {
    entry(&format!(
        "name = 'pq'\ntype = 'parquet'\ntemplate = 't.j2'\npath = {:?}\n{more}",
        path.display().to_string()
    ))
}

#[test]
fn parquet_reads_strings_integers_and_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("d.parquet");
    let mut tests = ListBuilder::new(StringBuilder::new());
    tests.values().append_value("assert f() == 1");
    tests.append(true);
    tests.append(true);
    write_parquet(
        &path,
        vec![
            (
                "question",
                Arc::new(StringArray::from(vec!["a?", "b?"])) as ArrayRef,
            ),
            (
                "answer",
                Arc::new(Int64Array::from(vec![12, -3])) as ArrayRef,
            ),
            ("tests", Arc::new(tests.finish()) as ArrayRef),
            (
                "unused",
                Arc::new(Float64Array::from(vec![0.5, 1.5])) as ArrayRef,
            ),
        ],
    );
    let s = load(&parquet_entry(
        &path,
        "answer_field = 'answer'\ntests_field = 'tests'",
    ))
    .expect("loads");
    assert_eq!(s.len(), Some(2));
    let a = s.problem(0).expect("0");
    assert_eq!(
        (a.id.as_str(), a.text.as_str(), a.reference.as_deref()),
        ("pq-0", "a?", Some("12"))
    );
    assert_eq!(
        a.tests,
        Some(TestSpec::Asserts {
            asserts: vec!["assert f() == 1".into()]
        })
    );
    assert_eq!(s.problem(1).expect("1").reference.as_deref(), Some("-3"));
}

#[test]
fn bad_parquet_names_file_row_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nulls.parquet");
    write_parquet(
        &path,
        vec![
            (
                "question",
                Arc::new(StringArray::from(vec![Some("a?"), Some("b?")])) as ArrayRef,
            ),
            (
                "answer",
                Arc::new(StringArray::from(vec![Some("1"), None])) as ArrayRef,
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![0.5, 1.5])) as ArrayRef,
            ),
        ],
    );
    let msg = load_err(&parquet_entry(&path, ""));
    assert!(
        msg.contains("nulls.parquet: row 1: missing `answer`"),
        "{msg}"
    );
    let msg = load_err(&parquet_entry(&path, "question_field = 'prompt'"));
    assert!(
        msg.contains("no column `prompt` (columns: question, answer, score)"),
        "{msg}"
    );
    let msg = load_err(&parquet_entry(&path, "answer_field = 'score'"));
    assert!(msg.contains("column `score` has type Float64"), "{msg}");
    let not_parquet = write(dir.path(), "x.parquet", "hello");
    let msg = load_err(&parquet_entry(&not_parquet, ""));
    assert!(
        msg.contains("x.parquet: not a readable Parquet file"),
        "{msg}"
    );
}

const SHARED_GSM8K: &str = "../../shared/data/gsm8k/train.jsonl";
const SHARED_HUMANEVAL: &str = "../../shared/data/humaneval/HumanEval.jsonl.gz";

#[test]
fn full_gsm8k_train_has_a_reference_on_every_row() {
    let path = crate_dir().join(SHARED_GSM8K);
    if !path.exists() {
        println!("skipped: {} is absent", path.display());
        return;
    }
    let s = load(&jsonl_entry(&path, "answer_after = '####'")).expect("loads");
    assert_eq!(s.len(), Some(7473));
    for i in 0..7473 {
        let p = s.problem(i).expect("row");
        let r = p.reference.expect("a reference");
        assert!(!r.is_empty() && !r.contains("####"), "row {i}: {r:?}");
    }
}

#[test]
fn full_humaneval_has_tests_on_every_row() {
    let path = crate_dir().join(SHARED_HUMANEVAL);
    if !path.exists() {
        println!("skipped: {} is absent", path.display());
        return;
    }
    let more = "question_field='prompt'\ntests_field='test'\nentry_point_field='entry_point'\nid_field='task_id'";
    let s = load(&jsonl_entry(&path, more)).expect("loads");
    assert_eq!(s.len(), Some(164));
    for i in 0..164 {
        let p = s.problem(i).expect("row");
        assert_eq!(p.id, format!("HumanEval/{i}"));
        assert!(matches!(&p.tests, Some(TestSpec::Check { code }) if code.contains("def check(")));
        assert!(p.entry_point.as_deref().is_some_and(|e| p.text.contains(e)));
    }
}

#[test]
fn build_dispatches_generators() {
    let e = entry("name='arith'\ntype='arithmetic'\ntemplate='t.j2'\ndifficulty=2\nsize=5");
    let s = load(&e).expect("builds");
    assert_eq!((s.name(), s.len()), ("arith", Some(5)));
    let bad = entry("name='arith'\ntype='arithmetic'\ntemplate='t.j2'\npath='x.jsonl'");
    let msg = load_err(&bad);
    assert!(msg.contains("source `arith`: `path` is not used"), "{msg}");
}
