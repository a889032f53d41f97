//! The audit log's entries and the SHA-256 hash chain that makes tampering evident (ID-4).
//!
//! Every entry carries the hash of the entry before it. Changing any field of any entry, or
//! removing one, breaks the chain from that point on; [`verify_chain`] finds the first break.

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of the very first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. The code is what is stored and searched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    LoginSucceeded,
    LoginFailed,
    LoginRateLimited,
    TotpEnrolled,
    TotpFailed,
    Logout,
    PatientRead,
    PatientCreated,
    PatientUpdated,
    CareTeamChanged,
    EmergencyAccess,
    StaffCreated,
    StaffUpdated,
    UnitChanged,
    SettingsChanged,
    AuditSearched,
    TestMessageSent,
    CallKnocked,
    CallAdmitted,
    CallRejected,
    CallJoined,
    CallLeft,
    CallLocked,
    CallUnlocked,
    CallRemoved,
    CallEnded,
    CallIdentityConfirmed,
    CallHostHandedOver,
    CallMuted,
    AppointmentBooked,
    AppointmentMoved,
    AppointmentCancelled,
    InvitationCreated,
    InvitationRevoked,
    OutcomeRecorded,
    AppointmentPurged,
    CalendarFeedCreated,
    CalendarFeedRevoked,
    FollowupEnrolled,
    FollowupRulesChanged,
    FollowupPaused,
    FollowupResumed,
    FollowupEnded,
    FollowupReadingRecorded,
    FollowupAnswerRecorded,
    FollowupAlertAcknowledged,
    FollowupAlertActed,
    FollowupGreenAcknowledged,
    FollowupDeviceTokenCreated,
    FollowupPlanChanged,
    FollowupPlanApproved,
    FollowupReferralReceived,
    FollowupReferralDecided,
    FollowupBaselineRecorded,
    FollowupNoteWritten,
    PatientAppLogin,
    FollowupMissingReport,
    FollowupAlertEscalated,
}

impl AuditAction {
    pub const ALL: [AuditAction; 58] = [
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::LoginRateLimited,
        AuditAction::TotpEnrolled,
        AuditAction::TotpFailed,
        AuditAction::Logout,
        AuditAction::PatientRead,
        AuditAction::PatientCreated,
        AuditAction::PatientUpdated,
        AuditAction::CareTeamChanged,
        AuditAction::EmergencyAccess,
        AuditAction::StaffCreated,
        AuditAction::StaffUpdated,
        AuditAction::UnitChanged,
        AuditAction::SettingsChanged,
        AuditAction::AuditSearched,
        AuditAction::TestMessageSent,
        AuditAction::CallKnocked,
        AuditAction::CallAdmitted,
        AuditAction::CallRejected,
        AuditAction::CallJoined,
        AuditAction::CallLeft,
        AuditAction::CallLocked,
        AuditAction::CallUnlocked,
        AuditAction::CallRemoved,
        AuditAction::CallEnded,
        AuditAction::CallIdentityConfirmed,
        AuditAction::CallHostHandedOver,
        AuditAction::CallMuted,
        AuditAction::AppointmentBooked,
        AuditAction::AppointmentMoved,
        AuditAction::AppointmentCancelled,
        AuditAction::InvitationCreated,
        AuditAction::InvitationRevoked,
        AuditAction::OutcomeRecorded,
        AuditAction::AppointmentPurged,
        AuditAction::CalendarFeedCreated,
        AuditAction::CalendarFeedRevoked,
        AuditAction::FollowupEnrolled,
        AuditAction::FollowupRulesChanged,
        AuditAction::FollowupPaused,
        AuditAction::FollowupResumed,
        AuditAction::FollowupEnded,
        AuditAction::FollowupReadingRecorded,
        AuditAction::FollowupAnswerRecorded,
        AuditAction::FollowupAlertAcknowledged,
        AuditAction::FollowupAlertActed,
        AuditAction::FollowupGreenAcknowledged,
        AuditAction::FollowupDeviceTokenCreated,
        AuditAction::FollowupPlanChanged,
        AuditAction::FollowupPlanApproved,
        AuditAction::FollowupReferralReceived,
        AuditAction::FollowupReferralDecided,
        AuditAction::FollowupBaselineRecorded,
        AuditAction::FollowupNoteWritten,
        AuditAction::PatientAppLogin,
        AuditAction::FollowupMissingReport,
        AuditAction::FollowupAlertEscalated,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "login.succeeded",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::LoginRateLimited => "login.rate_limited",
            AuditAction::TotpEnrolled => "totp.enrolled",
            AuditAction::TotpFailed => "totp.failed",
            AuditAction::Logout => "logout",
            AuditAction::PatientRead => "patient.read",
            AuditAction::PatientCreated => "patient.created",
            AuditAction::PatientUpdated => "patient.updated",
            AuditAction::CareTeamChanged => "care_team.changed",
            AuditAction::EmergencyAccess => "patient.emergency_access",
            AuditAction::StaffCreated => "staff.created",
            AuditAction::StaffUpdated => "staff.updated",
            AuditAction::UnitChanged => "unit.changed",
            AuditAction::SettingsChanged => "settings.changed",
            AuditAction::AuditSearched => "audit.searched",
            AuditAction::TestMessageSent => "notify.test_sent",
            AuditAction::AppointmentBooked => "appointment.booked",
            AuditAction::AppointmentMoved => "appointment.moved",
            AuditAction::AppointmentCancelled => "appointment.cancelled",
            AuditAction::InvitationCreated => "invitation.created",
            AuditAction::InvitationRevoked => "invitation.revoked",
            AuditAction::OutcomeRecorded => "appointment.outcome",
            AuditAction::AppointmentPurged => "appointment.purged",
            AuditAction::CalendarFeedCreated => "calendar_feed.created",
            AuditAction::CalendarFeedRevoked => "calendar_feed.revoked",
            AuditAction::CallKnocked => "call.knocked",
            AuditAction::CallAdmitted => "call.admitted",
            AuditAction::CallRejected => "call.rejected",
            AuditAction::CallJoined => "call.joined",
            AuditAction::CallLeft => "call.left",
            AuditAction::CallLocked => "call.locked",
            AuditAction::CallUnlocked => "call.unlocked",
            AuditAction::CallRemoved => "call.removed",
            AuditAction::CallEnded => "call.ended",
            AuditAction::CallIdentityConfirmed => "call.identity_confirmed",
            AuditAction::CallHostHandedOver => "call.host_handed_over",
            AuditAction::CallMuted => "call.muted",
            AuditAction::FollowupEnrolled => "followup.enrolled",
            AuditAction::FollowupRulesChanged => "followup.rules_changed",
            AuditAction::FollowupPaused => "followup.paused",
            AuditAction::FollowupResumed => "followup.resumed",
            AuditAction::FollowupEnded => "followup.ended",
            AuditAction::FollowupReadingRecorded => "followup.reading_recorded",
            AuditAction::FollowupAnswerRecorded => "followup.answer_recorded",
            AuditAction::FollowupAlertAcknowledged => "followup.alert_acknowledged",
            AuditAction::FollowupAlertActed => "followup.alert_acted",
            AuditAction::FollowupGreenAcknowledged => "followup.green_acknowledged",
            AuditAction::FollowupDeviceTokenCreated => "followup.device_token_created",
            AuditAction::FollowupPlanChanged => "followup.plan_changed",
            AuditAction::FollowupPlanApproved => "followup.plan_approved",
            AuditAction::FollowupReferralReceived => "followup.referral_received",
            AuditAction::FollowupReferralDecided => "followup.referral_decided",
            AuditAction::FollowupBaselineRecorded => "followup.baseline_recorded",
            AuditAction::FollowupNoteWritten => "followup.note_written",
            AuditAction::PatientAppLogin => "patient_app.login",
            AuditAction::FollowupMissingReport => "followup.missing_report",
            AuditAction::FollowupAlertEscalated => "followup.alert_escalated",
        }
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// Whether the thing that was attempted was allowed and happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Denied,
    Failed,
}

impl AuditOutcome {
    pub fn code(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<AuditOutcome> {
        [
            AuditOutcome::Success,
            AuditOutcome::Denied,
            AuditOutcome::Failed,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }
}

/// One entry of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// Staff member who acted, if any (none for failed logins of unknown users, system jobs).
    pub actor_id: Option<Uuid>,
    /// The login name given or used, kept so failed logins can be investigated.
    pub actor_label: String,
    pub action: String,
    pub outcome: String,
    /// The patient whose data was touched, if any.
    pub patient_id: Option<Uuid>,
    /// The kind and id of another object touched (`staff:…`, `unit:…`).
    pub object: String,
    /// The client's address.
    pub ip: String,
    /// Free text such as the reason given for emergency access. Never health data.
    pub detail: String,
    /// Marked for review by the data protection officer (emergency access).
    pub flagged: bool,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Computes this entry's hash from its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"helsebro-audit-v1");
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(&self.seq.to_be_bytes());
        field(&self.at.as_millisecond().to_be_bytes());
        field(
            self.actor_id
                .map(|u| u.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(self.actor_label.as_bytes());
        field(self.action.as_bytes());
        field(self.outcome.as_bytes());
        field(
            self.patient_id
                .map(|u| u.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(self.object.as_bytes());
        field(self.ip.as_bytes());
        field(self.detail.as_bytes());
        field(&[u8::from(self.flagged)]);
        field(self.prev_hash.as_bytes());
        hex::encode(h.finalize())
    }
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq}: its contents do not match its hash (altered)")]
    Altered { seq: i64 },
    #[error("entry {seq}: expected sequence number {expected} (an entry was removed or inserted)")]
    Gap { seq: i64, expected: i64 },
    #[error("entry {seq}: does not link to the entry before it (removed, reordered or replaced)")]
    Unlinked { seq: i64 },
    #[error(
        "the log ends at entry {last} but the chain head says {head} (entries removed from the end)"
    )]
    Truncated { last: i64, head: i64 },
    #[error("the log's last hash does not match the chain head (the end was replaced)")]
    HeadMismatch,
}

/// Incremental verifier: feed entries in `seq` order, then call [`ChainVerifier::finish`] with
/// the stored chain head.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.expected_seq {
            return Err(ChainBreak::Gap {
                seq: entry.seq,
                expected: self.expected_seq,
            });
        }
        if entry.compute_hash() != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = entry.hash.clone();
        Ok(())
    }

    /// Number of entries checked so far.
    pub fn checked(&self) -> i64 {
        self.expected_seq - 1
    }

    /// Compares the end of the log with the chain head kept beside it.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if last != head_seq {
            return Err(ChainBreak::Truncated {
                last,
                head: head_seq,
            });
        }
        if self.prev_hash != head_hash {
            return Err(ChainBreak::HeadMismatch);
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEntry {
                    seq,
                    at: Timestamp::from_second(1_800_000_000 + seq).unwrap(),
                    actor_id: Some(Uuid::from_u128(seq as u128)),
                    actor_label: "lege".into(),
                    action: AuditAction::PatientRead.code().into(),
                    outcome: AuditOutcome::Success.code().into(),
                    patient_id: Some(Uuid::from_u128(7)),
                    object: String::new(),
                    ip: "127.0.0.1".into(),
                    detail: String::new(),
                    flagged: false,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.compute_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: (i64, &str)) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, (5, &c[4].hash.clone())), Ok(5));
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn every_field_is_covered() {
        let c = chain(3);
        let head = c[2].hash.clone();
        type Edit = Box<dyn Fn(&mut AuditEntry)>;
        let edits: Vec<Edit> = vec![
            Box::new(|e| e.at = Timestamp::from_second(1).unwrap()),
            Box::new(|e| e.actor_id = None),
            Box::new(|e| e.actor_label.push('x')),
            Box::new(|e| e.action = "patient.updated".into()),
            Box::new(|e| e.outcome = "denied".into()),
            Box::new(|e| e.patient_id = Some(Uuid::from_u128(8))),
            Box::new(|e| e.object = "staff:1".into()),
            Box::new(|e| e.ip = "10.0.0.1".into()),
            Box::new(|e| e.detail = "x".into()),
            Box::new(|e| e.flagged = true),
        ];
        for edit in edits {
            let mut c2 = c.clone();
            edit(&mut c2[1]);
            assert_eq!(verify(&c2, (3, &head)), Err(ChainBreak::Altered { seq: 2 }));
        }
    }

    #[test]
    fn removal_and_truncation_are_found() {
        let c = chain(4);
        let head = c[3].hash.clone();
        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(
            verify(&removed, (4, &head)),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );

        let truncated = &c[..3];
        assert_eq!(
            verify(truncated, (4, &head)),
            Err(ChainBreak::Truncated { last: 3, head: 4 })
        );

        // An attacker who rewrites an entry and recomputes its own hash still breaks the link.
        let mut forged = c.clone();
        forged[1].detail = "forged".into();
        forged[1].hash = forged[1].compute_hash();
        assert_eq!(
            verify(&forged, (4, &head)),
            Err(ChainBreak::Unlinked { seq: 3 })
        );
    }

    #[test]
    fn action_codes_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.code()), Some(a));
        }
    }
}
