//! Example rows: picked from the shards (balanced between accepted and rejected), with the
//! problem and completion shortened for the terminal.

use super::aggregate::scan;
use super::manifest::ManifestShard;
use super::{Example, InspectError, InspectReport};
use polars::prelude::{col, lit, DataFrame, DataType, PolarsError, Series};
use std::path::Path;

/// Characters of a completion kept in an example (head and tail around an ellipsis).
const EXAMPLE_COMPLETION_CHARS: usize = 600;
/// Characters of a problem statement kept in an example.
const EXAMPLE_PROBLEM_CHARS: usize = 300;

/// Up to `n` example rows: half rejected (rounded down) when rejected rows exist, the rest
/// accepted, in manifest order.
pub(super) fn pick_examples(
    dir: &Path,
    listed: &[ManifestShard],
    report: &InspectReport,
    n: usize,
) -> Result<Vec<Example>, InspectError> {
    let n = n as u64;
    let mut want_rejected = (n / 2).min(report.rejected);
    let want_accepted = (n - want_rejected).min(report.accepted);
    want_rejected = (n - want_accepted).min(report.rejected);

    let mut out = Vec::new();
    for (accepted, want) in [(true, want_accepted), (false, want_rejected)] {
        let mut got = 0u64;
        for entry in listed {
            if got >= want {
                break;
            }
            let path = dir.join(&entry.path);
            let shard_err = |source| InspectError::Shard {
                path: path.clone(),
                source,
            };
            let df = scan(&path)
                .map_err(shard_err)?
                .filter(col("accepted").eq(lit(accepted)))
                .limit((want - got).min(u64::from(u32::MAX)) as u32)
                .select([
                    col("sample_id"),
                    col("source"),
                    col("accepted"),
                    col("problem"),
                    col("extracted_answer"),
                    col("reference_answer"),
                    col("completion"),
                    col("completion_tokens").cast(DataType::UInt64),
                    col("verdicts"),
                ])
                .collect()
                .map_err(shard_err)?;
            let rows = examples_from(&df).map_err(shard_err)?;
            got += rows.len() as u64;
            out.extend(rows);
        }
    }
    Ok(out)
}

fn examples_from(df: &DataFrame) -> Result<Vec<Example>, PolarsError> {
    let sample_id = df.column("sample_id")?.str()?;
    let source = df.column("source")?.str()?;
    let accepted = df.column("accepted")?.bool()?;
    let problem = df.column("problem")?.str()?;
    let extracted = df.column("extracted_answer")?.str()?;
    let reference = df.column("reference_answer")?.str()?;
    let completion = df.column("completion")?.str()?;
    let tokens = df.column("completion_tokens")?.u64()?;
    let verdicts = df.column("verdicts")?.list()?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let full = completion.get(i).unwrap_or_default();
        let first_reject = match verdicts.get_as_series(i) {
            Some(s) => first_reject(&s)?,
            None => None,
        };
        out.push(Example {
            sample_id: sample_id.get(i).unwrap_or_default().to_owned(),
            source: source.get(i).unwrap_or_default().to_owned(),
            accepted: accepted.get(i).unwrap_or(false),
            problem: shorten(
                &one_line(problem.get(i).unwrap_or_default()),
                EXAMPLE_PROBLEM_CHARS,
            ),
            extracted_answer: extracted.get(i).map(str::to_owned),
            reference_answer: reference.get(i).map(str::to_owned),
            first_reject,
            completion: shorten(full.trim(), EXAMPLE_COMPLETION_CHARS),
            completion_chars: full.chars().count() as u64,
            completion_tokens: tokens.get(i).unwrap_or(0),
        });
    }
    Ok(out)
}

/// `verifier / reason` of the first verdict in one row's list that did not accept.
fn first_reject(verdicts: &Series) -> Result<Option<String>, PolarsError> {
    let ca = verdicts.struct_()?;
    let verifier = ca.field_by_name("verifier")?;
    let reason = ca.field_by_name("reason")?;
    let accepted = ca.field_by_name("accepted")?;
    let (verifier, reason, accepted) = (verifier.str()?, reason.str()?, accepted.bool()?);
    for i in 0..ca.len() {
        if accepted.get(i) == Some(false) {
            return Ok(Some(crate::report::label_of(
                verifier.get(i).unwrap_or_default(),
                reason.get(i).unwrap_or_default(),
            )));
        }
    }
    Ok(None)
}

/// Collapses runs of whitespace (newlines included) into single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keeps `s` whole up to `max` characters; otherwise its head and tail around ` … `.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let head = max * 2 / 3;
    let tail = max.saturating_sub(head);
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{} … {}", start.trim_end(), end.trim_start())
}
