//! The deterministic schedule, shared by the generation tasks.

use super::{Outcome, Pipeline, Slot, StopControl};
use crate::sources::{Schedule, ScheduleSlot};
use crate::stats::Stats;

/// The deterministic schedule, shared by the generation tasks: each takes its next problem
/// here (a short lock, no hand-off between threads), after checking stop and targets.
pub(super) struct Feeder {
    schedule: std::sync::Mutex<Schedule>,
    has_targets: bool,
    shard: Option<crate::shard::ShardSpec>,
}

impl Feeder {
    pub(super) fn new(p: &Pipeline, shard: Option<crate::shard::ShardSpec>) -> Self {
        let cfg = &p.config;
        let slots = cfg
            .sources
            .iter()
            .zip(&p.sources)
            .map(|(e, s)| ScheduleSlot::new(e, s.len()))
            .collect();
        Feeder {
            schedule: std::sync::Mutex::new(Schedule::new(slots, cfg.limits.max_problems)),
            has_targets: cfg.limits.target_accepted.is_some()
                || cfg.sources.iter().any(|s| s.target_accepted.is_some()),
            shard,
        }
    }

    /// The next problem to generate, or `None` once the schedule is exhausted or the run is
    /// stopping (a stop request, or a target reached just now).
    pub(super) fn next(&self, p: &Pipeline, stats: &Stats, stop: &StopControl) -> Option<Slot> {
        if stop.is_stopped() {
            return None;
        }
        let cfg = &p.config;
        let mut schedule = self
            .schedule
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.has_targets {
            if let Some(target) = cfg.limits.target_accepted {
                if stats.total_accepted() >= target {
                    stop.request(Outcome::TargetReached(format!(
                        "target of {target} accepted samples reached"
                    )));
                    return None;
                }
            }
            for (i, s) in cfg.sources.iter().enumerate() {
                if s.target_accepted
                    .is_some_and(|t| stats.accepted_for(&s.name) >= t)
                {
                    schedule.stop_source(i);
                }
            }
        }
        // A shard walks the whole schedule and takes its own problems (see `crate::shard`).
        // Curation sees every slot, owned or not, so every shard takes the same decisions.
        // The problem curation built travels with its slot (it is not built twice).
        let mut built = None;
        let found = schedule.find(|&(source, index)| {
            let owned = self.shard.is_none_or(|s| s.owns(index));
            let Some(curation) = &p.curation else {
                return owned;
            };
            let admitted = p.sources[source]
                .problem(index)
                .map_err(crate::curate::CurateError::from)
                .and_then(|problem| {
                    let keep = curation.admit(&problem, owned)?;
                    built = (keep && owned).then_some(problem);
                    Ok(keep)
                });
            match admitted {
                Ok(keep) => keep && owned,
                Err(e) => {
                    stop.request(Outcome::Failed(e.to_string()));
                    true
                }
            }
        });
        if stop.is_stopped() {
            return None;
        }
        found.map(|(source, index)| Slot {
            source,
            index,
            problem: built,
        })
    }
}
