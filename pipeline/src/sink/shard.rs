//! Writing one shard: rows → Arrow batch (declared schema) → Parquet under a temporary name,
//! fsync, then rename. A shard is either complete under its final name or absent.

use super::schema::{schema, verdict_fields, Row};
use super::SinkError;
use arrow::array::{
    ArrayRef, BooleanArray, BooleanBuilder, Float64Array, Float64Builder, ListBuilder, StringArray,
    StringBuilder, StructBuilder, TimestampMicrosecondArray, UInt32Array, UInt64Array,
    UInt64Builder,
};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Compression of shards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShardCompression {
    Zstd(i32),
    Snappy,
    None,
}

/// What a written shard is: what the journal and manifest record.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenShard {
    pub rows: usize,
    pub bytes: u64,
    pub sha256: String,
}

/// Long text columns (problem, prompt and structured repeat once per sample of a problem, so
/// they keep their dictionaries).
const LONG_TEXT_COLUMNS: [&str; 4] = ["problem", "structured", "prompt", "completion"];
/// Columns whose values are all distinct.
const UNIQUE_COLUMNS: [&str; 1] = ["sample_id"];

/// Builds the Arrow batch for `rows` with the declared schema.
pub fn to_batch(rows: &[Row]) -> Result<RecordBatch, SinkError> {
    // Sized up front: growing a builder value by value copies its buffer over and over.
    let s = |f: fn(&Row) -> &str| -> ArrayRef {
        let bytes = rows.iter().map(|r| f(r).len()).sum();
        let mut b = StringBuilder::with_capacity(rows.len(), bytes);
        for r in rows {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    };
    let opt = |f: fn(&Row) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let columns: Vec<ArrayRef> = vec![
        s(|r| &r.sample_id),
        s(|r| &r.problem_id),
        s(|r| &r.source),
        Arc::new(UInt64Array::from_iter_values(
            rows.iter().map(|r| r.problem_index),
        )),
        Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|r| r.sample_index),
        )),
        s(|r| &r.problem),
        s(|r| &r.structured),
        s(|r| &r.prompt),
        s(|r| &r.completion),
        opt(|r| r.extracted_answer.as_deref()),
        opt(|r| r.reference_answer.as_deref()),
        verdicts_array(rows),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.accepted)),
        )),
        s(|r| &r.model_id),
        s(|r| &r.sampling),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.seed))),
        s(|r| &r.template_hash),
        Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|r| r.prompt_tokens),
        )),
        Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|r| r.completion_tokens),
        )),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.latency_ms),
        )),
        s(|r| &r.finish_reason),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            rows.iter().map(|r| r.created_at_us),
        )),
        s(|r| r.smelt_version),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

fn verdicts_array(rows: &[Row]) -> ArrayRef {
    let fields = verdict_fields();
    let item = StructBuilder::from_fields(fields.clone(), rows.len());
    let mut list = ListBuilder::new(item).with_field(Arc::new(arrow::datatypes::Field::new(
        "item",
        arrow::datatypes::DataType::Struct(fields),
        false,
    )));
    for row in rows {
        let st = list.values();
        for v in &row.verdicts {
            string_field(st, 0).append_value(&v.verifier);
            string_field(st, 1).append_value(&v.version);
            bool_field(st, 2).append_value(v.accepted);
            string_field(st, 3).append_value(&v.reason);
            string_field(st, 4).append_value(&v.detail);
            if let Some(b) = st.field_builder::<Float64Builder>(5) {
                b.append_value(v.score);
            }
            bool_field(st, 6).append_value(v.error);
            if let Some(b) = st.field_builder::<UInt64Builder>(7) {
                b.append_value(v.elapsed_us);
            }
            st.append(true);
        }
        list.append(true);
    }
    Arc::new(list.finish())
}

// The builders' types are fixed by `verdict_fields()`; a mismatch is a programming error that
// the schema test catches, so these index the known layout.
fn string_field(st: &mut StructBuilder, i: usize) -> &mut StringBuilder {
    st.field_builder::<StringBuilder>(i)
        .expect("verdict_fields(): field is Utf8")
}

fn bool_field(st: &mut StructBuilder, i: usize) -> &mut BooleanBuilder {
    st.field_builder::<BooleanBuilder>(i)
        .expect("verdict_fields(): field is Boolean")
}

/// Writes `rows` to `path` atomically: `<path>.tmp` is written, fsynced and renamed, and the
/// directory is fsynced. Returns the row count, size and SHA-256 of the file.
pub fn write_shard(
    path: &Path,
    rows: &[Row],
    compression: ShardCompression,
) -> Result<WrittenShard, SinkError> {
    let dir = path.parent().ok_or_else(|| SinkError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other("shard path has no parent directory"),
    })?;
    std::fs::create_dir_all(dir).map_err(|source| SinkError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let tmp = path.with_extension("parquet.tmp");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SinkError::Io { path: p, source }
    };
    crate::sink::fault::check_shard_write(path).map_err(io(path))?;
    let file = File::create(&tmp).map_err(io(&tmp))?;
    let batch = to_batch(rows)?;
    let compression = match compression {
        ShardCompression::Zstd(level) => Compression::ZSTD(ZstdLevel::try_new(level)?),
        ShardCompression::Snappy => Compression::SNAPPY,
        ShardCompression::None => Compression::UNCOMPRESSED,
    };
    let mut props = WriterProperties::builder()
        .set_compression(compression)
        .set_created_by(format!("smelt {}", env!("CARGO_PKG_VERSION")));
    for column in LONG_TEXT_COLUMNS {
        // Min/max statistics of long texts cost compares and help no reader.
        props = props.set_column_statistics_enabled(column.into(), EnabledStatistics::None);
    }
    for column in UNIQUE_COLUMNS {
        // Every value is distinct: a dictionary would be built and then abandoned.
        props = props.set_column_dictionary_enabled(column.into(), false);
    }
    let props = props.build();
    let mut writer = ArrowWriter::try_new(HashingWriter::new(file), schema(), Some(props))?;
    writer.write(&batch)?;
    let hashing = writer.into_inner()?;
    let (file, bytes, sha256) = hashing.finish();
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    crate::sink::fault::before_rename(path);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir)?;
    Ok(WrittenShard {
        rows: rows.len(),
        bytes,
        sha256,
    })
}

/// fsyncs a directory so a rename in it is durable.
pub fn sync_dir(dir: &Path) -> Result<(), SinkError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| SinkError::Io {
            path: dir.to_path_buf(),
            source,
        })
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 of a file, streaming.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}
