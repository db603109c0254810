//! Unit tests of the harness protocol pieces.

use super::literal::{py_literal, py_str};
use super::report::{normalize, unescape, Report};
use serde_json::json;

#[test]
fn json_jobs_become_python_literals() {
    let v = json!({"a": [true, false, null, 3], "b": "x\"y"});
    assert_eq!(
        py_literal(&v),
        r#"{"a": [True, False, None, 3], "b": "x\"y"}"#
    );
}

#[test]
fn python_literals_round_trip_the_awkward_characters() {
    assert_eq!(py_str("a\"b\\c\nd\te\r\0"), r#""a\"b\\c\nd\te\r\x00""#);
    assert_eq!(py_str("é🙂"), "\"é🙂\"");
}

#[test]
fn report_lines_are_found_behind_the_nonce_only() {
    let n = "abc123";
    let err = format!(
        "noise\npartial{n}\tstarted\n{n}\ttest\t0\tfail\tAssertionError\t\tassert_0:1: assert f(1) == 2\nfake\ttest\t1\tok\n{n}\tdone\t0\t1\n"
    );
    let r = Report::parse(err.as_bytes(), n);
    assert!(r.started);
    assert_eq!(r.tests.len(), 1);
    assert_eq!(r.done, Some((0, 1)));
    assert!(r.other_stderr.contains("noise") && r.other_stderr.contains("partial"));
    assert_eq!(unescape("a\\tb\\nc\\\\d"), "a\tb\nc\\d");
}

#[test]
fn io_comparison_ignores_trailing_whitespace_only() {
    assert_eq!(normalize("1 2  \n3\n\n"), normalize("1 2\n3"));
    assert_ne!(normalize("1  2\n3"), normalize("1 2\n3"));
    assert_ne!(normalize("\n1"), normalize("1"));
}
