//! Video appointments (VC-1, VC-2, VC-11, VC-14, VC-16): booking, the day's list, join links,
//! moving and cancelling with their notifications (NT-1), ad-hoc rooms, and the outcome.
//!
//! A join link is `<public_url>/join/<token>`: 256 random bits, shown once when it is made
//! and sent in the invitation message; only its SHA-256 is stored. A link works from
//! `join_opens_minutes_before` the start until `join_closes_minutes_after_end` after the end
//! (ad-hoc rooms: `adhoc_link_hours` from the start), unless revoked or spent, and never for a
//! cancelled appointment. [`App::resolve_join_token`] answers every failure with the same
//! error, so a link never tells whether a room exists.
//!
//! Messages never contain the appointment's title, the patient's name or any health detail.

use crate::App;
use crate::access::{PatientAccess, Purpose, StaffPrincipal};
use crate::calendar::StaffCalendarChange;
use crate::calls::LiveState;
use crate::error::{AppError, FieldError, Result};
use crate::secrets::{random_token, token_hash};
use helsebro_domain::appointment::{
    AppointmentKind, CallPolicy, InviteeRole, MAX_DURATION_MINUTES, Outcome,
};
use helsebro_domain::patient::{is_plausible_email, normalise_phone};
use helsebro_domain::{AuditAction, AuditOutcome, Language, Permission, new_id};
use helsebro_notify::schedule::{ReminderPolicy, oslo, reminder_times};
use helsebro_notify::templates::{Channel, MessageContext, MessageKind, StaffNotice, render};
use helsebro_store::{
    Appointment, Invitation, NewAppointment, NewAuditEntry, NewInvitation, NewMessage,
    NoticeSettings, OutboxChannel, OutcomeRecord, Reschedule, message_key_prefix,
};
use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// Longest free-text title.
const MAX_TITLE_CHARS: usize = 200;
/// Longest outcome note.
const MAX_NOTE_CHARS: usize = 500;
/// How long an ad-hoc room is booked for (the links last `adhoc_link_hours`).
const ADHOC_DURATION_MINUTES: i64 = 60;
/// How far past now the home page's list of appointments reaches (beyond today's).
pub const AHEAD_HOURS: i64 = 12;

/// Midnight at the start of a date in Norwegian time.
fn start_of(d: Date) -> Result<Timestamp> {
    d.to_zoned(oslo())
        .map(|z| z.timestamp())
        .map_err(|e| AppError::invalid("date", e.to_string()))
}

/// Someone to invite by link.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct InviteeInput {
    pub role: InviteeRole,
    /// The name shown to the host in the waiting room.
    pub display_name: String,
    /// A Norwegian or international phone number; the invitation goes there by SMS.
    #[serde(default)]
    pub phone: String,
    /// The invitation goes there by e-mail.
    #[serde(default)]
    pub email: String,
    /// The language of the messages and the join page; the patient's language by default.
    #[serde(default)]
    pub language: Option<Language>,
}

/// A booking.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct BookingInput {
    /// A patient on the caller's care team; empty for a meeting without a patient.
    #[serde(default)]
    pub patient_id: Option<Uuid>,
    /// Local date (Norwegian time), `YYYY-MM-DD`.
    pub date: String,
    /// Local time, `HH:MM`.
    pub time: String,
    pub duration_minutes: u32,
    #[serde(default)]
    pub unit_id: Option<Uuid>,
    pub policy: CallPolicy,
    /// For the staff's own list only; never sent to anyone. No health details.
    #[serde(default)]
    pub title: String,
    /// Staff who host the room (at least one).
    pub hosts: Vec<Uuid>,
    #[serde(default)]
    pub invitees: Vec<InviteeInput>,
}

/// A join link, shown once.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NewLink {
    pub invitation_id: Uuid,
    pub role: InviteeRole,
    pub display_name: String,
    /// `<public_url>/join/<token>`. Not stored anywhere; this is the only time it is shown.
    pub link: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Booked {
    pub appointment_id: Uuid,
    pub links: Vec<NewLink>,
}

/// An appointment in a list, with the live state of its room.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AppointmentItem {
    pub appointment: Appointment,
    pub live_state: LiveState,
}

/// One appointment with its invitations (never their links).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AppointmentDetails {
    pub appointment: Appointment,
    pub invitations: Vec<Invitation>,
    pub live_state: LiveState,
}

/// A new time.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    /// Local time, `HH:MM`.
    pub time: String,
    /// Unchanged when left out.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct OutcomeInput {
    pub outcome: Outcome,
    /// Minutes the call lasted; filled in from the call's start and end when left out.
    #[serde(default)]
    pub minutes: Option<u32>,
    /// A short note (no health details; the record belongs in the patient's journal).
    #[serde(default)]
    pub note: String,
}

/// "Start video now".
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RoomInput {
    #[serde(default)]
    pub patient_id: Option<Uuid>,
    #[serde(default)]
    pub unit_id: Option<Uuid>,
    /// Someone to send the link to at once; otherwise a link is made to hand over.
    #[serde(default)]
    pub invitee: Option<InviteeInput>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RoomStarted {
    pub appointment_id: Uuid,
    /// The host's page of the room.
    pub host_path: String,
    pub invitation: NewLink,
}

/// What a valid join link grants: who the guest is and what room they may knock on.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct JoinGrant {
    pub invitation_id: Uuid,
    pub appointment_id: Uuid,
    pub role: InviteeRole,
    pub display_name: String,
    /// Whether the invitation has a phone number (for a code by SMS to confirm identity).
    pub phone_on_file: bool,
    pub policy: CallPolicy,
    pub language: Language,
    pub organisation_name: String,
    pub support_phone: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: Timestamp,
}

/// The error of every join link that does not work now, whatever the reason.
fn invalid_link() -> AppError {
    AppError::NotFound("a valid video link")
}

fn field(name: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}

/// A local (Norwegian) date and time to a timestamp.
fn local_start(date: &str, time: &str, errors: &mut Vec<FieldError>) -> Option<Timestamp> {
    let d: Option<Date> = date.trim().parse().ok();
    if d.is_none() {
        errors.push(field("date", "give the date as YYYY-MM-DD"));
    }
    let t = Time::strptime("%H:%M", time.trim()).ok();
    if t.is_none() {
        errors.push(field("time", "give the time as HH:MM"));
    }
    let zoned = d?.to_datetime(t?).to_zoned(oslo()).ok();
    if zoned.is_none() {
        errors.push(field("time", "that time does not exist on that day"));
    }
    zoned.map(|z| z.timestamp())
}

fn check_duration(minutes: u32, errors: &mut Vec<FieldError>) {
    if !(5..=MAX_DURATION_MINUTES).contains(&minutes) {
        errors.push(field(
            "duration_minutes",
            format!("the appointment must last from 5 to {MAX_DURATION_MINUTES} minutes; the end must come after the start"),
        ));
    }
}

/// An invitee's details, checked and normalised.
struct CheckedInvitee {
    role: InviteeRole,
    display_name: String,
    phone: Option<String>,
    email: Option<String>,
    language: Language,
}

fn check_invitee(
    i: &InviteeInput,
    prefix: &str,
    default_language: Language,
    errors: &mut Vec<FieldError>,
) -> Option<CheckedInvitee> {
    let before = errors.len();
    let name = i.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(field(
            format!("{prefix}display_name"),
            "give a name of 1 to 100 characters",
        ));
    }
    let phone = match normalise_phone(&i.phone) {
        Ok(p) => p,
        Err(m) => {
            errors.push(field(format!("{prefix}phone"), m));
            None
        }
    };
    let email = i.email.trim();
    if !email.is_empty() && !is_plausible_email(email) {
        errors.push(field(
            format!("{prefix}email"),
            "not a valid e-mail address",
        ));
    }
    (errors.len() == before).then(|| CheckedInvitee {
        role: i.role,
        display_name: name.to_owned(),
        phone,
        email: (!email.is_empty()).then(|| email.to_owned()),
        language: i.language.unwrap_or(default_language),
    })
}

fn reminder_policy(n: &NoticeSettings) -> ReminderPolicy {
    ReminderPolicy {
        ten_days_before: n.reminder_ten_days,
        day_before: n.reminder_day_before,
        send_at: Time::strptime("%H:%M", &n.reminder_time)
            .unwrap_or(ReminderPolicy::default().send_at),
    }
}

fn kind_code(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Invitation => "invitation",
        MessageKind::ReminderTenDays => "reminder_ten_days",
        MessageKind::ReminderDayBefore => "reminder_day_before",
        MessageKind::Changed => "changed",
        MessageKind::Cancelled => "cancelled",
        MessageKind::TaskReminder => "task_reminder",
        MessageKind::OneTimeCode => "one_time_code",
        MessageKind::ReadingsSeen => "readings_seen",
        MessageKind::Test => "test",
    }
}

/// Who a message goes to: an invitation's id, language and contact details.
struct Recipient<'a> {
    invitation: Uuid,
    language: Language,
    phone: Option<&'a str>,
    email: Option<&'a str>,
}

impl<'a> Recipient<'a> {
    fn of(i: &'a Invitation) -> Recipient<'a> {
        Recipient {
            invitation: i.id,
            language: i.language,
            phone: i.phone.as_deref(),
            email: i.email.as_deref(),
        }
    }

    fn of_new(i: &'a NewInvitation) -> Recipient<'a> {
        Recipient {
            invitation: i.id,
            language: i.language,
            phone: i.phone.as_deref(),
            email: i.email.as_deref(),
        }
    }
}

/// What the messages of one appointment share.
struct MessagePlan {
    appointment: Uuid,
    version: i64,
    base: MessageContext,
}

impl MessagePlan {
    /// The messages of `kind` to one recipient (SMS and/or e-mail), due at `not_before`.
    fn messages(
        &self,
        kind: MessageKind,
        to: &Recipient<'_>,
        link: Option<&str>,
        not_before: Timestamp,
    ) -> Result<Vec<NewMessage>> {
        let ctx = MessageContext {
            link: link.map(str::to_owned),
            ..self.base.clone()
        };
        let mut out = Vec::new();
        let targets = [
            (OutboxChannel::Sms, Channel::Sms, to.phone),
            (OutboxChannel::Email, Channel::Email, to.email),
        ];
        for (channel, template_channel, address) in targets {
            let Some(address) = address else { continue };
            let text = render(kind, template_channel, to.language, &ctx)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            out.push(NewMessage {
                channel,
                recipient: address.to_owned(),
                subject: text.subject,
                body: text.body,
                calendar: None,
                kind: kind_code(kind).into(),
                not_before,
                dedupe_key: Some(format!(
                    "{}v{}:{}:{}:{}",
                    message_key_prefix(self.appointment),
                    self.version,
                    to.invitation,
                    kind_code(kind),
                    channel.code()
                )),
            });
        }
        Ok(out)
    }
}

impl App {
    /// `<public_url>/join/<token>`.
    pub fn join_link(&self, token: &str) -> String {
        format!("{}/join/{token}", self.config().base_url())
    }

    /// The equipment self-test page, linked from invitations and the day-before reminder.
    pub fn self_test_link(&self) -> String {
        format!("{}/selftest", self.config().base_url())
    }

    /// When the details of an appointment that ends (or was cancelled) at `end` are deleted.
    fn purge_at(&self, end: Timestamp) -> Timestamp {
        let days = i64::from(self.config().appointment_retention_days);
        end.saturating_add(SignedDuration::from_hours(24 * days))
            .unwrap_or(end)
    }

    /// When the links of an appointment work.
    fn link_window(
        &self,
        kind: AppointmentKind,
        starts_at: Timestamp,
        duration_minutes: i64,
    ) -> (Timestamp, Timestamp) {
        let c = self.config();
        match kind {
            AppointmentKind::Scheduled => {
                let from =
                    starts_at - SignedDuration::from_mins(i64::from(c.join_opens_minutes_before));
                let until = starts_at
                    + SignedDuration::from_mins(
                        duration_minutes + i64::from(c.join_closes_minutes_after_end),
                    );
                (from, until)
            }
            AppointmentKind::Adhoc => (
                starts_at,
                starts_at + SignedDuration::from_hours(i64::from(c.adhoc_link_hours)),
            ),
        }
    }

    async fn message_plan(&self, a: &AppointmentPlanInput) -> Result<MessagePlan> {
        let org = self.organisation().await?;
        let service_area = match a.unit_id {
            Some(unit) if org.notices.name_service_area => {
                self.store().unit(unit).await?.map(|u| u.name)
            }
            _ => None,
        };
        Ok(MessagePlan {
            appointment: a.id,
            version: a.version,
            base: MessageContext {
                organisation: org.name,
                support_phone: org.support_phone,
                start: Some(a.starts_at),
                previous_start: a.previous_start,
                link: None,
                self_test_link: Some(self.self_test_link()),
                code: None,
                service_area,
            },
        })
    }

    /// The invitation message and the reminders for one invitee of a scheduled appointment.
    async fn invitation_messages(
        &self,
        plan: &MessagePlan,
        kind: AppointmentKind,
        first: MessageKind,
        to: &Recipient<'_>,
        link: &str,
        starts_at: Timestamp,
    ) -> Result<Vec<NewMessage>> {
        let now = self.now();
        let mut out = plan.messages(first, to, Some(link), now)?;
        if kind == AppointmentKind::Scheduled {
            let org = self.organisation().await?;
            let policy = reminder_policy(&org.notices);
            for (reminder, at) in reminder_times(starts_at, now, &policy, &oslo()) {
                out.extend(plan.messages(reminder, to, Some(link), at)?);
            }
        }
        Ok(out)
    }

    /// Checks a list of hosts: at least one, each an active staff member who treats patients.
    async fn check_hosts(&self, hosts: &[Uuid], errors: &mut Vec<FieldError>) -> Result<Vec<Uuid>> {
        let mut out: Vec<Uuid> = Vec::new();
        if hosts.is_empty() {
            errors.push(field("hosts", "choose at least one host"));
        }
        for id in hosts {
            if out.contains(id) {
                continue;
            }
            match self.store().staff_by_id(*id).await? {
                Some(s) if s.active && s.roles.iter().any(|r| r.sees_health_data()) => {
                    out.push(*id)
                }
                _ => errors.push(field(
                    "hosts",
                    "a host must be an active staff member who treats patients",
                )),
            }
        }
        Ok(out)
    }

    async fn check_unit(&self, unit: Option<Uuid>, errors: &mut Vec<FieldError>) -> Result<()> {
        if let Some(u) = unit
            && !self.store().unit(u).await?.is_some_and(|u| u.active)
        {
            errors.push(field("unit_id", "choose an active service area"));
        }
        Ok(())
    }

    fn appointment_audit(
        &self,
        p: &StaffPrincipal,
        access: Option<&PatientAccess>,
        action: AuditAction,
        object: String,
        detail: String,
        ip: &str,
    ) -> NewAuditEntry {
        match access {
            Some(a) => a.audit(action, object, detail),
            None => NewAuditEntry {
                actor_id: Some(p.id),
                actor_label: p.username.clone(),
                action,
                outcome: AuditOutcome::Success,
                patient_id: None,
                object,
                ip: ip.to_owned(),
                detail,
                flagged: false,
            },
        }
    }

    /// Makes the invitations of `checked` with fresh tokens; returns them and their links.
    fn make_invitations(
        &self,
        checked: Vec<CheckedInvitee>,
        window: (Timestamp, Timestamp),
    ) -> (Vec<NewInvitation>, Vec<NewLink>) {
        let mut invitations = Vec::new();
        let mut links = Vec::new();
        for c in checked {
            let token = random_token(32);
            let inv = NewInvitation {
                id: new_id(),
                role: c.role,
                display_name: c.display_name,
                phone: c.phone,
                email: c.email,
                language: c.language,
                token_hash: token_hash(&token),
                valid_from: window.0,
                valid_until: window.1,
            };
            links.push(NewLink {
                invitation_id: inv.id,
                role: inv.role,
                display_name: inv.display_name.clone(),
                link: self.join_link(&token),
            });
            invitations.push(inv);
        }
        (invitations, links)
    }

    /// The patient's language, for invitees who did not choose one.
    async fn patient_language(&self, patient: Option<Uuid>) -> Result<Language> {
        Ok(match patient {
            Some(id) => self
                .store()
                .patient(id)
                .await?
                .map(|p| p.language)
                .unwrap_or_default(),
            None => Language::default(),
        })
    }

    /// Books a video appointment (VC-1): its room, one join link per invitee, the invitation
    /// messages and the reminders, and the audit entry, in one transaction. The links are in
    /// the answer, once.
    pub async fn book_appointment(
        &self,
        p: &StaffPrincipal,
        input: &BookingInput,
        ip: &str,
    ) -> Result<Booked> {
        p.require(Permission::TreatPatients)?;
        let access = match input.patient_id {
            Some(id) => Some(self.authorize_patient(p, id, Purpose::Change, ip).await?),
            None => None,
        };
        let mut errors = Vec::new();
        let starts_at = local_start(&input.date, &input.time, &mut errors);
        check_duration(input.duration_minutes, &mut errors);
        let duration = i64::from(input.duration_minutes);
        if let Some(start) = starts_at
            && start + SignedDuration::from_mins(duration) <= self.now()
        {
            errors.push(field("time", "that time has passed; choose a later time"));
        }
        let title = input.title.trim();
        if title.chars().count() > MAX_TITLE_CHARS {
            errors.push(field(
                "title",
                format!("the title may be at most {MAX_TITLE_CHARS} characters"),
            ));
        }
        self.check_unit(input.unit_id, &mut errors).await?;
        let hosts = self.check_hosts(&input.hosts, &mut errors).await?;
        let language = self.patient_language(input.patient_id).await?;
        let mut checked = Vec::new();
        for (n, i) in input.invitees.iter().enumerate() {
            if let Some(c) = check_invitee(i, &format!("invitees[{n}]."), language, &mut errors) {
                checked.push(c);
            }
        }
        let Some(starts_at) = starts_at.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };

        let id = new_id();
        let kind = AppointmentKind::Scheduled;
        let window = self.link_window(kind, starts_at, duration);
        let (invitations, links) = self.make_invitations(checked, window);
        let plan = self
            .message_plan(&AppointmentPlanInput {
                id,
                version: 1,
                unit_id: input.unit_id,
                starts_at,
                previous_start: None,
            })
            .await?;
        let mut messages = Vec::new();
        for (inv, link) in invitations.iter().zip(&links) {
            messages.extend(
                self.invitation_messages(
                    &plan,
                    kind,
                    MessageKind::Invitation,
                    &Recipient::of_new(inv),
                    &link.link,
                    starts_at,
                )
                .await?,
            );
        }
        let ends_at = starts_at + SignedDuration::from_mins(duration);
        messages.extend(
            self.staff_calendar_messages(&StaffCalendarChange {
                appointment: id,
                version: 1,
                notice: StaffNotice::Booked,
                start: starts_at,
                end: ends_at,
                sequence: 0,
                hosts: &hosts,
            })
            .await?,
        );
        let audit = self.appointment_audit(
            p,
            access.as_ref(),
            AuditAction::AppointmentBooked,
            format!("appointment:{id}"),
            format!("{} invitation(s)", invitations.len()),
            ip,
        );
        let new = NewAppointment {
            id,
            unit_id: input.unit_id,
            patient_id: input.patient_id,
            kind,
            starts_at,
            duration_minutes: duration,
            policy: input.policy,
            title: title.to_owned(),
            created_by: p.id,
            hosts,
            purge_at: self.purge_at(ends_at),
        };
        self.store()
            .create_appointment(&new, &invitations, &messages, &audit, self.now())
            .await?;
        Ok(Booked {
            appointment_id: id,
            links,
        })
    }

    /// The appointments the caller hosts or booked on a local date (`YYYY-MM-DD`; empty for
    /// today), with the live state of each room.
    pub async fn appointments_on(
        &self,
        p: &StaffPrincipal,
        date: &str,
    ) -> Result<Vec<AppointmentItem>> {
        let day = if date.trim().is_empty() {
            self.today()
        } else {
            date.trim()
                .parse::<Date>()
                .map_err(|_| AppError::invalid("date", "give the date as YYYY-MM-DD"))?
        };
        let next = day
            .tomorrow()
            .map_err(|_| AppError::invalid("date", "the date is out of range"))?;
        self.appointments_between(p, start_of(day)?, start_of(next)?)
            .await
    }

    /// What the home page lists: today's appointments and those starting in the next
    /// [`AHEAD_HOURS`] hours, so that late in the evening the first ones after midnight are there
    /// too (a call booked for 00:10 is found at 23:40).
    pub async fn appointments_ahead(&self, p: &StaffPrincipal) -> Result<Vec<AppointmentItem>> {
        let now = self.now();
        let today = self.today();
        let tomorrow = today
            .tomorrow()
            .map_err(|_| AppError::invalid("date", "the date is out of range"))?;
        let ahead = now
            .checked_add(SignedDuration::from_hours(AHEAD_HOURS))
            .unwrap_or(now);
        self.appointments_between(p, start_of(today)?, start_of(tomorrow)?.max(ahead))
            .await
    }

    async fn appointments_between(
        &self,
        p: &StaffPrincipal,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<AppointmentItem>> {
        let list = self
            .store()
            .appointments_of_staff(p.id, from, until)
            .await?;
        Ok(list
            .into_iter()
            .map(|a| AppointmentItem {
                live_state: self.live_state(a.id),
                appointment: a,
            })
            .collect())
    }

    /// Today's date in Norwegian time.
    pub fn today(&self) -> Date {
        self.now().to_zoned(oslo()).date()
    }

    /// The appointment, if the caller hosts it or booked it; 404 if it does not exist, 403 if
    /// it is someone else's. For the call code: no patient access is checked or logged here.
    pub async fn appointment_for_host(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
    ) -> Result<Appointment> {
        let a = self
            .store()
            .appointment(appointment_id)
            .await?
            .ok_or(AppError::NotFound("the appointment"))?;
        if a.is_host(p.id) {
            Ok(a)
        } else {
            Err(AppError::Forbidden(
                "only the appointment's hosts can open it",
            ))
        }
    }

    /// A host's access to an appointment, and — when it has a patient — to the patient
    /// (care team, audit-logged).
    async fn host_access(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        purpose: Purpose,
        ip: &str,
    ) -> Result<(Appointment, Option<PatientAccess>)> {
        let a = self.appointment_for_host(p, appointment_id).await?;
        let access = match a.patient_id {
            Some(patient) => Some(self.authorize_patient(p, patient, purpose, ip).await?),
            None => None,
        };
        Ok((a, access))
    }

    /// One appointment with its invitations.
    pub async fn appointment_details(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        ip: &str,
    ) -> Result<AppointmentDetails> {
        let (appointment, _) = self
            .host_access(p, appointment_id, Purpose::Read, ip)
            .await?;
        let invitations = self.store().invitations_of(appointment_id).await?;
        Ok(AppointmentDetails {
            live_state: self.live_state(appointment_id),
            appointment,
            invitations,
        })
    }

    /// Invites one more participant; the link is in the answer, once, and in the invitation
    /// message when a phone number or e-mail address is given.
    pub async fn add_invitee(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        input: &InviteeInput,
        ip: &str,
    ) -> Result<NewLink> {
        let (a, access) = self
            .host_access(p, appointment_id, Purpose::Change, ip)
            .await?;
        if a.cancelled_at.is_some() {
            return Err(AppError::Conflict("the appointment is cancelled".into()));
        }
        let language = self.patient_language(a.patient_id).await?;
        let mut errors = Vec::new();
        let Some(checked) = check_invitee(input, "", language, &mut errors) else {
            return Err(AppError::Invalid(errors));
        };
        let window = self.link_window(a.kind, a.starts_at, a.duration_minutes);
        if window.1 <= self.now() {
            return Err(AppError::Conflict(
                "the appointment is over; its links would no longer work".into(),
            ));
        }
        let (invitations, mut links) = self.make_invitations(vec![checked], window);
        let (Some(inv), Some(link)) = (invitations.first(), links.pop()) else {
            return Err(AppError::Internal("no invitation made".into()));
        };
        let plan = self
            .message_plan(&AppointmentPlanInput::of(&a, None))
            .await?;
        let start = if a.kind == AppointmentKind::Adhoc {
            self.now()
        } else {
            a.starts_at
        };
        let plan = MessagePlan {
            base: MessageContext {
                start: Some(start),
                ..plan.base
            },
            ..plan
        };
        let messages = self
            .invitation_messages(
                &plan,
                a.kind,
                MessageKind::Invitation,
                &Recipient::of_new(inv),
                &link.link,
                a.starts_at,
            )
            .await?;
        let audit = self.appointment_audit(
            p,
            access.as_ref(),
            AuditAction::InvitationCreated,
            format!("invitation:{}", inv.id),
            format!("appointment:{appointment_id} role {}", inv.role.code()),
            ip,
        );
        self.store()
            .add_invitation(appointment_id, inv, &messages, &audit, self.now())
            .await?;
        Ok(link)
    }

    /// Revokes an invitation: its links stop working at once and its unsent messages are
    /// withdrawn.
    pub async fn revoke_invitation(
        &self,
        p: &StaffPrincipal,
        invitation_id: Uuid,
        ip: &str,
    ) -> Result<()> {
        let inv = self
            .store()
            .invitation(invitation_id)
            .await?
            .ok_or(AppError::NotFound("the invitation"))?;
        let (_, access) = self
            .host_access(p, inv.appointment_id, Purpose::Change, ip)
            .await?;
        if inv.revoked_at.is_some() {
            return Ok(());
        }
        let audit = self.appointment_audit(
            p,
            access.as_ref(),
            AuditAction::InvitationRevoked,
            format!("invitation:{invitation_id}"),
            format!("appointment:{}", inv.appointment_id),
            ip,
        );
        self.store()
            .revoke_invitation(invitation_id, &audit, self.now())
            .await?;
        Ok(())
    }

    /// Moves a scheduled appointment. The links' window follows; every invitee with a phone
    /// number or e-mail address gets the new time with a new link (their old link keeps
    /// working), and the reminders are replaced.
    pub async fn move_appointment(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        input: &MoveInput,
        ip: &str,
    ) -> Result<Appointment> {
        let (a, access) = self
            .host_access(p, appointment_id, Purpose::Change, ip)
            .await?;
        if a.cancelled_at.is_some() {
            return Err(AppError::Conflict("the appointment is cancelled".into()));
        }
        if a.kind == AppointmentKind::Adhoc {
            return Err(AppError::Conflict(
                "a room started at once cannot be moved; book an appointment instead".into(),
            ));
        }
        let mut errors = Vec::new();
        let starts_at = local_start(&input.date, &input.time, &mut errors);
        let minutes = input
            .duration_minutes
            .unwrap_or(u32::try_from(a.duration_minutes).unwrap_or(MAX_DURATION_MINUTES));
        check_duration(minutes, &mut errors);
        let duration = i64::from(minutes);
        if let Some(start) = starts_at
            && start + SignedDuration::from_mins(duration) <= self.now()
        {
            errors.push(field("time", "that time has passed; choose a later time"));
        }
        let Some(starts_at) = starts_at.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let window = self.link_window(a.kind, starts_at, duration);
        let invitations = self.store().invitations_of(appointment_id).await?;
        let ends_at = starts_at + SignedDuration::from_mins(duration);
        let mut change = Reschedule {
            starts_at,
            duration_minutes: duration,
            valid_from: window.0,
            valid_until: window.1,
            new_tokens: Vec::new(),
            purge_at: self.purge_at(ends_at),
        };
        let plan = self
            .message_plan(&AppointmentPlanInput {
                id: a.id,
                version: a.version + 1,
                unit_id: a.unit_id,
                starts_at,
                previous_start: Some(a.starts_at),
            })
            .await?;
        let mut messages = Vec::new();
        for inv in invitations.iter().filter(|i| {
            i.revoked_at.is_none()
                && i.spent_at.is_none()
                && (i.phone.is_some() || i.email.is_some())
        }) {
            let token = random_token(32);
            change.new_tokens.push((inv.id, token_hash(&token)));
            messages.extend(
                self.invitation_messages(
                    &plan,
                    a.kind,
                    MessageKind::Changed,
                    &Recipient::of(inv),
                    &self.join_link(&token),
                    starts_at,
                )
                .await?,
            );
        }
        let hosts: Vec<Uuid> = a.hosts.iter().map(|h| h.staff_id).collect();
        messages.extend(
            self.staff_calendar_messages(&StaffCalendarChange {
                appointment: a.id,
                version: a.version + 1,
                notice: StaffNotice::Moved,
                start: starts_at,
                end: ends_at,
                sequence: u32::try_from(a.version).unwrap_or(u32::MAX),
                hosts: &hosts,
            })
            .await?,
        );
        let audit = self.appointment_audit(
            p,
            access.as_ref(),
            AuditAction::AppointmentMoved,
            format!("appointment:{appointment_id}"),
            format!("from {} to {} ({duration} min)", a.starts_at, starts_at),
            ip,
        );
        let done = self
            .store()
            .reschedule_appointment(
                appointment_id,
                a.version,
                &change,
                &messages,
                &audit,
                self.now(),
            )
            .await?;
        if !done {
            return Err(AppError::Conflict(
                "the appointment was changed by someone else at the same time; try again".into(),
            ));
        }
        self.store()
            .appointment(appointment_id)
            .await?
            .ok_or(AppError::NotFound("the appointment"))
    }

    /// Cancels an appointment: its links stop working, its unsent messages are withdrawn, and
    /// every invitee with a phone number or e-mail address is told.
    pub async fn cancel_appointment(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        ip: &str,
    ) -> Result<()> {
        let (a, access) = self
            .host_access(p, appointment_id, Purpose::Change, ip)
            .await?;
        if a.cancelled_at.is_some() {
            return Ok(());
        }
        let invitations = self.store().invitations_of(appointment_id).await?;
        let plan = self
            .message_plan(&AppointmentPlanInput::of(&a, None))
            .await?;
        let now = self.now();
        let mut messages = Vec::new();
        // Nobody is told of a cancelled room that was started at once, or of one already over.
        if a.kind == AppointmentKind::Scheduled && a.ends_at() > now {
            for inv in invitations.iter().filter(|i| i.revoked_at.is_none()) {
                messages.extend(plan.messages(
                    MessageKind::Cancelled,
                    &Recipient::of(inv),
                    None,
                    now,
                )?);
            }
            let hosts: Vec<Uuid> = a.hosts.iter().map(|h| h.staff_id).collect();
            messages.extend(
                self.staff_calendar_messages(&StaffCalendarChange {
                    appointment: a.id,
                    version: a.version,
                    notice: StaffNotice::Cancelled,
                    start: a.starts_at,
                    end: a.ends_at(),
                    sequence: u32::try_from(a.version).unwrap_or(u32::MAX),
                    hosts: &hosts,
                })
                .await?,
            );
        }
        let audit = self.appointment_audit(
            p,
            access.as_ref(),
            AuditAction::AppointmentCancelled,
            format!("appointment:{appointment_id}"),
            String::new(),
            ip,
        );
        self.store()
            .cancel_appointment(appointment_id, &messages, self.purge_at(now), &audit, now)
            .await?;
        Ok(())
    }

    /// "Start video now" (VC-2): a room that opens at once, with one link to hand over or send.
    pub async fn start_room(
        &self,
        p: &StaffPrincipal,
        input: &RoomInput,
        ip: &str,
    ) -> Result<RoomStarted> {
        p.require(Permission::TreatPatients)?;
        let access = match input.patient_id {
            Some(id) => Some(self.authorize_patient(p, id, Purpose::Change, ip).await?),
            None => None,
        };
        let mut errors = Vec::new();
        self.check_unit(input.unit_id, &mut errors).await?;
        let language = self.patient_language(input.patient_id).await?;
        let invitee = match &input.invitee {
            Some(i) => check_invitee(i, "invitee.", language, &mut errors),
            None => {
                let name = match input.patient_id {
                    Some(id) => self.store().patient(id).await?.map(|p| p.name),
                    None => None,
                };
                Some(CheckedInvitee {
                    role: if input.patient_id.is_some() {
                        InviteeRole::Patient
                    } else {
                        InviteeRole::External
                    },
                    display_name: name.unwrap_or_else(|| "Gjest".into()),
                    phone: None,
                    email: None,
                    language,
                })
            }
        };
        let Some(invitee) = invitee.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.now();
        let id = new_id();
        let kind = AppointmentKind::Adhoc;
        let window = self.link_window(kind, now, ADHOC_DURATION_MINUTES);
        let (invitations, mut links) = self.make_invitations(vec![invitee], window);
        let (Some(inv), Some(link)) = (invitations.first(), links.pop()) else {
            return Err(AppError::Internal("no invitation made".into()));
        };
        let plan = self
            .message_plan(&AppointmentPlanInput {
                id,
                version: 1,
                unit_id: input.unit_id,
                starts_at: now,
                previous_start: None,
            })
            .await?;
        let messages = plan.messages(
            MessageKind::Invitation,
            &Recipient::of_new(inv),
            Some(&link.link),
            now,
        )?;
        let audit = self.appointment_audit(
            p,
            access.as_ref(),
            AuditAction::AppointmentBooked,
            format!("appointment:{id}"),
            "ad-hoc room".into(),
            ip,
        );
        let new = NewAppointment {
            id,
            unit_id: input.unit_id,
            patient_id: input.patient_id,
            kind,
            starts_at: now,
            duration_minutes: ADHOC_DURATION_MINUTES,
            policy: if input.patient_id.is_some() {
                CallPolicy::Consultation
            } else {
                CallPolicy::Administrative
            },
            title: String::new(),
            created_by: p.id,
            hosts: vec![p.id],
            purge_at: self.purge_at(now + SignedDuration::from_mins(ADHOC_DURATION_MINUTES)),
        };
        self.store()
            .create_appointment(&new, &invitations, &messages, &audit, now)
            .await?;
        Ok(RoomStarted {
            appointment_id: id,
            host_path: format!("/calls/{id}"),
            invitation: link,
        })
    }

    /// Records what happened (VC-11, VC-14) — also during the call, for a fallback. The
    /// minutes are taken from the call's start and end (or now, if it has not ended) unless
    /// given.
    pub async fn record_outcome(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        input: &OutcomeInput,
        ip: &str,
    ) -> Result<Appointment> {
        let (a, access) = self
            .host_access(p, appointment_id, Purpose::Change, ip)
            .await?;
        let note = input.note.trim();
        let mut errors = Vec::new();
        if note.chars().count() > MAX_NOTE_CHARS {
            errors.push(field(
                "note",
                format!("the note may be at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        if input.minutes.is_some_and(|m| m > 24 * 60) {
            errors.push(field(
                "minutes",
                "give the minutes the call lasted (0 to 1440)",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = self.now();
        let minutes = match (input.minutes, a.call_started_at) {
            (Some(m), _) => Some(i64::from(m)),
            (None, Some(start)) => {
                let end = a.call_ended_at.unwrap_or(now).max(start);
                let secs = end.duration_since(start).as_secs();
                Some((secs + 59) / 60)
            }
            (None, None) => None,
        };
        let record = OutcomeRecord {
            outcome: input.outcome,
            minutes,
            note: note.to_owned(),
            recorded_by: p.id,
        };
        let audit = self.appointment_audit(
            p,
            access.as_ref(),
            AuditAction::OutcomeRecorded,
            format!("appointment:{appointment_id}"),
            input.outcome.code().to_owned(),
            ip,
        );
        if !self
            .store()
            .record_outcome(appointment_id, &record, &audit, now)
            .await?
        {
            return Err(AppError::NotFound("the appointment"));
        }
        self.store()
            .appointment(appointment_id)
            .await?
            .ok_or(AppError::NotFound("the appointment"))
    }

    /// What a join link grants, if it works now. An unknown, expired, not yet open, revoked or
    /// spent link, or one of a cancelled appointment, all get the same error.
    pub async fn resolve_join_token(&self, token: &str) -> Result<JoinGrant> {
        let token = token.trim();
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid_link());
        }
        let Some((inv, a)) = self.store().invitation_by_token(&token_hash(token)).await? else {
            return Err(invalid_link());
        };
        let now = self.now();
        let usable = inv.revoked_at.is_none()
            && inv.spent_at.is_none()
            && a.cancelled_at.is_none()
            && inv.valid_from <= now
            && now < inv.valid_until;
        if !usable {
            return Err(invalid_link());
        }
        let org = self.organisation().await?;
        Ok(JoinGrant {
            invitation_id: inv.id,
            appointment_id: a.id,
            role: inv.role,
            display_name: inv.display_name,
            phone_on_file: inv.phone.is_some(),
            policy: a.policy,
            language: inv.language,
            organisation_name: org.name,
            support_phone: org.support_phone,
            starts_at: a.starts_at,
            valid_until: inv.valid_until,
        })
    }

    /// Ends an invitation's links (e.g. when a host removes the participant). Idempotent.
    pub async fn mark_invitation_spent(&self, invitation_id: Uuid) -> Result<()> {
        if self
            .store()
            .mark_invitation_spent(invitation_id, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound("the invitation"))
        }
    }

    /// Records that a call began in the room; only the first start counts.
    pub async fn record_call_started(&self, appointment_id: Uuid) -> Result<()> {
        if self
            .store()
            .record_call_started(appointment_id, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound("the appointment"))
        }
    }

    /// Records that the call in the room ended; the last end counts.
    pub async fn record_call_ended(&self, appointment_id: Uuid) -> Result<()> {
        if self
            .store()
            .record_call_ended(appointment_id, self.now())
            .await?
            || self.store().appointment(appointment_id).await?.is_some()
        {
            Ok(())
        } else {
            Err(AppError::NotFound("the appointment"))
        }
    }

    /// Active service areas, for the booking form.
    pub async fn active_units(&self) -> Result<Vec<(Uuid, String)>> {
        Ok(self
            .store()
            .units()
            .await?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| (u.id, u.name))
            .collect())
    }
}

/// What the messages of an appointment are built from.
struct AppointmentPlanInput {
    id: Uuid,
    version: i64,
    unit_id: Option<Uuid>,
    starts_at: Timestamp,
    previous_start: Option<Timestamp>,
}

impl AppointmentPlanInput {
    fn of(a: &Appointment, previous_start: Option<Timestamp>) -> AppointmentPlanInput {
        AppointmentPlanInput {
            id: a.id,
            version: a.version,
            unit_id: a.unit_id,
            starts_at: a.starts_at,
            previous_start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_norwegian() {
        let mut errors = Vec::new();
        let t = local_start("2026-07-01", "10:30", &mut errors);
        assert!(errors.is_empty());
        assert_eq!(t, "2026-07-01T08:30:00Z".parse().ok());
        assert!(local_start("2026-13-01", "25:00", &mut errors).is_none());
        assert_eq!(errors.len(), 2);
    }
}
