//! Model-proposed problems end to end (replayed completions): the proposal phase proves or
//! rejects each proposal with its reason, the proven ones are solved with their proven answer
//! as reference, resume proposes nothing twice; `smelt rounds` carries seeds and difficulty.

use crate::common::*;
use std::collections::BTreeMap;

fn config(count: u64, examples: usize) -> String {
    format!(
        r#"
[run]
name = "fly"
output = "out"
seed = 3

[model]
kind = "replay"
path = "replay.jsonl"

[sampling]
samples_per_problem = 2

[[sources]]
name = "lin"
type = "linear_equation"
template = "prompts/linear.j2"
max_problems = 2

[[sources]]
name = "prop"
type = "propose"
template = "prompts/word_problem.j2"

[sources.propose]
template = "propose.j2"
seeds = ["lin"]
count = {count}
examples = {examples}

[[verifiers]]
type = "answer"
"#
    )
}

const PROPOSE_TEMPLATE: &str = "{% for e in structured.examples %}Problem: {{ e.text }}\nSMT: {{ e.smt }}\n\n{% endfor %}Problem:";

/// Six proposals, one per outcome (p5 in the equation form); p0's answers are solved right,
/// the rest wrong.
fn proposals(prefix: &str) -> Vec<(String, &'static str)> {
    [
        " Sam has 4 bags with 5 apples each. How many apples?\nSMT: (declare-const answer Int) (assert (= answer (* 4 5)))",
        " A square of a number is 16. Find the number.\nSMT: (declare-const x Int) (assert (= (* x x) 16))",
        " Ann has 3 cats and 8 dogs. How many pets?\nSMT: (declare-const answer Int) (assert (= answer (+ 3 7)))",
        " A number is 2 more than itself.\nSMT: (declare-const x Int) (assert (= x (+ x 2)))",
        " I like math a lot",
        " A rope of 30 meters is cut into 5 equal pieces. How long is each piece?\nEquation: answer * 5 = 30.",
    ]
    .iter()
    .enumerate()
    .map(|(i, c)| (format!("{prefix}p{i}:propose"), *c))
    .collect()
}

fn write_replay(project: &Project, prefix: &str, rounds: &[u32]) {
    let mut lines = Vec::new();
    let mut push = |id: &str, c: &str| {
        lines.push(serde_json::json!({"problem_id": id, "completion": c}).to_string());
    };
    for round in rounds {
        let prefix = if *round == 0 {
            prefix.to_string()
        } else {
            format!("{prefix}r{round}-")
        };
        for (id, c) in proposals(&prefix) {
            push(&id, c);
        }
        // Solutions: p0 right twice (20), p5 wrong twice.
        for _ in 0..2 {
            push(&format!("{prefix}p0"), "4 × 5 = 20\nAnswer: \\boxed{20}");
            push(&format!("{prefix}p5"), "30 ÷ 5 = 7\nAnswer: \\boxed{7}");
        }
    }
    for i in 0..2 {
        for _ in 0..2 {
            push(&format!("lin-{i}"), "No idea. \\boxed{123456}");
        }
    }
    project.write("replay.jsonl", &(lines.join("\n") + "\n"));
}

fn proposal_log(out: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("proposals.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l.split_once(' ').unwrap().1).unwrap())
        .collect()
}

#[test]
fn proposals_are_proven_or_rejected_with_a_reason_and_solved_once() {
    let project = Project::new();
    project.write("pipeline.toml", &config(6, 2));
    project.write("propose.j2", PROPOSE_TEMPLATE);
    write_replay(&project, "prop-", &[0]);
    let log = stderr(&run_ok(smelt().current_dir(project.dir.path()).args([
        "run",
        "pipeline.toml",
        "--quiet",
    ])));
    assert!(
        log.contains("proposals `prop`: 6 of 6 logged, 2 proven well-posed"),
        "{log}"
    );

    let records = proposal_log(&project.out());
    let reasons: BTreeMap<String, String> = records
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap_or("proven").to_string(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        ("prop-p0", "proven"),
        ("prop-p1", "not_unique"),
        ("prop-p2", "text_mismatch"),
        ("prop-p3", "unsat"),
        ("prop-p4", "unparsable"),
        ("prop-p5", "proven"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(reasons, expected);
    // Lines are in the order the checks finished; find p0 by id.
    let p0 = records.iter().find(|r| r["id"] == "prop-p0").unwrap();
    assert_eq!(p0["answer"], "20");
    assert_eq!(p0["parents"].as_array().unwrap().len(), 2, "{p0}");
    assert!(
        p0["parents"][0].as_str().unwrap().starts_with("lin-"),
        "{p0}"
    );

    // The equation form: kept as written, translated to SMT-LIB over the reals.
    let p5 = records.iter().find(|r| r["id"] == "prop-p5").unwrap();
    assert_eq!(p5["equation"], "answer * 5 = 30", "{p5}");
    assert_eq!(
        p5["smt"],
        "(declare-const answer Real) (assert (= (* answer 5.0) 30.0))"
    );
    assert_eq!(p5["answer"], "6");
    assert!(p0.get("equation").is_none(), "{p0}");

    // The proven problems were solved against their proven answers.
    let accepted = read_split(&project.out(), "accepted");
    let ids = strings(&accepted, "problem_id");
    assert_eq!(ids, ["prop-p0", "prop-p0"], "only p0's right solutions");
    assert_eq!(strings(&accepted, "reference_answer"), ["20", "20"]);
    let structured: serde_json::Value =
        serde_json::from_str(&strings(&accepted, "structured")[0]).unwrap();
    assert_eq!(structured["kind"], "proposed");
    assert_eq!(structured["parents"], p0["parents"]);
    let rejected = read_split(&project.out(), "rejected");
    assert_eq!(rejected.height(), 2 + 4, "p5's wrong solutions and lin's");

    // Resume: nothing is proposed or solved again.
    let log = stderr(&run_ok(smelt().current_dir(project.dir.path()).args([
        "run",
        "pipeline.toml",
        "--quiet",
    ])));
    assert!(log.contains("6 of 6 logged"), "{log}");
    assert_eq!(proposal_log(&project.out()).len(), 6);
    assert_eq!(read_split(&project.out(), "accepted").height(), 2);
    assert_eq!(read_split(&project.out(), "rejected").height(), 6);
}

#[test]
fn rounds_carry_seeds_and_difficulty_and_resume() {
    let project = Project::new();
    // One example a prompt: round 2's pool is round 1's solved proposal alone.
    project.write("pipeline.toml", &config(6, 1));
    project.write("propose.j2", PROPOSE_TEMPLATE);
    write_replay(&project, "prop-", &[1, 2]);
    let log = stderr(&run_ok(smelt().current_dir(project.dir.path()).args([
        "rounds",
        "pipeline.toml",
        "--rounds",
        "2",
        "--quiet",
    ])));
    let rounds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.out().join("rounds.json")).unwrap())
            .unwrap();
    let rounds = rounds["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{log}");
    for (i, r) in rounds.iter().enumerate() {
        assert_eq!(r["round"], i as u64 + 1);
        assert_eq!(r["proposals"]["logged"], 6);
        assert_eq!(r["proposals"]["proven"], 2);
        assert_eq!(r["proposals"]["solved"], 1);
        assert_eq!(r["accepted"], 2);
    }
    // lin never passes at difficulty 3 (its default): round 2 runs it one step easier.
    assert_eq!(
        rounds[0]["difficulty"][0]["action"], "easier",
        "{}",
        rounds[0]
    );
    assert_eq!(rounds[1]["difficulty"][0]["difficulty"], 2);
    // Round 2 drew its examples from round 1's solved proposal only.
    let r2 = proposal_log(&project.out().join("round-02"));
    for r in &r2 {
        let parents = r["parents"].as_array().unwrap();
        assert_eq!(parents.len(), 1, "one example in the pool: {r}");
        assert_eq!(parents[0], "prop-r1-p0");
        assert_eq!(r["round"], 2);
    }
    assert!(
        log.contains("next seeds: 1 proposal(s) proven and solved"),
        "{log}"
    );
    // The table: accepted so far grows by round; every source's pass rate.
    assert!(
        log.contains("pass rates: lin 0.0% of 4 samples, prop 50.0% of 4 samples"),
        "{log}"
    );
    assert!(log.contains(&format!("{:>8}  {:>8}", 2, 4)), "{log}");

    // A rerun replays both rounds: nothing new.
    run_ok(smelt().current_dir(project.dir.path()).args([
        "rounds",
        "pipeline.toml",
        "--rounds",
        "2",
        "--quiet",
    ]));
    assert_eq!(proposal_log(&project.out().join("round-02")).len(), 6);
    assert_eq!(
        read_split(&project.out().join("round-02"), "accepted").height(),
        2
    );
}

#[test]
fn curation_spans_rounds() {
    let project = Project::new();
    // Round 2's model proposes round 1's problems again, word for word. The config sits in a
    // directory of its own (its paths are relative to it, the output to the working directory).
    let text = config(6, 1)
        .replace(
            "[[verifiers]]",
            "[curation]\nnear_duplicates = false\n\n[[verifiers]]",
        )
        .replace("\"prompts/", "\"../prompts/")
        .replace("\"propose.j2\"", "\"../propose.j2\"")
        .replace("\"replay.jsonl\"", "\"../replay.jsonl\"");
    project.write("conf/pipeline.toml", &text);
    project.write("propose.j2", PROPOSE_TEMPLATE);
    write_replay(&project, "prop-", &[1, 2]);
    let log = stderr(&run_ok(smelt().current_dir(project.dir.path()).args([
        "rounds",
        "conf/pipeline.toml",
        "--rounds",
        "2",
        "--quiet",
    ])));
    let round = |r: u32| project.out().join(format!("round-0{r}"));
    let removed = |r: u32| -> BTreeMap<String, serde_json::Value> {
        let path = round(r).join("curation.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["source"] == "prop")
            .map(|v| (v["problem_id"].as_str().unwrap().to_string(), v))
            .collect()
    };
    assert!(removed(1).is_empty(), "round 1 has no earlier problems");
    let r2 = removed(2);
    assert_eq!(
        r2.keys().collect::<Vec<_>>(),
        ["prop-r2-p0", "prop-r2-p5"],
        "{log}"
    );
    assert_eq!(r2["prop-r2-p0"]["kind"], "exact");
    assert_eq!(
        r2["prop-r2-p0"]["matched"]["problem_id"], "prop-r1-p0",
        "{}",
        r2["prop-r2-p0"]
    );
    // Removed problems are not sampled: round 2 wrote no row of a proposed problem.
    for split in ["accepted", "rejected"] {
        let df = read_split(&round(2), split);
        if df.height() > 0 {
            assert!(
                strings(&df, "source").iter().all(|s| s != "prop"),
                "{split}"
            );
        }
    }
    assert_eq!(read_split(&round(1), "accepted").height(), 2);
}
