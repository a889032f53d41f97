//! When reminders go out (NT-1): at a set local time (Europe/Oslo) ten days before and the
//! day before the appointment. Calendar days are counted in local time, so a reminder keeps
//! its clock time across a daylight-saving change (12:00 is 12:00 in March and in October,
//! which is 11:00 or 10:00 UTC).

use crate::templates::MessageKind;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// An organisation's reminder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPolicy {
    pub ten_days_before: bool,
    pub day_before: bool,
    /// Local time of day the reminders are sent.
    pub send_at: Time,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        ReminderPolicy {
            ten_days_before: true,
            day_before: true,
            send_at: Time::constant(12, 0, 0, 0),
        }
    }
}

/// Norwegian time, from the bundled time-zone database.
pub fn oslo() -> TimeZone {
    TimeZone::get("Europe/Oslo").unwrap_or(TimeZone::UTC)
}

/// The reminders for an appointment at `start` booked at `booked`, and when each is due.
/// A reminder whose moment has passed at booking is left out (the invitation says it all).
pub fn reminder_times(
    start: Timestamp,
    booked: Timestamp,
    policy: &ReminderPolicy,
    tz: &TimeZone,
) -> Vec<(MessageKind, Timestamp)> {
    let day = start.to_zoned(tz.clone()).date();
    let mut out = Vec::new();
    let mut plan = |days_before: i64, kind: MessageKind| {
        let Ok(date) = day.checked_sub(days_before.days()) else {
            return;
        };
        // A time that does not exist on a spring-forward night moves forward, as clocks do.
        let Ok(when) = date.to_datetime(policy.send_at).to_zoned(tz.clone()) else {
            return;
        };
        let when = when.timestamp();
        if when > booked && when < start {
            out.push((kind, when));
        }
    };
    if policy.ten_days_before {
        plan(10, MessageKind::ReminderTenDays);
    }
    if policy.day_before {
        plan(1, MessageKind::ReminderDayBefore);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn local(s: &str) -> Timestamp {
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", s)
            .unwrap()
            .to_zoned(oslo())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn reminders_keep_their_local_time_across_spring_forward() {
        // Summer time starts 2026-03-29 at 02:00 local (01:00 UTC).
        let start = local("2026-03-30 10:00");
        let booked = at("2026-03-01T09:00:00Z");
        let times = reminder_times(start, booked, &ReminderPolicy::default(), &oslo());
        assert_eq!(
            times,
            vec![
                (MessageKind::ReminderTenDays, at("2026-03-20T11:00:00Z")), // 12:00 CET
                (MessageKind::ReminderDayBefore, at("2026-03-29T10:00:00Z")), // 12:00 CEST
            ]
        );
    }

    #[test]
    fn reminders_keep_their_local_time_across_fall_back() {
        // Summer time ends 2026-10-25 at 03:00 local (01:00 UTC).
        let start = local("2026-10-26 09:00");
        let booked = at("2026-10-01T09:00:00Z");
        let times = reminder_times(start, booked, &ReminderPolicy::default(), &oslo());
        assert_eq!(
            times,
            vec![
                (MessageKind::ReminderTenDays, at("2026-10-16T10:00:00Z")), // 12:00 CEST
                (MessageKind::ReminderDayBefore, at("2026-10-25T11:00:00Z")), // 12:00 CET
            ]
        );
    }

    #[test]
    fn a_send_time_in_the_spring_gap_moves_forward() {
        let policy = ReminderPolicy {
            send_at: Time::constant(2, 30, 0, 0),
            ..ReminderPolicy::default()
        };
        let start = local("2026-03-30 10:00");
        let times = reminder_times(start, at("2026-03-01T00:00:00Z"), &policy, &oslo());
        // 02:30 does not exist on 2026-03-29; the clock jumps to 03:00 CEST = 01:00 UTC… plus 30 min.
        assert_eq!(
            times[1],
            (MessageKind::ReminderDayBefore, at("2026-03-29T01:30:00Z"))
        );
    }

    #[test]
    fn past_and_switched_off_reminders_are_left_out() {
        let start = local("2026-06-10 10:00");
        let booked = local("2026-06-05 08:00");
        let times = reminder_times(start, booked, &ReminderPolicy::default(), &oslo());
        assert_eq!(
            times,
            vec![(MessageKind::ReminderDayBefore, local("2026-06-09 12:00"))]
        );
        let off = ReminderPolicy {
            day_before: false,
            ..ReminderPolicy::default()
        };
        assert!(reminder_times(start, booked, &off, &oslo()).is_empty());
        // Booked the evening before: the day-before reminder's moment has passed.
        assert!(
            reminder_times(
                start,
                local("2026-06-09 18:00"),
                &ReminderPolicy::default(),
                &oslo()
            )
            .is_empty()
        );
    }
}
