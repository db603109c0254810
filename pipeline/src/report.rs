//! The run report: what a run did, written next to its data when it ends.
//!
//! - `report.json` ([`RunReport::write_json`]): every number, for scripts.
//! - the summary on stderr ([`RunReport::summary_text`]): a compact table for the morning.
//! - `report.html` ([`RunReport::write_html`]): one self-contained page with inline SVG charts
//!   (no script, no network), see [`html`].

mod html;

use crate::stats::{Counts, StatsSnapshot, NO_VERIFIER};
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File name of the JSON report inside the run directory.
pub const REPORT_JSON: &str = "report.json";
/// File name of the HTML report inside the run directory.
pub const REPORT_HTML: &str = "report.html";

/// Which limit stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// `limits.max_problems` problems were drawn.
    MaxProblems,
    /// `limits.target_accepted` samples were accepted.
    TargetAccepted,
    /// `limits.max_duration` elapsed.
    MaxDuration,
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Budget::MaxProblems => "max_problems",
            Budget::TargetAccepted => "target_accepted",
            Budget::MaxDuration => "max_duration",
        })
    }
}

/// How a run ended. Serialized with a `status` tag: `{"status": "finished"}`,
/// `{"status": "budget", "budget": "max_duration"}`, `{"status": "interrupted"}`,
/// `{"status": "failed", "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Every scheduled problem is done.
    Finished,
    /// A configured limit was reached (`target_accepted` is the run's goal; `max_duration`
    /// leaves it resumable).
    Budget { budget: Budget },
    /// Stopped by a signal (Ctrl-C, SIGTERM); resumable.
    Interrupted,
    /// Stopped by an error.
    Failed { message: String },
}

impl Outcome {
    /// One word for badges and tables.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Budget { .. } => "budget",
            Outcome::Interrupted => "interrupted",
            Outcome::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Finished => f.write_str("finished"),
            Outcome::Budget { budget } => write!(f, "stopped at budget {budget}"),
            Outcome::Interrupted => f.write_str("interrupted"),
            Outcome::Failed { message } => write!(f, "failed: {message}"),
        }
    }
}

/// Throughput and acceptance of this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub samples_per_s: f64,
    /// Generated tokens per second.
    pub completion_tokens_per_s: f64,
    /// Prompt plus generated tokens per second.
    pub tokens_per_s: f64,
    /// Accepted / samples over this run (`None` without samples).
    pub acceptance_rate: Option<f64>,
    /// Accepted / samples over every run on this output.
    pub total_acceptance_rate: Option<f64>,
}

/// Everything known about a finished (or stopped) run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub smelt_version: String,
    /// The run name (`run.name`).
    pub run: String,
    pub output_dir: PathBuf,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
    pub duration_s: f64,
    pub outcome: Outcome,
    pub exit_code: i32,
    /// Whether earlier runs on this output are included in `total`.
    pub resumed: bool,
    pub rates: Rates,
    /// What this run did.
    pub this_run: Counts,
    /// This run plus earlier runs on the same output (equal to `this_run` on a fresh run). A
    /// resumed run seeds its statistics from the previous report's `total`.
    pub total: Counts,
    /// Removals by kind and the log's path, when the run curates (`[curation]`). A resumed
    /// run decides on the whole schedule again, so these count the run from its start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curation: Option<crate::curate::CurationSummary>,
}

/// Writing or reading a report failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a smelt report: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl RunReport {
    /// Builds the report from the final snapshot; `finished_at` is now.
    pub fn new(
        run: impl Into<String>,
        output_dir: impl Into<PathBuf>,
        snapshot: &StatsSnapshot,
        outcome: Outcome,
        exit_code: i32,
    ) -> Self {
        RunReport {
            smelt_version: env!("CARGO_PKG_VERSION").to_owned(),
            run: run.into(),
            output_dir: output_dir.into(),
            started_at: snapshot.started_at.clone(),
            finished_at: crate::stats::rfc3339(std::time::SystemTime::now()),
            duration_s: snapshot.elapsed_s,
            outcome,
            exit_code,
            resumed: snapshot.resumed,
            rates: Rates {
                samples_per_s: snapshot.samples_per_s(),
                completion_tokens_per_s: snapshot.completion_tokens_per_s(),
                tokens_per_s: snapshot.tokens_per_s(),
                acceptance_rate: snapshot.this_run.acceptance_rate(),
                total_acceptance_rate: snapshot.total.acceptance_rate(),
            },
            this_run: snapshot.this_run.clone(),
            total: snapshot.total.clone(),
            curation: None,
        }
    }

    /// Writes `dir/report.json` atomically (temp file + rename); returns its path.
    pub fn write_json(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        let path = dir.join(REPORT_JSON);
        let mut text = serde_json::to_string_pretty(self).map_err(|e| ReportError::Write {
            path: path.clone(),
            source: e.into(),
        })?;
        text.push('\n');
        write_atomic(&path, text.as_bytes()).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Reads `dir/report.json` (e.g. the previous run's, to seed [`crate::stats::Stats`] on
    /// resume with its `total`).
    pub fn read_json(dir: &Path) -> Result<RunReport, ReportError> {
        let path = dir.join(REPORT_JSON);
        let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Read {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ReportError::Parse { path, source })
    }

    /// Writes `dir/report.html` atomically; returns its path.
    pub fn write_html(&self, dir: &Path) -> Result<PathBuf, ReportError> {
        let path = dir.join(REPORT_HTML);
        write_atomic(&path, html::render(self).as_bytes()).map_err(|source| {
            ReportError::Write {
                path: path.clone(),
                source,
            }
        })?;
        Ok(path)
    }

    /// The self-contained HTML page (what [`RunReport::write_html`] writes).
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// The human summary printed on stderr when a run ends.
    pub fn summary_text(&self) -> String {
        let c = &self.this_run;
        let mut out = String::new();
        let duration = fmt_duration(self.duration_s);
        let _ = writeln!(
            out,
            "smelt run `{}` {} after {} (exit {})",
            self.run, self.outcome, duration, self.exit_code
        );
        let _ = writeln!(out, "output: {}", self.output_dir.display());
        let _ = writeln!(out);

        // Per-source table.
        let name_w = c
            .sources
            .keys()
            .map(|k| k.chars().count())
            .chain([6])
            .max()
            .unwrap_or(6);
        let _ = writeln!(
            out,
            "  {:<name_w$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}",
            "source", "problems", "samples", "accepted", "rejected", "accept"
        );
        let row = |out: &mut String, name: &str, p: u64, s: u64, a: u64, r: u64| {
            let _ = writeln!(
                out,
                "  {:<name_w$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}",
                name,
                fmt_int(p),
                fmt_int(s),
                fmt_int(a),
                fmt_int(r),
                fmt_pct(crate::stats::rate(a, s)),
            );
        };
        for (name, s) in &c.sources {
            row(
                &mut out,
                name,
                s.problems_done,
                s.samples,
                s.accepted,
                s.rejected,
            );
        }
        if c.sources.len() != 1 {
            row(
                &mut out,
                "total",
                c.problems_done,
                c.samples,
                c.accepted,
                c.rejected,
            );
        }

        write_label_table(&mut out, "reject reasons", &c.reject_reasons, 8);
        write_label_table(&mut out, "verifier errors", &c.verifier_errors, 8);
        if !c.generation_errors.is_empty() {
            let list: Vec<String> = c
                .generation_errors
                .iter()
                .map(|(k, n)| format!("{k} {}", fmt_int(*n)))
                .collect();
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "  generation errors: {} (those problems stay pending for the next run)",
                list.join(", ")
            );
        }

        let _ = writeln!(out);
        if c.prompt_tokens + c.completion_tokens > 0 {
            let _ = writeln!(
                out,
                "  tokens: {} prompt, {} completion · {} completion tok/s · {} samples/s",
                fmt_int(c.prompt_tokens),
                fmt_int(c.completion_tokens),
                fmt_rate(self.rates.completion_tokens_per_s),
                fmt_rate(self.rates.samples_per_s),
            );
        } else {
            let _ = writeln!(
                out,
                "  tokens: not reported by the generator · {} samples/s",
                fmt_rate(self.rates.samples_per_s),
            );
        }
        if self.resumed {
            let t = &self.total;
            let _ = writeln!(
                out,
                "  all runs on this output: {} samples, {} accepted ({})",
                fmt_int(t.samples),
                fmt_int(t.accepted),
                fmt_pct(t.acceptance_rate()),
            );
        }
        let _ = writeln!(
            out,
            "  report: {}",
            self.output_dir.join(REPORT_HTML).display()
        );
        out
    }
}

/// Totals of the earlier runs on the output `dir`, to seed
/// [`Stats::with_previous`](crate::stats::Stats::with_previous) on a resume; `None` for a fresh
/// output (nothing committed yet).
///
/// The journal is authoritative for what was committed, so accepted and rejected counts (per
/// source, and `samples` as their sum) come from `state`. The other figures (problems, tokens,
/// reject reasons, lengths) come from the previous `report.json`; a run killed before writing
/// its report is missing from those.
pub fn previous_totals(dir: &Path, state: &crate::journal::State) -> Option<Counts> {
    if state.commits == 0 {
        return None;
    }
    let mut c = match RunReport::read_json(dir) {
        Ok(report) => report.total,
        Err(ReportError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Counts::default()
        }
        Err(e) => {
            tracing::warn!(error = %e, "earlier runs' token and reason totals are unknown");
            Counts::default()
        }
    };
    for s in c.sources.values_mut() {
        s.accepted = 0;
        s.rejected = 0;
    }
    for (source, n) in &state.accepted {
        c.sources.entry(source.clone()).or_default().accepted = *n;
    }
    for (source, n) in &state.rejected {
        c.sources.entry(source.clone()).or_default().rejected = *n;
    }
    for s in c.sources.values_mut() {
        s.samples = s.accepted + s.rejected;
    }
    c.accepted = c.sources.values().map(|s| s.accepted).sum();
    c.rejected = c.sources.values().map(|s| s.rejected).sum();
    c.samples = c.accepted + c.rejected;
    Some(c)
}

/// Appends a `verifier / reason  count` table with the `limit` largest entries.
fn write_label_table(out: &mut String, title: &str, map: &crate::stats::LabelCounts, limit: usize) {
    let rows = sorted_labels(map);
    if rows.is_empty() {
        return;
    }
    let labels: Vec<String> = rows.iter().map(|(v, r, _)| label_of(v, r)).collect();
    let w = labels
        .iter()
        .take(limit)
        .map(|l| l.chars().count())
        .chain([title.len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(out);
    let _ = writeln!(out, "  {title:<w$}  {:>9}", "count");
    for (label, (_, _, n)) in labels.iter().zip(&rows).take(limit) {
        let _ = writeln!(out, "  {label:<w$}  {:>9}", fmt_int(*n));
    }
    if rows.len() > limit {
        let rest: u64 = rows.iter().skip(limit).map(|(_, _, n)| n).sum();
        let more = format!("({} more)", rows.len() - limit);
        let _ = writeln!(out, "  {more:<w$}  {:>9}", fmt_int(rest));
    }
}

/// `verifier / reason`, or just the reason for rejects no verifier made.
pub(crate) fn label_of(verifier: &str, reason: &str) -> String {
    if verifier == NO_VERIFIER {
        reason.to_owned()
    } else {
        format!("{verifier} / {reason}")
    }
}

/// Flattens a label map into `(verifier, reason, count)`, largest count first.
pub(crate) fn sorted_labels(map: &crate::stats::LabelCounts) -> Vec<(&str, &str, u64)> {
    let mut rows: Vec<(&str, &str, u64)> = map
        .iter()
        .flat_map(|(v, inner)| inner.iter().map(move |(r, n)| (v.as_str(), r.as_str(), *n)))
        .collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (a.0, a.1).cmp(&(b.0, b.1))));
    rows
}

/// `1234567` → `1,234,567`.
pub(crate) fn fmt_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `Some(0.625)` → `62.5%`, `None` → `–`.
pub(crate) fn fmt_pct(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "–".to_owned(),
    }
}

/// A duration for people: `7.25` → `7.2s`, `5400.0` → `1h 30m`.
pub(crate) fn fmt_duration(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        humantime::format_duration(Duration::from_secs(secs as u64)).to_string()
    }
}

/// A rate for people: `1234.5` → `1,235`, `45.67` → `45.7`, `0.123` → `0.12`.
pub(crate) fn fmt_rate(x: f64) -> String {
    if x >= 100.0 {
        fmt_int(x.round() as u64)
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Writes `path` atomically: a temp file in the same directory (whose name does not end like
/// `path`, so collectors watching `*.prom` or `*.json` skip it), fsync, rename over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Stats;
    use smelt_verifiers::VerdictRecord;

    fn reject(verifier: &str, reason: &str, error: bool) -> VerdictRecord {
        VerdictRecord {
            verifier: verifier.into(),
            version: "1".into(),
            accepted: false,
            reason: reason.into(),
            detail: "d".into(),
            score: 0.0,
            error,
            elapsed_us: 5,
        }
    }

    pub(super) fn sample_report() -> RunReport {
        let stats = Stats::new();
        for i in 0..40u32 {
            stats.record_problem_started("arith");
            stats.record_sample("arith", &[], i % 4 != 0, 60, 50 + i * 30);
            stats.record_problem_done("arith");
        }
        for i in 0..12u32 {
            stats.record_problem_started("linear_<systems>");
            let v = match i % 3 {
                0 => vec![reject("exact_answer", "wrong_answer", false)],
                1 => vec![reject("smt", "verifier_timeout", true)],
                _ => vec![],
            };
            stats.record_sample("linear_<systems>", &v, i % 3 == 2, 80, 300 + i * 100);
            stats.record_problem_done("linear_<systems>");
        }
        stats.record_generation_error("timeout");
        RunReport::new(
            "nightly \"run\"",
            "outputs/nightly",
            &stats.snapshot(),
            Outcome::Budget {
                budget: Budget::MaxDuration,
            },
            3,
        )
    }

    #[test]
    fn outcome_serializes_with_a_status_tag() {
        let json = serde_json::to_value(Outcome::Budget {
            budget: Budget::TargetAccepted,
        })
        .expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({"status": "budget", "budget": "target_accepted"})
        );
        let json = serde_json::to_value(Outcome::Failed {
            message: "disk full".into(),
        })
        .expect("serialize");
        assert_eq!(
            json,
            serde_json::json!({"status": "failed", "message": "disk full"})
        );
        assert_eq!(
            serde_json::to_value(Outcome::Interrupted).expect("serialize"),
            serde_json::json!({"status": "interrupted"})
        );
        let back: Outcome =
            serde_json::from_value(serde_json::json!({"status": "finished"})).expect("parse");
        assert_eq!(back, Outcome::Finished);
    }

    #[test]
    fn json_is_written_atomically_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = sample_report();
        let path = report.write_json(dir.path()).expect("write");
        assert_eq!(path, dir.path().join("report.json"));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
        let back = RunReport::read_json(dir.path()).expect("read");
        // serde_json parses floats to within an ulp, not always exactly: compare the rest.
        assert_eq!(back.this_run, report.this_run);
        assert_eq!(back.total, report.total);
        assert_eq!(back.outcome, report.outcome);
        assert_eq!(
            (&back.run, &back.started_at, back.exit_code),
            (&report.run, &report.started_at, report.exit_code)
        );
        assert!((back.duration_s - report.duration_s).abs() <= 1e-9 * report.duration_s.max(1.0));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(v["outcome"]["status"], "budget");
        assert_eq!(v["this_run"]["samples"], 52);
        assert_eq!(v["this_run"]["sources"]["arith"]["accepted"], 30);
        assert_eq!(
            v["this_run"]["reject_reasons"]["exact_answer"]["wrong_answer"],
            4
        );
        assert_eq!(
            v["this_run"]["verifier_errors"]["smt"]["verifier_timeout"],
            4
        );
        assert!(v["started_at"].as_str().is_some_and(|s| s.ends_with('Z')));
    }

    #[test]
    fn read_json_names_the_path_on_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = RunReport::read_json(dir.path()).expect_err("missing");
        assert!(err.to_string().contains("report.json"), "{err}");
        std::fs::write(dir.path().join("report.json"), "{").expect("write");
        let err = RunReport::read_json(dir.path()).expect_err("garbage");
        assert!(matches!(err, ReportError::Parse { .. }), "{err}");
    }

    #[test]
    fn summary_has_sources_totals_and_reasons() {
        let text = sample_report().summary_text();
        assert!(
            text.starts_with("smelt run `nightly \"run\"` stopped at budget max_duration after"),
            "{text}"
        );
        assert!(text.contains("arith"), "{text}");
        assert!(text.contains("75.0%"), "{text}");
        assert!(text.contains("total"), "{text}");
        assert!(text.contains("exact_answer / wrong_answer"), "{text}");
        assert!(text.contains("smt / verifier_timeout"), "{text}");
        assert!(text.contains("generation errors: timeout 1"), "{text}");
        assert!(text.contains("report.html"), "{text}");
        assert!(text.contains("  tokens: 3,360 prompt,"), "{text}");

        let empty = RunReport::new("r", "o", &Stats::new().snapshot(), Outcome::Finished, 0);
        let text = empty.summary_text();
        assert!(
            text.contains("tokens: not reported by the generator"),
            "{text}"
        );
    }

    #[test]
    fn previous_totals_trust_the_journal_for_counts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut state = crate::journal::State::default();
        assert_eq!(previous_totals(dir.path(), &state), None);

        state.commits = 2;
        state.accepted.insert("arith".into(), 7);
        state.rejected.insert("arith".into(), 3);
        // No report yet (the previous run was killed): counts from the journal alone.
        let c = previous_totals(dir.path(), &state).expect("resumed");
        assert_eq!((c.samples, c.accepted, c.rejected), (10, 7, 3));
        assert_eq!(c.sources["arith"].samples, 10);
        assert_eq!(c.completion_tokens, 0);

        // With a report: its tokens and reasons, the journal's counts.
        let report = sample_report();
        report.write_json(dir.path()).expect("write");
        let c = previous_totals(dir.path(), &state).expect("resumed");
        assert_eq!((c.samples, c.accepted, c.rejected), (10, 7, 3));
        assert_eq!(c.sources["arith"].accepted, 7);
        assert_eq!(c.sources["linear_<systems>"].samples, 0);
        assert_eq!(c.completion_tokens, report.total.completion_tokens);
        assert_eq!(c.reject_reasons, report.total.reject_reasons);
    }

    #[test]
    fn numbers_format_for_humans() {
        assert_eq!(fmt_int(0), "0");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_int(1000), "1,000");
        assert_eq!(fmt_int(1234567), "1,234,567");
        assert_eq!(fmt_pct(Some(0.625)), "62.5%");
        assert_eq!(fmt_pct(None), "–");
        assert_eq!(fmt_duration(7.25), "7.2s");
        assert_eq!(fmt_duration(5400.4), "1h 30m");
        assert_eq!(fmt_rate(1234.5), "1,235");
        assert_eq!(fmt_rate(45.67), "45.7");
        assert_eq!(fmt_rate(0.123), "0.12");
    }
}
