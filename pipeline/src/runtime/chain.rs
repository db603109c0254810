//! The verifier chain: runs the configured verifiers in order on one sample.

use crate::config::ChainMode;
use smelt_verifiers::{run_verifier, Sample, VerdictRecord, Verifier};
use std::sync::Arc;

/// An ordered list of verifiers and how to run them.
#[derive(Clone)]
pub struct Chain {
    pub verifiers: Vec<Arc<dyn Verifier>>,
    pub mode: ChainMode,
}

impl Chain {
    /// Runs the chain. A sample is accepted only if every verifier that ran accepted it, none
    /// failed to run, and at least one ran.
    pub fn run(&self, sample: &Sample) -> (Vec<VerdictRecord>, bool) {
        let mut records = Vec::with_capacity(self.verifiers.len());
        for v in &self.verifiers {
            let record = run_verifier(v.as_ref(), sample);
            let stop = !record.accepted && self.mode == ChainMode::ShortCircuit;
            records.push(record);
            if stop {
                break;
            }
        }
        let accepted = !records.is_empty() && records.iter().all(|r| r.accepted && !r.error);
        (records, accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smelt_verifiers::{from_fn, Verdict, VerifyError};

    fn chain(mode: ChainMode) -> Chain {
        let yes = from_fn("yes", "1", |_: &Sample| Ok(Verdict::accept("ok")));
        let no = from_fn("no", "1", |_: &Sample| {
            Ok(Verdict::reject("nope", "always"))
        });
        let broken = from_fn("broken", "1", |_: &Sample| {
            Err(VerifyError::Other("down".into()))
        });
        Chain {
            verifiers: vec![Arc::new(yes), Arc::new(no), Arc::new(broken)],
            mode,
        }
    }

    #[test]
    fn short_circuit_stops_at_first_reject() {
        let (records, accepted) = chain(ChainMode::ShortCircuit).run(&Sample::default());
        assert!(!accepted);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].reason, "nope");
    }

    #[test]
    fn all_mode_collects_every_verdict() {
        let (records, accepted) = chain(ChainMode::All).run(&Sample::default());
        assert!(!accepted);
        assert_eq!(records.len(), 3);
        assert!(records[2].error);
        assert_eq!(records[2].verifier, "broken");
    }

    #[test]
    fn empty_chain_never_accepts() {
        let c = Chain {
            verifiers: vec![],
            mode: ChainMode::All,
        };
        assert!(!c.run(&Sample::default()).1);
    }
}
