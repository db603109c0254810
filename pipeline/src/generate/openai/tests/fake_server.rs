//! A fake OpenAI-compatible server on 127.0.0.1 for the client's tests: it answers each
//! request from a script of canned answers and records what it saw.

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One canned answer.
#[derive(Clone)]
pub(crate) struct Canned {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) delay: Duration,
}

pub(crate) fn ok(body: Value) -> Canned {
    Canned {
        status: 200,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

pub(crate) fn status(code: u16) -> Canned {
    Canned {
        status: code,
        body: json!({"error": {"message": format!("canned {code}")}}).to_string(),
        delay: Duration::ZERO,
    }
}

/// One request the fake server saw.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) request_line: String,
    pub(crate) headers: String,
    pub(crate) body: Value,
}

pub(crate) struct FakeServer {
    pub(crate) url: String,
    pub(crate) seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeServer {
    /// Answers the n-th request with `script[n]` (the last entry repeats).
    pub(crate) async fn start(script: Vec<Canned>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&seen);
        tokio::spawn(async move {
            let mut n = 0usize;
            while let Ok((stream, _)) = listener.accept().await {
                let canned = script
                    .get(n)
                    .or_else(|| script.last())
                    .cloned()
                    .expect("a non-empty script");
                n += 1;
                let recorded = Arc::clone(&recorded);
                tokio::spawn(answer(stream, canned, recorded));
            }
        });
        FakeServer {
            url: format!("http://{addr}/v1"),
            seen,
        }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

pub(crate) async fn answer(mut stream: TcpStream, canned: Canned, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let Ok(read) = stream.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..read]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let Ok(read) = stream.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..read]);
    }
    let body = serde_json::from_slice(&buf[header_end..]).unwrap_or(Value::Null);
    seen.lock().expect("not poisoned").push(Seen {
        request_line: head.lines().next().unwrap_or_default().to_owned(),
        headers: head.clone(),
        body,
    });
    tokio::time::sleep(canned.delay).await;
    let response = format!(
        "HTTP/1.1 {} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        canned.status,
        canned.body.len(),
        canned.body
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
