//! Parquet through the `parquet` crate's Arrow reader: only the mapped columns are read.
//! Supported column types: strings (`Utf8`, `LargeUtf8`, `Utf8View`), integers, booleans and
//! lists of strings.

use super::{Cell, Place};
use crate::sources::SourceError;
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::fs::File;
use std::path::Path;

type Push<'a> = dyn FnMut(Place, &dyn Fn(&str) -> Option<Cell>) -> Result<(), SourceError> + 'a;

/// Calls `push` for every row of `path`, in order.
pub(super) fn read(
    path: &Path,
    columns: &[String],
    push: &mut Push<'_>,
) -> Result<(), SourceError> {
    let file_error = |message: String| SourceError::File {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(|e| file_error(format!("cannot open: {e}")))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| file_error(format!("not a readable Parquet file: {e}")))?;
    let schema = builder.schema().clone();
    let mut roots = Vec::new();
    for name in columns {
        let Some((i, field)) = schema.column_with_name(name) else {
            let present: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(file_error(format!(
                "no column `{name}` (columns: {})",
                present.join(", ")
            )));
        };
        if !supported(field.data_type()) {
            return Err(file_error(format!(
                "column `{name}` has type {}; expected strings, integers, booleans or lists of strings",
                field.data_type()
            )));
        }
        roots.push(i);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| file_error(format!("cannot read: {e}")))?;
    let mut row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| Place::Row(row).error(path, format!("cannot read: {e}")))?;
        let mut decoded = Vec::with_capacity(columns.len());
        for name in columns {
            let array = batch
                .column_by_name(name)
                .ok_or_else(|| file_error(format!("column `{name}` missing from a row group")))?;
            let cells = cells(array)
                .map_err(|m| Place::Row(row).error(path, format!("column `{name}`: {m}")))?;
            decoded.push((name.as_str(), cells));
        }
        for i in 0..batch.num_rows() {
            let get = |name: &str| {
                decoded
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, cells)| cells[i].clone())
            };
            push(Place::Row(row), &get)?;
            row += 1;
        }
    }
    Ok(())
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

fn supported(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) => is_string(f.data_type()),
        t => is_string(t) || is_integer(t) || matches!(t, DataType::Boolean),
    }
}

/// One column of a batch as cells (nulls as `None`).
fn cells(array: &ArrayRef) -> Result<Vec<Option<Cell>>, String> {
    let t = array.data_type();
    if is_string(t) {
        return Ok(strings(array)?
            .into_iter()
            .map(|s| s.map(Cell::Str))
            .collect());
    }
    if is_integer(t) {
        return Ok(strings(array)?
            .into_iter()
            .map(|s| s.map(Cell::Num))
            .collect());
    }
    match t {
        DataType::Boolean => Ok(array
            .as_boolean()
            .iter()
            .map(|b| b.map(Cell::Bool))
            .collect()),
        DataType::List(_) => list(array.as_list::<i32>().iter()),
        DataType::LargeList(_) => list(array.as_list::<i64>().iter()),
        other => Err(format!("unsupported type {other}")),
    }
}

fn list(items: impl Iterator<Item = Option<ArrayRef>>) -> Result<Vec<Option<Cell>>, String> {
    items
        .map(|item| match item {
            None => Ok(None),
            Some(values) => strings(&values)?
                .into_iter()
                .map(|s| s.ok_or_else(|| "a list holds a null".to_owned()))
                .collect::<Result<Vec<_>, _>>()
                .map(|l| Some(Cell::List(l))),
        })
        .collect()
}

/// A string or integer array as optional strings (integers are cast to text exactly).
fn strings(array: &ArrayRef) -> Result<Vec<Option<String>>, String> {
    match array.data_type() {
        DataType::Utf8 => Ok(owned(&mut array.as_string::<i32>().iter())),
        DataType::LargeUtf8 => Ok(owned(&mut array.as_string::<i64>().iter())),
        DataType::Utf8View => Ok(owned(&mut array.as_string_view().iter())),
        t if is_integer(t) => {
            let text = arrow::compute::cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
            Ok(owned(&mut text.as_string::<i32>().iter()))
        }
        other => Err(format!("expected strings, found {other}")),
    }
}

fn owned(it: &mut dyn Iterator<Item = Option<&str>>) -> Vec<Option<String>> {
    it.map(|s| s.map(str::to_owned)).collect()
}
