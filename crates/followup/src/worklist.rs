//! The follow-up centre's work list (HF-8) as pure logic: what comes first, and when an alert that
//! nobody has acknowledged is escalated.
//!
//! Order: red, then yellow, then missing reports. Within each, items not yet acknowledged come
//! before acknowledged ones (still open until acted on and documented), escalated before not yet
//! escalated, and then the one that has waited longest first. Escalation deadlines are absolute
//! durations from when the alert was raised, so they are the same length across a DST change
//! (an alert raised at 01:45 on the spring-change night with 30 minutes is due at 03:15 local).

use std::cmp::Reverse;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::colour::Colour;

/// What kind of item, in work-list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Red,
    Yellow,
    MissingReport,
}

impl ItemKind {
    /// The item kind of an alert of this colour (green raises none).
    pub fn from_colour(c: Colour) -> Option<Self> {
        match c {
            Colour::Red => Some(ItemKind::Red),
            Colour::Yellow => Some(ItemKind::Yellow),
            Colour::Green => None,
        }
    }
}

/// One open item on the work list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem<Id> {
    pub id: Id,
    pub kind: ItemKind,
    pub raised_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
}

/// How long an alert may wait for acknowledgement before it is escalated; `None`: never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPolicy {
    pub red: Option<SignedDuration>,
    pub yellow: Option<SignedDuration>,
    pub missing_report: Option<SignedDuration>,
}

impl Default for EscalationPolicy {
    /// Red within 30 minutes, yellow within 4 hours, missing reports within 24 hours.
    fn default() -> Self {
        Self {
            red: Some(SignedDuration::from_mins(30)),
            yellow: Some(SignedDuration::from_hours(4)),
            missing_report: Some(SignedDuration::from_hours(24)),
        }
    }
}

impl EscalationPolicy {
    pub fn limit(&self, kind: ItemKind) -> Option<SignedDuration> {
        match kind {
            ItemKind::Red => self.red,
            ItemKind::Yellow => self.yellow,
            ItemKind::MissingReport => self.missing_report,
        }
    }
}

/// Where an item stands with escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Escalation {
    /// Acknowledged (in time or not): nothing to escalate.
    Acknowledged { late: bool },
    /// Not acknowledged; escalated at `at` unless acknowledged before.
    Due { at: Timestamp },
    /// Not acknowledged in time.
    Escalated { since: Timestamp },
    /// This kind is never escalated.
    Never,
}

impl<Id> WorkItem<Id> {
    /// Escalation state at `now`.
    pub fn escalation(&self, policy: &EscalationPolicy, now: Timestamp) -> Escalation {
        let Some(limit) = policy.limit(self.kind) else {
            return match self.acknowledged_at {
                Some(_) => Escalation::Acknowledged { late: false },
                None => Escalation::Never,
            };
        };
        let due = self
            .raised_at
            .saturating_add(limit)
            .unwrap_or(self.raised_at);
        match self.acknowledged_at {
            Some(ack) => Escalation::Acknowledged { late: ack >= due },
            None if now >= due => Escalation::Escalated { since: due },
            None => Escalation::Due { at: due },
        }
    }
}

/// Sorts a work list into the order it is shown in at `now`.
pub fn order<Id>(items: &mut [WorkItem<Id>], policy: &EscalationPolicy, now: Timestamp) {
    items.sort_by_key(|i| {
        let escalated = matches!(i.escalation(policy, now), Escalation::Escalated { .. });
        (
            i.kind,
            i.acknowledged_at.is_some(),
            Reverse(escalated),
            i.raised_at,
        )
    });
}

/// The items that became escalated in `(after, now]` — for a job that notifies the person on
/// call once per item.
pub fn newly_escalated<'a, Id>(
    items: &'a [WorkItem<Id>],
    policy: &EscalationPolicy,
    after: Timestamp,
    now: Timestamp,
) -> Vec<&'a WorkItem<Id>> {
    items
        .iter()
        .filter(|i| matches!(i.escalation(policy, now), Escalation::Escalated { since } if since > after))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn item(id: u32, kind: ItemKind, raised: &str, ack: Option<&str>) -> WorkItem<u32> {
        WorkItem {
            id,
            kind,
            raised_at: ts(raised),
            acknowledged_at: ack.map(ts),
        }
    }

    #[test]
    fn red_then_yellow_then_missing() {
        let policy = EscalationPolicy::default();
        let now = ts("2026-05-04T08:00:00Z");
        let mut items = vec![
            item(1, ItemKind::MissingReport, "2026-05-03T08:00:00Z", None),
            item(2, ItemKind::Yellow, "2026-05-04T07:50:00Z", None),
            item(3, ItemKind::Red, "2026-05-04T07:55:00Z", None),
            item(4, ItemKind::Yellow, "2026-05-04T07:00:00Z", None),
            item(5, ItemKind::Red, "2026-05-04T07:45:00Z", None),
            item(
                6,
                ItemKind::Red,
                "2026-05-04T06:00:00Z",
                Some("2026-05-04T06:10:00Z"),
            ),
            // Raised 07:20 with 30 minutes to acknowledge: escalated, so first among the reds.
            item(7, ItemKind::Red, "2026-05-04T07:20:00Z", None),
            item(8, ItemKind::Yellow, "2026-05-04T03:00:00Z", None),
        ];
        order(&mut items, &policy, now);
        let ids: Vec<u32> = items.iter().map(|i| i.id).collect();
        // Red: 7 (escalated), 5, 3, then 6 (acknowledged); yellow: 8 (escalated, 5 h), 4, 2; missing: 1.
        assert_eq!(ids, vec![7, 5, 3, 6, 8, 4, 2, 1]);
    }

    #[test]
    fn escalation_with_a_fake_clock_across_the_spring_change() {
        let policy = EscalationPolicy::default();
        // Raised 01:45 CET on Sunday 29 March 2026; 30 minutes later it is 03:15 CEST.
        let red = item(1, ItemKind::Red, "2026-03-29T00:45:00Z", None);
        assert_eq!(
            red.escalation(&policy, ts("2026-03-29T01:14:59Z")),
            Escalation::Due {
                at: ts("2026-03-29T01:15:00Z")
            }
        );
        assert_eq!(
            red.escalation(&policy, ts("2026-03-29T01:15:00Z")),
            Escalation::Escalated {
                since: ts("2026-03-29T01:15:00Z")
            }
        );
        let due_local = crate::time::oslo().to_datetime(ts("2026-03-29T01:15:00Z"));
        assert_eq!(due_local.to_string(), "2026-03-29T03:15:00");
        // Yellow raised 00:30 CEST on 25 October: four real hours later is 03:30 CET.
        let yellow = item(2, ItemKind::Yellow, "2026-10-24T22:30:00Z", None);
        assert_eq!(
            yellow.escalation(&policy, ts("2026-10-25T02:29:00Z")),
            Escalation::Due {
                at: ts("2026-10-25T02:30:00Z")
            }
        );
        assert!(matches!(
            yellow.escalation(&policy, ts("2026-10-25T02:30:00Z")),
            Escalation::Escalated { .. }
        ));
        assert_eq!(
            crate::time::oslo()
                .to_datetime(ts("2026-10-25T02:30:00Z"))
                .to_string(),
            "2026-10-25T03:30:00"
        );
        // Acknowledged in time / late.
        let ok = item(
            3,
            ItemKind::Red,
            "2026-03-29T00:45:00Z",
            Some("2026-03-29T01:10:00Z"),
        );
        assert_eq!(
            ok.escalation(&policy, ts("2026-03-29T05:00:00Z")),
            Escalation::Acknowledged { late: false }
        );
        let late = item(
            4,
            ItemKind::Red,
            "2026-03-29T00:45:00Z",
            Some("2026-03-29T01:20:00Z"),
        );
        assert_eq!(
            late.escalation(&policy, ts("2026-03-29T05:00:00Z")),
            Escalation::Acknowledged { late: true }
        );
        // A configured policy.
        let strict = EscalationPolicy {
            red: Some(SignedDuration::from_mins(10)),
            yellow: None,
            missing_report: None,
        };
        assert_eq!(
            yellow.escalation(&strict, ts("2026-10-26T00:00:00Z")),
            Escalation::Never
        );
        assert!(matches!(
            red.escalation(&strict, ts("2026-03-29T00:55:00Z")),
            Escalation::Escalated { .. }
        ));
    }

    #[test]
    fn newly_escalated_once() {
        let policy = EscalationPolicy::default();
        let items = vec![
            item(1, ItemKind::Red, "2026-05-04T07:00:00Z", None),
            item(2, ItemKind::Red, "2026-05-04T07:20:00Z", None),
            item(3, ItemKind::Yellow, "2026-05-04T07:00:00Z", None),
        ];
        let ids = |v: Vec<&WorkItem<u32>>| v.iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(
            ids(newly_escalated(
                &items,
                &policy,
                ts("2026-05-04T07:00:00Z"),
                ts("2026-05-04T07:40:00Z")
            )),
            vec![1]
        );
        assert_eq!(
            ids(newly_escalated(
                &items,
                &policy,
                ts("2026-05-04T07:40:00Z"),
                ts("2026-05-04T08:00:00Z")
            )),
            vec![2]
        );
        assert_eq!(
            ids(newly_escalated(
                &items,
                &policy,
                ts("2026-05-04T08:00:00Z"),
                ts("2026-05-04T11:00:00Z")
            )),
            vec![3]
        );
        assert!(
            newly_escalated(
                &items,
                &policy,
                ts("2026-05-04T11:00:00Z"),
                ts("2026-05-04T12:00:00Z")
            )
            .is_empty()
        );
    }
}
