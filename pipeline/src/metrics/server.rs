//! `GET /metrics` over HTTP/1.1, served by hyper: one route, one response per connection.

use super::{render, MetricsError, CONTENT_TYPE};
use crate::stats::Stats;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE as CONTENT_TYPE_HEADER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// Largest request head read; hyper answers a longer one with 431.
const MAX_HEAD: usize = 8 * 1024;

/// The `GET /metrics` endpoint, serving until dropped or [`MetricsServer::shutdown`].
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` and serves in a background task (call from within a tokio runtime).
    /// Binding fails fast, so a taken port is reported before the run starts.
    pub async fn start(addr: SocketAddr, stats: Arc<Stats>) -> Result<Self, MetricsError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| MetricsError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| MetricsError::Bind { addr, source })?;
        let task = tokio::spawn(accept_loop(listener, stats));
        tracing::info!(%addr, "serving Prometheus metrics on http://{addr}/metrics");
        Ok(MetricsServer { addr, task })
    }

    /// The bound address (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving.
    pub fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, stats: Arc<Stats>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let stats = Arc::clone(&stats);
                tokio::spawn(async move {
                    // A scrape that stalls or drops is the scraper's problem; never ours.
                    let _ =
                        tokio::time::timeout(Duration::from_secs(10), serve(stream, stats)).await;
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Serves one connection: one request, then the connection is closed.
async fn serve(stream: TcpStream, stats: Arc<Stats>) -> Result<(), hyper::Error> {
    let service = hyper::service::service_fn(move |req| {
        let stats = Arc::clone(&stats);
        async move { Ok::<_, Infallible>(respond(&req, &stats)) }
    });
    hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .title_case_headers(true)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(stream), service)
        .await
}

/// The response to one request (hyper leaves out the body of a `HEAD` response).
fn respond<B>(req: &Request<B>, stats: &Stats) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    match req.uri().path() {
        "/metrics" => {
            let mut res = Response::new(Full::from(render(&stats.snapshot())));
            res.headers_mut()
                .insert(CONTENT_TYPE_HEADER, HeaderValue::from_static(CONTENT_TYPE));
            res
        }
        "/" => text(StatusCode::OK, "smelt metrics: GET /metrics\n"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; metrics are at /metrics\n",
        ),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE_HEADER,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}
