//! Prometheus metrics: the OpenMetrics text exposition of a [`StatsSnapshot`], encoded by the
//! official `prometheus-client` crate, served on `GET /metrics` ([`MetricsServer`],
//! `--metrics-addr`, an HTTP/1.1 endpoint on hyper) and/or written to a node-exporter
//! textfile ([`TextfileWriter`], `--metrics-textfile`).
//!
//! Counters count this process (the Prometheus convention: they restart at zero with the
//! process, and `rate()` handles the reset); totals over resumed runs are in the report.
//!
//! [`StatsSnapshot`]: crate::stats::StatsSnapshot

mod exposition;
mod server;
mod textfile;

pub use exposition::render;
pub use server::MetricsServer;
pub use textfile::{write_textfile, TextfileWriter};

use std::net::SocketAddr;
use std::path::PathBuf;

/// `Content-Type` of the exposition format (OpenMetrics text 1.0.0, what
/// `prometheus-client` encodes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serving or writing metrics failed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write metrics textfile {path}: {source}")]
    Textfile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests;
