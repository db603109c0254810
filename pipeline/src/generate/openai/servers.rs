//! Several OpenAI-compatible servers behind one generator: each request goes to the live
//! server with the fewest requests in flight, at most `per_server` at once on each; a server
//! that fails (connection refused, timeout, 5xx) is set aside for the backoff and the retry goes
//! to another one at once. A server going away mid-run costs retries, not data.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
struct Server {
    endpoint: String,
    in_flight: AtomicUsize,
    /// Not chosen before this instant (set after a failure).
    down_until: Mutex<Option<Instant>>,
    /// Failures since the last success: each doubles the time set aside (up to `MAX_ASIDE`).
    failures: AtomicU32,
    permits: Option<Arc<Semaphore>>,
}

/// The longest a failing server is set aside at a time.
const MAX_ASIDE: Duration = Duration::from_secs(30);

/// The servers of one generator.
#[derive(Debug)]
pub struct Servers {
    list: Vec<Server>,
}

/// A request's hold on one server: counts as in flight until dropped.
pub struct Lease<'a> {
    server: &'a Server,
    pub index: usize,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Lease<'_> {
    pub fn endpoint(&self) -> &str {
        &self.server.endpoint
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.server.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Servers {
    /// `endpoints` must not be empty; `per_server` caps each server's concurrent requests.
    pub fn new(endpoints: Vec<String>, per_server: Option<usize>) -> Servers {
        Servers {
            list: endpoints
                .into_iter()
                .map(|endpoint| Server {
                    endpoint,
                    in_flight: AtomicUsize::new(0),
                    down_until: Mutex::new(None),
                    failures: AtomicU32::new(0),
                    permits: per_server.map(|n| Arc::new(Semaphore::new(n.max(1)))),
                })
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The first server's endpoint (what messages about the generator as a whole name).
    pub fn first(&self) -> &str {
        self.list.first().map_or("", |s| s.endpoint.as_str())
    }

    /// The live server with the fewest requests in flight (ties: the lowest index); when every
    /// server is set aside, the one that comes back first.
    fn choose(&self, now: Instant) -> usize {
        let down = |s: &Server| {
            *s.down_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let live = self
            .list
            .iter()
            .enumerate()
            .filter(|(_, s)| down(s).is_none_or(|t| t <= now))
            .min_by_key(|(_, s)| s.in_flight.load(Ordering::Relaxed));
        match live {
            Some((i, _)) => i,
            None => self
                .list
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| down(s))
                .map_or(0, |(i, _)| i),
        }
    }

    /// Takes a server for one request (waits while the chosen one is at its cap).
    pub async fn lease(&self) -> Lease<'_> {
        let index = self.choose(Instant::now());
        let server = &self.list[index];
        server.in_flight.fetch_add(1, Ordering::Relaxed);
        let permit = match &server.permits {
            Some(p) => Arc::clone(p).acquire_owned().await.ok(),
            None => None,
        };
        Lease {
            server,
            index,
            _permit: permit,
        }
    }

    /// Sets server `index` aside for `wait`, doubled for each failure since it last answered
    /// (so a server that is gone costs a retry now and then, not one per request). Returns whether another server is live now (the
    /// retry can go there without waiting).
    pub fn failed(&self, index: usize, wait: Duration) -> bool {
        let now = Instant::now();
        if let Some(s) = self.list.get(index) {
            let n = s.failures.fetch_add(1, Ordering::Relaxed).min(16);
            let aside = wait.saturating_mul(1 << n).min(MAX_ASIDE.max(wait));
            *s.down_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(now + aside);
        }
        self.list.iter().enumerate().any(|(i, s)| {
            i != index
                && s.down_until
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .is_none_or(|t| t <= now)
        })
    }

    /// Server `index` answered: it is live again.
    pub fn succeeded(&self, index: usize) {
        if let Some(s) = self.list.get(index) {
            s.failures.store(0, Ordering::Relaxed);
            *s.down_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(n: usize, cap: Option<usize>) -> Servers {
        Servers::new((0..n).map(|i| format!("http://s{i}")).collect(), cap)
    }

    #[tokio::test]
    async fn least_loaded_live_server_is_chosen() {
        let s = servers(3, None);
        let a = s.lease().await;
        let b = s.lease().await;
        let c = s.lease().await;
        assert_eq!((a.index, b.index, c.index), (0, 1, 2));
        drop(b);
        assert_eq!(s.lease().await.index, 1);
        // Server 1 fails: the retry goes elsewhere at once, and it is skipped until it is back.
        assert!(s.failed(1, Duration::from_secs(60)));
        let d = s.lease().await;
        assert_ne!(d.index, 1);
        s.succeeded(1);
        drop((a, c, d));
        assert_eq!(s.lease().await.index, 0);
    }

    #[tokio::test]
    async fn when_all_are_down_the_first_back_is_chosen() {
        let s = servers(2, None);
        assert!(s.failed(0, Duration::from_secs(30)));
        assert!(!s.failed(1, Duration::from_secs(10)));
        assert_eq!(s.lease().await.index, 1);
    }

    #[tokio::test]
    async fn the_per_server_cap_holds_requests() {
        let s = Arc::new(servers(1, Some(1)));
        let first = s.lease().await;
        let s2 = Arc::clone(&s);
        let waiting = tokio::spawn(async move { s2.lease().await.index });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "a second request got past the cap");
        drop(first);
        assert_eq!(waiting.await.unwrap(), 0);
    }
}
