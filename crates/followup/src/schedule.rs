//! Measurement plans on a schedule (HF-4, HF-9): when a task is due, when to remind, and which
//! reports are missing — all in Norwegian local time, correct across the DST changes, and driven by
//! a passed-in `now` so a fake clock can test it.
//!
//! A task due "daily by 10:00" on a local date D can be done from 00:00 that day (Norwegian time)
//! until 10:00 plus the grace period; if nothing was done in that window when the window has
//! closed, the report is missing. While follow-up is paused (a hospital stay, a holiday) no report
//! is missing: an occurrence whose window overlaps a pause is skipped. A due time that does not
//! exist on the spring-change day (02:30) is taken an hour later.

use jiff::civil::{Date, Time, Weekday};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::catalogue::MeasurementKind;
use crate::time::{at_local, local_date};

/// What the patient is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Task {
    Measurement(MeasurementKind),
    /// A questionnaire, by id.
    Questionnaire(String),
}

/// How often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "every")]
pub enum Recurrence {
    Daily,
    /// On these weekdays (Norwegian calendar); serialised as ISO numbers, Monday = 1.
    Weekly {
        #[serde(with = "iso_weekdays")]
        days: Vec<Weekday>,
    },
}

mod iso_weekdays {
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    pub fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        let n: Vec<i8> = days.iter().map(|d| d.to_monday_one_offset()).collect();
        n.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        Vec::<i8>::deserialize(d)?
            .into_iter()
            .map(|n| Weekday::from_monday_one_offset(n).map_err(D::Error::custom))
            .collect()
    }
}

/// One task on a patient's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSchedule {
    pub task: Task,
    pub recurrence: Recurrence,
    /// Local time (Europe/Oslo) the task is due by.
    pub due_by: Time,
    /// How long after `due_by` a report is still on time.
    pub grace: SignedDuration,
    /// First local date with an occurrence.
    pub starts: Date,
    /// Last local date with an occurrence, if the plan ends.
    pub ends: Option<Date>,
}

/// A pause in follow-up: from `from` until `until` (open-ended while `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: Timestamp,
    pub until: Option<Timestamp>,
}

impl Pause {
    /// Whether the pause overlaps `[from, to)`.
    pub fn overlaps(&self, from: Timestamp, to: Timestamp) -> bool {
        self.from < to && self.until.is_none_or(|u| u > from)
    }

    /// Whether follow-up is paused at an instant.
    pub fn covers(&self, at: Timestamp) -> bool {
        self.from <= at && self.until.is_none_or(|u| at < u)
    }
}

/// One occurrence of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub task: Task,
    /// The local date it belongs to.
    pub date: Date,
    /// From when doing it counts (local midnight of `date`).
    pub opens_at: Timestamp,
    /// When it is due.
    pub due_at: Timestamp,
    /// When it becomes missing: `due_at` plus the grace period.
    pub deadline: Timestamp,
}

impl Occurrence {
    /// A stable key for a missing-report alert or a reminder, so a job that runs twice raises
    /// it once: `<task>:<date>`.
    pub fn key(&self) -> String {
        let task = match &self.task {
            Task::Measurement(k) => format!("m-{}", k.loinc().code),
            Task::Questionnaire(id) => format!("q-{id}"),
        };
        format!("{task}:{}", self.date)
    }

    /// Whether something done at `at` fulfils this occurrence.
    pub fn done_by(&self, at: Timestamp) -> bool {
        self.opens_at <= at && at < self.deadline
    }
}

impl TaskSchedule {
    /// Whether the task occurs on a local date.
    pub fn occurs_on(&self, date: Date) -> bool {
        if date < self.starts || self.ends.is_some_and(|e| date > e) {
            return false;
        }
        match &self.recurrence {
            Recurrence::Daily => true,
            Recurrence::Weekly { days } => days.contains(&date.weekday()),
        }
    }

    /// The occurrence on a local date (whether or not the task occurs then).
    pub fn occurrence_on(&self, date: Date) -> Occurrence {
        let due_at = at_local(date, self.due_by);
        Occurrence {
            task: self.task.clone(),
            date,
            opens_at: at_local(date, Time::midnight()),
            due_at,
            deadline: due_at.saturating_add(self.grace).unwrap_or(due_at),
        }
    }

    /// The occurrences whose deadline falls in `(after, until]`, oldest first.
    pub fn deadlines_between(&self, after: Timestamp, until: Timestamp) -> Vec<Occurrence> {
        let mut out = Vec::new();
        // A deadline can be a day or so past its date's due time; start a day early.
        let Ok(mut date) = local_date(after).checked_sub(1.day()) else {
            return out;
        };
        let last = local_date(until);
        while date <= last {
            if self.occurs_on(date) {
                let o = self.occurrence_on(date);
                if o.deadline > after && o.deadline <= until {
                    out.push(o);
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        out
    }

    /// The first occurrence not yet past its deadline at `now` (what "today's tasks" shows, and
    /// what a reminder is for), searching a year ahead.
    pub fn next_due(&self, now: Timestamp) -> Option<Occurrence> {
        let mut date = local_date(now).max(self.starts);
        for _ in 0..=366 {
            if self.ends.is_some_and(|e| date > e) {
                return None;
            }
            if self.occurs_on(date) {
                let o = self.occurrence_on(date);
                if o.deadline > now {
                    return Some(o);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

/// The reports missing at `now` whose deadline passed after `after` (the last check): nothing in
/// `done` (when the task was done) fell in the occurrence's window, and follow-up was not paused
/// during it.
pub fn missing_reports(
    schedule: &TaskSchedule,
    done: &[Timestamp],
    pauses: &[Pause],
    after: Timestamp,
    now: Timestamp,
) -> Vec<Occurrence> {
    schedule
        .deadlines_between(after, now)
        .into_iter()
        .filter(|o| !pauses.iter().any(|p| p.overlaps(o.opens_at, o.deadline)))
        .filter(|o| !done.iter().any(|&at| o.done_by(at)))
        .collect()
}

/// When to remind the patient of an occurrence: `before` its due time, unless that has passed,
/// it is already done, or follow-up is paused then.
pub fn reminder_at(
    o: &Occurrence,
    before: SignedDuration,
    done: &[Timestamp],
    pauses: &[Pause],
    now: Timestamp,
) -> Option<Timestamp> {
    let at = o.due_at.saturating_sub(before).ok()?;
    if at < now || done.iter().any(|&d| o.done_by(d)) || pauses.iter().any(|p| p.covers(at)) {
        return None;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn daily_by_10() -> TaskSchedule {
        TaskSchedule {
            task: Task::Measurement(MeasurementKind::BodyWeight),
            recurrence: Recurrence::Daily,
            due_by: time(10, 0, 0, 0),
            grace: SignedDuration::from_mins(30),
            starts: date(2026, 3, 1),
            ends: None,
        }
    }

    #[test]
    fn due_times_follow_norwegian_time_across_dst() {
        let s = daily_by_10();
        // Spring: CET (UTC+1) until Sunday 29 March 02:00, then CEST (UTC+2).
        assert_eq!(
            s.occurrence_on(date(2026, 3, 28)).due_at,
            ts("2026-03-28T09:00:00Z")
        );
        assert_eq!(
            s.occurrence_on(date(2026, 3, 29)).due_at,
            ts("2026-03-29T08:00:00Z")
        );
        assert_eq!(
            s.occurrence_on(date(2026, 3, 29)).opens_at,
            ts("2026-03-28T23:00:00Z")
        );
        // Autumn: back to CET on Sunday 25 October.
        assert_eq!(
            s.occurrence_on(date(2026, 10, 24)).due_at,
            ts("2026-10-24T08:00:00Z")
        );
        assert_eq!(
            s.occurrence_on(date(2026, 10, 25)).due_at,
            ts("2026-10-25T09:00:00Z")
        );
        assert_eq!(
            s.occurrence_on(date(2026, 10, 25)).opens_at,
            ts("2026-10-24T22:00:00Z")
        );
        // A due time skipped by the spring change moves on by an hour.
        let early = TaskSchedule {
            due_by: time(2, 30, 0, 0),
            ..daily_by_10()
        };
        assert_eq!(
            early.occurrence_on(date(2026, 3, 29)).due_at,
            ts("2026-03-29T01:30:00Z")
        );
    }

    #[test]
    fn missing_reports_with_a_fake_clock_across_the_spring_change() {
        let s = daily_by_10();
        let last_check = ts("2026-03-28T00:00:00Z");
        // Saturday done on time (09:55 CET), Sunday not yet.
        let done = [ts("2026-03-28T08:55:00Z")];
        // Sunday 10:29 CEST: nothing missing yet (the deadline is 10:30 CEST = 08:30 UTC).
        assert!(missing_reports(&s, &done, &[], last_check, ts("2026-03-29T08:29:59Z")).is_empty());
        // At 10:30 CEST it is missing — one hour earlier in UTC than the day before.
        let m = missing_reports(&s, &done, &[], last_check, ts("2026-03-29T08:30:00Z"));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].date, date(2026, 3, 29));
        assert_eq!(m[0].key(), "m-29463-7:2026-03-29");
        // Done at 10:20 CEST (within grace): not missing.
        let done2 = [done[0], ts("2026-03-29T08:20:00Z")];
        assert!(
            missing_reports(&s, &done2, &[], last_check, ts("2026-03-29T12:00:00Z")).is_empty()
        );
        // Done at 09:20 UTC = 11:20 CEST: too late, still missing.
        let late = [done[0], ts("2026-03-29T09:20:00Z")];
        assert_eq!(
            missing_reports(&s, &late, &[], last_check, ts("2026-03-29T12:00:00Z")).len(),
            1
        );
        // Done the evening before (23:30 CET Saturday) does not count for Sunday.
        let eve = [done[0], ts("2026-03-28T22:30:00Z")];
        assert_eq!(
            missing_reports(&s, &eve, &[], last_check, ts("2026-03-29T12:00:00Z")).len(),
            1
        );
        // … but 00:30 CET Sunday does.
        let night = [done[0], ts("2026-03-28T23:30:00Z")];
        assert!(
            missing_reports(&s, &night, &[], last_check, ts("2026-03-29T12:00:00Z")).is_empty()
        );
        // A check that already ran after Sunday's deadline does not raise it again.
        assert!(
            missing_reports(
                &s,
                &done,
                &[],
                ts("2026-03-29T08:30:00Z"),
                ts("2026-03-29T20:00:00Z")
            )
            .is_empty()
        );
    }

    #[test]
    fn missing_reports_across_the_autumn_change() {
        let s = daily_by_10();
        let last_check = ts("2026-10-24T00:00:00Z");
        // Sunday 25 October the deadline is 10:30 CET = 09:30 UTC.
        assert_eq!(
            missing_reports(&s, &[], &[], last_check, ts("2026-10-25T09:29:00Z")).len(),
            1
        ); // only Saturday's
        let m = missing_reports(&s, &[], &[], last_check, ts("2026-10-25T09:30:00Z"));
        assert_eq!(
            m.iter().map(|o| o.date).collect::<Vec<_>>(),
            vec![date(2026, 10, 24), date(2026, 10, 25)]
        );
        // The 25-hour day: done at 00:30 CEST (22:30 UTC the day before) counts for Sunday.
        let done = [ts("2026-10-24T08:00:00Z"), ts("2026-10-24T22:30:00Z")];
        assert!(missing_reports(&s, &done, &[], last_check, ts("2026-10-25T12:00:00Z")).is_empty());
    }

    #[test]
    fn weekly_and_pauses() {
        let s = TaskSchedule {
            task: Task::Questionnaire("helsebro-psykisk-helse".into()),
            recurrence: Recurrence::Weekly {
                days: vec![Weekday::Monday, Weekday::Thursday],
            },
            due_by: time(18, 0, 0, 0),
            grace: SignedDuration::from_hours(2),
            starts: date(2026, 3, 1),
            ends: Some(date(2026, 4, 30)),
        };
        let after = ts("2026-03-01T00:00:00Z");
        let now = ts("2026-03-15T00:00:00Z");
        let dates: Vec<Date> = missing_reports(&s, &[], &[], after, now)
            .iter()
            .map(|o| o.date)
            .collect();
        assert_eq!(
            dates,
            vec![
                date(2026, 3, 2),
                date(2026, 3, 5),
                date(2026, 3, 9),
                date(2026, 3, 12)
            ]
        );
        // A hospital stay from Wednesday 4 to Tuesday 10 March: Thursday 5 and Monday 9 are not missing.
        let pause = Pause {
            from: ts("2026-03-04T10:00:00Z"),
            until: Some(ts("2026-03-10T12:00:00Z")),
        };
        let dates: Vec<Date> = missing_reports(&s, &[], &[pause], after, now)
            .iter()
            .map(|o| o.date)
            .collect();
        assert_eq!(dates, vec![date(2026, 3, 2), date(2026, 3, 12)]);
        // An open-ended pause stops everything after it.
        let open = Pause {
            from: ts("2026-03-06T00:00:00Z"),
            until: None,
        };
        let dates: Vec<Date> = missing_reports(&s, &[], &[open], after, now)
            .iter()
            .map(|o| o.date)
            .collect();
        assert_eq!(dates, vec![date(2026, 3, 2), date(2026, 3, 5)]);
        // Nothing after the plan ends.
        assert!(
            missing_reports(
                &s,
                &[],
                &[],
                ts("2026-04-30T20:00:00Z"),
                ts("2026-06-01T00:00:00Z")
            )
            .is_empty()
        );
        // Next due from a Tuesday is Thursday.
        let next = s.next_due(ts("2026-03-10T12:00:00Z")).unwrap();
        assert_eq!(next.date, date(2026, 3, 12));
        assert_eq!(next.due_at, ts("2026-03-12T17:00:00Z"));
        assert_eq!(s.next_due(ts("2026-05-01T00:00:00Z")), None);
    }

    #[test]
    fn weekdays_serialise_as_iso_numbers() {
        let r = Recurrence::Weekly {
            days: vec![Weekday::Monday, Weekday::Sunday],
        };
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(j, r#"{"every":"weekly","days":[1,7]}"#);
        assert_eq!(serde_json::from_str::<Recurrence>(&j).unwrap(), r);
        assert!(serde_json::from_str::<Recurrence>(r#"{"every":"weekly","days":[8]}"#).is_err());
    }

    #[test]
    fn reminders() {
        let s = daily_by_10();
        let o = s.occurrence_on(date(2026, 3, 29));
        let hour = SignedDuration::from_hours(1);
        // 09:00 CEST = 07:00 UTC.
        assert_eq!(
            reminder_at(&o, hour, &[], &[], ts("2026-03-29T06:00:00Z")),
            Some(ts("2026-03-29T07:00:00Z"))
        );
        assert_eq!(
            reminder_at(&o, hour, &[], &[], ts("2026-03-29T07:30:00Z")),
            None
        );
        assert_eq!(
            reminder_at(
                &o,
                hour,
                &[ts("2026-03-29T05:00:00Z")],
                &[],
                ts("2026-03-29T06:00:00Z")
            ),
            None
        );
        let pause = Pause {
            from: ts("2026-03-28T00:00:00Z"),
            until: None,
        };
        assert_eq!(
            reminder_at(&o, hour, &[], &[pause], ts("2026-03-29T06:00:00Z")),
            None
        );
    }
}
