//! Staff calendars (VC-16, IO-4): iCalendar invitations e-mailed to each host when an
//! appointment is booked, moved or cancelled, and a personal calendar feed per staff member.
//!
//! An event names no patient and carries no health information: its summary is "Videotime"
//! and its description links to the appointment's page and the video room, where the staff
//! member logs in to see who it is with. Every event is `CLASS:PRIVATE`. One e-mail per
//! host, never a shared To or Cc.
//!
//! A feed is `<public_url>/calendar/<token>.ics`: 256 random bits, shown once when it is made;
//! only its SHA-256 is stored. A new feed revokes the old one. An unknown or revoked token
//! gets the same 404 as any missing page.

use crate::App;
use crate::access::StaffPrincipal;
use crate::auth::RateLimits;
use crate::error::{AppError, Result};
use crate::secrets::{random_token, token_hash};
use helsebro_domain::{AuditAction, AuditOutcome, Language};
use helsebro_notify::ics::{CalendarEvent, calendar};
use helsebro_notify::templates::{StaffNotice, render_staff_calendar};
use helsebro_store::{Appointment, NewAuditEntry, NewMessage, OutboxChannel, message_key_prefix};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// How far back a feed reaches.
const FEED_PAST_DAYS: i64 = 30;
/// How far ahead a feed reaches.
const FEED_FUTURE_DAYS: i64 = 366;

/// What the calendar e-mails of one change share.
pub(crate) struct StaffCalendarChange<'a> {
    pub appointment: Uuid,
    /// The appointment's version after the change (for the dedupe keys).
    pub version: i64,
    pub notice: StaffNotice,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Higher than that of every earlier invitation of the same appointment.
    pub sequence: u32,
    pub hosts: &'a [Uuid],
}

impl App {
    /// The appointment's page, linked from calendar entries.
    pub fn appointment_link(&self, id: Uuid) -> String {
        format!("{}/appointments/{id}", self.config().base_url())
    }

    /// The host's page of the video room.
    pub fn room_link(&self, id: Uuid) -> String {
        format!("{}/calls/{id}", self.config().base_url())
    }

    /// The event's UID: the appointment's id at the host Helsebro is reached at; the same for
    /// every version of the appointment, so calendars update and cancel the one event.
    fn calendar_uid(&self, id: Uuid) -> String {
        let base = self.config().base_url();
        let host = base
            .split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .filter(|h| !h.is_empty())
            .unwrap_or("helsebro");
        format!("{id}@{host}")
    }

    /// One calendar event of an appointment, with its e-mail texts, in `lang`.
    fn calendar_event(
        &self,
        id: Uuid,
        lang: Language,
        notice: StaffNotice,
        start: Timestamp,
        end: Timestamp,
        sequence: u32,
    ) -> Result<(CalendarEvent, helsebro_notify::templates::StaffCalendarText)> {
        let texts = render_staff_calendar(
            notice,
            lang,
            start,
            &self.appointment_link(id),
            &self.room_link(id),
        )
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let event = CalendarEvent {
            uid: self.calendar_uid(id),
            sequence,
            start,
            end,
            summary: texts.summary.clone(),
            description: texts.description.clone(),
            location_url: Some(self.appointment_link(id)),
            cancelled: notice == StaffNotice::Cancelled,
            stamp: self.now(),
        };
        Ok((event, texts))
    }

    /// One e-mail with an iCalendar attachment per host who has an e-mail address (and is
    /// active): `METHOD:REQUEST` for a booking or move, `METHOD:CANCEL` for a cancellation.
    pub(crate) async fn staff_calendar_messages(
        &self,
        change: &StaffCalendarChange<'_>,
    ) -> Result<Vec<NewMessage>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for host in change.hosts {
            if seen.contains(host) {
                continue;
            }
            seen.push(*host);
            let Some(staff) = self.store().staff_by_id(*host).await? else {
                continue;
            };
            let email = staff.email.trim();
            if !staff.active || email.is_empty() {
                continue;
            }
            let (event, texts) = self.calendar_event(
                change.appointment,
                staff.language.unwrap_or_default(),
                change.notice,
                change.start,
                change.end,
                change.sequence,
            )?;
            let method = if change.notice == StaffNotice::Cancelled {
                "CANCEL"
            } else {
                "REQUEST"
            };
            let notice = match change.notice {
                StaffNotice::Booked => "booked",
                StaffNotice::Moved => "moved",
                StaffNotice::Cancelled => "cancelled",
            };
            out.push(NewMessage {
                channel: OutboxChannel::Email,
                recipient: email.to_owned(),
                subject: texts.subject,
                body: texts.body,
                calendar: Some(calendar(&[event], Some(method))),
                kind: format!("staff_calendar_{notice}"),
                not_before: self.now(),
                dedupe_key: Some(format!(
                    "{}v{}:staff:{}:{notice}:email",
                    message_key_prefix(change.appointment),
                    change.version,
                    staff.id
                )),
            });
        }
        Ok(out)
    }

    /// When the caller's calendar feed was made, if they have one.
    pub async fn calendar_feed_since(&self, p: &StaffPrincipal) -> Result<Option<Timestamp>> {
        Ok(self.store().calendar_feed_since(p.id).await?)
    }

    fn feed_audit(&self, p: &StaffPrincipal, action: AuditAction, ip: &str) -> NewAuditEntry {
        NewAuditEntry {
            actor_id: Some(p.id),
            actor_label: p.username.clone(),
            action,
            outcome: AuditOutcome::Success,
            patient_id: None,
            object: format!("staff:{}", p.id),
            ip: ip.to_owned(),
            detail: String::new(),
            flagged: false,
        }
    }

    /// Makes a new calendar feed for the caller, revoking any earlier one. Returns its URL,
    /// shown this once.
    pub async fn create_calendar_feed(&self, p: &StaffPrincipal, ip: &str) -> Result<String> {
        let token = random_token(32);
        let audit = self.feed_audit(p, AuditAction::CalendarFeedCreated, ip);
        self.store()
            .replace_calendar_feed(p.id, &token_hash(&token), &audit, self.now())
            .await?;
        Ok(format!("{}/calendar/{token}.ics", self.config().base_url()))
    }

    /// Revokes the caller's calendar feed (idempotent).
    pub async fn revoke_calendar_feed(&self, p: &StaffPrincipal, ip: &str) -> Result<()> {
        let audit = self.feed_audit(p, AuditAction::CalendarFeedRevoked, ip);
        self.store()
            .revoke_calendar_feed(p.id, &audit, self.now())
            .await?;
        Ok(())
    }

    /// The calendar of the feed with `token`: its owner's appointments from 30 days ago to a
    /// year ahead (cancelled ones as cancelled). Unknown, malformed and revoked tokens all
    /// get the same `NotFound`; requests are rate-limited per client address.
    pub async fn calendar_feed(&self, token: &str, ip: &str) -> Result<String> {
        RateLimits::check(&self.inner.limits.feeds, ip.to_owned())?;
        let token = token.trim();
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::NotFound("the calendar"));
        }
        let Some(staff_id) = self.store().calendar_feed_owner(&token_hash(token)).await? else {
            return Err(AppError::NotFound("the calendar"));
        };
        let lang = self
            .store()
            .staff_by_id(staff_id)
            .await?
            .and_then(|s| s.language)
            .unwrap_or_default();
        let now = self.now();
        let list = self
            .store()
            .appointments_of_staff(
                staff_id,
                now - SignedDuration::from_hours(24 * FEED_PAST_DAYS),
                now + SignedDuration::from_hours(24 * FEED_FUTURE_DAYS),
            )
            .await?;
        let mut events = Vec::with_capacity(list.len());
        for a in &list {
            events.push(self.feed_event(a, lang)?);
        }
        Ok(calendar(&events, None))
    }

    fn feed_event(&self, a: &Appointment, lang: Language) -> Result<CalendarEvent> {
        let cancelled = a.cancelled_at.is_some();
        let (notice, sequence) = if cancelled {
            (StaffNotice::Cancelled, a.version)
        } else {
            (StaffNotice::Booked, a.version - 1)
        };
        let (event, _) = self.calendar_event(
            a.id,
            lang,
            notice,
            a.starts_at,
            a.ends_at(),
            u32::try_from(sequence).unwrap_or(0),
        )?;
        Ok(event)
    }
}
