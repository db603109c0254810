//! The polars queries behind the counts: per-source samples, problems and tokens, finish
//! reasons, completion-length quantiles, and verdicts per verifier and reason.

use super::{
    InspectReport, LengthSummary, NamedCount, ReasonCount, SourceSummary, VerifierSummary,
};
use polars::prelude::{
    col, len, lit, DataType, IntoLazy, LazyFrame, PlPath, PolarsError, QuantileMethod,
    ScanArgsParquet,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub(super) fn scan(path: &Path) -> Result<LazyFrame, PolarsError> {
    let args = ScanArgsParquet {
        // Paths are literal: a `[` in a directory name is not a glob.
        glob: false,
        cache: false,
        ..ScanArgsParquet::default()
    };
    LazyFrame::scan_parquet(PlPath::Local(Arc::from(path)), args)
}

/// A field of the exploded `verdicts` struct column, under its own name.
pub(super) fn field(name: &str) -> polars::prelude::Expr {
    col("verdicts").struct_().field_by_name(name).alias(name)
}

pub(super) fn summarize_rows(
    report: &mut InspectReport,
    rows: LazyFrame,
) -> Result<(), PolarsError> {
    let rows = rows.collect()?.lazy();
    let per_source = rows
        .clone()
        .group_by([col("source")])
        .agg([
            len().cast(DataType::UInt64).alias("samples"),
            col("accepted")
                .cast(DataType::UInt64)
                .sum()
                .alias("accepted"),
            col("prompt_tokens").sum().alias("prompt_tokens"),
            col("completion_tokens").sum().alias("completion_tokens"),
        ])
        .collect()?;
    let problems = rows
        .clone()
        .group_by([col("source"), col("problem_id")])
        .agg([col("accepted").cast(DataType::UInt64).sum().alias("n")])
        .group_by([col("source")])
        .agg([
            len().cast(DataType::UInt64).alias("problems"),
            col("n")
                .gt(lit(0u64))
                .cast(DataType::UInt64)
                .sum()
                .alias("solved"),
        ])
        .collect()?;
    let mut problem_counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    {
        let source = problems.column("source")?.str()?;
        let n = problems.column("problems")?.u64()?;
        let solved = problems.column("solved")?.u64()?;
        for ((s, n), solved) in source.into_iter().zip(n).zip(solved) {
            problem_counts.insert(
                s.unwrap_or_default().to_owned(),
                (n.unwrap_or(0), solved.unwrap_or(0)),
            );
        }
    }

    let source = per_source.column("source")?.str()?;
    let samples = per_source.column("samples")?.u64()?;
    let accepted = per_source.column("accepted")?.u64()?;
    let prompt = per_source.column("prompt_tokens")?.u64()?;
    let completion = per_source.column("completion_tokens")?.u64()?;
    for i in 0..per_source.height() {
        let name = source.get(i).unwrap_or_default().to_owned();
        let samples = samples.get(i).unwrap_or(0);
        let accepted = accepted.get(i).unwrap_or(0);
        let (problems, problems_solved) = problem_counts.get(&name).copied().unwrap_or((0, 0));
        report.sources.push(SourceSummary {
            problems,
            problems_solved,
            samples,
            accepted,
            rejected: samples - accepted.min(samples),
            acceptance_rate: crate::stats::rate(accepted, samples),
            prompt_tokens: prompt.get(i).unwrap_or(0),
            completion_tokens: completion.get(i).unwrap_or(0),
            source: name,
        });
    }
    report.sources.sort_by(|a, b| a.source.cmp(&b.source));
    report.rows = report.sources.iter().map(|s| s.samples).sum();
    report.accepted = report.sources.iter().map(|s| s.accepted).sum();
    report.rejected = report.rows - report.accepted;
    report.acceptance_rate = crate::stats::rate(report.accepted, report.rows);
    report.prompt_tokens = report.sources.iter().map(|s| s.prompt_tokens).sum();
    report.completion_tokens = report.sources.iter().map(|s| s.completion_tokens).sum();

    let finish = rows
        .clone()
        .group_by([col("finish_reason")])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let names = finish.column("finish_reason")?.str()?;
    let counts = finish.column("n")?.u64()?;
    report.finish_reasons = names
        .into_iter()
        .zip(counts)
        .map(|(name, n)| NamedCount {
            name: name.unwrap_or_default().to_owned(),
            count: n.unwrap_or(0),
        })
        .collect();
    report
        .finish_reasons
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));

    let splits = [
        ("all", None),
        ("accepted", Some(true)),
        ("rejected", Some(false)),
    ];
    for (label, accepted) in splits {
        let lf = match accepted {
            None => rows.clone(),
            Some(a) => rows.clone().filter(col("accepted").eq(lit(a))),
        };
        let summary = length_summary(lf, label)?;
        if summary.count > 0 || accepted.is_none() {
            report.completion_lengths.push(summary);
        }
    }
    Ok(())
}

fn length_summary(rows: LazyFrame, label: &str) -> Result<LengthSummary, PolarsError> {
    let t = || col("completion_tokens");
    let f = DataType::Float64;
    let df = rows
        .select([
            len().cast(DataType::UInt64).alias("count"),
            t().min().cast(f.clone()).alias("min"),
            t().mean().cast(f.clone()).alias("mean"),
            t().quantile(lit(0.5), QuantileMethod::Nearest)
                .cast(f.clone())
                .alias("p50"),
            t().quantile(lit(0.9), QuantileMethod::Nearest)
                .cast(f.clone())
                .alias("p90"),
            t().max().cast(f).alias("max"),
        ])
        .collect()?;
    let get =
        |name: &str| -> Result<Option<f64>, PolarsError> { Ok(df.column(name)?.f64()?.get(0)) };
    Ok(LengthSummary {
        rows: label.to_owned(),
        count: df.column("count")?.u64()?.get(0).unwrap_or(0),
        min: get("min")?,
        mean: get("mean")?,
        p50: get("p50")?,
        p90: get("p90")?,
        max: get("max")?,
    })
}

pub(super) fn summarize_verdicts(
    report: &mut InspectReport,
    verdicts: LazyFrame,
) -> Result<(), PolarsError> {
    let df = verdicts
        .group_by([
            col("verifier"),
            col("reason"),
            col("accepted"),
            col("error"),
        ])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()?;
    let verifier = df.column("verifier")?.str()?;
    let reason = df.column("reason")?.str()?;
    let accepted = df.column("accepted")?.bool()?;
    let error = df.column("error")?.bool()?;
    let n = df.column("n")?.u64()?;
    let mut per_verifier: BTreeMap<String, VerifierSummary> = BTreeMap::new();
    for i in 0..df.height() {
        let v = verifier.get(i).unwrap_or_default();
        let r = reason.get(i).unwrap_or_default();
        let count = n.get(i).unwrap_or(0);
        let summary = per_verifier
            .entry(v.to_owned())
            .or_insert_with(|| VerifierSummary {
                verifier: v.to_owned(),
                ..VerifierSummary::default()
            });
        let entry = ReasonCount {
            verifier: v.to_owned(),
            reason: r.to_owned(),
            count,
        };
        if accepted.get(i).unwrap_or(false) {
            summary.accepted += count;
        } else if error.get(i).unwrap_or(false) {
            summary.errors += count;
            report.verifier_errors.push(entry);
        } else {
            summary.rejected += count;
            report.reject_reasons.push(entry);
        }
    }
    report.verifiers = per_verifier.into_values().collect();
    for list in [&mut report.reject_reasons, &mut report.verifier_errors] {
        list.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| (&a.verifier, &a.reason).cmp(&(&b.verifier, &b.reason)))
        });
    }
    Ok(())
}
