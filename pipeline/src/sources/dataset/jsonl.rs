//! JSONL (optionally gzip-compressed, detected by its magic bytes): one JSON object per line;
//! blank lines are skipped.

use super::{Cell, Place};
use crate::sources::SourceError;
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

type Push<'a> = dyn FnMut(Place, &dyn Fn(&str) -> Option<Cell>) -> Result<(), SourceError> + 'a;

/// Calls `push` for every row of `path`, in order.
pub(super) fn read(path: &Path, push: &mut Push<'_>) -> Result<(), SourceError> {
    let file_error = |message: String| SourceError::File {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(|e| file_error(format!("cannot open: {e}")))?;
    let mut reader = BufReader::new(file);
    let gzip = reader
        .fill_buf()
        .map_err(|e| file_error(format!("cannot read: {e}")))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    read_lines(path, reader, push)
}

fn read_lines(
    path: &Path,
    reader: Box<dyn BufRead>,
    push: &mut Push<'_>,
) -> Result<(), SourceError> {
    for (i, line) in reader.lines().enumerate() {
        let place = Place::Line(i as u64 + 1);
        let line = line.map_err(|e| place.error(path, format!("cannot read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| place.error(path, format!("invalid JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(place.error(path, "expected a JSON object"));
        };
        push(place, &|name: &str| object.get(name).and_then(cell))?;
    }
    Ok(())
}

/// A JSON value as a cell; `null` counts as missing.
fn cell(v: &Value) -> Option<Cell> {
    Some(match v {
        Value::Null => return None,
        Value::String(s) => Cell::Str(s.clone()),
        Value::Number(n) => Cell::Num(n.to_string()),
        Value::Bool(b) => Cell::Bool(*b),
        Value::Array(items) => match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
            Some(strings) => Cell::List(strings.into_iter().map(str::to_owned).collect()),
            None => Cell::Json(v.clone()),
        },
        Value::Object(_) => Cell::Json(v.clone()),
    })
}
