//! A patient's earlier readings as triage needs them: the real ones only (implausible and
//! device-flagged readings never count), one time-ordered series per metric, so that the
//! window a rule looks at is found by binary search instead of a scan of everything.
//!
//! Ingestion builds one per batch and pushes each triaged reading into it, so later readings
//! of the batch see the earlier ones; the what-if replay grows one as it goes.

use jiff::Timestamp;

use crate::catalogue::{Metric, Observation};

/// Earlier real readings, per metric, oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Indexed by the metric's position in [`Metric::ALL`].
    series: [Vec<(Timestamp, f64)>; Metric::ALL.len()],
}

fn slot(metric: Metric) -> usize {
    Metric::ALL
        .iter()
        .position(|m| *m == metric)
        .unwrap_or_default()
}

impl History {
    /// An index of `observations`, given in any order.
    pub fn new(observations: &[Observation]) -> Self {
        let mut h = History::default();
        for o in observations {
            h.push(o);
        }
        h
    }

    /// Adds a reading; one that cannot be real is left out. Appending in time order is the
    /// common case and costs nothing extra; an older reading is inserted in its place.
    pub fn push(&mut self, obs: &Observation) {
        if obs.implausibility().is_some() {
            return;
        }
        for metric in obs.kind.metrics() {
            let Some(v) = obs.value_of(*metric) else {
                continue;
            };
            let series = &mut self.series[slot(*metric)];
            if series.last().is_none_or(|(at, _)| *at <= obs.at) {
                series.push((obs.at, v));
            } else {
                let i = series.partition_point(|(at, _)| *at <= obs.at);
                series.insert(i, (obs.at, v));
            }
        }
    }

    /// The readings of a metric in `[from, before)`, oldest first.
    pub fn window(
        &self,
        metric: Metric,
        from: Timestamp,
        before: Timestamp,
    ) -> &[(Timestamp, f64)] {
        let series = &self.series[slot(metric)];
        let start = series.partition_point(|(at, _)| *at < from);
        let end = series.partition_point(|(at, _)| *at < before).max(start);
        &series[start..end]
    }

    /// How many real readings it holds, all metrics counted.
    pub fn len(&self) -> usize {
        self.series.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.series.iter().all(Vec::is_empty)
    }
}

/// The median of some values (the mean of the middle two for an even count); `None` when empty.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (lower, mid, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let mid = *mid;
    if n % 2 == 1 {
        return Some(mid);
    }
    let below = lower.iter().copied().max_by(f64::total_cmp).unwrap_or(mid);
    Some((below + mid) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{MeasurementKind, Value};
    use jiff::SignedDuration;

    fn t(h: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_hours(h)
    }

    #[test]
    fn windows_are_half_open_and_ordered_whatever_the_input_order() {
        let obs: Vec<Observation> = [5, 1, 3, 2, 4]
            .iter()
            .map(|h| Observation::manual(MeasurementKind::BodyWeight, t(*h), 70.0 + *h as f64))
            .collect();
        let h = History::new(&obs);
        let w: Vec<f64> = h
            .window(Metric::BodyWeight, t(2), t(4))
            .iter()
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(w, vec![72.0, 73.0]);
        assert!(h.window(Metric::BodyWeight, t(4), t(2)).is_empty());
        assert!(h.window(Metric::Pulse, t(0), t(9)).is_empty());
    }

    #[test]
    fn implausible_readings_and_blood_pressure_components() {
        let mut err = Observation::manual(MeasurementKind::Pulse, t(1), 70.0);
        err.device_error = true;
        let impossible = Observation::manual(MeasurementKind::Pulse, t(2), 900.0);
        let bp = Observation {
            value: Value::BloodPressure {
                systolic: 140.0,
                diastolic: 90.0,
            },
            ..Observation::manual(MeasurementKind::BloodPressure, t(3), 0.0)
        };
        let h = History::new(&[err, impossible, bp]);
        assert!(h.window(Metric::Pulse, t(0), t(9)).is_empty());
        assert_eq!(h.window(Metric::Systolic, t(0), t(9)), &[(t(3), 140.0)]);
        assert_eq!(h.window(Metric::Diastolic, t(0), t(9)), &[(t(3), 90.0)]);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut [7.0]), Some(7.0));
    }
}
