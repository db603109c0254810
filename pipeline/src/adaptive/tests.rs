use super::*;

fn close(a: f64, b: f64, eps: f64) -> bool {
    (a - b).abs() < eps
}

#[test]
fn wilson_matches_published_values() {
    // 8 of 10 at 95%: (0.4902, 0.9433), e.g. Newcombe (1998), method 3.
    let i = IntervalKind::Wilson.interval(8, 10, 0.95);
    assert!(
        close(i.lower, 0.4902, 1e-4) && close(i.upper, 0.9433, 1e-4),
        "{i:?}"
    );
    // 0 of 16: upper = z²/(n+z²).
    let i = IntervalKind::Wilson.interval(0, 16, 0.95);
    let z2 = 1.959964f64.powi(2);
    assert!(
        close(i.upper, z2 / (16.0 + z2), 1e-6) && i.lower == 0.0,
        "{i:?}"
    );
}

#[test]
fn clopper_pearson_matches_closed_forms() {
    // x = 0: upper = 1 - (alpha/2)^(1/n); x = n: lower = (alpha/2)^(1/n).
    let i = IntervalKind::ClopperPearson.interval(0, 16, 0.95);
    assert!(
        close(i.upper, 1.0 - 0.025f64.powf(1.0 / 16.0), 1e-9),
        "{i:?}"
    );
    let i = IntervalKind::ClopperPearson.interval(16, 16, 0.95);
    assert!(close(i.lower, 0.025f64.powf(1.0 / 16.0), 1e-9) && i.upper == 1.0);
    // 8 of 10: (0.4439, 0.9748).
    let i = IntervalKind::ClopperPearson.interval(8, 10, 0.95);
    assert!(
        close(i.lower, 0.4439, 1e-4) && close(i.upper, 0.9748, 1e-4),
        "{i:?}"
    );
    // Exact is wider than Wilson.
    let w = IntervalKind::Wilson.interval(8, 10, 0.95);
    assert!(i.lower < w.lower && i.upper > w.upper);
}

fn tally(accepted: u64, attempts: u64) -> Tally {
    Tally { attempts, accepted }
}

#[test]
fn the_rule_stops_for_each_reason() {
    let rule = AdaptiveConfig::default();
    assert_eq!(rule.decide(tally(0, 0)), None);
    // Wilson's upper bound for 0/n drops below 0.2 at n = 16 (0.194), not at 12 (0.243).
    assert_eq!(rule.decide(tally(0, 12)), None);
    assert_eq!(rule.decide(tally(0, 16)), Some(Stop::NeverSolved));
    assert_eq!(rule.decide(tally(2, 8)), None);
    assert_eq!(rule.decide(tally(4, 8)), Some(Stop::KReached));
    assert_eq!(rule.decide(tally(3, 32)), Some(Stop::MaxAttempts));
    // Always solved wins over k once the lower bound clears the band.
    let wide = AdaptiveConfig {
        k: 100,
        max_attempts: 200,
        ..AdaptiveConfig::default()
    };
    assert_eq!(wide.decide(tally(15, 16)), None);
    assert_eq!(wide.decide(tally(24, 24)), Some(Stop::AlwaysSolved));
    assert_eq!(wide.placement(tally(24, 24)), Placement::Above);
    assert_eq!(wide.placement(tally(0, 16)), Placement::Below);
    assert_eq!(wide.placement(tally(4, 8)), Placement::In);
    assert_eq!(wide.placement(tally(1, 8)), Placement::Undecided);
}

#[test]
fn bad_rules_are_named() {
    let bad = AdaptiveConfig {
        k: 40,
        max_attempts: 32,
        confidence: 1.0,
        band: Band {
            low: 0.9,
            high: 0.5,
        },
        ..AdaptiveConfig::default()
    };
    let errors = bad.check();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("adaptive.k (40)"), "{errors:?}");
    assert!(errors[1].contains("adaptive.confidence"), "{errors:?}");
    assert!(errors[2].contains("adaptive.band"), "{errors:?}");
    assert!(AdaptiveConfig::default().check().is_empty());
}

#[test]
fn the_ledger_merges_with_earlier_runs() {
    let dir = tempfile::tempdir().unwrap();
    let first = Ledger::new(AdaptiveConfig::default());
    first.record("p-0", "s", 0, tally(0, 16), Stop::NeverSolved);
    first.record("p-1", "s", 1, tally(3, 32), Stop::MaxAttempts);
    let summary = first.write(dir.path()).unwrap();
    assert_eq!(
        (summary.problems, summary.attempts, summary.accepted),
        (2, 48, 3)
    );

    // A resumed run revisits p-1 with a larger budget and adds p-2.
    let second = Ledger::new(AdaptiveConfig::default());
    second.record("p-1", "s", 1, tally(4, 36), Stop::KReached);
    second.record("p-2", "s", 2, tally(4, 4), Stop::KReached);
    let summary = second.write(dir.path()).unwrap();
    assert_eq!(summary.problems, 3);
    assert_eq!(summary.by_stop.get("k_reached"), Some(&2));
    assert_eq!(summary.by_stop.get("never_solved"), Some(&1));
    assert_eq!(summary.histogram[0], 1);
    assert_eq!(summary.histogram[1], 1, "4/36 = 0.11");
    assert_eq!(
        summary.histogram[9], 1,
        "a pass rate of 1 is in the last bin"
    );
    let records = record::read(&dir.path().join(record::FILE_NAME)).unwrap();
    assert_eq!(records["p-1"].attempts, 36);
    assert!(summary.render_text().contains("k_reached 2"));

    std::fs::write(dir.path().join(record::FILE_NAME), "{\"problem_id\": 1}\n").unwrap();
    let err = second.write(dir.path()).unwrap_err().to_string();
    assert!(err.contains("problems.jsonl: line 1"), "{err}");
}
