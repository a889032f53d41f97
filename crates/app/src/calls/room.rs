//! One video room as a pure state machine: connections attach and detach, messages come in,
//! and every call returns the [`Effect`]s to carry out (messages to send, media to set up,
//! audit entries to write). Nothing here does I/O or reads a clock, so the rules of a call —
//! waiting room, lock, limit, host rights, grace period — are tested without a network.

use super::protocol::{
    CallRole, ClientMsg, ClientStats, ErrorCode, ParticipantView, PolicyView, Presence, ServerMsg,
};
use helsebro_domain::AuditAction;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// One WebSocket connection.
pub type ConnId = u64;

/// Longest name a guest may give.
pub const MAX_NAME_CHARS: usize = 80;
/// A one-time code is valid this long.
pub const CODE_VALID: Duration = Duration::from_secs(10 * 60);
/// Codes a participant may ask for, and wrong guesses allowed per code.
pub const MAX_CODES: u32 = 3;
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// The window the knock limit counts over.
pub const KNOCK_WINDOW: Duration = Duration::from_secs(10 * 60);

pub use helsebro_domain::appointment::CallPolicy as Policy;

/// Video tracks one participant may send: the camera, plus a screen where sharing is on.
pub fn max_video_tracks(policy: Policy) -> usize {
    match policy {
        Policy::Consultation => 1,
        Policy::Administrative => 2,
    }
}

/// Fixed rules of one room.
#[derive(Debug, Clone, Copy)]
pub struct RoomRules {
    pub policy: Policy,
    pub limit: u32,
    pub grace: Duration,
    pub knocks_per_window: u32,
}

/// Who a participant is, behind the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Staff {
        staff_id: Uuid,
    },
    Guest {
        invitation_id: Uuid,
        can_verify: bool,
    },
}

/// A call event for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct CallAudit {
    pub action: AuditAction,
    /// Who did it (the participant's name and who they are).
    pub actor: Who,
    pub actor_name: String,
    /// Whom it concerned, when not the actor.
    pub subject: Option<String>,
    pub detail: String,
}

/// What the caller must do after a state change, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(ConnId, ServerMsg),
    /// Close the connection (after the messages before it are sent).
    Close(ConnId),
    /// Set up this participant's media from the browser's offer; send the answer to `conn`.
    MediaJoin {
        conn: ConnId,
        participant: Uuid,
        media_peer: Uuid,
        sdp: String,
    },
    MediaAnswer {
        media_peer: Uuid,
        sdp: String,
    },
    MediaLeave {
        media_peer: Uuid,
    },
    MediaForwarding {
        media_peer: Uuid,
        audio: bool,
    },
    MediaCloseRoom,
    Audit(CallAudit),
    /// Send this one-time code by SMS to the invitation's phone number.
    SendCode {
        invitation_id: Uuid,
        code: String,
    },
    /// The invitation's link stops working (the participant was removed).
    SpendInvitation(Uuid),
    /// Two or more people are in the call for the first time.
    CallStarted,
    /// The call is over (ended by the host).
    CallEnded,
    /// Call `grace_expired(participant)` after this long.
    StartGrace {
        participant: Uuid,
        after: Duration,
    },
}

/// Why a connection cannot attach to the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The host ended the call.
    Ended,
    /// The room is full.
    Full,
    /// The participant was removed from this call.
    Removed,
    /// The policy does not allow this participant (e.g. a patient in an administrative room).
    Policy,
}

#[derive(Debug, Clone)]
struct PendingCode {
    code: String,
    expires: Instant,
    attempts: u32,
}

#[derive(Debug, Clone)]
struct Participant {
    id: Uuid,
    name: String,
    role: CallRole,
    who: Who,
    presence: Presence,
    conn: Option<ConnId>,
    away_since: Option<Instant>,
    verified: bool,
    code: Option<PendingCode>,
    codes_sent: u32,
    audio: bool,
    video: bool,
    muted_by_host: bool,
    media_peer: Option<Uuid>,
}

impl Participant {
    /// Someone new on `conn`: in the lobby, unverified, sending sound and picture; callers
    /// change what differs.
    fn new(conn: ConnId, name: String, role: CallRole, who: Who) -> Participant {
        Participant {
            id: Uuid::now_v7(),
            name,
            role,
            who,
            presence: Presence::Lobby,
            conn: Some(conn),
            away_since: None,
            verified: false,
            code: None,
            codes_sent: 0,
            audio: true,
            video: true,
            muted_by_host: false,
            media_peer: None,
        }
    }
}

/// Per-call quality aggregates (VC-13): sums and counts, never content.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quality {
    pub reports: u64,
    pub bitrate_in_sum: f64,
    pub loss_sum: f64,
    pub loss_max: f64,
    pub jitter_sum: f64,
    pub rtt_sum: f64,
    pub rtt_max: f64,
    pub freezes: u64,
}

/// One live room.
#[derive(Debug)]
pub struct Room {
    rules: RoomRules,
    locked: bool,
    ended: bool,
    started: bool,
    host: Option<Uuid>,
    /// In the order they arrived.
    participants: Vec<Participant>,
    removed: HashSet<Uuid>,
    knocks: HashMap<Uuid, Vec<Instant>>,
    quality: Quality,
}

impl Room {
    pub fn new(rules: RoomRules) -> Room {
        Room {
            rules,
            locked: false,
            ended: false,
            started: false,
            host: None,
            participants: Vec::new(),
            removed: HashSet::new(),
            knocks: HashMap::new(),
            quality: Quality::default(),
        }
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Two or more people have been in the call together.
    pub fn has_started(&self) -> bool {
        self.started
    }

    pub fn is_locked(&self) -> bool {
        self.locked
    }

    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// Counts for the work list: (waiting, in the call).
    pub fn counts(&self) -> (usize, usize) {
        let waiting = self.count(Presence::Waiting);
        let in_call = self.in_call();
        (waiting, in_call)
    }

    /// Nobody is connected or expected back: the room can be forgotten.
    pub fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }

    pub fn policy_view(&self) -> PolicyView {
        let consultation = self.rules.policy == Policy::Consultation;
        PolicyView {
            name: self.rules.policy.code(),
            chat: false,
            files: false,
            screen_sharing: !consultation,
            waiting_room: true,
            recording: false,
            limit: self.rules.limit,
        }
    }

    /// The media peer that carries this participant's connection, for routing media offers.
    pub fn conn_of_media_peer(&self, media_peer: Uuid) -> Option<ConnId> {
        self.participants
            .iter()
            .find(|p| p.media_peer == Some(media_peer))
            .and_then(|p| p.conn)
    }

    pub fn participant_of_conn(&self, conn: ConnId) -> Option<Uuid> {
        self.participants
            .iter()
            .find(|p| p.conn == Some(conn))
            .map(|p| p.id)
    }

    fn count(&self, presence: Presence) -> usize {
        self.participants
            .iter()
            .filter(|p| p.presence == presence)
            .count()
    }

    /// In the call, counting those whose connection dropped within the grace period.
    fn in_call(&self) -> usize {
        self.count(Presence::InCall) + self.count(Presence::Away)
    }

    fn index(&self, id: Uuid) -> Option<usize> {
        self.participants.iter().position(|p| p.id == id)
    }

    fn view(&self, p: &Participant) -> ParticipantView {
        ParticipantView {
            id: p.id,
            name: p.name.clone(),
            role: p.role,
            presence: p.presence,
            host: self.host == Some(p.id),
            verified: p.verified,
            audio: p.audio && !p.muted_by_host,
            video: p.video,
            muted_by_host: p.muted_by_host,
        }
    }

    /// A staff host of the appointment opens the room: straight into the call.
    pub fn attach_staff(
        &mut self,
        conn: ConnId,
        staff_id: Uuid,
        name: &str,
    ) -> Result<(Uuid, Vec<Effect>), Refusal> {
        if self.ended {
            return Err(Refusal::Ended);
        }
        let mut fx = Vec::new();
        let existing = self
            .participants
            .iter()
            .position(|p| p.who == Who::Staff { staff_id });
        let (idx, resumed) = match existing {
            Some(idx) => {
                self.take_over(idx, conn, &mut fx);
                (idx, true)
            }
            None => {
                if self.in_call() >= self.rules.limit as usize {
                    return Err(Refusal::Full);
                }
                let who = Who::Staff { staff_id };
                let mut p = Participant::new(conn, name.to_owned(), CallRole::Staff, who);
                p.presence = Presence::InCall;
                p.verified = true;
                self.participants.push(p);
                (self.participants.len() - 1, false)
            }
        };
        let id = self.participants[idx].id;
        if self.host.is_none() {
            self.host = Some(id);
        }
        self.welcome(idx, resumed, &mut fx);
        if !resumed {
            fx.push(self.audit(idx, AuditAction::CallJoined, None, "host"));
        }
        self.after_membership_change(&mut fx);
        Ok((id, fx))
    }

    /// A guest opens their link: into the lobby, or back where they were.
    pub fn attach_guest(
        &mut self,
        conn: ConnId,
        invitation_id: Uuid,
        role: CallRole,
        name: &str,
        can_verify: bool,
    ) -> Result<(Uuid, Vec<Effect>), Refusal> {
        if self.ended {
            return Err(Refusal::Ended);
        }
        if self.removed.contains(&invitation_id) {
            return Err(Refusal::Removed);
        }
        if self.rules.policy == Policy::Administrative && role != CallRole::Staff {
            return Err(Refusal::Policy);
        }
        let mut fx = Vec::new();
        let existing = self.participants.iter().position(
            |p| matches!(p.who, Who::Guest { invitation_id: i, .. } if i == invitation_id),
        );
        let (idx, resumed) = match existing {
            Some(idx) => {
                self.take_over(idx, conn, &mut fx);
                (idx, true)
            }
            None => {
                let who = Who::Guest {
                    invitation_id,
                    can_verify,
                };
                let name = clean_name(name).unwrap_or_default();
                self.participants
                    .push(Participant::new(conn, name, role, who));
                (self.participants.len() - 1, false)
            }
        };
        let id = self.participants[idx].id;
        self.welcome(idx, resumed, &mut fx);
        if resumed {
            self.after_membership_change(&mut fx);
        }
        Ok((id, fx))
    }

    /// A newer connection takes over a participant (a reconnect, or the same link opened again).
    fn take_over(&mut self, idx: usize, conn: ConnId, fx: &mut Vec<Effect>) {
        let p = &mut self.participants[idx];
        if let Some(old) = p.conn.replace(conn)
            && old != conn
        {
            fx.push(Effect::Send(old, ServerMsg::Replaced));
            fx.push(Effect::Close(old));
        }
        if p.presence == Presence::Away {
            p.presence = Presence::InCall;
        }
        p.away_since = None;
    }

    fn welcome(&self, idx: usize, resumed: bool, fx: &mut Vec<Effect>) {
        let p = &self.participants[idx];
        let Some(conn) = p.conn else { return };
        let can_verify = matches!(
            p.who,
            Who::Guest {
                can_verify: true,
                ..
            }
        ) && !p.verified;
        fx.push(Effect::Send(
            conn,
            ServerMsg::Welcome {
                you: self.view(p),
                policy: self.policy_view(),
                can_verify,
                resumed: resumed && p.presence == Presence::InCall,
            },
        ));
    }

    /// The connection closed.
    pub fn detach(&mut self, now: Instant, conn: ConnId) -> Vec<Effect> {
        let mut fx = Vec::new();
        let Some(idx) = self.participants.iter().position(|p| p.conn == Some(conn)) else {
            return fx;
        };
        match self.participants[idx].presence {
            Presence::InCall => {
                let p = &mut self.participants[idx];
                p.conn = None;
                p.presence = Presence::Away;
                p.away_since = Some(now);
                fx.push(Effect::StartGrace {
                    participant: p.id,
                    after: self.rules.grace,
                });
                self.after_membership_change(&mut fx);
            }
            Presence::Waiting => {
                self.drop_participant(idx, AuditAction::CallLeft, "left the waiting room", &mut fx)
            }
            Presence::Lobby | Presence::Away => {
                self.participants.remove(idx);
            }
        }
        fx
    }

    /// The grace period of a dropped participant is over: if still away, they have left.
    pub fn grace_expired(&mut self, now: Instant, participant: Uuid) -> Vec<Effect> {
        let mut fx = Vec::new();
        let Some(idx) = self.index(participant) else {
            return fx;
        };
        let p = &self.participants[idx];
        if p.presence == Presence::Away
            && p.away_since
                .is_some_and(|since| now.saturating_duration_since(since) >= self.rules.grace)
        {
            self.drop_participant(idx, AuditAction::CallLeft, "did not come back", &mut fx);
        }
        fx
    }

    /// Takes a participant out of the room, passing the host role on if needed.
    fn drop_participant(
        &mut self,
        idx: usize,
        action: AuditAction,
        detail: &str,
        fx: &mut Vec<Effect>,
    ) {
        fx.push(self.audit(idx, action, None, detail));
        let p = self.participants.remove(idx);
        if let Some(peer) = p.media_peer {
            fx.push(Effect::MediaLeave { media_peer: peer });
        }
        if self.host == Some(p.id) {
            self.host = None;
            self.pass_host(fx);
        }
        self.after_membership_change(fx);
    }

    /// Gives the host role to the staff member who has been in the call longest.
    fn pass_host(&mut self, fx: &mut Vec<Effect>) {
        if let Some(next) = self.participants.iter().find(|p| {
            matches!(p.who, Who::Staff { .. })
                && matches!(p.presence, Presence::InCall | Presence::Away)
        }) {
            self.host = Some(next.id);
            if let Some(conn) = next.conn {
                fx.push(Effect::Send(conn, ServerMsg::YouAreHost));
            }
        }
    }

    /// Sends everyone in the call the new room state, and notes when the call starts.
    fn after_membership_change(&mut self, fx: &mut Vec<Effect>) {
        if !self.started && self.in_call() >= 2 {
            self.started = true;
            fx.push(Effect::CallStarted);
        }
        let participants: Vec<ParticipantView> = self
            .participants
            .iter()
            .filter(|p| matches!(p.presence, Presence::InCall | Presence::Away))
            .map(|p| self.view(p))
            .collect();
        let waiting: Vec<ParticipantView> = self
            .participants
            .iter()
            .filter(|p| p.presence == Presence::Waiting)
            .map(|p| self.view(p))
            .collect();
        for p in &self.participants {
            let Some(conn) = p.conn else { continue };
            if p.presence != Presence::InCall {
                continue;
            }
            let is_host = self.host == Some(p.id);
            fx.push(Effect::Send(
                conn,
                ServerMsg::Room {
                    locked: self.locked,
                    participants: participants.clone(),
                    waiting: if is_host { waiting.clone() } else { Vec::new() },
                },
            ));
        }
    }

    fn audit(
        &self,
        idx: usize,
        action: AuditAction,
        subject: Option<&Participant>,
        detail: &str,
    ) -> Effect {
        let p = &self.participants[idx];
        Effect::Audit(CallAudit {
            action,
            actor: p.who,
            actor_name: p.name.clone(),
            subject: subject.map(|s| format!("{} ({})", s.name, s.role.code())),
            detail: detail.to_owned(),
        })
    }

    fn error(conn: ConnId, code: ErrorCode) -> Vec<Effect> {
        vec![Effect::Send(conn, ServerMsg::Error { code })]
    }

    /// A message from a connection. `code` is a fresh random one-time code, used only if the
    /// message asks for one.
    pub fn handle(
        &mut self,
        now: Instant,
        conn: ConnId,
        msg: ClientMsg,
        code: &str,
    ) -> Vec<Effect> {
        let Some(idx) = self.participants.iter().position(|p| p.conn == Some(conn)) else {
            return Vec::new();
        };
        if self.ended {
            return Self::error(conn, ErrorCode::NotAllowed);
        }
        match msg {
            ClientMsg::RequestCode => self.request_code(now, idx, conn, code),
            ClientMsg::VerifyCode { code } => self.verify_code(now, idx, conn, &code),
            ClientMsg::Knock { name } => self.knock(now, idx, conn, &name),
            ClientMsg::Leave => {
                let mut fx = Vec::new();
                match self.participants[idx].presence {
                    Presence::Lobby => {}
                    Presence::Waiting | Presence::InCall | Presence::Away => {
                        self.drop_participant(idx, AuditAction::CallLeft, "left", &mut fx);
                        fx.push(Effect::Close(conn));
                        return fx;
                    }
                }
                fx.push(Effect::Close(conn));
                self.participants.remove(idx);
                fx
            }
            ClientMsg::Offer { sdp } => {
                if self.participants[idx].presence != Presence::InCall {
                    return Self::error(conn, ErrorCode::NotAllowed);
                }
                if count_sent_video(&sdp) > max_video_tracks(self.rules.policy) {
                    return Self::error(conn, ErrorCode::Policy);
                }
                let mut fx = Vec::new();
                let p = &mut self.participants[idx];
                if let Some(old) = p.media_peer.take() {
                    fx.push(Effect::MediaLeave { media_peer: old });
                }
                let media_peer = Uuid::now_v7();
                p.media_peer = Some(media_peer);
                fx.push(Effect::MediaJoin {
                    conn,
                    participant: p.id,
                    media_peer,
                    sdp,
                });
                if p.muted_by_host {
                    fx.push(Effect::MediaForwarding {
                        media_peer,
                        audio: false,
                    });
                }
                fx
            }
            ClientMsg::Answer { sdp } => match self.participants[idx].media_peer {
                Some(media_peer) if self.participants[idx].presence == Presence::InCall => {
                    vec![Effect::MediaAnswer { media_peer, sdp }]
                }
                _ => Self::error(conn, ErrorCode::NotAllowed),
            },
            ClientMsg::MediaState { audio, video } => {
                let p = &mut self.participants[idx];
                p.audio = audio;
                p.video = video;
                let mut fx = Vec::new();
                self.after_membership_change(&mut fx);
                fx
            }
            ClientMsg::Unmute => {
                let p = &mut self.participants[idx];
                let was = p.muted_by_host;
                p.muted_by_host = false;
                p.audio = true;
                let mut fx = Vec::new();
                if was && let Some(media_peer) = p.media_peer {
                    fx.push(Effect::MediaForwarding {
                        media_peer,
                        audio: true,
                    });
                }
                self.after_membership_change(&mut fx);
                fx
            }
            ClientMsg::Stats(stats) => {
                if self.participants[idx].presence == Presence::InCall {
                    self.add_stats(stats);
                }
                Vec::new()
            }
            host_only => self.handle_host(idx, conn, host_only),
        }
    }

    fn add_stats(&mut self, s: ClientStats) {
        let finite = |v: f64| if v.is_finite() && v >= 0.0 { v } else { 0.0 };
        let q = &mut self.quality;
        q.reports += 1;
        q.bitrate_in_sum += finite(s.bitrate_in);
        let loss = finite(s.loss).min(1.0);
        q.loss_sum += loss;
        q.loss_max = q.loss_max.max(loss);
        q.jitter_sum += finite(s.jitter);
        let rtt = finite(s.rtt);
        q.rtt_sum += rtt;
        q.rtt_max = q.rtt_max.max(rtt);
        q.freezes += u64::from(s.freezes);
    }

    fn request_code(&mut self, now: Instant, idx: usize, conn: ConnId, code: &str) -> Vec<Effect> {
        let p = &mut self.participants[idx];
        let Who::Guest {
            invitation_id,
            can_verify: true,
        } = p.who
        else {
            return Self::error(conn, ErrorCode::NotAllowed);
        };
        if p.verified || !matches!(p.presence, Presence::Lobby | Presence::Waiting) {
            return Self::error(conn, ErrorCode::NotAllowed);
        }
        if p.codes_sent >= MAX_CODES {
            return Self::error(conn, ErrorCode::TooMany);
        }
        p.codes_sent += 1;
        p.code = Some(PendingCode {
            code: code.to_owned(),
            expires: now + CODE_VALID,
            attempts: 0,
        });
        vec![
            Effect::SendCode {
                invitation_id,
                code: code.to_owned(),
            },
            Effect::Send(conn, ServerMsg::CodeSent),
        ]
    }

    fn verify_code(&mut self, now: Instant, idx: usize, conn: ConnId, given: &str) -> Vec<Effect> {
        let p = &mut self.participants[idx];
        let Some(pending) = p.code.as_mut() else {
            return Self::error(conn, ErrorCode::WrongCode);
        };
        if pending.attempts >= MAX_CODE_ATTEMPTS || now >= pending.expires {
            p.code = None;
            return Self::error(conn, ErrorCode::WrongCode);
        }
        pending.attempts += 1;
        let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
        let same = subtle::ConstantTimeEq::ct_eq(given.as_bytes(), pending.code.as_bytes());
        if !bool::from(same) {
            return Self::error(conn, ErrorCode::WrongCode);
        }
        p.code = None;
        p.verified = true;
        let mut fx = vec![
            self.audit(
                idx,
                AuditAction::CallIdentityConfirmed,
                None,
                "one-time code by SMS",
            ),
            Effect::Send(conn, ServerMsg::Verified),
        ];
        self.after_membership_change(&mut fx);
        fx
    }

    fn knock(&mut self, now: Instant, idx: usize, conn: ConnId, name: &str) -> Vec<Effect> {
        if self.participants[idx].presence != Presence::Lobby {
            return Self::error(conn, ErrorCode::NotAllowed);
        }
        let Some(name) = clean_name(name) else {
            return Self::error(conn, ErrorCode::BadMessage);
        };
        if self.locked {
            return Self::error(conn, ErrorCode::Locked);
        }
        if let Who::Guest { invitation_id, .. } = self.participants[idx].who {
            let knocks = self.knocks.entry(invitation_id).or_default();
            knocks.retain(|t| now.saturating_duration_since(*t) < KNOCK_WINDOW);
            if knocks.len() >= self.rules.knocks_per_window as usize {
                return Self::error(conn, ErrorCode::TooMany);
            }
            knocks.push(now);
        }
        let p = &mut self.participants[idx];
        p.name = name;
        p.presence = Presence::Waiting;
        let mut fx = vec![
            self.audit(idx, AuditAction::CallKnocked, None, ""),
            Effect::Send(
                conn,
                ServerMsg::You {
                    you: self.view(&self.participants[idx]),
                },
            ),
        ];
        let view = self.view(&self.participants[idx]);
        if let Some(host_conn) = self
            .host
            .and_then(|h| self.index(h))
            .and_then(|h| self.participants[h].conn)
        {
            fx.push(Effect::Send(
                host_conn,
                ServerMsg::Knock { participant: view },
            ));
        }
        self.after_membership_change(&mut fx);
        fx
    }

    fn handle_host(&mut self, idx: usize, conn: ConnId, msg: ClientMsg) -> Vec<Effect> {
        let me = self.participants[idx].id;
        if self.host != Some(me) || self.participants[idx].presence != Presence::InCall {
            return Self::error(conn, ErrorCode::NotHost);
        }
        let target = match &msg {
            ClientMsg::Admit { participant }
            | ClientMsg::Reject { participant, .. }
            | ClientMsg::Mute { participant }
            | ClientMsg::Remove { participant }
            | ClientMsg::MakeHost { participant } => match self.index(*participant) {
                Some(t) => Some(t),
                None => return Self::error(conn, ErrorCode::UnknownParticipant),
            },
            _ => None,
        };
        let mut fx = Vec::new();
        match (msg, target) {
            (ClientMsg::Admit { .. }, Some(t)) => {
                if self.participants[t].presence != Presence::Waiting {
                    return Self::error(conn, ErrorCode::NotAllowed);
                }
                if self.locked {
                    return Self::error(conn, ErrorCode::Locked);
                }
                if self.in_call() >= self.rules.limit as usize {
                    return Self::error(conn, ErrorCode::Full);
                }
                self.participants[t].presence = Presence::InCall;
                let detail = if self.participants[t].verified {
                    "identity verified by one-time code; confirmed by the host"
                } else {
                    "identity not verified; confirmed by the host"
                };
                let subject = self.participants[t].clone();
                fx.push(self.audit(idx, AuditAction::CallAdmitted, Some(&subject), detail));
                fx.push(self.audit(t, AuditAction::CallJoined, None, ""));
                if let Some(c) = subject.conn {
                    fx.push(Effect::Send(c, ServerMsg::Admitted));
                    fx.push(Effect::Send(
                        c,
                        ServerMsg::You {
                            you: self.view(&self.participants[t]),
                        },
                    ));
                }
                self.after_membership_change(&mut fx);
            }
            (ClientMsg::Reject { message, .. }, Some(t)) => {
                if self.participants[t].presence != Presence::Waiting {
                    return Self::error(conn, ErrorCode::NotAllowed);
                }
                let message: String = message
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(500)
                    .collect();
                let subject = self.participants[t].clone();
                fx.push(self.audit(idx, AuditAction::CallRejected, Some(&subject), ""));
                self.participants[t].presence = Presence::Lobby;
                if let Some(c) = subject.conn {
                    fx.push(Effect::Send(c, ServerMsg::Rejected { message }));
                    fx.push(Effect::Send(
                        c,
                        ServerMsg::You {
                            you: self.view(&self.participants[t]),
                        },
                    ));
                }
                self.after_membership_change(&mut fx);
            }
            (ClientMsg::Mute { .. }, Some(t)) => {
                if !matches!(
                    self.participants[t].presence,
                    Presence::InCall | Presence::Away
                ) {
                    return Self::error(conn, ErrorCode::NotAllowed);
                }
                let subject = self.participants[t].clone();
                fx.push(self.audit(idx, AuditAction::CallMuted, Some(&subject), ""));
                self.participants[t].muted_by_host = true;
                if let Some(media_peer) = subject.media_peer {
                    fx.push(Effect::MediaForwarding {
                        media_peer,
                        audio: false,
                    });
                }
                if let Some(c) = subject.conn {
                    fx.push(Effect::Send(c, ServerMsg::MutedByHost));
                }
                self.after_membership_change(&mut fx);
            }
            (ClientMsg::Remove { .. }, Some(t)) => {
                if t == idx {
                    return Self::error(conn, ErrorCode::NotAllowed);
                }
                let subject = self.participants[t].clone();
                fx.push(self.audit(idx, AuditAction::CallRemoved, Some(&subject), ""));
                if let Who::Guest { invitation_id, .. } = subject.who {
                    self.removed.insert(invitation_id);
                    fx.push(Effect::SpendInvitation(invitation_id));
                }
                if let Some(c) = subject.conn {
                    fx.push(Effect::Send(c, ServerMsg::Removed));
                    fx.push(Effect::Close(c));
                }
                let t = self.index(subject.id).unwrap_or(t);
                self.drop_participant(t, AuditAction::CallLeft, "removed by the host", &mut fx);
            }
            (ClientMsg::MakeHost { .. }, Some(t)) => {
                let target = &self.participants[t];
                if !matches!(target.who, Who::Staff { .. }) || target.presence != Presence::InCall {
                    return Self::error(conn, ErrorCode::NotAllowed);
                }
                let subject = target.clone();
                fx.push(self.audit(idx, AuditAction::CallHostHandedOver, Some(&subject), ""));
                self.host = Some(subject.id);
                if let Some(c) = subject.conn {
                    fx.push(Effect::Send(c, ServerMsg::YouAreHost));
                }
                self.after_membership_change(&mut fx);
            }
            (ClientMsg::Lock, None) => {
                if !self.locked {
                    self.locked = true;
                    fx.push(self.audit(idx, AuditAction::CallLocked, None, ""));
                }
                self.after_membership_change(&mut fx);
            }
            (ClientMsg::Unlock, None) => {
                if self.locked {
                    self.locked = false;
                    fx.push(self.audit(idx, AuditAction::CallUnlocked, None, ""));
                }
                self.after_membership_change(&mut fx);
            }
            (ClientMsg::End, None) => {
                fx.push(self.audit(idx, AuditAction::CallEnded, None, ""));
                self.ended = true;
                for p in self.participants.drain(..) {
                    if let Some(c) = p.conn {
                        fx.push(Effect::Send(c, ServerMsg::Ended));
                        fx.push(Effect::Close(c));
                    }
                }
                fx.push(Effect::MediaCloseRoom);
                fx.push(Effect::CallEnded);
            }
            _ => return Self::error(conn, ErrorCode::BadMessage),
        }
        fx
    }
}

/// A name as a host will see it: trimmed, no control characters, 1–80 characters.
pub fn clean_name(name: &str) -> Option<String> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    let len = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&len).then_some(name)
}

/// Video sections in an SDP offer that send (a camera, a screen).
fn count_sent_video(sdp: &str) -> usize {
    let mut count = 0;
    let mut in_video = false;
    let mut sends = true;
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            if in_video && sends {
                count += 1;
            }
            in_video = m.starts_with("video");
            sends = true;
        } else if in_video && (line == "a=recvonly" || line == "a=inactive") {
            sends = false;
        }
    }
    if in_video && sends {
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests;
