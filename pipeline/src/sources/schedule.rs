//! The order in which problems are drawn: sources interleaved by weight with smooth weighted
//! round-robin (each step every live source gains its weight in credit; the richest is drawn
//! and pays the total), each source's indices taken in order `0, 1, 2, …`.
//!
//! The order is a pure function of the slots, the global limit and which sources were stopped
//! when, so a resumed run that replays it (and stops the same sources) sees the same pairs.

use super::{ProblemSource, SourceEntry};

/// One source as the schedule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSlot {
    /// Relative share; a source with weight ≤ 0 (or NaN) is never drawn.
    pub weight: f64,
    /// Indices `0..limit` are drawn; `None` is unbounded.
    pub limit: Option<u64>,
}

impl ScheduleSlot {
    /// The slot for a configured source of `len` problems: limited by the shorter of `len` and
    /// the entry's `max_problems`.
    pub fn new(entry: &SourceEntry, len: Option<u64>) -> Self {
        let limit = match (len, entry.max_problems) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        ScheduleSlot {
            weight: entry.weight,
            limit,
        }
    }
}

#[derive(Debug, Clone)]
struct State {
    slot: ScheduleSlot,
    next: u64,
    credit: f64,
    stopped: bool,
}

impl State {
    fn live(&self) -> bool {
        !self.stopped && self.slot.weight > 0.0 && self.slot.limit.is_none_or(|n| self.next < n)
    }
}

/// Iterates `(source position, problem index)` pairs.
#[derive(Debug, Clone)]
pub struct Schedule {
    states: Vec<State>,
    max_problems: Option<u64>,
    drawn: u64,
}

impl Schedule {
    /// A schedule over `slots` (positions as given), drawing at most `max_problems` in all.
    pub fn new(slots: Vec<ScheduleSlot>, max_problems: Option<u64>) -> Self {
        Schedule {
            states: slots
                .into_iter()
                .map(|slot| State {
                    slot,
                    next: 0,
                    credit: 0.0,
                    stopped: false,
                })
                .collect(),
            max_problems,
            drawn: 0,
        }
    }

    /// The schedule for configured sources (`entries[i]` built into `sources[i]`).
    pub fn from_sources(
        entries: &[SourceEntry],
        sources: &[Box<dyn ProblemSource>],
        max_problems: Option<u64>,
    ) -> Self {
        let slots = entries
            .iter()
            .zip(sources)
            .map(|(e, s)| ScheduleSlot::new(e, s.len()))
            .collect();
        Schedule::new(slots, max_problems)
    }

    /// Draws nothing more from source `i` (e.g. its accepted target was reached).
    pub fn stop_source(&mut self, i: usize) {
        if let Some(s) = self.states.get_mut(i) {
            s.stopped = true;
        }
    }

    /// Whether source `i` will be drawn from again.
    pub fn is_live(&self, i: usize) -> bool {
        self.states.get(i).is_some_and(State::live)
    }

    /// How many problems were drawn from source `i` (its next index).
    pub fn drawn_from(&self, i: usize) -> u64 {
        self.states.get(i).map_or(0, |s| s.next)
    }

    /// How many problems were drawn in all.
    pub fn drawn(&self) -> u64 {
        self.drawn
    }

    /// Whether the schedule ends without stops: a global limit, or every drawable source bounded.
    pub fn is_finite(&self) -> bool {
        self.max_problems.is_some()
            || self
                .states
                .iter()
                .all(|s| s.slot.limit.is_some() || !s.live())
    }
}

impl Iterator for Schedule {
    type Item = (usize, u64);

    fn next(&mut self) -> Option<(usize, u64)> {
        if self.max_problems.is_some_and(|m| self.drawn >= m) {
            return None;
        }
        let total: f64 = self
            .states
            .iter()
            .filter(|s| s.live())
            .map(|s| s.slot.weight)
            .sum();
        for s in self.states.iter_mut().filter(|s| s.live()) {
            s.credit += s.slot.weight;
        }
        // The richest live source; the first one on ties.
        let mut best: Option<usize> = None;
        for (i, s) in self.states.iter().enumerate() {
            if s.live() && best.is_none_or(|b| s.credit > self.states[b].credit) {
                best = Some(i);
            }
        }
        let i = best?;
        let s = &mut self.states[i];
        s.credit -= total;
        let index = s.next;
        s.next += 1;
        self.drawn += 1;
        Some((i, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(weights: &[f64]) -> Vec<ScheduleSlot> {
        weights
            .iter()
            .map(|&weight| ScheduleSlot {
                weight,
                limit: None,
            })
            .collect()
    }

    fn counts(pairs: &[(usize, u64)], n: usize) -> Vec<u64> {
        let mut c = vec![0; n];
        for (i, _) in pairs {
            c[*i] += 1;
        }
        c
    }

    #[test]
    fn proportions_follow_weights_smoothly() {
        let pairs: Vec<_> = Schedule::new(slots(&[1.0, 2.0, 3.0]), Some(600)).collect();
        assert_eq!(pairs.len(), 600);
        assert_eq!(counts(&pairs, 3), vec![100, 200, 300]);
        // Smooth: every prefix stays within 2 draws of its exact share.
        for n in 1..=pairs.len() {
            for (i, &c) in counts(&pairs[..n], 3).iter().enumerate() {
                let share = n as f64 * (i + 1) as f64 / 6.0;
                assert!(
                    (c as f64 - share).abs() < 2.0,
                    "prefix {n} source {i}: {c} vs {share}"
                );
            }
        }
    }

    #[test]
    fn fractional_weights() {
        let pairs: Vec<_> = Schedule::new(slots(&[0.3, 0.7]), Some(1000)).collect();
        let c = counts(&pairs, 2);
        assert!((299..=301).contains(&c[0]), "{c:?}");
    }

    #[test]
    fn indices_run_in_order_per_source() {
        let pairs: Vec<_> = Schedule::new(slots(&[1.0, 1.0]), Some(10)).collect();
        for src in 0..2 {
            let idx: Vec<u64> = pairs.iter().filter(|p| p.0 == src).map(|p| p.1).collect();
            assert_eq!(idx, (0..5).collect::<Vec<_>>());
        }
    }

    #[test]
    fn deterministic() {
        let a: Vec<_> = Schedule::new(slots(&[0.5, 1.5, 2.0]), Some(500)).collect();
        let b: Vec<_> = Schedule::new(slots(&[0.5, 1.5, 2.0]), Some(500)).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn exhausted_sources_drop_out() {
        let mut s = slots(&[1.0, 1.0]);
        s[0].limit = Some(3);
        s[1].limit = Some(10);
        let mut schedule = Schedule::new(s, None);
        assert!(schedule.is_finite());
        let pairs: Vec<_> = schedule.by_ref().collect();
        assert_eq!(counts(&pairs, 2), vec![3, 10]);
        assert!(!schedule.is_live(0) && !schedule.is_live(1));
        assert_eq!(schedule.drawn(), 13);
    }

    #[test]
    fn unbounded_without_a_limit() {
        let schedule = Schedule::new(slots(&[1.0]), None);
        assert!(!schedule.is_finite());
        assert_eq!(schedule.take(10_000).count(), 10_000);
    }

    #[test]
    fn stopped_sources_are_skipped() {
        let mut schedule = Schedule::new(slots(&[1.0, 1.0, 2.0]), Some(100));
        let first: Vec<_> = schedule.by_ref().take(8).collect();
        assert_eq!(counts(&first, 3), vec![2, 2, 4]);
        schedule.stop_source(2);
        assert!(!schedule.is_live(2));
        let rest: Vec<_> = schedule.by_ref().collect();
        assert_eq!(rest.len(), 92);
        assert_eq!(counts(&rest, 3), vec![46, 46, 0]);
        assert_eq!(schedule.drawn_from(0), 48);
    }

    #[test]
    fn zero_weight_never_drawn() {
        let pairs: Vec<_> = Schedule::new(slots(&[0.0, 1.0]), Some(5)).collect();
        assert_eq!(counts(&pairs, 2), vec![0, 5]);
    }

    #[test]
    fn slot_limit_is_the_shorter_of_len_and_max_problems() {
        let entry: SourceEntry = match toml::from_str(
            "name='g'\ntype='jsonl'\ntemplate='t.j2'\npath='x.jsonl'\nmax_problems=5\n",
        ) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(ScheduleSlot::new(&entry, Some(3)).limit, Some(3));
        assert_eq!(ScheduleSlot::new(&entry, Some(30)).limit, Some(5));
        assert_eq!(ScheduleSlot::new(&entry, None).limit, Some(5));
    }
}
