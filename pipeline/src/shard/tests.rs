//! Shard parsing, ownership and resolution from the environment.

use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

#[test]
fn parses_and_rejects() {
    assert_eq!(
        ShardSpec::parse("3/8", "x"),
        Ok(ShardSpec { index: 3, count: 8 })
    );
    for bad in ["8/8", "1/0", "a/2", "3", "-1/4", ""] {
        assert!(ShardSpec::parse(bad, "--shard").is_err(), "{bad}");
    }
    let e = ShardSpec::parse("4/4", "--shard").unwrap_err().to_string();
    assert!(e.contains("--shard = `4/4`"), "{e}");
}

#[test]
fn shards_partition_the_indices() {
    let shards: Vec<ShardSpec> = (0..4).map(|index| ShardSpec { index, count: 4 }).collect();
    for i in 0..1000u64 {
        assert_eq!(shards.iter().filter(|s| s.owns(i)).count(), 1, "{i}");
    }
}

#[test]
fn dir_names_round_trip() {
    let s = ShardSpec {
        index: 12,
        count: 100,
    };
    assert_eq!(s.dir_name(), "0012-of-0100");
    assert_eq!(ShardSpec::from_dir_name("0012-of-0100"), Some(s));
    assert_eq!(ShardSpec::from_dir_name("12-of-100"), None);
    assert_eq!(ShardSpec::from_dir_name("0100-of-0100"), None);
    assert_eq!(ShardSpec::from_dir_name("data"), None);
}

#[test]
fn precedence_flag_then_env_then_schedulers() {
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    assert_eq!(
        resolve(None, env(&slurm)),
        Ok(Some(ShardSpec { index: 2, count: 4 }))
    );
    assert_eq!(
        resolve(Some("1/3"), env(&slurm)),
        Ok(Some(ShardSpec { index: 1, count: 3 }))
    );
    assert_eq!(resolve(Some("off"), env(&slurm)), Ok(None));
    let mut with_env = slurm.to_vec();
    with_env.push(("SMELT_SHARD", "2/4"));
    with_env[1] = ("SLURM_ARRAY_TASK_COUNT", "1");
    assert_eq!(
        resolve(None, env(&with_env)),
        Ok(Some(ShardSpec { index: 2, count: 4 }))
    );
    assert_eq!(resolve(None, env(&[])), Ok(None));
}

#[test]
fn slurm_min_and_step() {
    let e = env(&[
        ("SLURM_ARRAY_TASK_ID", "7"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_STEP", "2"),
    ]);
    assert_eq!(resolve(None, e), Ok(Some(ShardSpec { index: 3, count: 4 })));
    // A resubmitted single task (`--array=2`) is 0 of 1 to Slurm: refused unless told.
    let e = env(&[
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "1"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
    ]);
    let msg = resolve(None, e).unwrap_err().to_string();
    assert!(msg.contains("SMELT_SHARD=I/N"), "{msg}");
    let e = env(&[("SLURM_ARRAY_TASK_ID", "2")]);
    let msg = resolve(None, e).unwrap_err().to_string();
    assert!(msg.contains("SLURM_ARRAY_TASK_COUNT: not set"), "{msg}");
}

#[test]
fn kubernetes_needs_a_count() {
    let e = env(&[("JOB_COMPLETION_INDEX", "5"), ("SMELT_SHARDS", "6")]);
    assert_eq!(resolve(None, e), Ok(Some(ShardSpec { index: 5, count: 6 })));
    let msg = resolve(None, env(&[("JOB_COMPLETION_INDEX", "5")]))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("SMELT_SHARDS"), "{msg}");
    let msg = resolve(
        None,
        env(&[("JOB_COMPLETION_INDEX", "6"), ("SMELT_SHARDS", "6")]),
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("6/6"), "{msg}");
}
