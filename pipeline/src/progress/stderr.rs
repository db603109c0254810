//! Log lines on stderr that do not tear the progress bar: each `tracing` event is buffered
//! and written out above the bar while one is on screen.

use indicatif::ProgressBar;
use std::io::Write;
use std::sync::{PoisonError, RwLock};

/// The bar currently on screen, for [`ProgressAwareStderr`].
pub(super) static ACTIVE_BAR: RwLock<Option<ProgressBar>> = RwLock::new(None);

pub(super) fn set_active_bar(bar: Option<ProgressBar>) {
    *ACTIVE_BAR.write().unwrap_or_else(PoisonError::into_inner) = bar;
}

/// A `tracing_subscriber` writer for stderr that prints each event above the progress bar
/// while one is shown: `tracing_subscriber::fmt().with_writer(ProgressAwareStderr)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgressAwareStderr;

/// One event's bytes, written out (around the bar) when dropped.
#[derive(Debug, Default)]
pub struct EventWriter {
    buf: Vec<u8>,
}

impl Write for EventWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&self.buf);
            let _ = err.flush();
        };
        let bar = ACTIVE_BAR
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ProgressAwareStderr {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter::default()
    }
}
