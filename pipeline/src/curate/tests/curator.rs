//! The curator's decisions and the run stage around it.

use super::{fixture, problem, words};
use crate::curate::{
    Admission, BenchmarkFile, Curation, CurationConfig, CurationLog, Curator, Matched, RemovalKind,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn curator(config: &CurationConfig) -> Curator {
    Curator::load(config, &fixture("")).expect("fixtures load")
}

fn removal_kind(a: &Admission) -> Option<RemovalKind> {
    match a {
        Admission::Keep => None,
        Admission::Remove(r) => Some(r.kind),
    }
}

#[test]
fn exact_duplicates_across_sources_are_removed() {
    let mut c = curator(&CurationConfig::default());
    assert_eq!(c.admit(&problem("a", 0, "What is 2 + 3?")), Admission::Keep);
    assert_eq!(c.admit(&problem("a", 1, "What is 2 + 4?")), Admission::Keep);
    let Admission::Remove(r) = c.admit(&problem("b", 7, "  what IS 2 + 3 ")) else {
        panic!("not removed");
    };
    assert_eq!(r.kind, RemovalKind::Exact);
    assert_eq!(
        (r.problem_id.as_str(), r.source.as_str(), r.index),
        ("b-7", "b", 7)
    );
    assert_eq!(
        r.matched,
        Matched::Problem {
            problem_id: "a-0".into()
        }
    );
    assert_eq!(r.similarity, 1.0);
    assert_eq!(c.kept(), 2);
}

#[test]
fn near_duplicates_are_removed_and_match_the_kept_one() {
    let mut c = curator(&CurationConfig::default());
    let base = words("w", 40);
    assert_eq!(c.admit(&problem("a", 0, &base.join(" "))), Admission::Keep);
    let mut edited = base.clone();
    edited[38] = "other".into();
    let Admission::Remove(r) = c.admit(&problem("a", 1, &edited.join(" "))) else {
        panic!("not removed");
    };
    assert_eq!(r.kind, RemovalKind::NearDuplicate);
    assert_eq!(
        r.matched,
        Matched::Problem {
            problem_id: "a-0".into()
        }
    );
    assert!(
        r.similarity >= 0.8 && r.similarity < 1.0,
        "{}",
        r.similarity
    );
    // Off: the same problem is kept.
    let mut off = curator(&CurationConfig {
        near_duplicates: false,
        ..CurationConfig::default()
    });
    assert_eq!(
        off.admit(&problem("a", 0, &base.join(" "))),
        Admission::Keep
    );
    assert_eq!(
        off.admit(&problem("a", 1, &edited.join(" "))),
        Admission::Keep
    );
}

#[test]
fn contamination_is_checked_first_and_removed_problems_are_not_remembered() {
    let config = CurationConfig {
        decontaminate: vec![BenchmarkFile {
            path: PathBuf::from("gsm8k_sample.jsonl"),
            field: Some("question".into()),
        }],
        ..CurationConfig::default()
    };
    let mut c = curator(&config);
    assert_eq!(c.benchmark_items(), 6);
    let planted = "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes \
        of babysitting. How much did she earn?";
    let Admission::Remove(r) = c.admit(&problem("d", 3, planted)) else {
        panic!("not removed");
    };
    assert_eq!(r.kind, RemovalKind::Contaminated);
    assert_eq!(
        r.matched,
        Matched::Benchmark {
            file: PathBuf::from("gsm8k_sample.jsonl"),
            line: 2
        }
    );
    assert_eq!(
        r.ngram.as_deref(),
        Some("weng earns $12 an hour for babysitting yesterday she just did 50 minutes")
    );
    // Its copy is contaminated too, not a duplicate of a removed problem.
    assert_eq!(
        removal_kind(&c.admit(&problem("d", 4, planted))),
        Some(RemovalKind::Contaminated)
    );
    assert_eq!(c.kept(), 0);
}

#[test]
fn decisions_are_deterministic_and_remember_seeds_later_rounds() {
    let texts: Vec<String> = (0..60)
        .map(|i| words(&format!("p{}x", i % 20), 30 + i % 3).join(" "))
        .collect();
    let run = |c: &mut Curator| -> Vec<Option<RemovalKind>> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| removal_kind(&c.admit(&problem("s", i as u64, t))))
            .collect()
    };
    let a = run(&mut curator(&CurationConfig::default()));
    let b = run(&mut curator(&CurationConfig::default()));
    assert_eq!(a, b);
    assert_eq!(a.iter().filter(|k| k.is_none()).count(), 20, "{a:?}");
    // A later round seeded with the kept problems removes every one of them again.
    let mut next = curator(&CurationConfig::default());
    for (i, t) in texts.iter().enumerate().take(20) {
        next.remember(&format!("s-{i}"), t);
    }
    assert!(run(&mut next).iter().all(Option::is_some));
}

#[test]
fn templated_generator_problems_are_not_near_duplicates() {
    // Word problems share their template's words; their numbers keep nearly all apart. The few
    // removed differ in one number near the end ("… in 7 years?" vs "… in 12 years?"), which
    // is what a near duplicate is at 5-grams and threshold 0.8.
    let entry: crate::sources::SourceEntry =
        toml::from_str("name='w'\ntype='word_problem'\ntemplate='t.j2'\n").unwrap();
    let source = crate::sources::build(&entry, &fixture(""), 0).unwrap();
    let mut c = curator(&CurationConfig::default());
    let mut removed = Vec::new();
    for i in 0..500 {
        let p = source.problem(i).unwrap();
        if let Admission::Remove(r) = c.admit(&p) {
            removed.push(r);
        }
    }
    let first = removed.first().map(|r| {
        let kept = match &r.matched {
            Matched::Problem { problem_id } => problem_id.clone(),
            other => format!("{other:?}"),
        };
        let index: u64 = kept.trim_start_matches("w-").parse().unwrap_or(0);
        (
            source.problem(r.index).unwrap().text,
            source.problem(index).unwrap().text,
        )
    });
    assert!(
        !removed.is_empty() && removed.len() <= 15,
        "{} removed, first: {first:?}",
        removed.len()
    );
    assert!(removed.iter().all(|r| r.kind == RemovalKind::NearDuplicate));
}

#[test]
fn the_stage_counts_and_logs_only_owned_slots() {
    let dir = tempfile::tempdir().unwrap();
    let curator = Arc::new(Mutex::new(curator(&CurationConfig::default())));
    let stage = Curation::new(curator.clone(), CurationLog::open(dir.path()).unwrap());
    assert!(stage
        .admit(&problem("a", 0, "one two three"), true)
        .unwrap());
    // Not owned: decided (and remembered), neither counted nor logged.
    assert!(stage
        .admit(&problem("a", 1, "four five six"), false)
        .unwrap());
    assert!(!stage
        .admit(&problem("a", 2, "one two three"), false)
        .unwrap());
    assert!(!stage
        .admit(&problem("a", 3, "four five six"), true)
        .unwrap());
    stage.finish().unwrap();
    let summary = stage.summary();
    assert_eq!(
        (
            summary.counts.checked,
            summary.counts.kept,
            summary.counts.exact
        ),
        (2, 1, 1)
    );
    assert_eq!(summary.counts.removed(), 1);
    let logged = crate::curate::log::read(&summary.log).unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].problem_id, "a-3");
    assert_eq!(
        logged[0].matched,
        Matched::Problem {
            problem_id: "a-1".into()
        }
    );
    assert_eq!(curator.lock().unwrap().kept(), 2);
}
