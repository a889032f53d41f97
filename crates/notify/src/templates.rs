//! The texts of notifications to patients (NT-1, NT-3, NT-4, UX-1), by SMS and e-mail, in
//! bokmål, nynorsk and English.
//!
//! The texts live in Project Fluent files (`locales/*.ftl`, embedded in the binary), loaded
//! through `helsebro-i18n`'s catalogue. [`render`] composes a message from them and always
//! appends the support phone number and the sentence saying the message cannot be replied
//! to, so no translation can leave them out.
//!
//! What the messages never contain: a diagnosis or any other health information, a national
//! identity number, the patient's name. The service area (e.g. a clinic's name, which can
//! itself reveal something about the patient's health) is named only when the caller passes
//! [`MessageContext::service_area`], which it does only when the organisation's policy
//! allows it. A one-time code never names the organisation's service area, and says nothing
//! about what it is for beyond "Helsebro".
//!
//! Times are shown in Norwegian time (Europe/Oslo, from jiff's bundled time zone database),
//! with weekday and month names taken from the Fluent files.

use helsebro_domain::Language;
use helsebro_i18n::{Catalogue, LookupError};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::sync::OnceLock;

const SOURCES: [(Language, &str); 3] = [
    (Language::Nb, include_str!("../locales/nb.ftl")),
    (Language::Nn, include_str!("../locales/nn.ftl")),
    (Language::En, include_str!("../locales/en.ftl")),
];

/// How long a one-time code is valid, as the message tells the patient. The code's real
/// lifetime must be the same.
pub const ONE_TIME_CODE_MINUTES: u32 = 10;

/// How a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Short, no subject; aims at no more than three segments.
    Sms,
    /// Plain text with a subject.
    Email,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Sms, Channel::Email];
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A new appointment. Needs `start` and `link`; `self_test_link` is included when given.
    Invitation,
    /// Ten days before. Needs `start` and `link`.
    ReminderTenDays,
    /// The day before. Needs `start`, `link` and `self_test_link`.
    ReminderDayBefore,
    /// A new time. Needs `start`, `previous_start` and `link`.
    Changed,
    /// Cancelled. Needs `start`; no link is included.
    Cancelled,
    /// A task waits in Helsebro (which task is not said). Needs `link`.
    TaskReminder,
    /// A one-time code. Needs `code`.
    OneTimeCode,
    /// A test message an administrator sends to check that delivery works. Needs nothing more.
    Test,
    /// Home follow-up: the follow-up centre has seen the patient's latest readings (the receipt
    /// of "acknowledge all green"). Says nothing about the values. Needs nothing more.
    ReadingsSeen,
}

impl MessageKind {
    pub const ALL: [MessageKind; 9] = [
        MessageKind::Invitation,
        MessageKind::ReminderTenDays,
        MessageKind::ReminderDayBefore,
        MessageKind::Changed,
        MessageKind::Cancelled,
        MessageKind::TaskReminder,
        MessageKind::OneTimeCode,
        MessageKind::Test,
        MessageKind::ReadingsSeen,
    ];

    /// The part of the Fluent message ids that names the kind.
    fn id(self) -> &'static str {
        match self {
            MessageKind::Invitation => "invitation",
            MessageKind::ReminderTenDays => "reminder-ten-days",
            MessageKind::ReminderDayBefore => "reminder-day-before",
            MessageKind::Changed => "changed",
            MessageKind::Cancelled => "cancelled",
            MessageKind::TaskReminder => "task-reminder",
            MessageKind::OneTimeCode => "one-time-code",
            MessageKind::Test => "test",
            MessageKind::ReadingsSeen => "readings-seen",
        }
    }

    fn needs_start(self) -> bool {
        matches!(
            self,
            MessageKind::Invitation
                | MessageKind::ReminderTenDays
                | MessageKind::ReminderDayBefore
                | MessageKind::Changed
                | MessageKind::Cancelled
        )
    }

    fn needs_link(self) -> bool {
        matches!(
            self,
            MessageKind::Invitation
                | MessageKind::ReminderTenDays
                | MessageKind::ReminderDayBefore
                | MessageKind::Changed
                | MessageKind::TaskReminder
        )
    }
}

/// The values a message is filled in with. Empty strings count as missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageContext {
    /// E.g. "Fjordvik kommune". Always needed.
    pub organisation: String,
    /// E.g. "+47 22 33 44 55". Always needed: every message gives it.
    pub support_phone: String,
    /// The appointment's time (Invitation, reminders, Changed, Cancelled).
    pub start: Option<Timestamp>,
    /// Changed: the old time.
    pub previous_start: Option<Timestamp>,
    /// The join link (Invitation, reminders, Changed), or the link to the task (TaskReminder).
    pub link: Option<String>,
    /// The equipment self-test (ReminderDayBefore; Invitation when given).
    pub self_test_link: Option<String>,
    /// OneTimeCode.
    pub code: Option<String>,
    /// Only `Some` when the organisation's policy allows naming the service area.
    pub service_area: Option<String>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The e-mail subject; empty for SMS.
    pub subject: String,
    /// Plain text; lines are separated by `\n`.
    pub body: String,
}

/// Why a message could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A value the kind of message needs is missing or empty.
    #[error("a {kind:?} message needs `{field}`, which is missing or empty")]
    Missing {
        kind: MessageKind,
        field: &'static str,
    },
    /// A text is missing from the Fluent files or failed to format (a defect the tests catch).
    #[error("the text `{id}` ({language}) is missing or failed to format: {detail}")]
    Text {
        language: &'static str,
        id: String,
        detail: String,
    },
}

/// Renders the message `kind` for `channel` in `lang`.
pub fn render(
    kind: MessageKind,
    channel: Channel,
    lang: Language,
    ctx: &MessageContext,
) -> Result<Rendered, TemplateError> {
    let missing = |field| TemplateError::Missing { kind, field };
    let organisation = present(Some(&ctx.organisation)).ok_or_else(|| missing("organisation"))?;
    let phone = present(Some(&ctx.support_phone)).ok_or_else(|| missing("support_phone"))?;
    let texts = Texts::new(lang);

    let mut args: Vec<(&'static str, String)> = vec![
        ("organisation", organisation.to_owned()),
        ("phone", phone.to_owned()),
        ("minutes", ONE_TIME_CODE_MINUTES.to_string()),
    ];
    let sender = match present(ctx.service_area.as_ref()) {
        Some(area) if kind != MessageKind::OneTimeCode => texts.text(
            "sender-with-service-area",
            &[
                ("service_area", area.to_owned()),
                ("organisation", organisation.to_owned()),
            ],
        )?,
        _ => organisation.to_owned(),
    };
    args.push(("sender", sender));
    if kind.needs_start() {
        let start = ctx.start.ok_or_else(|| missing("start"))?;
        args.push(("time", texts.time(start)?));
    }
    if kind == MessageKind::Changed {
        let previous = ctx
            .previous_start
            .ok_or_else(|| missing("previous_start"))?;
        args.push(("previous_time", texts.time(previous)?));
    }
    if kind.needs_link() {
        let link = present(ctx.link.as_ref()).ok_or_else(|| missing("link"))?;
        args.push(("link", link.to_owned()));
    }
    let self_test = match kind {
        MessageKind::ReminderDayBefore => {
            Some(present(ctx.self_test_link.as_ref()).ok_or_else(|| missing("self_test_link"))?)
        }
        MessageKind::Invitation => present(ctx.self_test_link.as_ref()),
        _ => None,
    };
    if let Some(self_test) = self_test {
        args.push(("self_test_link", self_test.to_owned()));
    }
    if kind == MessageKind::OneTimeCode {
        let code = present(ctx.code.as_ref()).ok_or_else(|| missing("code"))?;
        args.push(("code", code.to_owned()));
    }

    match channel {
        Channel::Sms => {
            let mut lines = vec![texts.text(&format!("sms-{}", kind.id()), &args)?];
            if self_test.is_some() {
                lines.push(texts.text("sms-self-test", &args)?);
            }
            lines.push(texts.text("support-sms", &args)?);
            lines.push(texts.text("no-reply", &args)?);
            Ok(Rendered {
                subject: String::new(),
                body: lines.join("\n"),
            })
        }
        Channel::Email => {
            let subject = texts.text(&format!("email-{}-subject", kind.id()), &args)?;
            let mut paragraphs = vec![
                texts.text("email-greeting", &args)?,
                texts.text(&format!("email-{}-body", kind.id()), &args)?,
            ];
            if self_test.is_some() {
                paragraphs.push(texts.text("email-self-test", &args)?);
            }
            paragraphs.push(texts.text("support-email", &args)?);
            paragraphs.push(texts.text("no-reply", &args)?);
            paragraphs.push(texts.text("email-signature", &args)?);
            Ok(Rendered {
                // A subject is one line, whatever the values held.
                subject: subject.replace(['\r', '\n'], " "),
                body: paragraphs.join("\n\n"),
            })
        }
    }
}

/// What happened to an appointment a staff member hosts (their calendar e-mail, VC-16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffNotice {
    Booked,
    Moved,
    Cancelled,
}

impl StaffNotice {
    pub const ALL: [StaffNotice; 3] = [
        StaffNotice::Booked,
        StaffNotice::Moved,
        StaffNotice::Cancelled,
    ];

    fn id(self) -> &'static str {
        match self {
            StaffNotice::Booked => "booked",
            StaffNotice::Moved => "moved",
            StaffNotice::Cancelled => "cancelled",
        }
    }
}

/// The texts of a staff calendar entry and its e-mail. They name no patient and carry no
/// health information: only the time and links into Helsebro, where the staff member logs
/// in to see who the appointment is with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffCalendarText {
    pub subject: String,
    pub body: String,
    /// The event's `SUMMARY`.
    pub summary: String,
    /// The event's `DESCRIPTION`.
    pub description: String,
}

/// Renders the calendar texts for a staff member in `lang`. `appointment_link` is the
/// appointment's page, `room_link` the host's page of the video room.
pub fn render_staff_calendar(
    notice: StaffNotice,
    lang: Language,
    start: Timestamp,
    appointment_link: &str,
    room_link: &str,
) -> Result<StaffCalendarText, TemplateError> {
    let texts = Texts::new(lang);
    let args: Vec<(&'static str, String)> = vec![
        ("time", texts.time(start)?),
        ("appointment_link", appointment_link.to_owned()),
        ("room_link", room_link.to_owned()),
    ];
    let subject = texts.text(&format!("staff-{}-subject", notice.id()), &args)?;
    let body = [
        texts.text(&format!("staff-{}-body", notice.id()), &args)?,
        texts.text("staff-email-links", &args)?,
        texts.text("no-reply", &args)?,
    ]
    .join("\n\n");
    Ok(StaffCalendarText {
        subject: subject.replace(['\r', '\n'], " "),
        body,
        summary: texts.text("staff-event-summary", &args)?,
        description: texts.text("staff-event-description", &args)?,
    })
}

/// The value, trimmed, unless it is missing or blank.
fn present(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Norwegian time; UTC only if the bundled time zone database somehow lacks Europe/Oslo.
fn oslo() -> &'static TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| TimeZone::get("Europe/Oslo").unwrap_or(TimeZone::UTC))
}

/// The message texts, loaded once.
fn messages() -> &'static Catalogue {
    static MESSAGES: OnceLock<Catalogue> = OnceLock::new();
    MESSAGES.get_or_init(|| Catalogue::from_sources(&SOURCES))
}

/// The texts of one language, with bokmål for any id the language lacks.
struct Texts {
    lang: Language,
}

impl Texts {
    fn new(lang: Language) -> Texts {
        Texts { lang }
    }

    fn text(&self, id: &str, args: &[(&str, String)]) -> Result<String, TemplateError> {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        messages()
            .lookup(self.lang, id, &args)
            .map_err(|e| TemplateError::Text {
                language: self.lang.code(),
                id: id.to_owned(),
                detail: match e {
                    LookupError::Missing => "no such message".to_owned(),
                    LookupError::Format(detail) => detail,
                },
            })
    }

    /// E.g. "tirsdag 24. november kl. 10.30", in Norwegian time.
    fn time(&self, at: Timestamp) -> Result<String, TemplateError> {
        let local = at.to_zoned(oslo().clone());
        let weekday = self.text(
            &format!("weekday-{}", local.weekday().to_monday_one_offset()),
            &[],
        )?;
        let month = self.text(&format!("month-{}", local.month()), &[])?;
        self.text(
            "datetime",
            &[
                ("weekday", weekday),
                ("day", local.day().to_string()),
                ("month", month),
                ("hour", format!("{:02}", local.hour())),
                ("minute", format!("{:02}", local.minute())),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::{Encoding, sms_length};

    const SERVICE_AREA: &str = "Lungepoliklinikken";
    const LINK: &str = "https://helsebro.fjordvik.kommune.no/m/Xk3p9QaZ7LmN2bVc4RtY8";
    const SELF_TEST: &str = "https://helsebro.fjordvik.kommune.no/test/Hq7ZpL2mXc9VbN4Rtk";

    const FORBIDDEN: [&str; 13] = [
        "diagnose",
        "KOLS",
        "kols",
        "hjertesvikt",
        "diabetes",
        "kreft",
        "psykisk",
        "COPD",
        "heart failure",
        "cancer",
        "sykdom",
        "sjukdom",
        "illness",
    ];

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn context(service_area: Option<&str>) -> MessageContext {
        MessageContext {
            organisation: "Fjordvik kommune".to_owned(),
            support_phone: "+47 22 33 44 55".to_owned(),
            start: Some(ts("2026-11-24T09:30:00Z")),
            previous_start: Some(ts("2026-11-23T13:45:00Z")),
            link: Some(LINK.to_owned()),
            self_test_link: Some(SELF_TEST.to_owned()),
            code: Some("123456".to_owned()),
            service_area: service_area.map(str::to_owned),
        }
    }

    fn no_reply(lang: Language) -> &'static str {
        match lang {
            Language::Nb => "Denne meldingen kan ikke besvares.",
            Language::Nn => "Denne meldinga kan ikkje svarast på.",
            Language::En => "This message cannot be replied to.",
        }
    }

    fn longest_digit_run(text: &str) -> usize {
        text.split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn the_link_in_the_tests_is_60_characters() {
        assert_eq!(LINK.chars().count(), 60);
        assert_eq!(SELF_TEST.chars().count(), 60);
    }

    #[test]
    fn every_message_is_safe_and_complete() {
        let mut checked = 0;
        for service_area in [Some(SERVICE_AREA), None] {
            let ctx = context(service_area);
            for kind in MessageKind::ALL {
                for channel in Channel::ALL {
                    for lang in Language::ALL {
                        let what = format!("{kind:?} {channel:?} {}", lang.code());
                        let r = render(kind, channel, lang, &ctx)
                            .unwrap_or_else(|e| panic!("{what}: {e}"));
                        let all = format!("{}\n{}", r.subject, r.body);
                        assert!(!r.body.trim().is_empty(), "{what}: empty body");
                        assert!(r.body.contains("+47 22 33 44 55"), "{what}: no phone");
                        assert!(r.body.contains(no_reply(lang)), "{what}: no no-reply");
                        let lower = all.to_lowercase();
                        for word in FORBIDDEN {
                            assert!(
                                !lower.contains(&word.to_lowercase()),
                                "{what}: contains {word:?}:\n{all}"
                            );
                        }
                        assert!(longest_digit_run(&all) < 11, "{what}: 11 digits:\n{all}");
                        assert!(!all.contains('{') && !all.contains('$'), "{what}:\n{all}");
                        assert!(!all.contains('\u{2068}'), "{what}: isolation marks");
                        let names_area = all.contains(SERVICE_AREA);
                        if service_area.is_some() && kind != MessageKind::OneTimeCode {
                            assert!(names_area, "{what}: no service area:\n{all}");
                        } else {
                            assert!(!names_area, "{what}: names the service area:\n{all}");
                        }
                        match channel {
                            Channel::Sms => {
                                assert!(r.subject.is_empty(), "{what}: SMS subject");
                                let length = sms_length(&r.body);
                                assert!(length.segments <= 3, "{what}: {length:?}:\n{}", r.body);
                                assert_eq!(length.encoding, Encoding::Gsm7, "{what}");
                            }
                            Channel::Email => {
                                assert!(!r.subject.trim().is_empty(), "{what}: no subject");
                                assert!(!r.subject.contains('\n'), "{what}");
                            }
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 2 * MessageKind::ALL.len() * 2 * 3);
    }

    #[test]
    fn sms_fits_three_segments_with_long_values() {
        let ctx = MessageContext {
            organisation: "Nordre Follo og Søndre Vestby interkommunale".to_owned(),
            service_area: Some("Hjemmesykepleien sone nord-øst".to_owned()),
            ..context(None)
        };
        for kind in MessageKind::ALL {
            for lang in Language::ALL {
                let r = render(kind, Channel::Sms, lang, &ctx).unwrap();
                let length = sms_length(&r.body);
                assert!(length.segments <= 3, "{kind:?} {lang:?}: {length:?}");
            }
        }
    }

    #[test]
    fn links_appear_where_they_belong() {
        let ctx = context(None);
        for lang in Language::ALL {
            for channel in Channel::ALL {
                let body = |kind| render(kind, channel, lang, &ctx).unwrap().body;
                for kind in [
                    MessageKind::Invitation,
                    MessageKind::ReminderTenDays,
                    MessageKind::ReminderDayBefore,
                    MessageKind::Changed,
                    MessageKind::TaskReminder,
                ] {
                    assert!(body(kind).contains(LINK), "{kind:?} {lang:?} {channel:?}");
                }
                for kind in [MessageKind::Cancelled, MessageKind::OneTimeCode] {
                    assert!(!body(kind).contains(LINK), "{kind:?} {lang:?} {channel:?}");
                }
                for kind in [MessageKind::Invitation, MessageKind::ReminderDayBefore] {
                    assert!(body(kind).contains(SELF_TEST), "{kind:?} {lang:?}");
                }
                for kind in [
                    MessageKind::ReminderTenDays,
                    MessageKind::Changed,
                    MessageKind::Cancelled,
                    MessageKind::TaskReminder,
                    MessageKind::OneTimeCode,
                ] {
                    assert!(!body(kind).contains(SELF_TEST), "{kind:?} {lang:?}");
                }
                // The invitation's self-test link is optional.
                let without = MessageContext {
                    self_test_link: None,
                    ..ctx.clone()
                };
                let r = render(MessageKind::Invitation, channel, lang, &without).unwrap();
                assert!(r.body.contains(LINK) && !r.body.contains(SELF_TEST));
            }
        }
    }

    #[test]
    fn bokmal_sms_texts_read_as_intended() {
        let ctx = context(None);
        let sms = |kind| render(kind, Channel::Sms, Language::Nb, &ctx).unwrap().body;
        assert_eq!(
            sms(MessageKind::OneTimeCode),
            "Helsebro: Koden din er 123456. Den gjelder i 10 minutter. Ikke gi koden til \
             andre.\nSpørsmål? Ring +47 22 33 44 55.\nDenne meldingen kan ikke besvares."
        );
        assert_eq!(
            sms(MessageKind::Invitation),
            format!(
                "Fjordvik kommune: Du har fått en videotime tirsdag 24. november kl. 10.30. \
                 Åpne lenken noen minutter før timen: {LINK}\nTest gjerne utstyret ditt før \
                 timen: {SELF_TEST}\nSpørsmål? Ring +47 22 33 44 55.\nDenne meldingen kan ikke \
                 besvares."
            )
        );
        assert!(sms(MessageKind::Changed).contains(
            "Videotimen din er flyttet fra mandag 23. november kl. 14.45 til tirsdag \
             24. november kl. 10.30."
        ));
        let with_area = context(Some(SERVICE_AREA));
        let r = render(
            MessageKind::Cancelled,
            Channel::Sms,
            Language::Nb,
            &with_area,
        )
        .unwrap();
        assert!(r.body.starts_with(
            "Lungepoliklinikken, Fjordvik kommune: Videotimen din tirsdag 24. november \
             kl. 10.30 er avlyst.\n"
        ));
    }

    #[test]
    fn one_time_codes_say_only_helsebro() {
        let ctx = context(Some(SERVICE_AREA));
        let expected = [
            (
                Language::Nb,
                "Koden din er 123456. Den gjelder i 10 minutter.",
            ),
            (
                Language::Nn,
                "Koden din er 123456. Koden gjeld i 10 minutt.",
            ),
            (
                Language::En,
                "Your code is 123456. It is valid for 10 minutes.",
            ),
        ];
        for (lang, sentence) in expected {
            for channel in Channel::ALL {
                let r = render(MessageKind::OneTimeCode, channel, lang, &ctx).unwrap();
                assert!(
                    r.body.contains(sentence),
                    "{lang:?} {channel:?}:\n{}",
                    r.body
                );
                assert!(!r.body.contains("videotime") && !r.body.contains("video"));
            }
        }
    }

    #[test]
    fn email_has_greeting_paragraphs_and_signature() {
        let ctx = context(Some(SERVICE_AREA));
        let r = render(MessageKind::Changed, Channel::Email, Language::Nb, &ctx).unwrap();
        assert_eq!(r.subject, "Ny tid for videotimen din");
        assert_eq!(
            r.body,
            format!(
                "Hei!\n\nVideotimen din hos Lungepoliklinikken, Fjordvik kommune er \
                 flyttet.\n\nNy tid: tirsdag 24. november kl. 10.30\nGammel tid: mandag 23. \
                 november kl. 14.45\n\nÅpne denne lenken noen minutter før timen:\n{LINK}\n\n\
                 Har du spørsmål, kan du ringe oss på +47 22 33 44 55.\n\nDenne meldingen kan \
                 ikke besvares.\n\nVennlig hilsen\nFjordvik kommune"
            )
        );
        let r = render(MessageKind::Invitation, Channel::Email, Language::En, &ctx).unwrap();
        assert_eq!(
            r.subject,
            "Video appointment on Tuesday 24 November at 10:30"
        );
    }

    #[test]
    fn missing_values_are_errors() {
        let full = context(None);
        let cases: [(MessageKind, &str, MessageContext); 12] = [
            (
                MessageKind::Invitation,
                "start",
                MessageContext {
                    start: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::Invitation,
                "link",
                MessageContext {
                    link: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::ReminderTenDays,
                "link",
                MessageContext {
                    link: Some("  ".to_owned()),
                    ..full.clone()
                },
            ),
            (
                MessageKind::ReminderDayBefore,
                "self_test_link",
                MessageContext {
                    self_test_link: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::ReminderDayBefore,
                "start",
                MessageContext {
                    start: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::Changed,
                "previous_start",
                MessageContext {
                    previous_start: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::Changed,
                "link",
                MessageContext {
                    link: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::Cancelled,
                "start",
                MessageContext {
                    start: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::TaskReminder,
                "link",
                MessageContext {
                    link: None,
                    ..full.clone()
                },
            ),
            (
                MessageKind::OneTimeCode,
                "code",
                MessageContext {
                    code: Some(String::new()),
                    ..full.clone()
                },
            ),
            (
                MessageKind::OneTimeCode,
                "support_phone",
                MessageContext {
                    support_phone: String::new(),
                    ..full.clone()
                },
            ),
            (
                MessageKind::Cancelled,
                "organisation",
                MessageContext {
                    organisation: " ".to_owned(),
                    ..full.clone()
                },
            ),
        ];
        for (kind, field, ctx) in cases {
            for channel in Channel::ALL {
                assert_eq!(
                    render(kind, channel, Language::Nn, &ctx),
                    Err(TemplateError::Missing { kind, field }),
                );
            }
        }
        // What a kind does not use may be missing.
        let minimal = MessageContext {
            organisation: "Fjordvik kommune".to_owned(),
            support_phone: "+47 22 33 44 55".to_owned(),
            code: Some("123456".to_owned()),
            ..MessageContext::default()
        };
        assert!(
            render(
                MessageKind::OneTimeCode,
                Channel::Sms,
                Language::En,
                &minimal
            )
            .is_ok()
        );
        let cancelled = MessageContext {
            start: full.start,
            ..minimal
        };
        assert!(
            render(
                MessageKind::Cancelled,
                Channel::Email,
                Language::Nb,
                &cancelled
            )
            .is_ok()
        );
    }

    #[test]
    fn staff_calendar_texts_name_no_patient_and_carry_the_links() {
        let appointment = "https://helsebro.test/appointments/0192f0c4";
        let room = "https://helsebro.test/calls/0192f0c4";
        for notice in StaffNotice::ALL {
            for lang in Language::ALL {
                let what = format!("{notice:?} {}", lang.code());
                let t = render_staff_calendar(
                    notice,
                    lang,
                    ts("2026-11-24T09:30:00Z"),
                    appointment,
                    room,
                )
                .unwrap_or_else(|e| panic!("{what}: {e}"));
                let all = format!(
                    "{}\n{}\n{}\n{}",
                    t.subject, t.body, t.summary, t.description
                );
                assert!(
                    t.body.contains(appointment) && t.body.contains(room),
                    "{what}"
                );
                assert!(t.description.contains(appointment), "{what}");
                assert!(
                    t.subject.contains("10.30") || t.subject.contains("10:30"),
                    "{what}: {}",
                    t.subject
                );
                assert!(t.body.contains(no_reply(lang)), "{what}");
                assert!(!all.contains('{') && !all.contains('$'), "{what}:\n{all}");
                assert!(!all.contains('\u{2068}'), "{what}: isolation marks");
                let lower = all.to_lowercase();
                for word in FORBIDDEN {
                    assert!(!lower.contains(&word.to_lowercase()), "{what}: {word}");
                }
            }
        }
    }

    #[test]
    fn every_file_parses_and_has_the_same_ids() {
        let problems = helsebro_i18n::check_sources(&SOURCES);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_kind_has_its_texts() {
        let nb = messages().keys(Language::Nb);
        for n in 1..=7 {
            assert!(nb.contains(&format!("weekday-{n}")));
        }
        for n in 1..=12 {
            assert!(nb.contains(&format!("month-{n}")));
        }
        for kind in MessageKind::ALL {
            for id in [
                format!("sms-{}", kind.id()),
                format!("email-{}-subject", kind.id()),
                format!("email-{}-body", kind.id()),
            ] {
                assert!(nb.contains(&id), "nb.ftl lacks {id}");
            }
        }
    }

    fn time(lang: Language, at: &str) -> String {
        Texts::new(lang).time(ts(at)).unwrap()
    }

    #[test]
    fn winter_times_are_cet() {
        // 09:30 UTC is 10:30 in Oslo in winter (UTC+1).
        let at = "2026-11-24T09:30:00Z";
        assert_eq!(time(Language::Nb, at), "tirsdag 24. november kl. 10.30");
        assert_eq!(time(Language::Nn, at), "tysdag 24. november kl. 10.30");
        assert_eq!(time(Language::En, at), "Tuesday 24 November at 10:30");
    }

    #[test]
    fn summer_times_are_cest() {
        // 08:30 UTC is 10:30 in Oslo in summer (UTC+2).
        let at = "2026-06-15T08:30:00Z";
        assert_eq!(time(Language::Nb, at), "mandag 15. juni kl. 10.30");
        assert_eq!(time(Language::Nn, at), "måndag 15. juni kl. 10.30");
        assert_eq!(time(Language::En, at), "Monday 15 June at 10:30");
    }

    #[test]
    fn times_follow_the_switch_to_summer_time_and_midnight() {
        // Clocks go from 02:00 to 03:00 on 29 March 2026.
        assert_eq!(
            time(Language::Nb, "2026-03-29T00:59:00Z"),
            "søndag 29. mars kl. 01.59"
        );
        assert_eq!(
            time(Language::Nb, "2026-03-29T01:00:00Z"),
            "søndag 29. mars kl. 03.00"
        );
        // 23:15 UTC on New Year's Eve is already the next day and year in Oslo.
        assert_eq!(
            time(Language::Nn, "2026-12-31T23:15:00Z"),
            "fredag 1. januar kl. 00.15"
        );
        assert_eq!(
            time(Language::En, "2027-01-02T23:05:00Z"),
            "Sunday 3 January at 00:05"
        );
    }

    #[test]
    fn rendered_messages_use_oslo_time() {
        let ctx = MessageContext {
            start: Some(ts("2026-06-15T08:30:00Z")),
            ..context(None)
        };
        let r = render(
            MessageKind::ReminderDayBefore,
            Channel::Sms,
            Language::En,
            &ctx,
        )
        .unwrap();
        assert!(r.body.contains("on Monday 15 June at 10:30."), "{}", r.body);
    }
}
