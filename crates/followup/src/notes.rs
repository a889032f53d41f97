//! Summary notes for the patient's record (HF-10): one per alert (what came in, what triage
//! said, who acknowledged it and what was done) and one per period (what was measured, the
//! alerts and what was done about them, missing reports and pauses). Plain text, short lines,
//! meant to be pasted into or imported by the EPJ; [`crate::fhir::build::document_reference`]
//! wraps one as a FHIR DocumentReference.
//!
//! The caller gathers the data (with access checked and audit-logged); this module only writes.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::catalogue::Metric;
use crate::text::{Lang, Text};
use crate::time::oslo;
use crate::worklist::ItemKind;

/// Who the note is about, as the record names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSubject {
    pub name: String,
    pub national_id: String,
}

/// One alert and what was done about it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFacts {
    pub kind: ItemKind,
    pub raised_at: Timestamp,
    /// Triage's explanation (the values and the thresholds), as stored.
    pub explanation: String,
    pub escalated_at: Option<Timestamp>,
    /// Who acknowledged it, and when.
    pub acknowledged: Option<(String, Timestamp)>,
    /// The action's code (see [`action_text`]), the note, and when.
    pub action: Option<(String, String, Timestamp)>,
}

/// What one metric did over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary {
    pub metric: Metric,
    pub count: usize,
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub latest: f64,
}

impl MetricSummary {
    /// The summary of some values, oldest first; `None` when there are none.
    pub fn of(metric: Metric, values: &[f64]) -> Option<Self> {
        let latest = *values.last()?;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Self {
            metric,
            count: n,
            min: sorted[0],
            median,
            max: sorted[n - 1],
            latest,
        })
    }
}

/// Everything a period note says.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodFacts {
    /// First and last local date, both included.
    pub from: Date,
    pub to: Date,
    /// The conditions followed up, already named in the note's language.
    pub conditions: Vec<String>,
    pub metrics: Vec<MetricSummary>,
    /// Red and yellow alerts and missing reports raised in the period, oldest first.
    pub alerts: Vec<AlertFacts>,
    /// Pauses overlapping the period: from, until (open: `None`), reason.
    pub pauses: Vec<(Timestamp, Option<Timestamp>, String)>,
    /// Readings that had to be taken again (implausible or device error).
    pub measure_again: usize,
}

const T_ALERT_NOTE: Text = Text::new(
    "Oppsummering av varsel i digital hjemmeoppfølging",
    "Oppsummering av varsel i digital heimeoppfølging",
    "Summary of an alert in digital home follow-up",
);
const T_PERIOD_NOTE: Text = Text::new(
    "Oppsummering av digital hjemmeoppfølging",
    "Oppsummering av digital heimeoppfølging",
    "Summary of digital home follow-up",
);
const T_PATIENT: Text = Text::new("Pasient", "Pasient", "Patient");
const T_RAISED: Text = Text::new("Varslet", "Varsla", "Raised");
const T_FINDINGS: Text = Text::new("Funn", "Funn", "Findings");
const T_ESCALATED: Text = Text::new(
    "Eskalert (ikke kvittert i tide)",
    "Eskalert (ikkje kvittert i tide)",
    "Escalated (not acknowledged in time)",
);
const T_ACKNOWLEDGED: Text = Text::new("Kvittert", "Kvittert", "Acknowledged");
const T_NOT_ACKNOWLEDGED: Text = Text::new(
    "Ikke kvittert ennå",
    "Ikkje kvittert enno",
    "Not acknowledged yet",
);
const T_ACTION: Text = Text::new("Tiltak", "Tiltak", "Action");
const T_NO_ACTION_YET: Text = Text::new(
    "Ikke dokumentert ennå",
    "Ikkje dokumentert enno",
    "Not documented yet",
);
const T_BY: Text = Text::new("av", "av", "by");
const T_PERIOD: Text = Text::new("Periode", "Periode", "Period");
const T_CONDITIONS: Text = Text::new("Følges opp for", "Vert følgd opp for", "Followed up for");
const T_MEASUREMENTS: Text = Text::new("Målinger", "Målingar", "Measurements");
const T_NO_MEASUREMENTS: Text = Text::new(
    "Ingen målinger i perioden.",
    "Ingen målingar i perioden.",
    "No measurements in the period.",
);
const T_STATS: Text = Text::new(
    "{n} målinger, laveste {min}, median {median}, høyeste {max}, siste {latest}",
    "{n} målingar, lågaste {min}, median {median}, høgaste {max}, siste {latest}",
    "{n} readings, lowest {min}, median {median}, highest {max}, latest {latest}",
);
const T_MEASURE_AGAIN: Text = Text::new(
    "Målinger som måtte tas på nytt (umulig verdi eller feil fra apparatet)",
    "Målingar som måtte takast på nytt (umogleg verdi eller feil frå apparatet)",
    "Readings that had to be taken again (impossible value or device error)",
);
const T_ALERTS: Text = Text::new("Varsler", "Varsel", "Alerts");
const T_NO_ALERTS: Text = Text::new(
    "Ingen varsler i perioden.",
    "Ingen varsel i perioden.",
    "No alerts in the period.",
);
const T_COUNTS: Text = Text::new(
    "{red} røde, {yellow} gule, {missing} manglende rapporter",
    "{red} raude, {yellow} gule, {missing} manglande rapportar",
    "{red} red, {yellow} yellow, {missing} missing reports",
);
const T_PAUSES: Text = Text::new("Pauser", "Pausar", "Pauses");
const T_OPEN_ENDED: Text = Text::new("til videre", "til vidare", "until further notice");

fn kind_text(kind: ItemKind) -> Text {
    match kind {
        ItemKind::Red => Text::new("Rødt varsel", "Raudt varsel", "Red alert"),
        ItemKind::Yellow => Text::new("Gult varsel", "Gult varsel", "Yellow alert"),
        ItemKind::MissingReport => {
            Text::new("Manglende rapport", "Manglande rapport", "Missing report")
        }
    }
}

/// What an action code means, in words; an unknown code is shown as it is.
pub fn action_text(code: &str, lang: Lang) -> String {
    let t = match code {
        "called" => Text::new("Ringte pasienten", "Ringde pasienten", "Called the patient"),
        "video_call" => Text::new("Videosamtale", "Videosamtale", "Video call"),
        "contacted_gp" => Text::new(
            "Kontaktet fastlegen",
            "Kontakta fastlegen",
            "Contacted the GP",
        ),
        "adjusted_plan" => Text::new("Justerte planen", "Justerte planen", "Adjusted the plan"),
        "no_action" => Text::new("Ingen tiltak", "Ingen tiltak", "No action"),
        other => return other.to_owned(),
    };
    t.get(lang).to_owned()
}

/// A time as the note writes it: Norwegian local time, `dd.mm.yyyy hh:mm`.
fn when(at: Timestamp) -> String {
    at.to_zoned(oslo().clone())
        .strftime("%d.%m.%Y %H:%M")
        .to_string()
}

fn date(d: Date) -> String {
    d.strftime("%d.%m.%Y").to_string()
}

fn number(metric: Metric, v: f64, lang: Lang) -> String {
    let s = metric.format(v);
    match lang {
        Lang::En => s,
        Lang::Nb | Lang::Nn => s.replace('.', ","),
    }
}

fn subject_line(out: &mut String, subject: &NoteSubject, lang: Lang) {
    out.push_str(&format!(
        "{}: {} ({})\n",
        T_PATIENT.get(lang),
        subject.name,
        subject.national_id
    ));
}

fn alert_lines(out: &mut String, a: &AlertFacts, lang: Lang, indent: &str) {
    out.push_str(&format!(
        "{indent}{}: {} {}\n",
        kind_text(a.kind).get(lang),
        T_RAISED.get(lang).to_lowercase(),
        when(a.raised_at)
    ));
    if !a.explanation.trim().is_empty() {
        out.push_str(&format!(
            "{indent}{}: {}\n",
            T_FINDINGS.get(lang),
            a.explanation.trim()
        ));
    }
    if let Some(at) = a.escalated_at {
        out.push_str(&format!("{indent}{} {}\n", T_ESCALATED.get(lang), when(at)));
    }
    match &a.acknowledged {
        Some((by, at)) => out.push_str(&format!(
            "{indent}{}: {} {} {by}\n",
            T_ACKNOWLEDGED.get(lang),
            when(*at),
            T_BY.get(lang)
        )),
        None => out.push_str(&format!("{indent}{}\n", T_NOT_ACKNOWLEDGED.get(lang))),
    }
    match &a.action {
        Some((code, note, at)) => {
            out.push_str(&format!(
                "{indent}{}: {} ({})\n",
                T_ACTION.get(lang),
                action_text(code, lang),
                when(*at)
            ));
            for line in note.trim().lines() {
                out.push_str(&format!("{indent}  {}\n", line.trim_end()));
            }
        }
        None => out.push_str(&format!(
            "{indent}{}: {}\n",
            T_ACTION.get(lang),
            T_NO_ACTION_YET.get(lang)
        )),
    }
}

/// The note for one alert.
pub fn alert_note(subject: &NoteSubject, alert: &AlertFacts, lang: Lang) -> String {
    let mut out = format!("{}\n", T_ALERT_NOTE.get(lang));
    subject_line(&mut out, subject, lang);
    alert_lines(&mut out, alert, lang, "");
    out
}

/// The note for a period.
pub fn period_note(subject: &NoteSubject, facts: &PeriodFacts, lang: Lang) -> String {
    let mut out = format!("{}\n", T_PERIOD_NOTE.get(lang));
    subject_line(&mut out, subject, lang);
    out.push_str(&format!(
        "{}: {}–{}\n",
        T_PERIOD.get(lang),
        date(facts.from),
        date(facts.to)
    ));
    if !facts.conditions.is_empty() {
        out.push_str(&format!(
            "{}: {}\n",
            T_CONDITIONS.get(lang),
            facts.conditions.join(", ")
        ));
    }
    out.push_str(&format!("\n{}\n", T_MEASUREMENTS.get(lang)));
    if facts.metrics.is_empty() {
        out.push_str(&format!("{}\n", T_NO_MEASUREMENTS.get(lang)));
    }
    for m in &facts.metrics {
        let stats = T_STATS
            .get(lang)
            .replace("{n}", &m.count.to_string())
            .replace("{min}", &number(m.metric, m.min, lang))
            .replace("{median}", &number(m.metric, m.median, lang))
            .replace("{max}", &number(m.metric, m.max, lang))
            .replace("{latest}", &number(m.metric, m.latest, lang));
        out.push_str(&format!("- {}: {stats}\n", m.metric.name().get(lang)));
    }
    if facts.measure_again > 0 {
        out.push_str(&format!(
            "- {}: {}\n",
            T_MEASURE_AGAIN.get(lang),
            facts.measure_again
        ));
    }
    out.push_str(&format!("\n{}\n", T_ALERTS.get(lang)));
    if facts.alerts.is_empty() {
        out.push_str(&format!("{}\n", T_NO_ALERTS.get(lang)));
    } else {
        let count = |k: ItemKind| facts.alerts.iter().filter(|a| a.kind == k).count();
        out.push_str(&format!(
            "{}\n",
            T_COUNTS
                .get(lang)
                .replace("{red}", &count(ItemKind::Red).to_string())
                .replace("{yellow}", &count(ItemKind::Yellow).to_string())
                .replace("{missing}", &count(ItemKind::MissingReport).to_string())
        ));
        for a in &facts.alerts {
            out.push('\n');
            alert_lines(&mut out, a, lang, "  ");
        }
    }
    if !facts.pauses.is_empty() {
        out.push_str(&format!("\n{}\n", T_PAUSES.get(lang)));
        for (from, until, reason) in &facts.pauses {
            let until = until.map_or_else(|| T_OPEN_ENDED.get(lang).to_owned(), when);
            out.push_str(&format!("- {}–{until}: {}\n", when(*from), reason.trim()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn subject() -> NoteSubject {
        NoteSubject {
            name: "Kari Nordmann".into(),
            national_id: "15834100123".into(),
        }
    }

    fn red() -> AlertFacts {
        AlertFacts {
            kind: ItemKind::Red,
            raised_at: ts("2027-01-15T07:45:00Z"),
            explanation: "[spo2.below.red] Oksygenmetning 86 %, grense: under 88 % → rød".into(),
            escalated_at: None,
            acknowledged: Some(("Ola Haugen".into(), ts("2027-01-15T07:52:00Z"))),
            action: Some((
                "called".into(),
                "Ringte Kari. Følger planen.\nMåler igjen kl. 14.".into(),
                ts("2027-01-15T08:05:00Z"),
            )),
        }
    }

    #[test]
    fn an_alert_note_says_what_came_in_who_saw_it_and_what_was_done() {
        let note = alert_note(&subject(), &red(), Lang::Nb);
        assert_eq!(
            note,
            "Oppsummering av varsel i digital hjemmeoppfølging\n\
             Pasient: Kari Nordmann (15834100123)\n\
             Rødt varsel: varslet 15.01.2027 08:45\n\
             Funn: [spo2.below.red] Oksygenmetning 86 %, grense: under 88 % → rød\n\
             Kvittert: 15.01.2027 08:52 av Ola Haugen\n\
             Tiltak: Ringte pasienten (15.01.2027 09:05)\n  \
             Ringte Kari. Følger planen.\n  \
             Måler igjen kl. 14.\n"
        );
        let open = AlertFacts {
            acknowledged: None,
            action: None,
            escalated_at: Some(ts("2027-01-15T08:45:00Z")),
            ..red()
        };
        let note = alert_note(&subject(), &open, Lang::En);
        assert!(note.contains("Escalated (not acknowledged in time) 15.01.2027 09:45"));
        assert!(note.contains("Not acknowledged yet"));
        assert!(note.contains("Action: Not documented yet"));
    }

    #[test]
    fn a_period_note_sums_up_measurements_alerts_and_pauses() {
        let spo2 = MetricSummary::of(Metric::OxygenSaturation, &[95.0, 93.0, 86.0, 94.0]).unwrap();
        assert_eq!(
            (spo2.count, spo2.min, spo2.median, spo2.max, spo2.latest),
            (4, 86.0, 93.5, 95.0, 94.0)
        );
        let weight = MetricSummary::of(Metric::BodyWeight, &[80.2, 79.6, 81.14]).unwrap();
        assert_eq!(weight.median, 80.2);
        assert_eq!(MetricSummary::of(Metric::Pulse, &[]), None);
        let missing = AlertFacts {
            kind: ItemKind::MissingReport,
            raised_at: ts("2027-01-20T09:30:00Z"),
            explanation: "Ingen oksygenmetning innen fristen.".into(),
            escalated_at: None,
            acknowledged: None,
            action: None,
        };
        let facts = PeriodFacts {
            from: jiff::civil::date(2027, 1, 1),
            to: jiff::civil::date(2027, 1, 31),
            conditions: vec!["KOLS".into()],
            metrics: vec![spo2, weight],
            alerts: vec![red(), missing],
            pauses: vec![(
                ts("2027-01-22T23:00:00Z"),
                Some(ts("2027-01-25T23:00:00Z")),
                "Innlagt på sykehus".into(),
            )],
            measure_again: 2,
        };
        let note = period_note(&subject(), &facts, Lang::Nb);
        for line in [
            "Oppsummering av digital hjemmeoppfølging\n",
            "Periode: 01.01.2027–31.01.2027\n",
            "Følges opp for: KOLS\n",
            "- Oksygenmetning: 4 målinger, laveste 86 %, median 94 %, høyeste 95 %, siste 94 %\n",
            "- Vekt: 3 målinger, laveste 79,6 kg, median 80,2 kg, høyeste 81,1 kg, siste 81,1 kg\n",
            "Målinger som måtte tas på nytt (umulig verdi eller feil fra apparatet): 2\n",
            "1 røde, 0 gule, 1 manglende rapporter\n",
            "  Rødt varsel: varslet 15.01.2027 08:45\n",
            "  Manglende rapport: varslet 20.01.2027 10:30\n",
            "  Ikke kvittert ennå\n",
            "- 23.01.2027 00:00–26.01.2027 00:00: Innlagt på sykehus\n",
        ] {
            assert!(note.contains(line), "{line:?} is not in:\n{note}");
        }
        let empty = PeriodFacts {
            metrics: vec![],
            alerts: vec![],
            pauses: vec![],
            measure_again: 0,
            ..facts
        };
        let note = period_note(&subject(), &empty, Lang::Nn);
        assert!(
            note.contains("Ingen målingar i perioden.")
                && note.contains("Ingen varsel i perioden.")
        );
        assert!(!note.contains("Pausar"));
    }
}
