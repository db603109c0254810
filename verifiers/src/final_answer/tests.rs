//! Structures of final answers: parsing and comparison.

use super::*;

fn verdict(a: &str, r: &str) -> String {
    match judge(a, r, SolverLimits::default()) {
        Ok(Verdict::Accept { .. }) => "accept".into(),
        Ok(Verdict::Reject { reason, detail }) => {
            eprintln!("{a} vs {r}: {reason}: {detail}");
            reason
        }
        Err(e) => format!("error {e}"),
    }
}

#[test]
fn structures_are_read() {
    let p = |s: &str| parse(&clean(s));
    assert!(matches!(p("(3,2)"), Value::List { open: '(', .. }));
    assert!(matches!(p("\\{1, 2\\}"), Value::Set(ref v) if v.len() == 2));
    assert!(matches!(
        p("x \\in [-2, 7)"),
        Value::List {
            open: '[',
            close: ')',
            ..
        }
    ));
    assert!(matches!(p("(-\\infty, 1) \\cup (2, \\infty)"), Value::Union(ref v) if v.len() == 2));
    assert!(matches!(p("x = 1, y = 2"), Value::Named(ref v) if v.len() == 2));
    assert!(matches!(
        p("x = 1 \\text{ or } x = 2"),
        Value::List { open: ' ', .. }
    ));
    assert!(
        matches!(p("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}"), Value::Matrix(ref r) if r.len() == 2)
    );
    assert_eq!(
        p("x > 3"),
        Value::List {
            open: '(',
            close: ')',
            items: vec![Value::Leaf("3".into()), Value::Infinity(false)]
        }
    );
}

#[test]
fn equal_forms() {
    for (a, r) in [
        ("\\frac{\\sqrt{6}}{6}", "\\frac{1}{\\sqrt{6}}"),
        ("(3, 2)", "\\left( 3, 2 \\right)"),
        ("-2 \\le x \\le 7", "x \\in [-2, 7]"),
        ("\\{-11, -12\\}", "\\{-12, -11\\}"),
        ("7425000", "7,425,000"),
        ("x = 3", "3"),
        ("30^\\circ", "30"),
        ("\\text{Monday}", "monday"),
        (
            "x < -1 \\text{ or } x > 2",
            "(-\\infty, -1) \\cup (2, \\infty)",
        ),
        ("3, -2", "-2, 3"),
        ("y = 2x + 3", "y = 3 + 2x"),
        ("x^2 + y^2 = 4", "4 = y^2 + x^2"),
        (
            "\\begin{pmatrix} \\frac12 \\\\ 2 \\end{pmatrix}",
            "\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}",
        ),
        ("\\frac{\\pi}{2}", "\\pi/2"),
        ("2\\sqrt[3]{2}", "\\sqrt[3]{16}"),
    ] {
        assert_eq!(verdict(a, r), "accept", "{a} vs {r}");
    }
}

#[test]
fn unequal_forms() {
    for (a, r) in [
        ("(2, 3)", "(3, 2)"),
        ("[1, 2]", "(1, 2)"),
        ("[1, 2)", "[1, 2]"),
        ("\\{1, 3\\}", "\\{1, 2\\}"),
        ("4", "4\\sqrt{2}"),
        ("1 - 1/e", "1 + 1/e"),
        ("x > 3", "x \\ge 3"),
        ("y = 3", "x = 3"),
        ("\\{1, 2, 3\\}", "\\{1, 2\\}"),
        ("\\text{Tuesday}", "Monday"),
    ] {
        assert_eq!(verdict(a, r), "wrong_answer", "{a} vs {r}");
    }
}

#[test]
fn generator_references_still_pass() {
    // The forms smelt's own generators write (pipeline/src/sources): integers, `p/q`, and
    // `x = 1/2, y = 2, z = -3/4` for linear systems.
    for (right, wrong) in [
        ("42", "43"),
        ("-3/4", "1/4"),
        ("x = 1/2, y = 2", "x = 1/2, y = 3"),
        ("x = -1, y = 0, z = 7/3", "x = -1, y = 0, z = 10/3"),
    ] {
        assert_eq!(verdict(right, right), "accept", "{right}");
        assert_eq!(verdict(wrong, right), "wrong_answer", "{wrong} vs {right}");
    }
}

#[test]
fn hostile_answers_are_bounded() {
    let deep = "\\text{".repeat(5_000) + "1" + &"}".repeat(5_000);
    assert_eq!(verdict(&deep, "1"), "unparsable_answer");
    // Deep but within the size limit: text wrappers around 1 are 1.
    let deep = "\\text{".repeat(1_000) + "1" + &"}".repeat(1_000);
    assert_eq!(verdict(&deep, "1"), "accept");
    let boxes = "\\boxed{".repeat(2_000);
    assert_ne!(verdict(&boxes, "1"), "accept");
    let wide = format!("\\{{{}\\}}", vec!["\\sqrt{2}"; 200].join(", "));
    assert_eq!(verdict(&wide, &wide), "unparsable_answer");
    let parens = "(".repeat(3_000) + "1, 2" + &")".repeat(3_000);
    assert_ne!(verdict(&parens, "(1, 2)"), "accept");
}

#[test]
fn evidence_says_how_each_part_was_shown() {
    let v = judge("(\\sqrt{8}, 3)", "(2\\sqrt{2}, 3)", SolverLimits::default());
    let Ok(Verdict::Accept { evidence, .. }) = v else {
        panic!("{v:?}")
    };
    assert!(
        evidence.contains("proved by Z3") && evidence.contains("3 equals the reference"),
        "{evidence}"
    );
}
