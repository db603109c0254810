use super::difficulty::adapt;
use super::*;

fn example(id: &str) -> Example {
    Example {
        id: id.into(),
        text: format!("text of {id}"),
        smt: "(declare-const x Int) (assert (= x 1))".into(),
        equation: None,
    }
}

#[test]
fn difficulty_steps_toward_the_band() {
    let band = Band::default();
    assert_eq!(adapt("a", 2, Some(0.95), band).next, 3);
    assert_eq!(adapt("a", 2, Some(0.05), band).next, 1);
    let kept = adapt("a", 2, Some(0.5), band);
    assert_eq!((kept.next, kept.action), (2, "kept"));
    assert_eq!(adapt("a", 5, Some(0.95), band).action, "at_limit");
    assert_eq!(adapt("a", 0, Some(0.0), band).action, "at_limit");
    assert_eq!(adapt("a", 3, None, band).action, "no_samples");
}

#[test]
fn a_round_config_gets_its_dir_seed_difficulty_and_seeds() {
    let text = r#"
[run]
name = "fly"
seed = 10
[model]
kind = "replay"
path = "r.jsonl"
[[sources]]
name = "lin"
type = "linear_equation"
template = "t.j2"
difficulty = 1
[[sources]]
name = "prop"
type = "propose"
template = "t.j2"
[sources.propose]
template = "p.j2"
seeds = ["lin"]
[[verifiers]]
type = "answer"
"#;
    let base =
        crate::config::load_str(text, Path::new("/tmp/fly.toml"), Path::new("/tmp"), &[]).unwrap();
    let mut carry = Carry::initial(&base);
    assert_eq!(carry.difficulty["lin"], 1);
    carry.difficulty.insert("lin".into(), 2);
    carry.seed_file = Some("/tmp/seeds.jsonl".into());
    let cfg = config_for_round(&base, Path::new("/out"), 3, &carry);
    assert_eq!(cfg.run.output.as_deref(), Some(Path::new("/out/round-03")));
    assert_eq!(cfg.run.seed, 12);
    assert_eq!(cfg.sources[0].difficulty, Some(2));
    let p = cfg.sources[1].propose.as_ref().unwrap();
    assert_eq!(
        (p.round, p.accepted_file.as_deref()),
        (3, Some(Path::new("/tmp/seeds.jsonl")))
    );
    assert_eq!(
        p.seeds,
        ["lin"],
        "the configured examples fill the places left"
    );
    assert_eq!(p.seed_file, None);
}

#[test]
fn seeds_grow_and_a_degenerate_round_keeps_the_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let earlier = vec![example("p-p0")];
    let (next, pool) = seeds_after(
        dir.path(),
        &earlier,
        &[example("p-p3")],
        &[example("p-p3"), example("p-p4")],
        None,
    )
    .unwrap();
    assert_eq!(
        pool.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["p-p0", "p-p3"]
    );
    let file = next.file.unwrap();
    assert_eq!(crate::propose::seeds::read_file(&file).unwrap(), pool);

    let (next, pool) = seeds_after(dir.path(), &pool, &[], &[], Some(&file)).unwrap();
    assert_eq!(pool.len(), 2);
    assert!(
        next.from.contains("no proposal was proven"),
        "{}",
        next.from
    );
    assert_eq!(next.file.as_deref(), Some(file.as_path()));

    let (next, pool) = seeds_after(dir.path(), &[], &[], &[], None).unwrap();
    assert!(pool.is_empty() && next.file.is_none());
}

#[test]
fn the_table_shows_accepted_so_far_pass_rates_and_the_histogram() {
    let round = |r: u32, accepted: u64, histogram: Vec<u64>| summary::RoundSummary {
        round: r,
        dir: format!("round-0{r}"),
        seed: 7,
        exit_code: 0,
        samples: 100,
        accepted,
        acceptance_rate: Some(accepted as f64 / 100.0),
        sources: [(
            "arith".to_string(),
            summary::SourceRound {
                samples: 100,
                accepted,
                pass_rate: Some(accepted as f64 / 100.0),
                problems: (r == 1).then_some(8),
                sample_acceptance: Some(accepted as f64 / 100.0),
            },
        )]
        .into_iter()
        .collect(),
        proposals: Default::default(),
        pass_rate_histogram: histogram,
        in_band: Some(1),
        difficulty: vec![adapt("arith", 0, Some(0.25), Band::default())],
        next_seeds: None,
    };
    let text = summary::render_text(&[
        round(1, 10, vec![3, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
        round(2, 25, Vec::new()),
    ]);
    assert!(text.contains(&format!("{:>8}  {:>8}", 25, 35)), "{text}");
    assert!(
        text.contains("pass rates: arith 10.0% over 8 problems (10.0% of 100 samples)"),
        "{text}"
    );
    assert!(
        text.contains("pass rates: arith 25.0% of 100 samples"),
        "{text}"
    );
    assert!(
        text.contains("problems by pass rate, in tenths from 0 to 1: 3 0 1 0 0 0 0 0 0 0"),
        "{text}"
    );
    assert_eq!(text.matches("problems by pass rate").count(), 1, "{text}");
    assert!(
        text.contains("arith: pass rate 25.0% at difficulty 0 → 0 (kept)"),
        "{text}"
    );
}

/// With adaptive records, a source's pass rate is the mean over its problems: pooling would
/// weight the never-solved problem by its 16 attempts and report 4 / 20 = 20%.
#[test]
fn an_adaptive_rounds_pass_rate_counts_each_problem_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("report.json"),
        r#"{"total": {"samples": 20, "accepted": 4,
            "sources": {"arith": {"samples": 20, "accepted": 4}}}}"#,
    )
    .unwrap();
    let record = |id: &str, accepted: u64, attempts: u64, stop: &str, placement: &str| {
        serde_json::json!({
            "problem_id": id, "source": "arith", "index": 0, "attempts": attempts,
            "accepted": accepted, "pass_rate": accepted as f64 / attempts as f64,
            "interval_lower": 0.0, "interval_upper": 1.0, "stop": stop, "placement": placement,
        })
        .to_string()
    };
    std::fs::write(
        d.join(crate::adaptive::record::FILE_NAME),
        format!(
            "{}\n{}\n",
            record("arith-0", 4, 4, "k_reached", "above"),
            record("arith-1", 0, 16, "never_solved", "below")
        ),
    )
    .unwrap();
    let out = summary::read_round(d, 1, 7, 0).unwrap().summary;
    let arith = &out.sources["arith"];
    assert_eq!(arith.pass_rate, Some(0.5));
    assert_eq!(arith.problems, Some(2));
    assert_eq!(arith.sample_acceptance, Some(0.2));
    assert_eq!(out.pass_rate_histogram, [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    // 0.5 is in the band: the difficulty stays (the pooled 0.2 would sit on its edge).
    let step = adapt("arith", 1, arith.pass_rate, Band::default());
    assert_eq!(step.action, "kept");
}
