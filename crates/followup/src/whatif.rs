//! "What if" (HF-7): how many alerts a changed rule set would have raised over a past period,
//! next to what the rules in force raised, so a clinician sees the effect of a new threshold
//! before saving it.
//!
//! Every reading in the period is triaged again with each rule set against the history before
//! it (readings older than the period still count as history for baselines and trends).

use jiff::Timestamp;
use serde::Serialize;

use crate::catalogue::{MeasurementKind, Observation};
use crate::colour::Colour;
use crate::time::local_midnight_days_before;
use crate::triage::{History, RuleSet, triage_with};

/// Alerts raised over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlertCounts {
    pub yellow: usize,
    pub red: usize,
    /// Readings that would have been asked for again (the same under both rule sets).
    pub measure_again: usize,
}

impl AlertCounts {
    /// Yellow and red together.
    pub fn alerts(&self) -> usize {
        self.yellow + self.red
    }

    fn add(&mut self, colour: Option<Colour>) {
        match colour {
            Some(Colour::Red) => self.red += 1,
            Some(Colour::Yellow) => self.yellow += 1,
            Some(Colour::Green) => {}
            None => self.measure_again += 1,
        }
    }
}

/// One reading whose colour the change would alter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub at: Timestamp,
    pub kind: MeasurementKind,
    pub old: Colour,
    pub new: Colour,
}

/// The comparison of two rule sets over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIf {
    /// Start of the period: local midnight `days` days before `now`.
    pub from: Timestamp,
    pub to: Timestamp,
    /// Readings in the period.
    pub readings: usize,
    pub old: AlertCounts,
    pub new: AlertCounts,
    /// The readings whose colour differs, oldest first.
    pub changed: Vec<Changed>,
}

/// Replays the readings of the last `days` days up to `now` under `old` and `new`.
pub fn what_if(
    history: &[Observation],
    now: Timestamp,
    days: u16,
    old: &RuleSet,
    new: &RuleSet,
) -> WhatIf {
    let from = local_midnight_days_before(now, days);
    let mut sorted: Vec<Observation> = history.iter().filter(|o| o.at <= now).cloned().collect();
    sorted.sort_by_key(|o| o.at);
    let mut out = WhatIf {
        from,
        to: now,
        readings: 0,
        old: AlertCounts::default(),
        new: AlertCounts::default(),
        changed: Vec::new(),
    };
    let mut before = History::default();
    for obs in &sorted {
        if obs.at < from {
            before.push(obs);
            continue;
        }
        let a = triage_with(obs, &before, old).colour();
        let b = triage_with(obs, &before, new).colour();
        before.push(obs);
        out.readings += 1;
        out.old.add(a);
        out.new.add(b);
        if let (Some(old), Some(new)) = (a, b)
            && old != new
        {
            out.changed.push(Changed {
                at: obs.at,
                kind: obs.kind,
                old,
                new,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::catalogue::{MeasurementKind as K, Metric};
    use crate::colour::Colour::{Red, Yellow};
    use crate::triage::{Adjustment, Condition, PatientSettings, Rule, Test};

    fn rules(adjustments: Vec<Adjustment>) -> RuleSet {
        RuleSet::for_patient(&[], &PatientSettings { adjustments })
    }

    fn below(id: &str, colour: Colour, limit: f64) -> Adjustment {
        Adjustment::Set {
            rule: Rule::new(id, Metric::OxygenSaturation, colour, Test::Below { limit }),
        }
    }

    /// 120 days of SpO2 at 08:00 UTC, day `d` (0..120, the last one today) reading
    /// 93, 91, 89, 87, 85 by `d % 5`.
    fn spo2_history(now: Timestamp) -> Vec<Observation> {
        let pattern = [93.0, 91.0, 89.0, 87.0, 85.0];
        (0..120)
            .map(|d| {
                let at = now
                    - SignedDuration::from_hours(24 * (119 - d))
                    - SignedDuration::from_hours(2);
                Observation::manual(K::OxygenSaturation, at, pattern[(d as usize) % 5])
            })
            .collect()
    }

    #[test]
    fn counts_on_a_known_history() {
        let now: Timestamp = "2026-06-30T10:00:00Z".parse().unwrap();
        let history = spo2_history(now);
        let old = rules(vec![
            below("spo2.below.yellow", Yellow, 90.0),
            below("spo2.below.red", Red, 88.0),
        ]);
        let new = rules(vec![
            below("spo2.below.yellow", Yellow, 88.0),
            below("spo2.below.red", Red, 86.0),
        ]);
        // The period starts at local midnight 90 days before 2026-06-30: 2026-04-01 00:00 CEST,
        // so it holds the readings of Apr 1..=Jun 30, cycle days 29..=119.
        let w = what_if(&history, now, 90, &old, &new);
        assert_eq!(w.from, "2026-03-31T22:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(w.readings, 91);
        // Days 29..=119 of the cycle: values by index d % 5.
        let count = |v: f64| {
            (29..120)
                .filter(|d| [93.0, 91.0, 89.0, 87.0, 85.0][d % 5] == v)
                .count()
        };
        assert_eq!((count(89.0), count(87.0), count(85.0)), (18, 18, 19));
        assert_eq!(
            w.old,
            AlertCounts {
                yellow: 18,
                red: 37,
                measure_again: 0
            }
        );
        assert_eq!(
            w.new,
            AlertCounts {
                yellow: 18,
                red: 19,
                measure_again: 0
            }
        );
        assert_eq!(w.old.alerts() - w.new.alerts(), 18);
        // 89: yellow → green; 87: red → yellow; 85 stays red.
        assert_eq!(w.changed.len(), 36);
        assert!(w.changed.iter().all(|c| c.old > c.new));
    }

    #[test]
    fn trend_rules_use_history_before_the_period() {
        let now: Timestamp = "2026-06-30T10:00:00Z".parse().unwrap();
        // Daily weights: steady at 80 kg, with a jump to 82.5 kg on three days of the period and
        // one day before it.
        let jumps = [5, 40, 70, 95];
        let history: Vec<Observation> = (0..100)
            .map(|d| {
                let at =
                    now - SignedDuration::from_hours(24 * (99 - d)) - SignedDuration::from_hours(3);
                let v = if jumps.contains(&d) { 82.5 } else { 80.0 };
                Observation::manual(K::BodyWeight, at, v)
            })
            .collect();
        let old = RuleSet::for_patient(&[Condition::HeartFailure], &PatientSettings::default());
        let new = RuleSet::for_patient(
            &[Condition::HeartFailure],
            &PatientSettings {
                adjustments: vec![Adjustment::Set {
                    rule: Rule::new(
                        "weight.rise.red",
                        Metric::BodyWeight,
                        Red,
                        Test::RiseOverDays {
                            amount: 3.0,
                            days: 3,
                        },
                    ),
                }],
            },
        );
        let w = what_if(&history, now, 90, &old, &new);
        // Day 5 is before the period (days 9..=99 are in it).
        assert_eq!(w.readings, 91);
        assert_eq!(
            w.old,
            AlertCounts {
                yellow: 0,
                red: 3,
                measure_again: 0
            }
        );
        // With a 3 kg limit the jumps are only yellow (2.5 kg over one day).
        assert_eq!(
            w.new,
            AlertCounts {
                yellow: 3,
                red: 0,
                measure_again: 0
            }
        );
        // The same rules give no changes.
        let same = what_if(&history, now, 90, &old, &old);
        assert!(same.changed.is_empty());
        assert_eq!(same.old, same.new);
    }
}
