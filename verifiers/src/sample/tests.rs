//! The accepted forms of `tests`.

use super::*;
use serde_json::json;

fn read(v: serde_json::Value) -> Result<TestSpec, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

#[test]
fn every_form_is_read() {
    let asserts = TestSpec::Asserts {
        asserts: vec!["assert f(1) == 2".into(), "assert f(2) == 3".into()],
    };
    assert_eq!(
        read(json!(["assert f(1) == 2", "assert f(2) == 3"])),
        Ok(asserts.clone())
    );
    assert_eq!(
        read(json!({"kind": "asserts", "asserts": ["assert f(1) == 2", "assert f(2) == 3"]})),
        Ok(asserts.clone())
    );
    let check = TestSpec::Check {
        code: "def check(candidate):\n    assert candidate(1) == 2\n".into(),
    };
    assert_eq!(
        read(json!(
            "def check(candidate):\n    assert candidate(1) == 2\n"
        )),
        Ok(check.clone())
    );
    assert_eq!(
        read(
            json!({"kind": "check", "code": "def check(candidate):\n    assert candidate(1) == 2\n"})
        ),
        Ok(check)
    );
    assert_eq!(
        read(json!({"kind": "io", "cases": [{"input": "1\n", "output": "2\n"}]})),
        Ok(TestSpec::Io {
            cases: vec![IoCase {
                input: "1\n".into(),
                output: "2\n".into()
            }]
        })
    );
    // Serialisation stays tagged, and round-trips.
    let v = serde_json::to_value(&asserts).unwrap_or_default();
    assert_eq!(v["kind"], "asserts");
    assert_eq!(read(v), Ok(asserts));
}

#[test]
fn a_sample_reads_a_plain_assert_list() {
    let s: Sample = serde_json::from_value(json!({
        "completion": "x", "tests": ["assert f() == 1"]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(s.tests, Some(TestSpec::Asserts { ref asserts }) if asserts.len() == 1));
}

#[test]
fn malformed_tests_say_what_was_expected() {
    let e = read(json!(["assert f(1) == 2", 3])).unwrap_err();
    assert!(e.contains("tests[1] is a number"), "{e}");
    let e = read(json!(42)).unwrap_err();
    assert!(e.contains("expected a list of assert strings"), "{e}");
    let e = read(json!({"kind": "unit"})).unwrap_err();
    assert!(
        e.contains("unknown variant") && e.contains("\"kind\": \"check\""),
        "{e}"
    );
    let e = read(json!({"kind": "asserts"})).unwrap_err();
    assert!(e.contains("missing field `asserts`"), "{e}");
}
