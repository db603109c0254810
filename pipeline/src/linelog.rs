//! Replaying an append-only JSON-lines log whose last line may be torn: the reading half that
//! `proposals.jsonl` and `curation.jsonl` share (the journal has its own, with its header).
//!
//! Each line is appended in one write together with its newline, so a line without its
//! newline is an append that never completed: it is left out, and the caller cuts the file
//! back to the valid prefix before appending again. A line that does not parse is left out
//! when it is the last one (a torn write can end in a newline on some filesystems), but is an
//! error when another line follows it: the file was damaged outside smelt.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Why a log could not be replayed.
#[derive(Debug)]
pub(crate) enum ReplayError {
    Io(std::io::Error),
    /// A bad line (1-based) followed by more lines.
    Line {
        line: usize,
        why: String,
    },
}

/// The values of the complete, parsable lines of `path` (a missing file has none) and the
/// byte length of the valid prefix.
pub(crate) fn replay<T>(
    path: &Path,
    mut parse: impl FnMut(&[u8]) -> Result<T, String>,
) -> Result<(Vec<T>, u64), ReplayError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(ReplayError::Io(e)),
    };
    let len = file.metadata().map_err(ReplayError::Io)?.len();
    let mut values = Vec::new();
    let mut good = 0u64;
    let mut pending: Option<(usize, String)> = None;
    for (n, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line.map_err(ReplayError::Io)?;
        if let Some((line, why)) = pending.take() {
            return Err(ReplayError::Line { line, why });
        }
        if good + line.len() as u64 == len {
            // No newline after it: the append never completed.
            break;
        }
        match parse(&line) {
            Ok(v) => {
                values.push(v);
                good += line.len() as u64 + 1;
            }
            Err(why) => pending = Some((n + 1, why)),
        }
    }
    Ok((values, good))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(line: &[u8]) -> Result<u32, String> {
        std::str::from_utf8(line)
            .map_err(|e| e.to_string())?
            .parse()
            .map_err(|e: std::num::ParseIntError| e.to_string())
    }

    #[test]
    fn torn_and_bad_tails_are_left_out_and_bad_middles_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        assert_eq!(replay(&path, number).unwrap(), (vec![], 0), "missing file");
        for (text, values, good) in [
            ("1\n22\n", vec![1, 22], 5),
            ("1\n22\n33", vec![1, 22], 5),
            ("1\n22\nx\n", vec![1, 22], 5),
            ("", vec![], 0),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(replay(&path, number).unwrap(), (values, good), "{text:?}");
        }
        std::fs::write(&path, "1\nx\n3\n").unwrap();
        match replay(&path, number) {
            Err(ReplayError::Line { line: 2, why }) => assert!(why.contains("invalid"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
