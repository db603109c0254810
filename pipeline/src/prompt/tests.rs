use super::*;
use crate::sources::tests::generated;
use crate::sources::SourceKind;
use sha2::{Digest, Sha256};

fn prompts_dir() -> PathBuf {
    crate::env::crate_dir().join("../prompts")
}

fn shipped(name: &str) -> PromptTemplate {
    PromptTemplate::load(&prompts_dir().join(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn from_text(text: &str) -> Result<PromptTemplate, PromptError> {
    PromptTemplate::from_source(Path::new("prompts/t.j2"), text.to_owned())
}

fn code_problem() -> Problem {
    Problem {
        id: "HumanEval/0".into(),
        source: "humaneval".into(),
        index: 0,
        text: "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n".into(),
        reference: None,
        structured: serde_json::Value::Null,
        constraints: None,
        tests: None,
        entry_point: Some("add".into()),
        extra: BTreeMap::new(),
    }
}

#[test]
fn shipped_templates_render_every_family() {
    let cases = [
        ("arithmetic.j2", SourceKind::Arithmetic),
        ("linear.j2", SourceKind::LinearEquation),
        ("linear.j2", SourceKind::LinearSystem2),
        ("linear.j2", SourceKind::LinearSystem3),
        ("modular.j2", SourceKind::Modular),
        ("word_problem.j2", SourceKind::WordProblem),
    ];
    for (file, kind) in cases {
        let t = shipped(file);
        for difficulty in 0..=5 {
            let p = generated(kind, 9, difficulty, 3);
            let text = t.render(&p).unwrap_or_else(|e| panic!("{e}"));
            assert!(text.contains(&p.text), "{file}: {text}");
            assert!(text.contains("\\boxed{"), "{file}: {text}");
            assert!(text.contains("a op b = c"), "{file}: {text}");
        }
    }
}

#[test]
fn linear_template_shows_the_system_answer_format() {
    let t = shipped("linear.j2");
    let three = t
        .render(&generated(SourceKind::LinearSystem3, 0, 2, 0))
        .expect("renders");
    assert!(three.contains("\\boxed{x = 1, y = 2, z = 3}"), "{three}");
    assert!(three.contains("in the order x, y, z"), "{three}");
    let one = t
        .render(&generated(SourceKind::LinearEquation, 0, 2, 0))
        .expect("renders");
    assert!(one.contains("\\boxed{-3/4}"), "{one}");
}

#[test]
fn code_and_gsm8k_templates() {
    let code = shipped("humaneval.j2")
        .render(&code_problem())
        .expect("renders");
    assert!(code.contains("function `add`"), "{code}");
    assert!(code.contains("```python\ndef add(a, b):"), "{code}");
    assert!(code.contains("\"\"\"Add two numbers.\"\"\"\n```"), "{code}");
    let mut word = code_problem();
    word.text = "Natalia sold 48 clips.".into();
    word.entry_point = None;
    let gsm = shipped("gsm8k.j2").render(&word).expect("renders");
    assert!(
        gsm.contains("Natalia sold 48 clips.") && gsm.contains("\\boxed{42}"),
        "{gsm}"
    );
}

#[test]
fn every_variable_is_available() {
    let mut p = code_problem();
    p.extra.insert("level".into(), "3".into());
    p.structured = serde_json::json!({ "kind": "k" });
    let t = from_text(
        "{{ problem }}|{{ source }}|{{ index }}|{{ id }}|{{ extra.level }}|{{ structured.kind }}|{{ entry_point }}",
    )
    .expect("loads");
    let out = t.render(&p).expect("renders");
    assert_eq!(out, format!("{}|humaneval|0|HumanEval/0|3|k|add", p.text));
}

#[test]
fn a_misspelt_variable_fails_at_load_with_path_line_and_name() {
    let e = from_text("Solve:\n\n{{ questoin }}\n").expect_err("undeclared");
    let msg = e.to_string();
    assert!(
        msg.starts_with("prompts/t.j2:3: unknown variable `questoin`"),
        "{msg}"
    );
    assert!(msg.contains("problem, source"), "{msg}");
    let e = from_text("{% if x %}{{ problem }}{% endif %}").expect_err("undeclared");
    assert!(e.to_string().contains(":1: unknown variable `x`"), "{e}");
}

#[test]
fn locals_loops_and_builtins_are_not_unknown() {
    let t = from_text(
        "{% set n = 2 %}{% for i in range(n) %}{{ i }}{{ loop.index }}{% endfor %}{{ problem }}",
    );
    assert!(t.is_ok(), "{t:?}");
}

#[test]
fn syntax_errors_name_the_line() {
    let e = from_text("ok\n{{ problem }\n").expect_err("syntax");
    assert!(
        e.to_string().starts_with("prompts/t.j2:2: syntax error"),
        "{e}"
    );
}

#[test]
fn undefined_values_fail_at_render_naming_the_problem() {
    let t = from_text("{{ extra.missing }}").expect("loads: `extra` is declared");
    let e = t.render(&code_problem()).expect_err("strict");
    assert!(
        e.to_string().contains("rendering problem `HumanEval/0`"),
        "{e}"
    );
}

#[test]
fn hash_is_sha256_of_the_file_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.j2");
    std::fs::write(&path, "{{ problem }}\n").expect("write");
    let t = PromptTemplate::load(&path).expect("loads");
    assert_eq!(t.hash(), hex::encode(Sha256::digest(b"{{ problem }}\n")));
    assert_eq!(t.hash().len(), 64);
    std::fs::write(&path, "{{ problem }} \n").expect("write");
    assert_ne!(PromptTemplate::load(&path).expect("loads").hash(), t.hash());
    let missing = PromptTemplate::load(&dir.path().join("none.j2")).expect_err("missing");
    assert!(
        missing
            .to_string()
            .contains("none.j2: cannot read template"),
        "{missing}"
    );
}
