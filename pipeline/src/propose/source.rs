//! The proven proposals of a `propose` source, as a [`ProblemSource`].

use super::ProposalRecord;
use crate::problem::Problem;
use crate::sources::{ProblemSource, SourceError};
use std::collections::BTreeMap;

/// Problem `i` is the source's `i`-th proven proposal in request order, so indices are stable
/// when a later run asks for more proposals.
pub struct Proposed {
    name: String,
    problems: Vec<Problem>,
    /// Whether the proposal phase has run (before it, the source has no problems to give).
    ready: bool,
}

impl Proposed {
    /// The source before its proposal phase.
    pub fn pending(name: &str) -> Proposed {
        Proposed {
            name: name.to_string(),
            problems: Vec::new(),
            ready: false,
        }
    }

    /// The source of the proven ones among `records` (all of this source).
    pub fn from_records<'a>(
        name: &str,
        records: impl IntoIterator<Item = &'a ProposalRecord>,
    ) -> Proposed {
        let proven: BTreeMap<u64, &ProposalRecord> = records
            .into_iter()
            .filter(|r| r.accepted && r.source == name)
            .map(|r| (r.index, r))
            .collect();
        let problems = proven
            .values()
            .enumerate()
            .filter_map(|(i, r)| {
                let (text, smt, answer) = (r.text.clone()?, r.smt.clone()?, r.answer.clone()?);
                Some(Problem {
                    id: r.id.clone(),
                    source: name.to_string(),
                    index: i as u64,
                    text,
                    reference: Some(answer),
                    structured: serde_json::json!({
                        "kind": "proposed",
                        "round": r.round,
                        "proposal": r.index,
                        "parents": r.parents,
                        "smt": smt,
                        "equation": r.equation,
                    }),
                    constraints: r.single_constant.then_some(smt),
                    tests: None,
                    entry_point: None,
                    extra: Default::default(),
                })
            })
            .collect();
        Proposed {
            name: name.to_string(),
            problems,
            ready: true,
        }
    }
}

impl ProblemSource for Proposed {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> Option<u64> {
        Some(self.problems.len() as u64)
    }

    fn problem(&self, index: u64) -> Result<Problem, SourceError> {
        if !self.ready {
            return Err(SourceError::Config {
                source_name: self.name.clone(),
                message: "a propose source has problems only after its proposal phase (`smelt run`; see proposals.jsonl)".into(),
            });
        }
        usize::try_from(index)
            .ok()
            .and_then(|i| self.problems.get(i))
            .cloned()
            .ok_or_else(|| SourceError::OutOfRange {
                source_name: self.name.clone(),
                index,
            })
    }
}
