//! Merge over hand-made parts: real journals and outcome files, shard files of known bytes.
//! (The end-to-end tests merge real runs, under Slurm too.)

use super::*;
use crate::journal::{Commit, Journal};
use crate::runtime::Outcome;
use crate::shard::outcome::RunOutcome;

fn identity(samples: &str) -> Identity {
    Identity {
        samples: samples.into(),
        verifiers: "chain".into(),
    }
}

/// Writes part `index` of `count` under `out` holding `ids` (one shard file), finished or not.
fn part(out: &Path, index: u64, count: u64, ids: &[&str], finished: bool, samples: &str) {
    let spec = ShardSpec { index, count };
    let dir = spec.dir(out);
    std::fs::create_dir_all(dir.join("data/accepted")).unwrap();
    let rel = "data/accepted/part-00000.parquet";
    let bytes = format!("rows of part {index}: {ids:?}");
    std::fs::write(dir.join(rel), &bytes).unwrap();
    let sha = crate::sink::shard::sha256_file(&dir.join(rel)).unwrap();
    let id = identity(samples);
    let mut j = Journal::open(&dir, &id).unwrap();
    j.commit(Commit {
        shards: vec![ShardRecord {
            path: rel.into(),
            split: "accepted".into(),
            rows: ids.len(),
            bytes: bytes.len() as u64,
            sha256: sha,
        }],
        samples: ids.iter().map(|s| s.to_string()).collect(),
        accepted: [("src".to_string(), ids.len() as u64)].into(),
        ..Commit::default()
    })
    .unwrap();
    drop(j);
    let outcome = if finished {
        Outcome::Finished("done".into())
    } else {
        Outcome::Interrupted("SIGTERM received".into())
    };
    RunOutcome::new(&outcome, Some(spec), &id)
        .write(&dir)
        .unwrap();
}

fn whole_set(out: &Path) {
    part(out, 0, 3, &["a", "b"], true, "s");
    part(out, 1, 3, &["c"], true, "s");
    part(out, 2, 3, &["d", "e", "f"], true, "s");
}

fn listed(out: &Path) -> Vec<String> {
    Manifest::read(out)
        .unwrap()
        .shards
        .into_iter()
        .map(|s| s.path)
        .collect()
}

#[test]
fn merges_a_whole_set_and_again_gives_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    whole_set(out);
    let s = merge(out, MergeOptions::default()).unwrap();
    assert!(s.complete);
    assert_eq!((s.accepted_rows, s.files, s.parts.len()), (6, 3, 3));
    let first = listed(out);
    assert_eq!(
        first,
        [
            "data/accepted/0000-of-0003-part-00000.parquet",
            "data/accepted/0001-of-0003-part-00000.parquet",
            "data/accepted/0002-of-0003-part-00000.parquet"
        ]
    );
    let bytes = std::fs::read(out.join(&first[2])).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("part 2"));
    let card = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(card.contains("config_name: accepted"), "{card}");
    assert!(!card.contains("config_name: rejected"), "{card}");
    let again = merge(out, MergeOptions::default()).unwrap();
    assert_eq!(listed(out), first);
    assert_eq!(again.accepted_rows, 6);
    let merge_json = std::fs::read_to_string(out.join(MERGE_FILE_NAME)).unwrap();
    assert!(merge_json.contains("\"complete\": true"), "{merge_json}");
}

#[test]
fn refuses_an_incomplete_set_unless_told() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    part(out, 0, 3, &["a"], true, "s");
    part(out, 2, 3, &["c"], false, "s");
    let e = merge(out, MergeOptions::default()).unwrap_err().to_string();
    assert!(e.contains("0001-of-0003: never ran"), "{e}");
    assert!(
        e.contains("0002-of-0003: stopped before the end (interrupted"),
        "{e}"
    );
    assert!(e.contains("--allow-incomplete"), "{e}");
    assert!(
        !out.join("manifest.json").exists(),
        "nothing written on refusal"
    );
    let s = merge(
        out,
        MergeOptions {
            allow_incomplete: true,
            ..MergeOptions::default()
        },
    )
    .unwrap();
    assert!(!s.complete);
    assert_eq!(s.accepted_rows, 2);
    // The missing part arrives; the next merge is whole and lists it.
    part(out, 1, 3, &["b"], true, "s");
    std::fs::remove_dir_all(ShardSpec { index: 2, count: 3 }.dir(out)).unwrap();
    part(out, 2, 3, &["c"], true, "s");
    let s = merge(out, MergeOptions::default()).unwrap();
    assert!(s.complete);
    assert_eq!(listed(out).len(), 3);
}

#[test]
fn a_killed_part_without_outcome_is_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    whole_set(out);
    RunOutcome::clear(&ShardSpec { index: 1, count: 3 }.dir(out)).unwrap();
    let e = merge(out, MergeOptions::default()).unwrap_err().to_string();
    assert!(
        e.contains("0001-of-0003: did not finish (no outcome.json"),
        "{e}"
    );
}

#[test]
fn refuses_mismatched_pipelines_and_mixed_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    part(out, 0, 2, &["a"], true, "s");
    part(out, 1, 2, &["b"], true, "other");
    let e = merge(out, MergeOptions::default()).unwrap_err().to_string();
    assert!(e.contains("0001-of-0002: sources, templates, model"), "{e}");
    let opts = MergeOptions {
        allow_mismatch: true,
        ..MergeOptions::default()
    };
    assert_eq!(merge(out, opts).unwrap().accepted_rows, 2);

    part(out, 0, 3, &["x"], true, "s");
    let e = merge(out, MergeOptions::default()).unwrap_err().to_string();
    assert!(e.contains("N = 2, N = 3"), "{e}");
}

#[test]
fn refuses_duplicates_damage_and_single_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    part(out, 0, 2, &["a", "b"], true, "s");
    part(out, 1, 2, &["b"], true, "s");
    let e = merge(out, MergeOptions::default()).unwrap_err().to_string();
    assert!(e.contains("sample b is in two shards"), "{e}");

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    part(out, 0, 2, &["a"], true, "s");
    part(out, 1, 2, &["b"], true, "s");
    let file = ShardSpec { index: 1, count: 2 }
        .dir(out)
        .join("data/accepted/part-00000.parquet");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let e = merge(out, MergeOptions::default()).unwrap_err().to_string();
    assert!(e.contains("SHA-256") && e.contains("0001-of-0002"), "{e}");

    std::fs::write(out.join(journal::FILE_NAME), "").unwrap();
    let e = merge(out, MergeOptions::default()).unwrap_err().to_string();
    assert!(e.contains("single-process run"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = merge(empty.path(), MergeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no shards to merge"), "{e}");
}
