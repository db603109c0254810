//! `smelt verify`: verify a file of traces without a model, and `smelt verifier check`.

use super::exit;
use crate::registry::Registry;
use anyhow::Context;
use smelt_verifiers::{Sample, TestSpec, VerdictRecord};
use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// JSONL traces: `{problem, completion, reference, tests?, entry_point?, constraints?}`.
    #[arg(long)]
    input: PathBuf,
    /// Comma-separated verifier kinds, run in order with default options.
    #[arg(long, value_delimiter = ',', default_value = "answer")]
    verifiers: Vec<String>,
    /// Read a sample field from another column: `--field completion=solution` (repeatable).
    #[arg(long = "field", value_name = "FIELD=COLUMN")]
    fields: Vec<String>,
    /// Run every verifier instead of stopping at the first reject.
    #[arg(long)]
    all: bool,
    /// Worker threads (default: number of cores).
    #[arg(long)]
    workers: Option<usize>,
}

const FIELDS: [&str; 6] = [
    "problem",
    "completion",
    "reference",
    "tests",
    "entry_point",
    "constraints",
];

pub fn verify_cmd(args: VerifyArgs, registry: &Registry) -> anyhow::Result<i32> {
    let mut columns: BTreeMap<&str, String> = FIELDS.iter().map(|f| (*f, f.to_string())).collect();
    for spec in &args.fields {
        let (field, column) = spec
            .split_once('=')
            .with_context(|| format!("--field {spec}: expected FIELD=COLUMN"))?;
        let key = FIELDS.iter().find(|f| **f == field).with_context(|| {
            format!(
                "--field {spec}: unknown field `{field}` (known: {})",
                FIELDS.join(", ")
            )
        })?;
        columns.insert(key, column.to_owned());
    }
    let verifiers = args
        .verifiers
        .iter()
        .map(|kind| {
            let mut table = toml::Table::new();
            table.insert("type".into(), toml::Value::String(kind.clone()));
            registry
                .build(&table)
                .map_err(|e| anyhow::anyhow!("--verifiers {kind}: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let chain = crate::runtime::chain::Chain {
        verifiers,
        mode: if args.all {
            crate::config::ChainMode::All
        } else {
            crate::config::ChainMode::ShortCircuit
        },
    };
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("{}: cannot open", args.input.display()))?;
    let reader = std::io::BufReader::new(file);
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let start = Instant::now();
    let mut summary = Summary::default();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut batch: Vec<(usize, Result<Sample, String>)> = Vec::new();
    let mut lines = reader.split(b'\n').enumerate();
    loop {
        batch.clear();
        for (i, line) in lines.by_ref().take(4096) {
            let line = line.with_context(|| format!("{}: line {}", args.input.display(), i + 1))?;
            let row = match std::str::from_utf8(&line) {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => parse_row(text, &columns),
                Err(e) => Err(format!("not UTF-8: {e}")),
            };
            batch.push((i, row.map_err(|e| format!("line {}: {e}", i + 1))));
        }
        if batch.is_empty() {
            break;
        }
        let results = verify_batch(&chain, &batch, workers);
        for ((index, _), result) in batch.iter().zip(results) {
            let line = match result {
                Ok((verdicts, accepted)) => {
                    summary.add(&verdicts, accepted);
                    serde_json::json!({"index": index, "accepted": accepted, "verdicts": verdicts})
                }
                Err(e) => {
                    summary.invalid += 1;
                    serde_json::json!({"index": index, "accepted": false, "verdicts": [], "error": e})
                }
            };
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    summary.print(start.elapsed());
    Ok(exit::OK)
}

type Verified = Result<(Vec<VerdictRecord>, bool), String>;

fn verify_batch(
    chain: &crate::runtime::chain::Chain,
    batch: &[(usize, Result<Sample, String>)],
    workers: usize,
) -> Vec<Verified> {
    let chunk = batch.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(_, s)| s.as_ref().map(|s| chain.run(s)).map_err(Clone::clone))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("verifier thread panicked".to_string())])
            })
            .collect()
    })
}

fn parse_row(line: &str, columns: &BTreeMap<&str, String>) -> Result<Sample, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = value.as_object().ok_or("not a JSON object")?;
    let text = |field: &str| -> Option<String> {
        obj.get(&columns[field]).and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
    };
    let tests = match obj.get(&columns["tests"]) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(code)) => Some(TestSpec::Check { code: code.clone() }),
        Some(other) => {
            Some(serde_json::from_value(other.clone()).map_err(|e| format!("`tests`: {e}"))?)
        }
    };
    Ok(Sample {
        id: String::new(),
        problem: text("problem").unwrap_or_default(),
        completion: text("completion")
            .ok_or_else(|| format!("no `{}` field", columns["completion"]))?,
        reference: text("reference"),
        constraints: text("constraints"),
        tests,
        entry_point: text("entry_point"),
        structured: None,
    })
}

#[derive(Default)]
struct Summary {
    rows: u64,
    accepted: u64,
    invalid: u64,
    reasons: BTreeMap<String, u64>,
}

impl Summary {
    fn add(&mut self, verdicts: &[VerdictRecord], accepted: bool) {
        self.rows += 1;
        if accepted {
            self.accepted += 1;
        }
        for v in verdicts.iter().filter(|v| !v.accepted) {
            *self
                .reasons
                .entry(format!("{}/{}", v.verifier, v.reason))
                .or_default() += 1;
        }
    }

    fn print(&self, elapsed: std::time::Duration) {
        let secs = elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "verified {} rows in {:.2}s ({:.0} rows/s): {} accepted, {} rejected, {} invalid input",
            self.rows,
            secs,
            self.rows as f64 / secs,
            self.accepted,
            self.rows - self.accepted,
            self.invalid
        );
        for (reason, n) in &self.reasons {
            eprintln!("  {reason:<40} {n}");
        }
    }
}

pub fn check_cmd(command: &[String]) -> anyhow::Result<i32> {
    use smelt_verifiers::external::{check_conformance, default_conformance_cases};
    let report = check_conformance(command, &default_conformance_cases());
    print!("{}", report.render());
    Ok(if report.passed() {
        exit::OK
    } else {
        exit::FAILED
    })
}
