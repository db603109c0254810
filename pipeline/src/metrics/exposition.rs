//! A [`StatsSnapshot`] as an OpenMetrics text exposition, encoded by `prometheus-client`.
//!
//! The snapshot is the source of truth (the pipeline counts in [`crate::stats::Stats`]), so
//! each scrape fills a fresh [`Registry`] from it and lets the library do names, types,
//! `_total` suffixes, label escaping and the `# EOF` marker.

use crate::stats::{Histogram, LabelCounts, StatsSnapshot};
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// Label pairs of one sample.
type Labels = Vec<(&'static str, String)>;

/// Renders a snapshot in the OpenMetrics text format (served as [`super::CONTENT_TYPE`]).
pub fn render(s: &StatsSnapshot) -> String {
    let c = &s.this_run;
    let mut registry = Registry::default();

    let counter = |registry: &mut Registry, name: &str, help: &str, value: u64| {
        let metric = Counter::<u64>::default();
        metric.inc_by(value);
        registry.register(name, help, metric);
    };
    counter(
        &mut registry,
        "smelt_problems_started",
        "Problems that entered the pipeline",
        c.problems_started,
    );
    counter(
        &mut registry,
        "smelt_problems",
        "Problems whose samples were all verified and written",
        c.problems_done,
    );

    let samples = labelled_counters(
        c.sources
            .iter()
            .map(|(source, sc)| (vec![("source", source.clone())], sc.samples)),
    );
    registry.register("smelt_samples", "Samples verified, by source", samples);
    let accepted = labelled_counters(
        c.sources
            .iter()
            .map(|(source, sc)| (vec![("source", source.clone())], sc.accepted)),
    );
    registry.register("smelt_accepted", "Samples accepted, by source", accepted);

    let rejected = two_label_counters(&c.reject_reasons, "verifier", "reason");
    registry.register(
        "smelt_rejected",
        "Reject verdicts, by verifier and reason",
        rejected,
    );
    let verifier_errors = two_label_counters(&c.verifier_errors, "verifier", "code");
    registry.register(
        "smelt_verifier_errors",
        "Verifier runs that could not produce a verdict, by verifier and error code",
        verifier_errors,
    );
    let generation_errors = labelled_counters(
        c.generation_errors
            .iter()
            .map(|(kind, n)| (vec![("kind", kind.clone())], *n)),
    );
    registry.register(
        "smelt_generation_errors",
        "Generation requests that failed (the problem stays pending), by kind",
        generation_errors,
    );
    let tokens = labelled_counters([
        (vec![("kind", "prompt".to_owned())], c.prompt_tokens),
        (vec![("kind", "completion".to_owned())], c.completion_tokens),
    ]);
    registry.register(
        "smelt_tokens",
        "Tokens processed, by kind (prompt or completion)",
        tokens,
    );

    registry.register(
        "smelt_completion_tokens",
        "Generated tokens per sample",
        Buckets::from(&c.completion_tokens_hist),
    );

    let queue_depth = Family::<Labels, Gauge>::default();
    for (stage, n) in &s.queue_depth {
        queue_depth
            .get_or_create(&vec![("stage", stage.clone())])
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    registry.register(
        "smelt_queue_depth",
        "Items waiting in each stage's input queue",
        queue_depth,
    );

    let start = chrono::DateTime::parse_from_rfc3339(&s.started_at)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let start_time = Gauge::<i64>::default();
    start_time.set(start);
    registry.register(
        "smelt_start_time_seconds",
        "Start time of this run, seconds since the Unix epoch",
        start_time,
    );

    let mut out = String::with_capacity(4096);
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// A counter family holding `values`.
fn labelled_counters(values: impl IntoIterator<Item = (Labels, u64)>) -> Family<Labels, Counter> {
    let family = Family::<Labels, Counter>::default();
    for (labels, n) in values {
        family.get_or_create(&labels).inc_by(n);
    }
    family
}

/// A counter family of `counts[a][b]`, labelled `outer = a, inner = b`.
fn two_label_counters(
    counts: &LabelCounts,
    outer: &'static str,
    inner: &'static str,
) -> Family<Labels, Counter> {
    labelled_counters(counts.iter().flat_map(|(a, by_b)| {
        by_b.iter()
            .map(move |(b, n)| (vec![(outer, a.clone()), (inner, b.clone())], *n))
    }))
}

/// A histogram whose buckets were counted elsewhere (the library's own `Histogram` only
/// observes values one by one).
#[derive(Debug)]
struct Buckets {
    sum: f64,
    count: u64,
    /// `(upper bound, count in this bucket)`, the last bound `+Inf`.
    buckets: Vec<(f64, u64)>,
}

impl From<&Histogram> for Buckets {
    fn from(h: &Histogram) -> Self {
        let buckets = h
            .counts
            .iter()
            .enumerate()
            .map(|(i, n)| (h.bounds.get(i).map_or(f64::INFINITY, |&b| b as f64), *n))
            .collect();
        Buckets {
            sum: h.sum as f64,
            count: h.count,
            buckets,
        }
    }
}

impl EncodeMetric for Buckets {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}
