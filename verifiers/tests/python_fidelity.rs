//! `python_tests` judges correct code as plain Python would: stdlib value types count as
//! return values, a solution's own `sum` shadows the builtin where the tests call it, and the
//! plain assert lists of MBPP-style datasets are read as tests. Cheats stay rejected.
//! Corpus: `fixtures/mbpp_style.jsonl` (problems written for this test, canonical solutions,
//! plain assert lists).

mod support;

use serde::Deserialize;
use smelt_verifiers::{
    PythonTestsConfig, PythonTestsVerifier, Sample, TestSpec, Verdict, Verifier,
};
use std::sync::OnceLock;
use std::time::Instant;

fn verifiers() -> &'static [PythonTestsVerifier; 2] {
    static V: OnceLock<[PythonTestsVerifier; 2]> = OnceLock::new();
    V.get_or_init(|| {
        let make = |fork_server| {
            PythonTestsVerifier::new(PythonTestsConfig {
                timeout_ms: 5000,
                fork_server,
                ..PythonTestsConfig::default()
            })
            .unwrap_or_else(|e| panic!("config: {e}"))
        };
        [make(true), make(false)]
    })
}

fn reason(v: &Verdict) -> &str {
    match v {
        Verdict::Accept { .. } => "ACCEPT",
        Verdict::Reject { reason, .. } => reason,
    }
}

fn sample(code: &str, asserts: &[&str]) -> Sample {
    let tests: TestSpec = serde_json::from_value(serde_json::json!(asserts))
        .unwrap_or_else(|e| panic!("a plain assert list: {e}"));
    Sample {
        completion: format!("```python\n{code}\n```\n"),
        tests: Some(tests),
        ..Sample::default()
    }
}

/// The verdict reason in both execution modes (which must agree).
fn judged(code: &str, asserts: &[&str]) -> String {
    let s = sample(code, asserts);
    let [forked, fresh] = verifiers()
        .each_ref()
        .map(|v| v.verify(&s).unwrap_or_else(|e| panic!("verifier ran: {e}")));
    assert_eq!(
        reason(&forked),
        reason(&fresh),
        "{code}: {forked:?} vs {fresh:?}"
    );
    if !forked.is_accept() {
        println!("{code:?} → {forked:?}");
    }
    reason(&forked).to_owned()
}

#[test]
fn stdlib_value_types_are_accepted() {
    let cases: [(&str, &[&str]); 9] = [
        ("from collections import Counter\ndef f(s):\n    return Counter(s)", &["assert f('aab') == {'a': 2, 'b': 1}"]),
        ("from collections import OrderedDict\ndef f():\n    return OrderedDict(a=1)", &["assert f() == {'a': 1}"]),
        ("from collections import defaultdict\ndef f():\n    d = defaultdict(int)\n    d['x'] += 2\n    return d", &["assert f() == {'x': 2}"]),
        ("from collections import deque\ndef f():\n    return deque([1, 2])", &["assert list(f()) == [1, 2]"]),
        ("from collections import namedtuple\nP = namedtuple('P', 'x y')\ndef f():\n    return P(1, 2)", &["assert f() == (1, 2)", "assert f().y == 2"]),
        ("from fractions import Fraction\ndef f():\n    return Fraction(1, 3)", &["from fractions import Fraction\nassert f() == Fraction(2, 6)"]),
        ("from decimal import Decimal\ndef f():\n    return Decimal('1.10')", &["from decimal import Decimal\nassert f() == Decimal('1.1')"]),
        ("import datetime\ndef f():\n    return datetime.date(2024, 1, 1)", &["import datetime\nassert f() == datetime.date(2024, 1, 1)"]),
        ("def f():\n    return frozenset({1})", &["assert f() == {1}"]),
    ];
    for (code, asserts) in cases {
        assert_eq!(judged(code, asserts), "ACCEPT", "{code}");
    }
}

#[test]
fn objects_equal_to_everything_stay_rejected() {
    let hacks = [
        // A subclass of an accepted type that lies about equality.
        "from collections import Counter\nclass C(Counter):\n    def __eq__(self, o): return True\ndef f(s):\n    return C()",
        // Patching the accepted class itself.
        "from collections import Counter\nCounter.__eq__ = lambda self, o: True\ndef f(s):\n    return Counter()",
        "import collections\ncollections.OrderedDict.__eq__ = lambda self, o: True\ndef f(s):\n    return collections.OrderedDict()",
        "from fractions import Fraction\nFraction.__eq__ = lambda self, o: True\ndef f(s):\n    return Fraction(0)",
        // A namedtuple whose class defines its own comparison.
        "from collections import namedtuple\nclass P(namedtuple('P', 'x')):\n    def __eq__(self, o): return True\ndef f(s):\n    return P(0)",
        // A tuple subclass posing as a namedtuple.
        "class P(tuple):\n    _fields = ('x',)\n    def __eq__(self, o): return True\ndef f(s):\n    return P()",
        // A dict subclass, and a plain object.
        "class D(dict):\n    def __eq__(self, o): return True\ndef f(s):\n    return D()",
        "class A:\n    def __eq__(self, o): return True\ndef f(s):\n    return A()",
        // An accepted container holding a liar.
        "from collections import Counter\nclass A:\n    def __eq__(self, o): return True\n    def __hash__(self): return 0\ndef f(s):\n    return Counter({'a': A()})",
    ];
    for code in hacks {
        let r = judged(code, &["assert f('aab') == {'a': 2, 'b': 1}"]);
        assert!(
            r == "bad_return_type" || r == "tests_failed",
            "{code} → {r}"
        );
    }
}

#[test]
fn a_solution_may_define_a_builtin_name() {
    let own_sum = "def sum(a, b):\n    return a + b";
    assert_eq!(
        judged(
            own_sum,
            &["assert sum(1, 2) == 3", "assert sum(-1, 1) == 0"]
        ),
        "ACCEPT"
    );
    // Wrong results of the solution's own `sum` are still caught.
    assert_eq!(
        judged(
            "def sum(a, b):\n    return a - b",
            &["assert sum(1, 2) == 3"]
        ),
        "tests_failed"
    );
    // The solution's own `max` shadows the builtin, and its helpers stay visible.
    let own_max = "def bigger(a, b):\n    return a if a > b else b\ndef max(a, b, c):\n    return bigger(bigger(a, b), c)";
    assert_eq!(judged(own_max, &["assert max(1, 5, 3) == 5"]), "ACCEPT");
    // Modules the solution imported do not count as its names.
    let with_math = "import math\ndef sum(a, b):\n    return a + b";
    assert_eq!(
        judged(with_math, &["assert math.isclose(sum(0.5, 0.25), 0.75)"]),
        "ACCEPT"
    );
    // The builtin stays what asserts that test something else see.
    let plain = "def total(xs):\n    return sum(xs)\ndef sum(a, b):\n    return a + b";
    assert_eq!(
        judged(plain, &["assert total([1, 2]) == 3"]),
        "tests_failed"
    );
}

#[test]
fn a_solution_cannot_swap_the_builtins_the_tests_check_with() {
    let hacks = [
        ("def len(x):\n    return 3\ndef f(x):\n    return []", "assert len(f(1)) == 3"),
        ("def abs(x):\n    return 0\ndef f(x):\n    return 99", "assert abs(f(1) - 2.5) < 1e-9"),
        ("def sorted(x):\n    return [1, 2]\ndef f(x):\n    return [9]", "assert sorted(f(1)) == [1, 2]"),
        ("def isinstance(a, b):\n    return True\ndef f(x):\n    return None", "assert isinstance(f(1), int)"),
        ("def all(x):\n    return True\ndef f(x):\n    return [0]", "assert all(v > 0 for v in f(1))"),
        // Patching the harness's own tools does not help either.
        ("import types\ntypes.CodeType = int\ndef len(x):\n    return 3\ndef f(x):\n    return []", "assert len(f(1)) == 3"),
    ];
    for (code, test) in hacks {
        assert_eq!(judged(code, &[test]), "tests_failed", "{code}");
    }
}

#[derive(Deserialize)]
struct Problem {
    name: String,
    code: String,
    tests: TestSpec,
}

#[test]
fn mbpp_style_corpus() {
    let path = support::crate_dir().join("tests/fixtures/mbpp_style.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let problems: Vec<Problem> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let n = problems.len();
    assert!(n >= 30, "{n} problems");
    for (mode, v) in ["fork server", "process per check"].iter().zip(verifiers()) {
        let start = Instant::now();
        let (mut accepted, mut rejected, mut failures) = (0, 0, Vec::new());
        for (i, p) in problems.iter().enumerate() {
            let own = Sample {
                completion: format!("```python\n{}```\n", p.code),
                tests: Some(p.tests.clone()),
                ..Sample::default()
            };
            let other = Sample {
                tests: Some(problems[(i + 1) % n].tests.clone()),
                ..own.clone()
            };
            match v.verify(&own).unwrap_or_else(|e| panic!("{}: {e}", p.name)) {
                Verdict::Accept { .. } => accepted += 1,
                r => failures.push(format!("{} rejected: {r:?}", p.name)),
            }
            match v
                .verify(&other)
                .unwrap_or_else(|e| panic!("{}: {e}", p.name))
            {
                Verdict::Accept { .. } => {
                    failures.push(format!("{} accepted against the next tests", p.name))
                }
                _ => rejected += 1,
            }
        }
        println!(
            "MBPP-style ({mode}): {accepted}/{n} canonical accepted; {rejected}/{n} rejected against the next problem's tests ({:.2?})",
            start.elapsed()
        );
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
