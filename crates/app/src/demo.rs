//! First start-up and demo data.
//!
//! [`App::bootstrap`] creates the organisation and, when no administrator exists, one
//! administrator with a printed one-time password. [`App::load_demo`] adds a demo
//! organisation — two service areas, one user per role, a handful of synthetic patients —
//! so a newcomer can click through everything.

use crate::admin::StaffInput;
use crate::appointments::{BookingInput, InviteeInput};
use crate::auth::hash_password;
use crate::error::Result;
use crate::followup::rules::questionnaire::COPD_SYMPTOMS;
use crate::followup::rules::schedule::{Recurrence, Task, TaskSchedule};
use crate::followup::rules::time::{at_local, local_date};
use crate::followup::rules::{Colour, Condition, MeasurementKind, Observation};
use crate::followup_plans::PlanEntry;
use crate::followup_referrals::ReferralInput;
use crate::secrets::readable_password;
use crate::{App, Purpose};
use helsebro_domain::appointment::{CallPolicy, InviteeRole};
use helsebro_domain::{AuditAction, AuditOutcome, Language, NationalId, NewPatient, Role};
use helsebro_notify::schedule::oslo;
use helsebro_store::{NewAuditEntry, Organisation, UnitKind};

/// A username and a password to print.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// The demo staff: username, name, role, service area (index into `DEMO_UNITS`).
const DEMO_STAFF: [(&str, &str, Role, usize); 8] = [
    ("admin", "Ada Andersen", Role::Administrator, 0),
    ("leder", "Leif Lien", Role::ServiceOwner, 0),
    ("lege", "Ingrid Berg", Role::Clinician, 0),
    ("sykepleier", "Ola Haugen", Role::FollowUpNurse, 0),
    ("superbruker", "Siri Dahl", Role::Superuser, 1),
    ("support", "Sander Moe", Role::Support, 0),
    ("personvern", "Nina Strand", Role::DataProtectionOfficer, 0),
    ("annenlege", "Erik Vik", Role::Clinician, 1),
];

const DEMO_UNITS: [(&str, UnitKind); 2] = [
    ("Hjemmetjenesten", UnitKind::HomeCare),
    ("Solbakken sykehjem", UnitKind::NursingHome),
];

/// Synthetic patients: name, birth date, language, care team (usernames).
const DEMO_PATIENTS: [(&str, &str, Language, &[&str]); 5] = [
    (
        "Kari Nordmann",
        "1941-03-15",
        Language::Nb,
        &["lege", "sykepleier"],
    ),
    (
        "Per Hansen",
        "1938-11-02",
        Language::Nb,
        &["lege", "sykepleier"],
    ),
    ("Astrid Lunde", "1950-06-21", Language::Nn, &["lege"]),
    ("John Smith", "1947-01-30", Language::En, &["sykepleier"]),
    ("Margit Olsen", "1933-09-09", Language::Nb, &["superbruker"]),
];

/// A synthetic national identity number (month + 80, as in the Norwegian test data
/// convention) for a birth date, so demo data can never be a real person's number.
fn synthetic_national_id(birth: &str, serial: usize) -> Option<String> {
    let (y, rest) = birth.split_once('-')?;
    let (m, d) = rest.split_once('-')?;
    let month: u32 = m.parse().ok()?;
    (0..50).find_map(|k| {
        let first_nine = format!(
            "{d}{:02}{}{:03}",
            month + 80,
            &y[2..],
            (serial * 50 + k) % 500
        );
        NationalId::complete(&first_nine).map(|n| n.as_str().to_owned())
    })
}

impl App {
    /// Creates the organisation on a new database, and an administrator if none exists.
    /// Returns the administrator's credentials to print, if one was created.
    pub async fn bootstrap(&self) -> Result<Option<Credentials>> {
        let initial = Organisation::initial(&self.config().organisation_name);
        self.store()
            .ensure_organisation(&initial, self.now())
            .await?;
        if self
            .store()
            .any_staff_with_role(Role::Administrator)
            .await?
        {
            return Ok(None);
        }
        let mut username = "admin".to_owned();
        let mut n = 1;
        while self.store().staff_by_username(&username).await?.is_some() {
            n += 1;
            username = format!("admin{n}");
        }
        let password = readable_password();
        let input = StaffInput {
            username: username.clone(),
            display_name: "Administrator".into(),
            email: String::new(),
            password: password.clone(),
            roles: vec![Role::Administrator],
            unit_id: None,
        };
        self.create_staff(None, &input, "local").await?;
        Ok(Some(Credentials {
            username,
            password,
            role: Role::Administrator,
        }))
    }

    /// Loads (or refreshes) the demo organisation. Every run sets new demo passwords — or
    /// `fixed_password` for all of them — and returns them to print.
    pub async fn load_demo(&self, fixed_password: Option<&str>) -> Result<Vec<Credentials>> {
        let now = self.now();
        self.store()
            .ensure_organisation(
                &Organisation::initial(&self.config().organisation_name),
                now,
            )
            .await?;
        let mut units = self.store().units().await?;
        let system = NewAuditEntry {
            actor_id: None,
            actor_label: "demo".into(),
            action: AuditAction::UnitChanged,
            outcome: AuditOutcome::Success,
            patient_id: None,
            object: String::new(),
            ip: "local".into(),
            detail: "demo data".into(),
            flagged: false,
        };
        for (name, kind) in DEMO_UNITS {
            if !units.iter().any(|u| u.name == name) {
                units.push(
                    self.store()
                        .create_unit(name, kind, Some(&system), now)
                        .await?,
                );
            }
        }
        let unit_id = |i: usize| {
            units
                .iter()
                .find(|u| u.name == DEMO_UNITS[i].0)
                .map(|u| u.id)
        };

        let mut printed = Vec::new();
        for (username, name, role, unit) in DEMO_STAFF {
            let password = fixed_password
                .map(str::to_owned)
                .unwrap_or_else(readable_password);
            match self.store().staff_by_username(username).await? {
                Some(existing) => {
                    let hash = hash_password(password.clone()).await?;
                    self.store().set_password_hash(existing.id, &hash).await?;
                }
                None => {
                    let input = StaffInput {
                        username: username.into(),
                        display_name: name.into(),
                        email: format!("{username}@demo.helsebro.invalid"),
                        password: password.clone(),
                        roles: vec![role],
                        unit_id: unit_id(unit),
                    };
                    self.create_staff(None, &input, "local").await?;
                }
            }
            printed.push(Credentials {
                username: username.into(),
                password,
                role,
            });
        }

        for (serial, (name, birth, language, team)) in DEMO_PATIENTS.iter().enumerate() {
            let Some(nid) = synthetic_national_id(birth, serial) else {
                continue;
            };
            if self
                .store()
                .patient_id_by_national_id(&nid)
                .await?
                .is_some()
            {
                continue;
            }
            let new = NewPatient {
                name: (*name).into(),
                birth_date: (*birth).into(),
                national_id: nid,
                phone: format!("9{:07}", 1_000_000 + serial * 1111),
                email: String::new(),
                language: *language,
            };
            let Ok(valid) = new.validate() else { continue };
            let mut members = Vec::new();
            for username in *team {
                if let Some(s) = self.store().staff_by_username(username).await? {
                    members.push(s);
                }
            }
            let Some(first) = members.first() else {
                continue;
            };
            let created = NewAuditEntry {
                action: AuditAction::PatientCreated,
                ..system.clone()
            };
            let id = self
                .store()
                .create_patient(&valid, first.unit_id, first.id, &created, now)
                .await?;
            for other in members.iter().skip(1) {
                let changed = NewAuditEntry {
                    action: AuditAction::CareTeamChanged,
                    patient_id: Some(id),
                    ..system.clone()
                };
                self.store()
                    .set_care_team_member(id, other.id, "following_up", &changed, now)
                    .await?;
            }
        }
        Ok(printed)
    }
}

/// The title of the demo video appointment (staff see it; it is never sent).
const DEMO_APPOINTMENT_TITLE: &str = "Demo: videotime";

impl App {
    /// The demo video appointment: half an hour from now (after midnight late in the evening), for the first demo patient with
    /// the demo clinician (`lege`) as host. Each run makes a fresh link for the patient (links
    /// cannot be shown again) and returns it to print; `None` without the demo data.
    pub async fn load_demo_appointment(&self) -> Result<Option<String>> {
        let Some(lege) = self.store().staff_by_username("lege").await? else {
            return Ok(None);
        };
        let (name, birth, language, _) = DEMO_PATIENTS[0];
        let Some(nid) = synthetic_national_id(birth, 0) else {
            return Ok(None);
        };
        let Some(patient_id) = self.store().patient_id_by_national_id(&nid).await? else {
            return Ok(None);
        };
        let principal = demo_principal(&lege);
        let invitee = InviteeInput {
            role: InviteeRole::Patient,
            display_name: name.into(),
            phone: String::new(),
            email: String::new(),
            language: Some(language),
        };
        let now = self.now();
        let existing = self
            .appointments_ahead(&principal)
            .await?
            .into_iter()
            .find(|i| {
                let a = &i.appointment;
                a.title == DEMO_APPOINTMENT_TITLE && a.cancelled_at.is_none() && a.ends_at() > now
            });
        if let Some(item) = existing {
            let link = self
                .add_invitee(&principal, item.appointment.id, &invitee, "local")
                .await?;
            return Ok(Some(link.link));
        }
        // Half an hour from now, on a five-minute mark, so the link works at once.
        let start = (now + jiff::SignedDuration::from_mins(30)).to_zoned(oslo());
        let minute = start.minute() - start.minute() % 5;
        let input = BookingInput {
            patient_id: Some(patient_id),
            date: start.date().to_string(),
            time: format!("{:02}:{minute:02}", start.hour()),
            duration_minutes: 30,
            unit_id: lege.unit_id,
            policy: CallPolicy::Consultation,
            title: DEMO_APPOINTMENT_TITLE.into(),
            hosts: vec![lege.id],
            invitees: vec![invitee],
        };
        let booked = self.book_appointment(&principal, &input, "local").await?;
        Ok(booked.links.into_iter().next().map(|l| l.link))
    }
}

/// A staff member as the demo loader acts for them.
fn demo_principal(s: &helsebro_store::Staff) -> crate::StaffPrincipal {
    crate::StaffPrincipal {
        id: s.id,
        username: "demo".into(),
        display_name: s.display_name.clone(),
        roles: s.roles.clone(),
        language: None,
        csrf_token: String::new(),
        session_hash: String::new(),
    }
}

/// Demo home follow-up: (patient index in `DEMO_PATIENTS`, conditions, daily measurements,
/// today's readings). Three weeks of readings around a personal normal come first, so the
/// baselines and trends have something to look at; today's readings then give the work list a
/// red (Kari: low SpO2), a yellow (Per: weight up over three days) and a green patient (John).
type DemoToday = &'static [(MeasurementKind, f64)];
const DEMO_FOLLOWUP: [(usize, &[Condition], &[MeasurementKind], DemoToday); 3] = [
    (
        0,
        &[Condition::Copd],
        &[MeasurementKind::OxygenSaturation, MeasurementKind::Pulse],
        &[
            (MeasurementKind::OxygenSaturation, 86.0),
            (MeasurementKind::Pulse, 104.0),
        ],
    ),
    (
        1,
        &[Condition::HeartFailure],
        &[MeasurementKind::BodyWeight, MeasurementKind::Pulse],
        &[
            (MeasurementKind::BodyWeight, 79.6),
            (MeasurementKind::Pulse, 78.0),
        ],
    ),
    (
        3,
        &[Condition::Copd],
        &[MeasurementKind::OxygenSaturation],
        &[(MeasurementKind::OxygenSaturation, 95.0)],
    ),
];

/// A usual value for a demo measurement, wandering a little from day to day.
fn demo_usual(kind: MeasurementKind, day: i64) -> f64 {
    let wobble = ((day * 7) % 5) as f64 - 2.0;
    match kind {
        MeasurementKind::OxygenSaturation => 95.0 + (wobble / 2.0).round(),
        MeasurementKind::Pulse => 76.0 + wobble * 2.0,
        // Per's weight is up half a kilo yesterday (and over a kilo more today).
        MeasurementKind::BodyWeight if day == 1 => 78.5,
        MeasurementKind::BodyWeight => 78.0 + wobble / 10.0,
        _ => 0.0,
    }
}

impl App {
    /// Puts three demo patients in home follow-up with a measurement plan and three weeks of
    /// readings, today's making a red, a yellow and a green. Does nothing for a patient who is
    /// already in follow-up, so a restart with `--demo` leaves earlier data alone. Returns the
    /// patients' names and phone numbers (they log in to the patient app by a code sent there).
    pub async fn load_demo_followup(&self) -> Result<Vec<(String, String)>> {
        let Some(nurse) = self.store().staff_by_username("sykepleier").await? else {
            return Ok(Vec::new());
        };
        let principal = demo_principal(&nurse);
        let now = self.now();
        let today = local_date(now);
        let mut out = Vec::new();
        for (index, conditions, daily, today_values) in DEMO_FOLLOWUP {
            let (name, birth, _, _) = DEMO_PATIENTS[index];
            let Some(nid) = synthetic_national_id(birth, index) else {
                continue;
            };
            let Some(pid) = self.store().patient_id_by_national_id(&nid).await? else {
                continue;
            };
            let Some(patient) = self.store().patient(pid).await? else {
                continue;
            };
            out.push((name.to_owned(), patient.phone.clone().unwrap_or_default()));
            if self.store().followup_enrolment(pid).await?.is_some() {
                continue;
            }
            let access = self
                .authorize_patient(&principal, pid, Purpose::Change, "local")
                .await?;
            let mut plan: Vec<TaskSchedule> = daily
                .iter()
                .map(|k| TaskSchedule {
                    task: Task::Measurement(*k),
                    recurrence: Recurrence::Daily,
                    due_by: jiff::civil::time(10, 0, 0, 0),
                    grace: jiff::SignedDuration::from_hours(2),
                    starts: today,
                    ends: None,
                })
                .collect();
            // The COPD symptom check once a week, starting today.
            if conditions.contains(&Condition::Copd) {
                plan.push(TaskSchedule {
                    task: Task::Questionnaire(COPD_SYMPTOMS.id.to_owned()),
                    recurrence: Recurrence::Weekly {
                        days: vec![today.weekday()],
                    },
                    due_by: jiff::civil::time(18, 0, 0, 0),
                    grace: jiff::SignedDuration::from_hours(2),
                    starts: today,
                    ends: None,
                });
            }
            self.enrol_followup(&access, conditions, &plan).await?;
            let mut readings = Vec::new();
            for day in (1..=21).rev() {
                let date = today
                    .checked_sub(jiff::Span::new().days(day))
                    .unwrap_or(today);
                let at = at_local(date, jiff::civil::time(8, 30, 0, 0));
                for k in daily {
                    readings.push(Observation::manual(*k, at, demo_usual(*k, day)));
                }
            }
            // This morning at 08:30, or now if it is earlier than that.
            let at = now.min(at_local(today, jiff::civil::time(8, 30, 0, 0)));
            for (k, v) in today_values {
                readings.push(Observation::manual(*k, at, *v));
            }
            self.ingest_batch(pid, readings, "demo").await?;
            if index == 0 {
                self.load_demo_plan(pid).await?;
            }
        }
        self.load_demo_referral().await?;
        Ok(out)
    }

    /// Kari's self-care plan for COPD, made by the nurse and approved by her GP (`lege`).
    async fn load_demo_plan(&self, pid: uuid::Uuid) -> Result<()> {
        let (Some(nurse), Some(gp)) = (
            self.store().staff_by_username("sykepleier").await?,
            self.store().staff_by_username("lege").await?,
        ) else {
            return Ok(());
        };
        let step = |colour, what: &str, medication: &str, contact: &str| PlanEntry {
            condition: Condition::Copd,
            colour,
            what_to_do: what.into(),
            medication: medication.into(),
            contact: contact.into(),
        };
        let entries = vec![
            step(
                Colour::Green,
                "Fortsett som vanlig. Gå en tur hver dag hvis du orker.",
                "",
                "Ingen, hvis du har det som vanlig.",
            ),
            step(
                Colour::Yellow,
                "Bruk leppepust og ta det med ro. Mål igjen om to timer.",
                "Ta ekstra doser av den blå inhalatoren, inntil fire ganger i døgnet.",
                "Ring oppfølgingstjenesten på dagtid.",
            ),
            step(
                Colour::Red,
                "Sett deg godt til rette og bruk leppepust.",
                "Start kurpakken med kortison og antibiotika som legen har skrevet ut.",
                "Ring oppfølgingstjenesten nå, og legevakt 116 117 på kveld og natt. Ring 113 hvis du blir svært tungpustet.",
            ),
        ];
        let access = self
            .authorize_patient(&demo_principal(&nurse), pid, Purpose::Change, "local")
            .await?;
        let (plan_id, _) = self.save_followup_plan(&access, entries).await?;
        let access = self
            .authorize_patient(&demo_principal(&gp), pid, Purpose::Change, "local")
            .await?;
        self.approve_followup_plan(&access, plan_id).await
    }

    /// One inclusion and one exclusion criterion, and a referral from the GP for Astrid Lunde
    /// waiting for assessment (once).
    async fn load_demo_referral(&self) -> Result<()> {
        let (Some(leder), Some(gp)) = (
            self.store().staff_by_username("leder").await?,
            self.store().staff_by_username("lege").await?,
        ) else {
            return Ok(());
        };
        let (_, birth, _, _) = DEMO_PATIENTS[2];
        let Some(nid) = synthetic_national_id(birth, 2) else {
            return Ok(());
        };
        let Some(pid) = self.store().patient_id_by_national_id(&nid).await? else {
            return Ok(());
        };
        let owner = demo_principal(&leder);
        if self.followup_criteria_admin(&owner).await?.is_empty() {
            self.add_followup_criterion(
                &owner,
                None,
                "inclusion",
                "Kan måle selv eller med hjelp hjemme",
                "local",
            )
            .await?;
            self.add_followup_criterion(
                &owner,
                None,
                "exclusion",
                "Bor på institusjon med døgnbemanning",
                "local",
            )
            .await?;
        }
        let access = self
            .authorize_patient(&demo_principal(&gp), pid, Purpose::Change, "local")
            .await?;
        if self.inclusion_record(&access).await?.referrals.is_empty() {
            self.register_referral(
                &access,
                &ReferralInput {
                    source_kind: "gp".into(),
                    referrer_name: "Ingrid Berg".into(),
                    referrer_org: "Fjordvik legesenter".into(),
                    conditions: vec![Condition::HeartFailure],
                    reason: "Hjertesvikt med to innleggelser siste halvår. Ønsker tett oppfølging av vekt og symptomer hjemme.".into(),
                    received_on: local_date(self.now()).to_string(),
                },
            )
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_ids_are_valid_and_synthetic() {
        for (serial, (_, birth, _, _)) in DEMO_PATIENTS.iter().enumerate() {
            let nid = synthetic_national_id(birth, serial).expect("a synthetic number exists");
            assert!(NationalId::parse(&nid).is_ok());
            let month: u32 = nid[2..4].parse().unwrap();
            assert!(
                month > 80,
                "month field {month} marks the number as synthetic"
            );
        }
    }
}
