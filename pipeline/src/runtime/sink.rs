//! The sink thread: owns the sink, gathers rows into shards, commits them, flushes on exit.

use super::{Outcome, StopControl};
use crate::sink::schema::Row;
use crate::sink::{Sink, SinkError};
use crate::stats::Stats;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

pub(super) fn sink_loop(
    mut sink: Sink,
    rx: std::sync::mpsc::Receiver<Vec<Row>>,
    stats: &Stats,
    stop: &StopControl,
) -> Result<(), String> {
    let fail = |e: SinkError| {
        tracing::error!(error = %e, "sink failed; committed shards are intact");
        stop.request(Outcome::Failed(format!("sink: {e}")));
        e.to_string()
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(rows) => {
                for row in rows {
                    sink.push(row).map_err(fail)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        sink.tick().map_err(fail)?;
        stats.set_queue_depth("sink", sink.pending() as u64);
    }
    sink.flush().map_err(fail)
}
