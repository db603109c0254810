//! Why a run stops, and the shared flag every stage watches.

use std::sync::Mutex;
use tokio::sync::watch;

/// How a run ended. Each maps to a documented exit code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// Every scheduled problem is done.
    Finished(String),
    /// The accepted-samples target was reached (the run's goal: exit code 0).
    TargetReached(String),
    /// A budget (max duration) ran out; run the same command again to continue.
    Budget(String),
    /// SIGINT/SIGTERM; run the same command again to continue.
    Interrupted(String),
    /// An error stopped the run; what was committed is intact.
    Failed(String),
}

impl Outcome {
    /// The process exit code (README "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Finished(_) | Outcome::TargetReached(_) => 0,
            Outcome::Failed(_) => 1,
            Outcome::Budget(_) => 3,
            Outcome::Interrupted(_) => 4,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Finished(d) | Outcome::TargetReached(d) => format!("finished: {d}"),
            Outcome::Budget(d) => {
                format!("stopped by budget: {d} (resumable: run the same command again)")
            }
            Outcome::Interrupted(d) => {
                format!("interrupted: {d} (resumable: run the same command again)")
            }
            Outcome::Failed(d) => format!("failed: {d}"),
        }
    }
}

impl Outcome {
    /// The report's view of this outcome.
    pub fn to_report(&self) -> crate::report::Outcome {
        use crate::report::{Budget, Outcome as R};
        match self {
            Outcome::Finished(_) => R::Finished,
            Outcome::TargetReached(_) => R::Budget {
                budget: Budget::TargetAccepted,
            },
            Outcome::Budget(_) => R::Budget {
                budget: Budget::MaxDuration,
            },
            Outcome::Interrupted(_) => R::Interrupted,
            Outcome::Failed(message) => R::Failed {
                message: message.clone(),
            },
        }
    }
}

/// The first stop request wins; stages watch `stopped()`.
pub struct StopControl {
    reason: Mutex<Option<Outcome>>,
    tx: watch::Sender<bool>,
}

impl Default for StopControl {
    fn default() -> Self {
        StopControl {
            reason: Mutex::new(None),
            tx: watch::channel(false).0,
        }
    }
}

impl StopControl {
    /// Asks every stage to stop taking new work. Returns false if a stop was already requested.
    pub fn request(&self, outcome: Outcome) -> bool {
        let mut reason = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if reason.is_some() {
            // A failure overrides a softer reason, so the exit code tells the truth.
            if matches!(outcome, Outcome::Failed(_)) && !matches!(*reason, Some(Outcome::Failed(_)))
            {
                *reason = Some(outcome);
            }
            return false;
        }
        *reason = Some(outcome);
        self.tx.send_replace(true);
        true
    }

    pub fn is_stopped(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once a stop is requested.
    pub async fn stopped(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
