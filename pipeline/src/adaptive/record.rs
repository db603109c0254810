//! What adaptive sampling records: one line per problem in `problems.jsonl` (attempts,
//! accepted, pass rate and its interval, why it stopped), and the summary in the report.

use super::{AdaptiveConfig, Band, Placement, Stop, Tally};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file, in the output directory.
pub const FILE_NAME: &str = "problems.jsonl";

/// One sampled problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemRecord {
    pub problem_id: String,
    pub source: String,
    pub index: u64,
    pub attempts: u64,
    pub accepted: u64,
    pub pass_rate: f64,
    pub interval_lower: f64,
    pub interval_upper: f64,
    pub stop: Stop,
    pub placement: Placement,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {why}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

/// The records of this run, keyed by problem id (a resumed problem replaces its old record).
pub struct Ledger {
    config: AdaptiveConfig,
    records: Mutex<BTreeMap<String, ProblemRecord>>,
}

impl Ledger {
    pub fn new(config: AdaptiveConfig) -> Ledger {
        Ledger {
            config,
            records: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn config(&self) -> &AdaptiveConfig {
        &self.config
    }

    /// Records the end of a problem's sampling.
    pub fn record(&self, problem_id: &str, source: &str, index: u64, tally: Tally, stop: Stop) {
        let interval = self.config.interval_of(tally);
        let record = ProblemRecord {
            problem_id: problem_id.to_string(),
            source: source.to_string(),
            index,
            attempts: tally.attempts,
            accepted: tally.accepted,
            pass_rate: tally.pass_rate(),
            interval_lower: interval.lower,
            interval_upper: interval.upper,
            stop,
            placement: self.config.placement(tally),
        };
        self.lock().insert(record.problem_id.clone(), record);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ProblemRecord>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Merges this run's records into `dir/problems.jsonl` (records of earlier runs that this
    /// one did not revisit are kept) and rewrites it atomically. Returns the summary of the
    /// merged records.
    pub fn write(&self, dir: &Path) -> Result<SamplingSummary, LedgerError> {
        let path = dir.join(FILE_NAME);
        let mut all = read(&path)?;
        all.extend(self.lock().iter().map(|(k, v)| (k.clone(), v.clone())));
        let io = |source| LedgerError::Io {
            path: path.clone(),
            source,
        };
        let tmp = dir.join(format!("{FILE_NAME}.tmp"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io)?);
        for record in all.values() {
            let line = serde_json::to_string(record).map_err(|e| io(e.into()))?;
            writeln!(out, "{line}").map_err(io)?;
        }
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(SamplingSummary::of(&self.config, all.values()))
    }
}

/// Reads `problems.jsonl` (none yet: empty).
pub fn read(path: &Path) -> Result<BTreeMap<String, ProblemRecord>, LedgerError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => {
            return Err(LedgerError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut records = BTreeMap::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| LedgerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let record: ProblemRecord =
            serde_json::from_str(&line).map_err(|e| LedgerError::Corrupt {
                path: path.to_path_buf(),
                line: n + 1,
                why: e.to_string(),
            })?;
        records.insert(record.problem_id.clone(), record);
    }
    Ok(records)
}

/// The report's `sampling` object: how problems stopped and where their pass rates lie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingSummary {
    pub rule: AdaptiveConfig,
    pub problems: u64,
    pub attempts: u64,
    pub accepted: u64,
    /// Problems per stop reason (`never_solved`, `always_solved`, `k_reached`, `max_attempts`).
    pub by_stop: BTreeMap<String, u64>,
    /// Problems per placement relative to the band (`below`, `in`, `above`, `undecided`).
    pub by_placement: BTreeMap<String, u64>,
    /// Problems per pass-rate decile: `histogram[i]` counts rates in `[i/10, (i+1)/10)`, the
    /// last bin includes 1.
    pub histogram: [u64; 10],
    pub band: Band,
}

impl SamplingSummary {
    pub fn of<'a>(
        config: &AdaptiveConfig,
        records: impl IntoIterator<Item = &'a ProblemRecord>,
    ) -> SamplingSummary {
        let mut s = SamplingSummary {
            rule: config.clone(),
            problems: 0,
            attempts: 0,
            accepted: 0,
            by_stop: BTreeMap::new(),
            by_placement: BTreeMap::new(),
            histogram: [0; 10],
            band: config.band,
        };
        for r in records {
            s.problems += 1;
            s.attempts += r.attempts;
            s.accepted += r.accepted;
            *s.by_stop.entry(r.stop.as_str().to_string()).or_default() += 1;
            let placement = serde_json::to_value(r.placement)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *s.by_placement.entry(placement).or_default() += 1;
            let bin = ((r.pass_rate * 10.0).floor() as usize).min(9);
            s.histogram[bin] += 1;
        }
        s
    }

    /// One line for the terminal.
    pub fn render_text(&self) -> String {
        let stops: Vec<String> = self
            .by_stop
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!(
            "adaptive sampling: {} problems, {} attempts, {} accepted; stopped: {}; in band [{}, {}]: {}",
            self.problems,
            self.attempts,
            self.accepted,
            if stops.is_empty() { "none".to_string() } else { stops.join(", ") },
            self.band.low,
            self.band.high,
            self.by_placement.get("in").copied().unwrap_or(0),
        )
    }
}
