//! The shard schema, declared once in code (never inferred from data).

use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use smelt_verifiers::VerdictRecord;
use std::sync::{Arc, LazyLock};

/// One output row: a verified (or rejected) sample with everything needed to audit it.
///
/// Text shared by every sample of a problem (or of the run) is reference-counted, so a row
/// costs one allocation per value that is its own (id, completion, answer, verdicts).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub sample_id: String,
    pub problem_id: Arc<str>,
    pub source: Arc<str>,
    pub problem_index: u64,
    pub sample_index: u32,
    pub problem: Arc<str>,
    /// The problem's structured form, as JSON text.
    pub structured: Arc<str>,
    pub prompt: Arc<str>,
    pub completion: String,
    pub extracted_answer: Option<String>,
    pub reference_answer: Option<Arc<str>>,
    pub verdicts: Vec<VerdictRecord>,
    pub accepted: bool,
    pub model_id: Arc<str>,
    /// Sampling parameters, as JSON text.
    pub sampling: Arc<str>,
    pub seed: u64,
    pub template_hash: Arc<str>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub latency_ms: f64,
    pub finish_reason: String,
    /// Microseconds since the Unix epoch, UTC.
    pub created_at_us: i64,
    pub smelt_version: &'static str,
}

/// The struct type of one entry of the `verdicts` list column.
pub fn verdict_fields() -> Fields {
    Fields::from(vec![
        Field::new("verifier", DataType::Utf8, false),
        Field::new("version", DataType::Utf8, false),
        Field::new("accepted", DataType::Boolean, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("error", DataType::Boolean, false),
        Field::new("elapsed_us", DataType::UInt64, false),
    ])
}

static SCHEMA: LazyLock<Arc<Schema>> = LazyLock::new(|| {
    let verdict = DataType::Struct(verdict_fields());
    Arc::new(Schema::new(vec![
        Field::new("sample_id", DataType::Utf8, false),
        Field::new("problem_id", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("problem_index", DataType::UInt64, false),
        Field::new("sample_index", DataType::UInt32, false),
        Field::new("problem", DataType::Utf8, false),
        Field::new("structured", DataType::Utf8, false),
        Field::new("prompt", DataType::Utf8, false),
        Field::new("completion", DataType::Utf8, false),
        Field::new("extracted_answer", DataType::Utf8, true),
        Field::new("reference_answer", DataType::Utf8, true),
        Field::new(
            "verdicts",
            DataType::List(Arc::new(Field::new("item", verdict, false))),
            false,
        ),
        Field::new("accepted", DataType::Boolean, false),
        Field::new("model_id", DataType::Utf8, false),
        Field::new("sampling", DataType::Utf8, false),
        Field::new("seed", DataType::UInt64, false),
        Field::new("template_hash", DataType::Utf8, false),
        Field::new("prompt_tokens", DataType::UInt32, false),
        Field::new("completion_tokens", DataType::UInt32, false),
        Field::new("latency_ms", DataType::Float64, false),
        Field::new("finish_reason", DataType::Utf8, false),
        Field::new(
            "created_at",
            // UTC, stored without a zone annotation: polars (our reader) is built without
            // time-zone support, and every reader treats a naive timestamp as UTC here.
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("smelt_version", DataType::Utf8, false),
    ]))
});

/// The schema every shard is written with.
pub fn schema() -> Arc<Schema> {
    SCHEMA.clone()
}
