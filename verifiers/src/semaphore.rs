//! A counting semaphore for bounding concurrent work (sandbox runs, in-flight requests).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// A counting semaphore. `acquire` blocks until a permit is free; the permit is returned when
/// the guard drops.
#[derive(Debug)]
pub(crate) struct Semaphore {
    free: Mutex<usize>,
    cond: Condvar,
}

/// Holds one permit of a [`Semaphore`] until dropped.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    sem: &'a Semaphore,
}

impl Semaphore {
    pub(crate) fn new(permits: usize) -> Self {
        Semaphore {
            free: Mutex::new(permits.max(1)),
            cond: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        // The counter is always consistent, so a poisoned lock is still usable.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn acquire(&self) -> Permit<'_> {
        let mut free = self.lock();
        while *free == 0 {
            free = self.cond.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Permit { sem: self }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.sem.lock() += 1;
        self.sem.cond.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn bounds_concurrency() {
        let sem = Arc::new(Semaphore::new(3));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let (sem, now, peak) = (sem.clone(), now.clone(), peak.clone());
                std::thread::spawn(move || {
                    let _p = sem.acquire();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert!(
            peak.load(Ordering::SeqCst) >= 2,
            "permits were never shared"
        );
    }
}
