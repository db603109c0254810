//! Curation in a real run: exact and near duplicates (also across sources and shards) and a
//! planted benchmark question are removed before generation, each removal is logged once in
//! `curation.jsonl`, and resumes repeat the decisions without writing a line twice.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

const A: &str = "A farmer has 17 cows and 23 sheep on his farm near the river. He sells 5 cows \
    at the market on Monday and buys 12 more sheep on Tuesday from his neighbour. How many \
    animals does the farmer have on his farm now?";
const B: &str = "A school library owns 340 books. During the spring term it buys 45 new books, \
    lends 120 books to students and receives 30 books back from a closed school nearby. How \
    many books are on the shelves at the end of the term?";
const C: &str = "Maya runs 3 kilometres every weekday and 8 kilometres on Saturday. How many \
    kilometres does she run in four weeks if she rests on Sundays?";
const D: &str = "A rectangle has a perimeter of 46 centimetres and one side of 9 centimetres. \
    What is the area of the rectangle in square centimetres?";
const E: &str = "Solve for x: 7x - 12 = 3x + 20, and give the value of x as an integer.";
const F: &str = "A tank holds 600 litres of water and leaks 15 litres every hour while a pump \
    adds 40 litres every two hours. After how many hours is the tank empty?";
const G: &str = "Three friends share 84 marbles so that the second gets twice as many as the \
    first and the third gets 12 more than the second. How many marbles does the first get?";

/// (answer, question) pairs of one dataset.
type Rows = Vec<(&'static str, String)>;

/// `ds` (8 problems) and `more` (4): the schedule alternates them, `ds` first.
fn problems() -> (Rows, Rows) {
    // One word changed near the end of A: a near duplicate.
    let a_near = A.replace("on his farm now?", "on his farm today?");
    let natalia = "Natalia sold clips to 48 of her friends in April, and then she sold half as \
        many clips in May. How many clips did Natalia sell altogether in April and May?";
    let julie = "Julie is reading a 150-page book. Yesterday, she was able to read 10 pages and \
        today, she read twice as many pages as yesterday. If she wants to read half of the \
        remaining pages tomorrow, how many pages should she read?";
    let ds = vec![
        ("1", A.to_owned()),
        ("2", B.to_owned()),
        // B again, shouted and spaced: an exact duplicate after normalisation.
        (
            "2",
            format!("  {}  ", B.to_uppercase().replace(", ", " , ")),
        ),
        ("1", a_near),
        ("72", natalia.to_owned()),
        ("3", C.to_owned()),
        ("4", D.to_owned()),
        ("5", julie.to_owned()),
    ];
    let more = vec![
        ("8", E.to_owned()),
        ("3", C.to_owned()),
        ("6", F.to_owned()),
        ("7", G.to_owned()),
    ];
    (ds, more)
}

fn config() -> String {
    // In conf/: every path but run.output resolves against the config file's directory.
    r#"
[run]
name = "curation"
output = "out"

[model]
kind = "replay"
path = "../replay.jsonl"

[[sources]]
name = "ds"
type = "jsonl"
path = "../data/ds.jsonl"
question_field = "question"
answer_field = "answer"
template = "../prompts/gsm8k.j2"

[[sources]]
name = "more"
type = "jsonl"
path = "../data/more.jsonl"
question_field = "question"
answer_field = "answer"
template = "../prompts/gsm8k.j2"

[[verifiers]]
type = "answer"

[output]
rows_per_shard = 3

[curation]
decontaminate = [{ path = "../bench/gsm8k.jsonl", field = "question" }]
"#
    .to_owned()
}

fn project() -> Project {
    let p = Project::new();
    let (ds, more) = problems();
    let mut replay = Vec::new();
    for (name, rows) in [("ds", &ds), ("more", &more)] {
        let lines: Vec<String> = rows
            .iter()
            .map(|(answer, q)| json!({"question": q, "answer": answer}).to_string())
            .collect();
        p.write(&format!("data/{name}.jsonl"), &(lines.join("\n") + "\n"));
        for (i, (answer, _)) in rows.iter().enumerate() {
            replay.push(
                json!({"problem_id": format!("{name}-{i}"), "completion": format!("so \\boxed{{{answer}}}")})
                    .to_string(),
            );
        }
    }
    p.write("replay.jsonl", &(replay.join("\n") + "\n"));
    let bench =
        std::fs::read_to_string(repo_root().join("tests/fixtures/benchmarks/gsm8k_sample.jsonl"))
            .unwrap();
    p.write("bench/gsm8k.jsonl", &bench);
    p.write("conf/pipeline.toml", &config());
    p
}

fn run(p: &Project, extra: &[&str]) -> std::process::Output {
    run_ok(
        smelt()
            .current_dir(p.dir.path())
            .args(["run", "conf/pipeline.toml", "--quiet"])
            .args(extra),
    )
}

/// The log's lines, parsed, in file order.
fn log(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("curation.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Problem ids with rows, over both splits.
fn problems_with_rows(dir: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for split in ["accepted", "rejected"] {
        let df = read_split(dir, split);
        if df.height() > 0 {
            ids.extend(strings(&df, "problem_id"));
        }
    }
    ids
}

fn expected_removals() -> Vec<Value> {
    vec![
        json!({"problem_id": "ds-2", "kind": "exact", "matched": {"problem_id": "ds-1"}}),
        json!({"problem_id": "ds-3", "kind": "near_duplicate", "matched": {"problem_id": "ds-0"}}),
        json!({"problem_id": "ds-4", "kind": "contaminated",
               "matched": {"file": "../bench/gsm8k.jsonl", "line": 1}}),
        json!({"problem_id": "ds-5", "kind": "exact", "matched": {"problem_id": "more-1"}}),
        json!({"problem_id": "ds-7", "kind": "contaminated",
               "matched": {"file": "../bench/gsm8k.jsonl", "line": 4}}),
    ]
}

/// The fields `expected_removals` names, of each logged removal, sorted by problem id.
fn summarized(lines: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = lines
        .iter()
        .map(|l| json!({"problem_id": l["problem_id"], "kind": l["kind"], "matched": l["matched"]}))
        .collect();
    out.sort_by_key(|v| v["problem_id"].as_str().unwrap_or("").to_owned());
    out
}

fn kept() -> BTreeSet<String> {
    [
        "ds-0", "ds-1", "ds-6", "more-0", "more-1", "more-2", "more-3",
    ]
    .map(str::to_owned)
    .into()
}

#[test]
fn duplicates_and_contamination_are_removed_once_across_resumes() {
    let p = project();
    // A first run that stops after 5 schedule slots (ds-0, more-0, ds-1, more-1, ds-2).
    run(&p, &["--max-problems", "5"]);
    let first = log(&p.out());
    assert_eq!(summarized(&first), expected_removals()[..1].to_vec());
    // The rest of the schedule: decisions replay from the start, the log gains only new lines.
    let out = run(&p, &[]);
    assert!(
        stderr(&out).contains(
            "curation: 5 of 12 problems removed (2 exact, 1 near-duplicate, 2 contaminated)"
        ),
        "{}",
        stderr(&out)
    );
    let lines = log(&p.out());
    assert_eq!(lines[0], first[0]);
    assert_eq!(summarized(&lines), expected_removals());
    let by_id = |id: &str| {
        lines
            .iter()
            .find(|l| l["problem_id"] == id)
            .unwrap()
            .clone()
    };
    let near = by_id("ds-3");
    let s = near["similarity"].as_f64().unwrap();
    assert!((0.8..1.0).contains(&s), "{near}");
    assert_eq!(by_id("ds-2")["similarity"], 1.0);
    assert_eq!(
        by_id("ds-4")["ngram"],
        "natalia sold clips to 48 of her friends in april and then she"
    );
    assert_eq!(
        (
            by_id("ds-4")["source"].clone(),
            by_id("ds-4")["index"].clone()
        ),
        (json!("ds"), json!(4))
    );
    // Removed problems have no rows; every kept one does.
    assert_eq!(problems_with_rows(&p.out()), kept());
    assert_manifest_matches(&p.out());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(p.out().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["curation"],
        json!({"log": "out/curation.jsonl", "checked": 12, "kept": 7, "exact": 2,
               "near_duplicate": 1, "contaminated": 2})
    );

    // A torn last line (a crash mid-append) is cut; a run on a finished output changes nothing.
    let path = p.out().join("curation.jsonl");
    let before = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{before}{{\"problem_id\":\"ds-")).unwrap();
    run(&p, &[]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!(problems_with_rows(&p.out()), kept());
}

#[test]
fn every_shard_takes_the_same_decisions() {
    let p = project();
    for shard in ["0/2", "1/2"] {
        run(&p, &["--shard", shard]);
    }
    let part = |i: usize| p.out().join(format!("shards/000{i}-of-0002"));
    // Each shard logs the removals of its own slots (even, odd indices); ds-2 and ds-3 are
    // duplicates of problems the other shard keeps.
    let ids = |lines: Vec<Value>| -> Vec<String> {
        summarized(&lines)
            .iter()
            .map(|l| l["problem_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(log(&part(0))), ["ds-2", "ds-4"]);
    assert_eq!(ids(log(&part(1))), ["ds-3", "ds-5", "ds-7"]);
    let mut all = log(&part(0));
    all.extend(log(&part(1)));
    assert_eq!(summarized(&all), expected_removals());
    let mut rows = problems_with_rows(&part(0));
    rows.extend(problems_with_rows(&part(1)));
    assert_eq!(rows, kept());
}

#[test]
fn curation_config_errors_name_the_field() {
    let p = project();
    let text = config().replace("[curation]\n", "[curation]\nthreshold = 2.0\n");
    p.write("conf/pipeline.toml", &text);
    let out = smelt()
        .current_dir(p.dir.path())
        .args(["validate", "conf/pipeline.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("curation.threshold 2 must be in (0, 1]"),
        "{}",
        stderr(&out)
    );
    let text = config().replace("[curation]\n", "[curation]\nbandz = 3\n");
    p.write("conf/pipeline.toml", &text);
    let out = smelt()
        .current_dir(p.dir.path())
        .args(["validate", "conf/pipeline.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown field `bandz`"),
        "{}",
        stderr(&out)
    );
}
