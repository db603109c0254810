//! The exposition written to a node-exporter textfile, atomically, on its own thread.

use super::{render, MetricsError};
use crate::stats::Stats;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// Writes the exposition to a node-exporter textfile (name it `*.prom`), atomically, every
/// interval and once more on [`TextfileWriter::finish`]. Runs on its own thread, so a slow
/// disk never stalls the pipeline.
#[derive(Debug)]
pub struct TextfileWriter {
    path: PathBuf,
    stats: Arc<Stats>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Writes the current metrics of `stats` to `path` atomically.
pub fn write_textfile(path: &Path, stats: &Stats) -> Result<(), MetricsError> {
    crate::report::write_atomic(path, render(&stats.snapshot()).as_bytes()).map_err(|source| {
        MetricsError::Textfile {
            path: path.to_owned(),
            source,
        }
    })
}

impl TextfileWriter {
    /// Writes the file once now (so a bad path fails before the run starts), then every
    /// `interval`. Later write failures are logged as warnings, once until they recover.
    pub fn start(
        path: PathBuf,
        stats: Arc<Stats>,
        interval: Duration,
    ) -> Result<Self, MetricsError> {
        write_textfile(&path, &stats)?;
        let (tx, rx) = mpsc::channel::<()>();
        let thread = {
            let (file, stats) = (path.clone(), Arc::clone(&stats));
            std::thread::Builder::new()
                .name("smelt-metrics-textfile".into())
                .spawn(move || {
                    let mut failing = false;
                    while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                        match write_textfile(&file, &stats) {
                            Ok(()) if failing => {
                                failing = false;
                                tracing::info!(path = %file.display(), "metrics textfile writable again");
                            }
                            Ok(()) => {}
                            Err(e) if !failing => {
                                failing = true;
                                tracing::warn!(error = %e, "metrics textfile not updated");
                            }
                            Err(_) => {}
                        }
                    }
                })
                .map_err(|source| MetricsError::Textfile {
                    path: path.clone(),
                    source,
                })?
        };
        Ok(TextfileWriter {
            path,
            stats,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    fn stop_thread(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops the periodic writes and writes the final values.
    pub fn finish(mut self) -> Result<(), MetricsError> {
        self.stop_thread();
        write_textfile(&self.path, &self.stats)
    }
}

impl Drop for TextfileWriter {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
