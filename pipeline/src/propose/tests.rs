use super::log::{ProposalLog, ProposalRecord, FILE_NAME};
use super::seeds::{self, Example};
use super::*;
use crate::sources::ProblemSource;
use std::io::Write;

fn record(index: u64, accepted: bool) -> ProposalRecord {
    ProposalRecord {
        source: "prop".into(),
        index,
        id: format!("prop-p{index}"),
        round: 2,
        parents: vec!["lin-3".into()],
        completion: "Problem: ...".into(),
        text: Some(format!("Add {index} and 1.")),
        smt: Some(format!(
            "(declare-const x Int) (assert (= x (+ {index} 1)))"
        )),
        equation: None,
        accepted,
        reason: (!accepted).then(|| "not_unique".to_string()),
        detail: String::new(),
        answer: accepted.then(|| (index + 1).to_string()),
        single_constant: true,
        prompt_tokens: 10,
        completion_tokens: 20,
    }
}

#[test]
fn the_log_holds_each_proposal_once_and_survives_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = ProposalLog::open(dir.path()).unwrap();
    log.append(record(0, true)).unwrap();
    log.append(record(1, false)).unwrap();
    log.append(record(0, false)).unwrap(); // already logged: ignored
    drop(log);
    let path = dir.path().join(FILE_NAME);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"0badf00d {\"source\":\"prop\",\"ind").unwrap();
    drop(f);

    let mut log = ProposalLog::open(dir.path()).unwrap();
    assert!(log.has("prop", 0) && log.has("prop", 1) && !log.has("prop", 2));
    log.append(record(2, true)).unwrap();
    drop(log);
    let records = ProposalLog::read(&path).unwrap();
    assert_eq!(records.len(), 3);
    assert!(
        records[0].accepted,
        "the first record kept, not its duplicate"
    );

    // Corruption before the last line is an error naming the line.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("Add 0", "Add 9", 1)).unwrap();
    let err = ProposalLog::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains("line 1") && err.contains("checksum"), "{err}");
}

#[test]
fn proven_proposals_become_problems_in_request_order() {
    let records = [record(3, true), record(0, true), record(1, false)];
    let source = Proposed::from_records("prop", &records);
    assert_eq!(source.len(), Some(2));
    let first = source.problem(0).unwrap();
    assert_eq!(first.id, "prop-p0");
    assert_eq!(first.reference.as_deref(), Some("1"));
    assert_eq!(first.structured["round"], 2);
    assert_eq!(first.structured["parents"][0], "lin-3");
    assert!(first.constraints.is_some());
    assert_eq!(source.problem(1).unwrap().id, "prop-p3");
    assert!(source.problem(2).is_err());
    let pending = Proposed::pending("prop");
    assert!(pending
        .problem(0)
        .unwrap_err()
        .to_string()
        .contains("proposal phase"));
}

#[test]
fn examples_are_drawn_deterministically_and_distinct() {
    let examples = |prefix: &str, n: usize| -> Vec<Example> {
        (0..n)
            .map(|i| Example {
                id: format!("{prefix}{i}"),
                text: format!("t{i}"),
                smt: String::new(),
                equation: None,
            })
            .collect()
    };
    let pool = examples("e", 10);
    let mut both = seeds::Pool {
        accepted: Vec::new(),
        configured: pool.clone(),
    };
    let a = seeds::draw(&both, 3, 7, "prop", 5);
    let b = seeds::draw(&both, 3, 7, "prop", 5);
    assert_eq!(a, b);
    let ids: std::collections::BTreeSet<_> = a.iter().map(|e| &e.id).collect();
    assert_eq!(ids.len(), 3);
    assert_ne!(a, seeds::draw(&both, 3, 7, "prop", 6));
    assert_eq!(seeds::draw(&both, 30, 7, "prop", 6).len(), 10);

    // Accepted examples first (placed last in the prompt); configured ones fill the rest.
    both.accepted = examples("acc", 2);
    let ids = |drawn: Vec<&Example>| drawn.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    let drawn = ids(seeds::draw(&both, 4, 7, "prop", 5));
    assert_eq!(drawn.len(), 4);
    assert!(drawn[..2].iter().all(|id| id.starts_with('e')), "{drawn:?}");
    let mut tail = drawn[2..].to_vec();
    tail.sort();
    assert_eq!(tail, ["acc0", "acc1"]);
    both.accepted = examples("acc", 6);
    let drawn = ids(seeds::draw(&both, 4, 7, "prop", 5));
    assert!(drawn.iter().all(|id| id.starts_with("acc")), "{drawn:?}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seeds.jsonl");
    seeds::write_file(&path, &pool).unwrap();
    assert_eq!(seeds::read_file(&path).unwrap(), pool);
    std::fs::write(&path, "{\"id\": \"x\"}\n").unwrap();
    let err = seeds::read_file(&path).unwrap_err().to_string();
    assert!(err.contains("seeds.jsonl: line 1"), "{err}");
}

#[test]
fn the_spec_names_its_bad_fields() {
    let spec: ProposeSpec = toml::from_str("template = 'p.j2'\ncount = 0\nexamples = 0").unwrap();
    let errors = spec.check().join("; ");
    assert!(errors.contains("propose.count"), "{errors}");
    assert!(errors.contains("propose.examples"), "{errors}");
    assert!(errors.contains("seeds"), "{errors}");
    let ok: ProposeSpec = toml::from_str("template = 'p.j2'\nseeds = ['lin']").unwrap();
    assert!(ok.check().is_empty());
}

#[test]
fn seed_files_read_equations_and_name_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seeds.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"id": "a", "text": "Add 2 and 3.", "equation": "answer = 2 + 3"}"#,
            "\n\n",
            r#"{"id": "b", "text": "Add 2 and 3.", "smt": "(declare-const x Int) (assert (= x 5))"}"#,
            "\n",
        ),
    )
    .unwrap();
    let examples = seeds::read_file(&path).unwrap();
    assert_eq!(examples.len(), 2);
    assert_eq!(examples[0].equation.as_deref(), Some("answer = 2 + 3"));
    assert_eq!(
        examples[0].smt,
        "(declare-const answer Real) (assert (= answer (+ 2.0 3.0)))"
    );
    assert_eq!(examples[1].equation, None);

    for (line, why) in [
        (
            r#"{"id": "c", "text": "t"}"#,
            "neither `smt` nor `equation`",
        ),
        (
            r#"{"id": "c", "text": "t", "equation": "x = 2"}"#,
            "equation: `x` is not",
        ),
        (
            r#"{"id": "c", "text": "t", "smt": "(x)", "eqution": "a"}"#,
            "unknown field",
        ),
    ] {
        std::fs::write(
            &path,
            format!("{}\n{line}\n", r#"{"id": "a", "text": "t", "smt": "(x)"}"#),
        )
        .unwrap();
        let err = seeds::read_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains(why), "{err}");
    }
}

/// The shipped examples teach the rules they are judged by: each one is proven well-posed.
#[test]
fn the_shipped_seed_examples_are_well_posed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for file in ["propose_seeds.jsonl", "propose_smt_seeds.jsonl"] {
        let examples = seeds::read_file(&root.join("prompts/small").join(file)).unwrap();
        assert!(examples.len() >= 5, "{file}");
        for e in examples {
            let proposal = smelt_verifiers::well_posed::Proposal {
                text: e.text.clone(),
                smt: e.smt.clone(),
                equation: e.equation.clone(),
            };
            let checked = smelt_verifiers::well_posed::check(&proposal, Default::default());
            assert!(checked.is_ok(), "{file} {}: {checked:?}", e.id);
        }
    }
}
