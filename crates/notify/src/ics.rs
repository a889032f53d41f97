//! iCalendar (RFC 5545) for staff: e-mailed invitations and calendar feeds (VC-16, IO-4).
//!
//! **The caller keeps patient data out.** Helsebro never puts a patient's name, national
//! identity number or any health information in `summary` or `description` (nor in `uid` or
//! `location_url`): calendar entries are copied to phones, shared calendars and mail servers
//! that are outside the health record. Write e.g. "Videokonsultasjon" and a link into
//! Helsebro, where the staff member logs in to see who the appointment is with. Every event
//! is also marked `CLASS:PRIVATE`, but that is a request to the calendar, not a protection.
//!
//! The output uses CRLF line endings, UTC times (`YYYYMMDDTHHMMSSZ`, so no `VTIMEZONE` is
//! needed), text escaped per RFC 5545 section 3.3.11, and lines folded at 75 octets without
//! splitting a UTF-8 character. Control characters (other than tab and newlines, which are
//! escaped) are dropped from every value so a value can never start a new property.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The `PRODID` of every calendar Helsebro writes.
pub const PRODID: &str = "-//Helsebro//Helsebro//NO";

/// One appointment as a `VEVENT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Globally unique and stable for the appointment (e.g. `<uuid>@helsebro.example.no`);
    /// updates and cancellations reuse it.
    pub uid: String,
    /// Incremented each time the appointment changes (time, cancellation).
    pub sequence: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    /// No patient data (see the module documentation).
    pub summary: String,
    /// No patient data (see the module documentation).
    pub description: String,
    /// The link into Helsebro, written as `URL`.
    pub location_url: Option<String>,
    /// Written as `STATUS:CANCELLED` instead of `STATUS:CONFIRMED`.
    pub cancelled: bool,
    /// When this version of the event was created (`DTSTAMP`).
    pub stamp: Timestamp,
}

/// A `VCALENDAR` with `events`. `method` is the iTIP method for e-mailed invitations
/// (`REQUEST`, or `CANCEL` together with cancelled events and an incremented `sequence`);
/// `None` for a subscribed feed. The method is upper-cased and reduced to letters, digits
/// and `-`; if nothing is left, no `METHOD` is written.
pub fn calendar(events: &[CalendarEvent], method: Option<&str>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN".to_owned(),
    ];
    if let Some(method) = method {
        let method: String = method
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !method.is_empty() {
            lines.push(format!("METHOD:{method}"));
        }
    }
    for event in events {
        lines.push("BEGIN:VEVENT".to_owned());
        lines.push(format!("UID:{}", escape_text(&event.uid)));
        lines.push(format!("SEQUENCE:{}", event.sequence));
        lines.push(format!("DTSTAMP:{}", utc(event.stamp)));
        lines.push(format!("DTSTART:{}", utc(event.start)));
        lines.push(format!("DTEND:{}", utc(event.end)));
        lines.push(format!("SUMMARY:{}", escape_text(&event.summary)));
        lines.push(format!("DESCRIPTION:{}", escape_text(&event.description)));
        if let Some(url) = &event.location_url {
            let url: String = url.chars().filter(|c| !c.is_control()).collect();
            lines.push(format!("URL:{url}"));
        }
        lines.push("CLASS:PRIVATE".to_owned());
        lines.push("TRANSP:OPAQUE".to_owned());
        let status = if event.cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        lines.push(format!("STATUS:{status}"));
        lines.push("END:VEVENT".to_owned());
    }
    lines.push("END:VCALENDAR".to_owned());

    let mut out = String::new();
    for line in &lines {
        out.push_str(&fold(line));
    }
    out
}

/// The `METHOD` of a calendar written by [`calendar`] (letters, digits and `-` only).
pub fn method_of(ics: &str) -> Option<&str> {
    ics.split("\r\n")
        .find_map(|l| l.strip_prefix("METHOD:"))
        .filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// A timestamp as an RFC 5545 UTC date-time: `YYYYMMDDTHHMMSSZ` (fractions dropped).
fn utc(ts: Timestamp) -> String {
    let dt = ts.to_zoned(TimeZone::UTC).datetime();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Escapes a TEXT value (RFC 5545 section 3.3.11): backslash, semicolon and comma get a
/// backslash, every newline (CRLF, LF or CR) becomes `\n`, other control characters but tab
/// are dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The longest a physical line may be, in octets, without its CRLF.
const MAX_OCTETS: usize = 75;

/// Folds one content line (RFC 5545 section 3.1): physical lines of at most 75 octets,
/// continuation lines starting with one space, never splitting a UTF-8 character. Every
/// physical line ends with CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    // Octets on the current physical line; a continuation line starts with its space.
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > MAX_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

/// Undoes [`fold`]: removes every CRLF followed by one space or tab (RFC 5545 section 3.1).
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn event() -> CalendarEvent {
        CalendarEvent {
            uid: "0192f0c4-7d1e-7cc1-9f00-3b2a1c0d4e5f@helsebro.test".to_owned(),
            sequence: 0,
            start: ts("2026-11-24T09:30:00Z"),
            end: ts("2026-11-24T10:00:00Z"),
            summary: "Videokonsultasjon".to_owned(),
            description: "Åpne Helsebro for å se detaljene.".to_owned(),
            location_url: Some("https://helsebro.test/staff/appointments/42".to_owned()),
            cancelled: false,
            stamp: ts("2026-11-01T08:00:05.123Z"),
        }
    }

    /// The unfolded content lines, without their CRLF.
    fn content_lines(ics: &str) -> Vec<String> {
        unfold(ics)
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn writes_the_calendar_and_event_properties() {
        let ics = calendar(&[event()], Some("REQUEST"));
        let lines = content_lines(&ics);
        let expected = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Helsebro//Helsebro//NO",
            "CALSCALE:GREGORIAN",
            "METHOD:REQUEST",
            "BEGIN:VEVENT",
            "UID:0192f0c4-7d1e-7cc1-9f00-3b2a1c0d4e5f@helsebro.test",
            "SEQUENCE:0",
            "DTSTAMP:20261101T080005Z",
            "DTSTART:20261124T093000Z",
            "DTEND:20261124T100000Z",
            "SUMMARY:Videokonsultasjon",
            "DESCRIPTION:Åpne Helsebro for å se detaljene.",
            "URL:https://helsebro.test/staff/appointments/42",
            "CLASS:PRIVATE",
            "TRANSP:OPAQUE",
            "STATUS:CONFIRMED",
            "END:VEVENT",
            "END:VCALENDAR",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn a_feed_has_no_method_and_no_url_when_none() {
        let mut e = event();
        e.location_url = None;
        let ics = calendar(&[e], None);
        assert!(!ics.contains("METHOD"));
        assert!(!ics.contains("URL:"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn an_empty_feed_is_a_valid_calendar() {
        let ics = calendar(&[], None);
        assert_eq!(
            ics,
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Helsebro//Helsebro//NO\r\n\
             CALSCALE:GREGORIAN\r\nEND:VCALENDAR\r\n"
        );
    }

    #[test]
    fn the_method_is_sanitised() {
        let ics = calendar(&[], Some("cancel\r\nX-EVIL:1"));
        assert!(ics.contains("METHOD:CANCELX-EVIL1\r\n"));
        assert!(!calendar(&[], Some("\r\n")).contains("METHOD"));
    }

    #[test]
    fn the_method_can_be_read_back() {
        assert_eq!(
            method_of(&calendar(&[event()], Some("cancel"))),
            Some("CANCEL")
        );
        assert_eq!(
            method_of(&calendar(&[event()], Some("REQUEST"))),
            Some("REQUEST")
        );
        assert_eq!(method_of(&calendar(&[event()], None)), None);
    }

    #[test]
    fn cancelled_events_say_so() {
        let mut e = event();
        e.cancelled = true;
        e.sequence = 3;
        let ics = calendar(&[e], Some("CANCEL"));
        let lines = content_lines(&ics);
        assert!(lines.contains(&"METHOD:CANCEL".to_owned()));
        assert!(lines.contains(&"STATUS:CANCELLED".to_owned()));
        assert!(lines.contains(&"SEQUENCE:3".to_owned()));
        assert!(!ics.contains("CONFIRMED"));
    }

    #[test]
    fn every_line_ends_with_crlf() {
        let mut e = event();
        e.description = "Linje én\nlinje to\r\nlinje tre\r".repeat(10);
        let ics = calendar(&[e.clone(), e], Some("REQUEST"));
        assert!(ics.ends_with("\r\n"));
        let bytes = ics.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}");
            }
            if *b == b'\r' {
                assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape_text("a\\b;c,d\ne\r\nf\rg\th"),
            "a\\\\b\\;c\\,d\\ne\\nf\\ng\th"
        );
        assert_eq!(escape_text("bell\u{07}null\u{0}"), "bellnull");
        assert_eq!(escape_text("Blåbær: 1:2"), "Blåbær: 1:2");

        let mut e = event();
        e.summary = "Møte; rom 2, etg. 3".to_owned();
        e.description = "Linje 1\nLinje 2\\slutt".to_owned();
        let lines = content_lines(&calendar(&[e], None));
        assert!(lines.contains(&"SUMMARY:Møte\\; rom 2\\, etg. 3".to_owned()));
        assert!(lines.contains(&"DESCRIPTION:Linje 1\\nLinje 2\\\\slutt".to_owned()));
    }

    #[test]
    fn a_value_cannot_inject_a_property() {
        let mut e = event();
        e.summary = "x\r\nATTENDEE:mailto:evil@example.com".to_owned();
        e.location_url = Some("https://a.test/\r\nSTATUS:CANCELLED".to_owned());
        let ics = calendar(&[e], None);
        let lines = content_lines(&ics);
        assert!(!lines.iter().any(|l| l.starts_with("ATTENDEE")));
        assert_eq!(lines.iter().filter(|l| l.starts_with("STATUS")).count(), 1);
        assert!(lines.contains(&"URL:https://a.test/STATUS:CANCELLED".to_owned()));
    }

    #[test]
    fn short_lines_are_not_folded() {
        let line = "a".repeat(75);
        assert_eq!(fold(&line), format!("{line}\r\n"));
        assert_eq!(
            fold(&"a".repeat(76)),
            format!("{}\r\n a\r\n", "a".repeat(75))
        );
    }

    #[test]
    fn folding_never_splits_a_multibyte_character() {
        // 74 ASCII octets, then "æ" (2 octets) would end at octet 76: it starts the next line.
        let line = format!("{}æ", "a".repeat(74));
        assert_eq!(fold(&line), format!("{}\r\n æ\r\n", "a".repeat(74)));
        // 4-octet characters, shifted by 0..4 so every split position is tried.
        for shift in 0..4 {
            let line = format!("DESCRIPTION:{}{}", "x".repeat(shift), "😀ø€".repeat(40));
            let folded = fold(&line);
            assert_eq!(unfold(&folded), format!("{line}\r\n"));
            for physical in folded.split_terminator("\r\n") {
                assert!(physical.len() <= 75, "{} octets", physical.len());
            }
        }
    }

    #[test]
    fn long_lines_fold_at_75_octets_and_unfold_to_the_original() {
        let mut e = event();
        e.description = "Blåbærsyltetøy på Ærø, Østfold og Åsgårdstrand; ".repeat(12);
        let ics = calendar(&[e.clone()], Some("REQUEST"));
        let mut folded_lines = 0;
        for physical in ics.split_terminator("\r\n") {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
            if physical.starts_with(' ') {
                folded_lines += 1;
            }
        }
        assert!(folded_lines > 5, "the description should fold");
        let lines = content_lines(&ics);
        let expected = format!("DESCRIPTION:{}", escape_text(&e.description));
        assert!(lines.contains(&expected));
        // Full lines: each physical line is as long as it can be.
        let description: Vec<&str> = ics
            .split_terminator("\r\n")
            .skip_while(|l| !l.starts_with("DESCRIPTION:"))
            .take_while(|l| l.starts_with("DESCRIPTION:") || l.starts_with(' '))
            .collect();
        for physical in &description[..description.len() - 1] {
            assert!(
                physical.len() >= 74,
                "{} octets: {physical}",
                physical.len()
            );
        }
    }
}
