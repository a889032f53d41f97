//! Checks that the iCalendar Helsebro writes parses with an independent implementation, the
//! Python package `icalendar` (`pip install icalendar`). The test fails, rather than being
//! skipped, when Python or the package is missing.

use helsebro_notify::ics::{CalendarEvent, calendar};
use std::process::Command;

const SCRIPT: &str = r#"
import json, sys
from datetime import timezone
import icalendar

with open(sys.argv[1], "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
events = []
for ev in cal.walk("VEVENT"):
    events.append({
        "uid": str(ev.get("uid")),
        "dtstart": ev.decoded("dtstart").astimezone(timezone.utc).isoformat(),
        "dtend": ev.decoded("dtend").astimezone(timezone.utc).isoformat(),
        "summary": str(ev.get("summary")),
        "description": str(ev.get("description")),
        "url": str(ev.get("url")) if ev.get("url") is not None else None,
        "class": str(ev.get("class")),
        "status": str(ev.get("status")),
        "sequence": int(ev.get("sequence")),
    })
print(json.dumps({
    "method": str(cal.get("method")) if cal.get("method") is not None else None,
    "prodid": str(cal.get("prodid")),
    "events": events,
}))
"#;

fn python_with_icalendar() {
    let check = Command::new("python3")
        .args(["-c", "import icalendar"])
        .output();
    match check {
        Err(e) => panic!(
            "cannot run python3 ({e}); install Python 3 and run `pip install icalendar` to run \
             this test"
        ),
        Ok(out) if !out.status.success() => panic!(
            "the Python package icalendar is missing; run `pip install icalendar` to run this \
             test ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
    }
}

#[test]
fn python_icalendar_parses_our_calendar() {
    python_with_icalendar();

    let long_description = "Videokonsultasjon i Helsebro. Åpne lenken noen minutter før \
        timen, logg inn og gå til venterommet; der ser du hvem timen gjelder. Blåbær, \
        ærfugl og Øystein på Åsgårdstrand.\nNy linje med skråstrek \\ og semikolon;"
        .repeat(3);
    let events = [
        CalendarEvent {
            uid: "0192f0c4-7d1e-7cc1-9f00-3b2a1c0d4e5f@helsebro.test".to_owned(),
            sequence: 1,
            start: "2026-06-15T08:30:00Z".parse().unwrap(),
            end: "2026-06-15T09:00:00Z".parse().unwrap(),
            summary: "Videotime – Ørnes legekontor, rom 3".to_owned(),
            description: long_description.clone(),
            location_url: Some("https://helsebro.test/staff/appointments/0192f0c4".to_owned()),
            cancelled: false,
            stamp: "2026-06-01T12:00:00Z".parse().unwrap(),
        },
        CalendarEvent {
            uid: "0192f0c4-aaaa-7cc1-9f00-3b2a1c0d4e60@helsebro.test".to_owned(),
            sequence: 2,
            start: "2026-11-24T09:30:00Z".parse().unwrap(),
            end: "2026-11-24T10:15:00Z".parse().unwrap(),
            summary: "Videokonsultasjon".to_owned(),
            description: "Avlyst.".to_owned(),
            location_url: None,
            cancelled: true,
            stamp: "2026-11-20T07:45:00Z".parse().unwrap(),
        },
    ];
    let ics = calendar(&events, Some("REQUEST"));
    assert!(
        ics.split("\r\n").any(|l| l.starts_with(' ')),
        "the long description should have been folded"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invitation.ics");
    std::fs::write(&path, &ics).unwrap();

    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(parsed["method"], "REQUEST");
    assert_eq!(parsed["prodid"], "-//Helsebro//Helsebro//NO");
    let parsed_events = parsed["events"].as_array().unwrap();
    assert_eq!(parsed_events.len(), 2);

    let first = &parsed_events[0];
    assert_eq!(first["uid"], events[0].uid);
    assert_eq!(first["dtstart"], "2026-06-15T08:30:00+00:00");
    assert_eq!(first["dtend"], "2026-06-15T09:00:00+00:00");
    assert_eq!(first["summary"], "Videotime – Ørnes legekontor, rom 3");
    assert_eq!(first["description"], long_description.as_str());
    assert_eq!(
        first["url"],
        "https://helsebro.test/staff/appointments/0192f0c4"
    );
    assert_eq!(first["class"], "PRIVATE");
    assert_eq!(first["status"], "CONFIRMED");
    assert_eq!(first["sequence"], 1);

    let second = &parsed_events[1];
    assert_eq!(second["uid"], events[1].uid);
    assert_eq!(second["dtstart"], "2026-11-24T09:30:00+00:00");
    assert_eq!(second["summary"], "Videokonsultasjon");
    assert_eq!(second["url"], serde_json::Value::Null);
    assert_eq!(second["class"], "PRIVATE");
    assert_eq!(second["status"], "CANCELLED");
    assert_eq!(second["sequence"], 2);
}
