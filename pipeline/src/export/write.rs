//! The export's Parquet files: one declared schema per format, written in batches under a
//! temporary name, fsynced and renamed, so a file is either complete or absent.

use super::pairing::Pair;
use super::pass_rate::PassRate;
use super::problems::{ProblemRecord, SampleRecord};
use super::{Conversation, ExportError};
use arrow::array::{
    ArrayRef, Float64Array, ListBuilder, StringArray, StringBuilder, StructBuilder, UInt32Array,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

/// Rows per record batch (and so at most per row group write).
const BATCH_ROWS: usize = 4096;

/// The struct of one chat message: `{role, content}`, as TRL and chat templates read it.
pub fn message_fields() -> Fields {
    Fields::from(vec![
        Field::new("role", DataType::Utf8, false),
        Field::new("content", DataType::Utf8, false),
    ])
}

/// `list<struct<role, content>>`: a conversation.
fn messages_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(message_fields()),
        false,
    )))
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

/// The `sft` config: one accepted sample per row.
pub fn sft_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("messages", messages_type(), false),
        utf8("sample_id", false),
        utf8("problem_id", false),
        utf8("source", false),
        Field::new("problem_index", DataType::UInt64, false),
        Field::new("sample_index", DataType::UInt32, false),
        utf8("reference_answer", true),
        utf8("extracted_answer", true),
        utf8("model_id", false),
    ]))
}

/// The `dpo` config: one preference pair per row.
pub fn dpo_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("prompt", messages_type(), false),
        Field::new("chosen", messages_type(), false),
        Field::new("rejected", messages_type(), false),
        utf8("problem_id", false),
        utf8("source", false),
        Field::new("problem_index", DataType::UInt64, false),
        utf8("chosen_sample_id", false),
        utf8("rejected_sample_id", false),
        utf8("rejected_verifier", false),
        utf8("rejected_reason", false),
        utf8("reference_answer", true),
    ]))
}

/// The `pass_rate` config: one problem per row.
pub fn pass_rate_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("problem_id", false),
        utf8("source", false),
        Field::new("problem_index", DataType::UInt64, false),
        utf8("problem", false),
        utf8("prompt", false),
        utf8("reference_answer", true),
        Field::new("attempts", DataType::UInt64, false),
        Field::new("accepted", DataType::UInt64, false),
        Field::new("pass_rate", DataType::Float64, false),
        Field::new("wilson_lower", DataType::Float64, false),
        Field::new("wilson_upper", DataType::Float64, false),
    ]))
}

/// A list-of-messages column, one conversation per row.
fn conversations<'a>(rows: impl Iterator<Item = Vec<(&'static str, &'a str)>>) -> ArrayRef {
    let item = StructBuilder::from_fields(message_fields(), 0);
    let mut list = ListBuilder::new(item).with_field(Arc::new(Field::new(
        "item",
        DataType::Struct(message_fields()),
        false,
    )));
    for messages in rows {
        let st = list.values();
        for (role, content) in messages {
            // The builders' types are fixed by `message_fields()` just above.
            if let Some(b) = st.field_builder::<StringBuilder>(0) {
                b.append_value(role);
            }
            if let Some(b) = st.field_builder::<StringBuilder>(1) {
                b.append_value(content);
            }
            st.append(true);
        }
        list.append(true);
    }
    Arc::new(list.finish())
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<StringArray>())
}

fn opt_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

/// The SFT batch of `rows` (problem, accepted sample with its completion).
pub fn sft_batch(
    rows: &[(&ProblemRecord, &SampleRecord)],
    conv: &Conversation,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        conversations(rows.iter().map(|(p, s)| {
            let mut m = conv.prompt_messages(p);
            m.push(("assistant", completion(s)));
            m
        })),
        strings(rows.iter().map(|(_, s)| s.sample_id.as_str())),
        strings(rows.iter().map(|(p, _)| p.problem_id.as_str())),
        strings(rows.iter().map(|(p, _)| p.source.as_str())),
        Arc::new(UInt64Array::from_iter_values(
            rows.iter().map(|(p, _)| p.problem_index),
        )),
        Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|(_, s)| s.sample_index),
        )),
        opt_strings(rows.iter().map(|(p, _)| p.reference_answer.as_deref())),
        opt_strings(rows.iter().map(|(_, s)| s.extracted_answer.as_deref())),
        strings(rows.iter().map(|(_, s)| &*s.model_id)),
    ];
    RecordBatch::try_new(sft_schema(), columns)
}

/// The DPO batch of `pairs`.
pub fn dpo_batch(
    problems: &[ProblemRecord],
    pairs: &[Pair],
    conv: &Conversation,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let p = |pair: &Pair| &problems[pair.problem];
    let chosen = |pair: &Pair| &problems[pair.problem].samples[pair.chosen];
    let rejected = |pair: &Pair| &problems[pair.problem].samples[pair.rejected];
    let reason = |pair: &Pair| rejected(pair).rejection.as_ref();
    let columns: Vec<ArrayRef> = vec![
        conversations(pairs.iter().map(|x| conv.prompt_messages(p(x)))),
        conversations(
            pairs
                .iter()
                .map(|x| vec![("assistant", completion(chosen(x)))]),
        ),
        conversations(
            pairs
                .iter()
                .map(|x| vec![("assistant", completion(rejected(x)))]),
        ),
        strings(pairs.iter().map(|x| p(x).problem_id.as_str())),
        strings(pairs.iter().map(|x| p(x).source.as_str())),
        Arc::new(UInt64Array::from_iter_values(
            pairs.iter().map(|x| p(x).problem_index),
        )),
        strings(pairs.iter().map(|x| chosen(x).sample_id.as_str())),
        strings(pairs.iter().map(|x| rejected(x).sample_id.as_str())),
        strings(
            pairs
                .iter()
                .map(|x| reason(x).map_or("", |r| r.verifier.as_str())),
        ),
        strings(
            pairs
                .iter()
                .map(|x| reason(x).map_or("", |r| r.reason.as_str())),
        ),
        opt_strings(pairs.iter().map(|x| p(x).reference_answer.as_deref())),
    ];
    RecordBatch::try_new(dpo_schema(), columns)
}

/// A sample's completion (read for every sample an export writes).
fn completion(s: &SampleRecord) -> &str {
    s.completion.as_deref().unwrap_or_default()
}

/// The pass-rate batch of `rates`.
pub fn pass_rate_batch(
    problems: &[ProblemRecord],
    rates: &[PassRate],
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let p = |r: &PassRate| &problems[r.problem];
    let f = |g: fn(&PassRate) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(rates.iter().map(g)))
    };
    let u = |g: fn(&PassRate) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(rates.iter().map(g)))
    };
    let columns: Vec<ArrayRef> = vec![
        strings(rates.iter().map(|r| p(r).problem_id.as_str())),
        strings(rates.iter().map(|r| p(r).source.as_str())),
        Arc::new(UInt64Array::from_iter_values(
            rates.iter().map(|r| p(r).problem_index),
        )),
        strings(rates.iter().map(|r| p(r).problem.as_str())),
        strings(rates.iter().map(|r| p(r).prompt.as_str())),
        opt_strings(rates.iter().map(|r| p(r).reference_answer.as_deref())),
        u(|r| r.attempts),
        u(|r| r.accepted),
        f(|r| r.pass_rate),
        f(|r| r.lower),
        f(|r| r.upper),
    ];
    RecordBatch::try_new(pass_rate_schema(), columns)
}

/// Writes the batches `make(chunk)` builds for each chunk of `items` to `path` atomically:
/// `<path>.tmp` is written, fsynced and renamed, then the directory is fsynced. Returns the
/// number of rows written.
pub fn write_parquet<T>(
    path: &Path,
    schema: SchemaRef,
    items: &[T],
    make: impl Fn(&[T]) -> Result<RecordBatch, arrow::error::ArrowError>,
) -> Result<usize, ExportError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ExportError::Io { path: p, source }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = path.with_extension("parquet.tmp");
    let write_err = |what: String| ExportError::Write {
        path: path.to_path_buf(),
        what,
    };
    let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).map_err(|e| write_err(e.to_string()))?,
        ))
        .set_created_by(format!("smelt {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer =
        ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| write_err(e.to_string()))?;
    for chunk in items.chunks(BATCH_ROWS) {
        let batch = make(chunk).map_err(|e| write_err(e.to_string()))?;
        writer.write(&batch).map_err(|e| write_err(e.to_string()))?;
    }
    let file = writer.into_inner().map_err(|e| write_err(e.to_string()))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(items.len())
}
