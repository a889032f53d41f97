//! Norwegian local time: days, midnights and due times in Europe/Oslo, correct across DST.
//!
//! Everything in this crate takes instants ([`Timestamp`], UTC) and a passed-in `now`; calendar
//! notions ("yesterday", "by 10:00", "Mondays") are worked out in Europe/Oslo here, from jiff's
//! bundled time zone database, so results don't depend on the host's `/usr/share/zoneinfo`.

use std::sync::OnceLock;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Europe/Oslo (UTC only if the bundled database somehow lacks it).
pub fn oslo() -> &'static TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| TimeZone::get("Europe/Oslo").unwrap_or(TimeZone::UTC))
}

/// The Norwegian calendar date of an instant.
pub fn local_date(at: Timestamp) -> Date {
    oslo().to_datetime(at).date()
}

/// The instant a local date and time happen in Norway. A time skipped by the spring change
/// (02:30 on the last Sunday of March) is taken as the same wall time one hour later; a time
/// that happens twice in autumn is taken the first time.
pub fn at_local(date: Date, time: Time) -> Timestamp {
    let dt = date.to_datetime(time);
    oslo()
        .to_ambiguous_timestamp(dt)
        .compatible()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Midnight in Norway `days` calendar days before the date of `at` (0: the same day's midnight).
pub fn local_midnight_days_before(at: Timestamp, days: u16) -> Timestamp {
    let date = local_date(at);
    let date = date
        .checked_sub(i64::from(days).days())
        .unwrap_or(Date::MIN);
    at_local(date, Time::midnight())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midnights_across_dst() {
        // CEST starts 2026-03-29 at 02:00 local (01:00 UTC).
        let at: Timestamp = "2026-03-30T06:00:00Z".parse().unwrap(); // 08:00 CEST
        assert_eq!(
            local_midnight_days_before(at, 0),
            "2026-03-29T22:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            local_midnight_days_before(at, 1),
            "2026-03-28T23:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            local_midnight_days_before(at, 2),
            "2026-03-27T23:00:00Z".parse::<Timestamp>().unwrap()
        );
        // A skipped wall time moves forward.
        let d = jiff::civil::date(2026, 3, 29);
        assert_eq!(
            at_local(d, jiff::civil::time(2, 30, 0, 0)),
            "2026-03-29T01:30:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
