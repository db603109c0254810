//! Several servers: a server that goes away mid-run costs retries, not data; the per-server
//! cap holds; requests spread over the servers.

use super::tests::fake_server::{answer, Canned, Seen};
use super::tests::{fast_retries, request, single};
use super::*;
use crate::config::ModelConfig;
use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;
use tokio::net::TcpListener;

/// A server that answers `reply` to everything until it is killed (its listener closed: new
/// connections are refused, as when the process is gone).
struct Killable {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// The most requests answered at once.
    peak: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Killable {
    async fn start(reply: Canned) -> Killable {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, n, p) = (seen.clone(), now.clone(), peak.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (s, n, p, reply) = (s.clone(), n.clone(), p.clone(), reply.clone());
                tokio::spawn(async move {
                    let at_once = n.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(at_once, Ordering::SeqCst);
                    answer(stream, reply, s).await;
                    n.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Killable {
            url: format!("http://{addr}/v1"),
            seen,
            peak,
            task,
        }
    }

    fn served(&self) -> usize {
        self.seen.lock().expect("not poisoned").len()
    }

    async fn kill(&self) {
        self.task.abort();
        // Let the aborted task drop its listener.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn config(urls: &[&str], per_server: Option<usize>) -> ModelConfig {
    let mut table = toml::Table::new();
    table.insert("kind".into(), "openai".into());
    table.insert("id".into(), "tiny-test-model".into());
    table.insert(
        "urls".into(),
        toml::Value::Array(urls.iter().map(|u| toml::Value::from(*u)).collect()),
    );
    if let Some(n) = per_server {
        table.insert("max_in_flight_per_server".into(), (n as i64).into());
    }
    toml::Value::Table(table)
        .try_into()
        .expect("a valid [model] table")
}

async fn generate_many(generator: &Arc<OpenAiGenerator>, count: usize) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let g = Arc::clone(generator);
        tasks.spawn(async move { g.generate(&request(1)).await });
    }
    let mut texts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let completions = done.expect("task").expect("no request is lost");
        texts.extend(completions.into_iter().map(|c| c.text));
    }
    texts
}

#[tokio::test]
async fn a_server_going_away_mid_run_costs_retries_not_data() {
    let a = Killable::start(single("from a", 3)).await;
    let b = Killable::start(single("from b", 3)).await;
    let generator = Arc::new(
        OpenAiGenerator::new(&config(&[&a.url, &b.url], None))
            .expect("builds")
            .with_retry(fast_retries(2)),
    );
    let before = generate_many(&generator, 16).await;
    assert_eq!(before.len(), 16);
    assert!(a.served() > 0 && b.served() > 0, "both servers get work");
    b.kill().await;
    let b_served = b.served();
    let after = generate_many(&generator, 32).await;
    assert_eq!(after.len(), 32, "every request is answered");
    assert!(after.iter().all(|t| t == "from a"), "{after:?}");
    assert_eq!(b.served(), b_served);
    assert_eq!(a.served() + b.served(), 48);
}

#[tokio::test]
async fn with_every_server_gone_the_request_fails_after_its_retries() {
    let a = Killable::start(single("a", 1)).await;
    let b = Killable::start(single("b", 1)).await;
    a.kill().await;
    b.kill().await;
    let generator = OpenAiGenerator::new(&config(&[&a.url, &b.url], None))
        .expect("builds")
        .with_retry(fast_retries(2));
    let err = generator.generate(&request(1)).await.expect_err("fails");
    assert!(err.to_string().contains("cannot reach"), "{err}");
}

#[tokio::test]
async fn the_per_server_cap_holds_and_requests_spread() {
    let slow = Canned {
        delay: Duration::from_millis(60),
        ..single("slow", 2)
    };
    let a = Killable::start(slow.clone()).await;
    let b = Killable::start(slow).await;
    let generator =
        Arc::new(OpenAiGenerator::new(&config(&[&a.url, &b.url], Some(2))).expect("builds"));
    assert_eq!(generate_many(&generator, 12).await.len(), 12);
    for s in [&a, &b] {
        assert_eq!(
            s.peak.load(Ordering::SeqCst),
            2,
            "cap 2 per server, reached"
        );
        assert_eq!(s.served(), 6, "least loaded first: an even spread");
    }
}
