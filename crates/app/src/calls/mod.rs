//! Video rooms while they are live: who is waiting, who is in, whether the room is locked.
//!
//! [`room::Room`] holds the rules as a pure state machine; this module connects it to the
//! world: WebSocket connections (as channels the web layer drains), the media server, the
//! audit log, the outbox (one-time codes) and the appointment's call times. Room state lives
//! only in memory (nothing said in a call is stored, PR-1); what happens in a room is written
//! to the audit log as it happens, and call quality is kept only as per-call aggregates.

pub mod protocol;
pub mod room;

use crate::{App, AppError, StaffPrincipal};
use helsebro_domain::AuditOutcome;
use helsebro_media::{Media, MediaEvent, PeerId, RoomId};
use helsebro_notify::templates::{Channel, MessageContext, MessageKind, render};
use helsebro_store::{NewAuditEntry, NewMessage, OutboxChannel};
use protocol::{ClientMsg, ErrorCode, ServerMsg};
use room::{ConnId, Effect, Refusal, Room, RoomRules, Who};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

/// What the work list shows for an appointment's room right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// Nobody is in the room.
    Idle,
    /// Someone has knocked and is waiting to be let in.
    Waiting,
    /// At least one participant is in the call.
    InCall,
    /// The host ended the call for everyone.
    Ended,
}

/// What the web layer writes to a participant's WebSocket.
#[derive(Debug)]
pub enum Outgoing {
    Msg(ServerMsg),
    /// Close the connection (after the messages before it).
    Close,
}

/// A participant's connection: the web layer sends its incoming messages to
/// [`App::call_message`] with `id`, and writes everything from `rx` to the socket.
pub struct Connection {
    pub id: ConnId,
    pub rx: mpsc::UnboundedReceiver<Outgoing>,
}

/// Why a link or a host cannot open the room.
#[derive(Debug, thiserror::Error)]
pub enum CallRefusal {
    #[error("the call has ended")]
    Ended,
    #[error("the room is full")]
    Full,
    #[error("the link no longer works")]
    Removed,
    #[error("the room's policy does not allow this participant")]
    Policy,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<Refusal> for CallRefusal {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Ended => CallRefusal::Ended,
            Refusal::Full => CallRefusal::Full,
            Refusal::Removed => CallRefusal::Removed,
            Refusal::Policy => CallRefusal::Policy,
        }
    }
}

struct ConnInfo {
    appointment: Uuid,
    tx: mpsc::UnboundedSender<Outgoing>,
    ip: IpAddr,
    actor_id: Option<Uuid>,
}

struct LiveRoom {
    room: Room,
    patient_id: Option<Uuid>,
    /// When the host ended the call; the ended room is kept a while so late links say so.
    ended_at: Option<Instant>,
}

/// How long an ended room is remembered (its links answer "the call has ended").
const KEEP_ENDED: Duration = Duration::from_secs(12 * 60 * 60);

#[derive(Default)]
struct Registry {
    rooms: HashMap<Uuid, LiveRoom>,
    conns: HashMap<ConnId, ConnInfo>,
    /// Media peer → appointment, to route the media server's offers.
    media_peers: HashMap<Uuid, Uuid>,
    /// Knock times per client address (the per-link limit is in the room).
    knocks_by_addr: HashMap<IpAddr, Vec<Instant>>,
}

/// Every live room of this process.
#[derive(Default)]
pub struct CallRegistry {
    inner: Mutex<Registry>,
    next_conn: AtomicU64,
    media: OnceLock<Media>,
}

impl CallRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn live_state(&self, appointment: Uuid) -> LiveState {
        let reg = self.lock();
        match reg.rooms.get(&appointment) {
            None => LiveState::Idle,
            Some(r) if r.room.is_ended() => LiveState::Ended,
            Some(r) => match r.room.counts() {
                (waiting, _) if waiting > 0 => LiveState::Waiting,
                (_, in_call) if in_call > 0 => LiveState::InCall,
                _ => LiveState::Idle,
            },
        }
    }

    /// Forgets ended rooms after a while, and knock records that no longer count.
    fn prune(&self) {
        let mut reg = self.lock();
        let now = Instant::now();
        reg.rooms.retain(|_, r| {
            r.ended_at
                .is_none_or(|t| now.saturating_duration_since(t) < KEEP_ENDED)
        });
        reg.knocks_by_addr.retain(|_, knocks| {
            knocks.retain(|t| now.saturating_duration_since(*t) < room::KNOCK_WINDOW);
            !knocks.is_empty()
        });
    }

    /// Rooms with someone in them, and participants connected, for `/metrics`.
    pub fn counts(&self) -> (usize, usize) {
        let reg = self.lock();
        let rooms = reg.rooms.values().filter(|r| !r.room.is_ended()).count();
        (rooms, reg.conns.len())
    }

    fn send(reg: &Registry, conn: ConnId, msg: Outgoing) {
        if let Some(c) = reg.conns.get(&conn) {
            // A closed receiver means the socket is already gone; nothing to do.
            let _ = c.tx.send(msg);
        }
    }
}

/// A random six-digit code.
fn six_digits() -> String {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return String::new();
    }
    format!("{:06}", u32::from_le_bytes(b) % 1_000_000)
}

impl App {
    fn calls(&self) -> &CallRegistry {
        &self.inner.calls
    }

    /// Connects the media server: from now on admitted participants get media, and the
    /// server's offers reach their browsers.
    pub fn attach_media(&self, media: Media, mut events: mpsc::UnboundedReceiver<MediaEvent>) {
        if self.calls().media.set(media).is_err() {
            tracing::warn!("the media server was attached twice; keeping the first");
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                app.on_media_event(event);
            }
        });
    }

    /// Forgets what live rooms no longer need (run by housekeeping).
    pub(crate) fn prune_calls(&self) {
        self.calls().prune();
    }

    /// Live rooms and connected participants, for `/metrics`.
    pub fn call_counts(&self) -> (usize, usize) {
        self.calls().counts()
    }

    /// Self-test connections allowed per client address: 20 a minute.
    pub fn check_probe_rate(&self, ip: &str) -> crate::error::Result<()> {
        crate::auth::RateLimits::check(&self.inner.limits.probes, ip.to_owned())
    }

    /// A guest rates sound and picture 1–5 after the call, with their link.
    pub async fn rate_call_by_link(
        &self,
        token: &str,
        sound: u8,
        picture: u8,
    ) -> crate::error::Result<()> {
        let grant = self.resolve_join_token(token).await?;
        self.save_rating(grant.appointment_id, sound, picture).await
    }

    /// A host rates sound and picture 1–5 after the call.
    pub async fn rate_call_as_host(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        sound: u8,
        picture: u8,
    ) -> crate::error::Result<()> {
        self.appointment_for_host(p, appointment_id).await?;
        self.save_rating(appointment_id, sound, picture).await
    }

    async fn save_rating(
        &self,
        appointment_id: Uuid,
        sound: u8,
        picture: u8,
    ) -> crate::error::Result<()> {
        if !(1..=5).contains(&sound) {
            return Err(AppError::invalid("sound", "a number from 1 to 5"));
        }
        if !(1..=5).contains(&picture) {
            return Err(AppError::invalid("picture", "a number from 1 to 5"));
        }
        self.store()
            .add_call_rating(
                appointment_id,
                i64::from(sound),
                i64::from(picture),
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// The quality figures of a call (VC-13), for the host.
    pub async fn call_quality(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
    ) -> crate::error::Result<Option<helsebro_store::CallQuality>> {
        self.appointment_for_host(p, appointment_id).await?;
        Ok(self.store().call_quality(appointment_id).await?)
    }

    /// The media server, for the self-test and `/metrics`.
    pub fn media(&self) -> Option<&Media> {
        self.calls().media.get()
    }

    fn on_media_event(&self, event: MediaEvent) {
        let reg = self.calls().lock();
        match event {
            MediaEvent::Offer { peer, sdp } => {
                let conn = reg
                    .media_peers
                    .get(&peer.0)
                    .and_then(|a| reg.rooms.get(a))
                    .and_then(|r| r.room.conn_of_media_peer(peer.0));
                if let Some(conn) = conn {
                    CallRegistry::send(&reg, conn, Outgoing::Msg(ServerMsg::Offer { sdp }));
                }
            }
            MediaEvent::Connected { peer } => tracing::debug!(peer = %peer.0, "media connected"),
            MediaEvent::Disconnected { peer } => {
                tracing::debug!(peer = %peer.0, "media disconnected")
            }
        }
    }

    fn rules(&self, policy: room::Policy) -> RoomRules {
        let c = self.config();
        RoomRules {
            policy,
            limit: match policy {
                room::Policy::Consultation => c.call_limit_consultation,
                room::Policy::Administrative => c.call_limit_administrative,
            },
            grace: Duration::from_secs(u64::from(c.call_grace_seconds)),
            knocks_per_window: c.knocks_per_ten_minutes,
        }
    }

    fn new_conn(&self) -> (ConnId, mpsc::UnboundedSender<Outgoing>, Connection) {
        let id = self.calls().next_conn.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = mpsc::unbounded_channel();
        (id, tx, Connection { id, rx })
    }

    /// A guest opens the WebSocket of their join link.
    pub async fn call_connect_guest(
        &self,
        token: &str,
        ip: IpAddr,
    ) -> Result<Connection, CallRefusal> {
        let grant = self.resolve_join_token(token).await?;
        let appointment = self.store().appointment(grant.appointment_id).await;
        let patient_id = appointment.ok().flatten().and_then(|a| a.patient_id);
        let rules = self.rules(grant.policy);
        let (id, tx, connection) = self.new_conn();
        let effects = {
            let mut reg = self.calls().lock();
            let live = reg
                .rooms
                .entry(grant.appointment_id)
                .or_insert_with(|| LiveRoom {
                    room: Room::new(rules),
                    patient_id,
                    ended_at: None,
                });
            let (_, effects) = live.room.attach_guest(
                id,
                grant.invitation_id,
                grant.role,
                &grant.display_name,
                grant.phone_on_file,
            )?;
            reg.conns.insert(
                id,
                ConnInfo {
                    appointment: grant.appointment_id,
                    tx,
                    ip,
                    actor_id: None,
                },
            );
            effects
        };
        self.run_effects(grant.appointment_id, id, effects).await;
        Ok(connection)
    }

    /// A host of the appointment opens the room from the staff pages.
    pub async fn call_connect_staff(
        &self,
        p: &StaffPrincipal,
        appointment_id: Uuid,
        ip: IpAddr,
    ) -> Result<Connection, CallRefusal> {
        let appointment = self.appointment_for_host(p, appointment_id).await?;
        if appointment.cancelled_at.is_some() {
            return Err(CallRefusal::Ended);
        }
        let rules = self.rules(appointment.policy);
        let (id, tx, connection) = self.new_conn();
        let effects = {
            let mut reg = self.calls().lock();
            let live = reg.rooms.entry(appointment_id).or_insert_with(|| LiveRoom {
                room: Room::new(rules),
                patient_id: appointment.patient_id,
                ended_at: None,
            });
            let (_, effects) = live.room.attach_staff(id, p.id, &p.display_name)?;
            reg.conns.insert(
                id,
                ConnInfo {
                    appointment: appointment_id,
                    tx,
                    ip,
                    actor_id: Some(p.id),
                },
            );
            effects
        };
        self.run_effects(appointment_id, id, effects).await;
        Ok(connection)
    }

    /// A text frame from a participant's WebSocket. Returns `false` when the message was
    /// not understood: the caller closes that connection (and only that one).
    pub async fn call_message(&self, conn: ConnId, text: &str) -> bool {
        let msg: ClientMsg = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(_) => return false,
        };
        let now = Instant::now();
        let code = match msg {
            ClientMsg::RequestCode => six_digits(),
            _ => String::new(),
        };
        let (appointment, effects) = {
            let mut reg = self.calls().lock();
            let Some(info) = reg.conns.get(&conn) else {
                return false;
            };
            let (appointment, ip) = (info.appointment, info.ip);
            if matches!(msg, ClientMsg::Knock { .. }) {
                let limit = self.config().knocks_per_ten_minutes as usize;
                let knocks = reg.knocks_by_addr.entry(ip).or_default();
                knocks.retain(|t| now.saturating_duration_since(*t) < room::KNOCK_WINDOW);
                if knocks.len() >= limit {
                    CallRegistry::send(
                        &reg,
                        conn,
                        Outgoing::Msg(ServerMsg::Error {
                            code: ErrorCode::TooMany,
                        }),
                    );
                    return true;
                }
                knocks.push(now);
            }
            let Some(live) = reg.rooms.get_mut(&appointment) else {
                return false;
            };
            (appointment, live.room.handle(now, conn, msg, &code))
        };
        self.run_effects(appointment, conn, effects).await;
        true
    }

    /// The participant's WebSocket closed.
    pub async fn call_disconnect(&self, conn: ConnId) {
        let now = Instant::now();
        let (appointment, effects) = {
            let mut reg = self.calls().lock();
            let Some(info) = reg.conns.remove(&conn) else {
                return;
            };
            let Some(live) = reg.rooms.get_mut(&info.appointment) else {
                return;
            };
            (info.appointment, live.room.detach(now, conn))
        };
        self.run_effects(appointment, conn, effects).await;
        self.forget_if_empty(appointment).await;
    }

    /// Forgets a room nobody is in any more. A call that had started and that everyone left
    /// without the host ending it is over too: its end and quality figures are recorded.
    async fn forget_if_empty(&self, appointment: Uuid) {
        let gone = {
            let mut reg = self.calls().lock();
            if reg
                .rooms
                .get(&appointment)
                .is_some_and(|r| r.room.is_empty() && !r.room.is_ended())
            {
                reg.rooms.remove(&appointment)
            } else {
                None
            }
        };
        if let Some(live) = gone
            && live.room.has_started()
        {
            if let Err(e) = self.record_call_ended(appointment).await {
                tracing::warn!(error = %e, "could not record the call's end");
            }
            self.store_quality(appointment, live.room.quality()).await;
        }
    }

    async fn grace_expired(&self, appointment: Uuid, participant: Uuid) {
        let effects = {
            let mut reg = self.calls().lock();
            let Some(live) = reg.rooms.get_mut(&appointment) else {
                return;
            };
            live.room.grace_expired(Instant::now(), participant)
        };
        self.run_effects(appointment, 0, effects).await;
        self.forget_if_empty(appointment).await;
    }

    /// Carries out a room's effects in order. `origin` is the connection that caused them.
    ///
    /// Boxed, because a grace timer it starts runs effects again (a recursive future).
    fn run_effects(
        &self,
        appointment: Uuid,
        origin: ConnId,
        effects: Vec<Effect>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(self.run_effects_inner(appointment, origin, effects))
    }

    async fn run_effects_inner(&self, appointment: Uuid, origin: ConnId, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send(conn, msg) => {
                    CallRegistry::send(&self.calls().lock(), conn, Outgoing::Msg(msg))
                }
                Effect::Close(conn) => {
                    let mut reg = self.calls().lock();
                    CallRegistry::send(&reg, conn, Outgoing::Close);
                    reg.conns.remove(&conn);
                }
                Effect::MediaJoin {
                    conn,
                    participant,
                    media_peer,
                    sdp,
                } => {
                    self.media_join(appointment, conn, participant, media_peer, sdp)
                        .await
                }
                Effect::MediaAnswer { media_peer, sdp } => {
                    if let Some(media) = self.media()
                        && let Err(e) = media.apply_answer(PeerId(media_peer), sdp).await
                    {
                        tracing::info!(error = %e, "a browser's answer was refused");
                        self.send_error(origin, ErrorCode::Media);
                    }
                }
                Effect::MediaLeave { media_peer } => {
                    self.calls().lock().media_peers.remove(&media_peer);
                    if let Some(media) = self.media() {
                        media.leave(PeerId(media_peer));
                    }
                }
                Effect::MediaForwarding { media_peer, audio } => {
                    if let Some(media) = self.media() {
                        media.set_forwarding(PeerId(media_peer), audio, true);
                    }
                }
                Effect::MediaCloseRoom => {
                    self.calls()
                        .lock()
                        .media_peers
                        .retain(|_, a| *a != appointment);
                    if let Some(media) = self.media() {
                        media.close_room(RoomId(appointment));
                    }
                }
                Effect::Audit(a) => self.audit_call(appointment, origin, a).await,
                Effect::SendCode {
                    invitation_id,
                    code,
                } => {
                    if let Err(e) = self.send_join_code(invitation_id, &code).await {
                        tracing::warn!(error = %e, "could not queue a one-time code");
                        self.send_error(origin, ErrorCode::Media);
                    }
                }
                Effect::SpendInvitation(invitation) => {
                    if let Err(e) = self.mark_invitation_spent(invitation).await {
                        tracing::error!(error = %e, "could not mark a removed participant's link as spent");
                    }
                }
                Effect::CallStarted => {
                    if let Err(e) = self.record_call_started(appointment).await {
                        tracing::warn!(error = %e, "could not record the call's start");
                    }
                }
                Effect::CallEnded => {
                    if let Some(live) = self.calls().lock().rooms.get_mut(&appointment) {
                        live.ended_at = Some(Instant::now());
                    }
                    if let Err(e) = self.record_call_ended(appointment).await {
                        tracing::warn!(error = %e, "could not record the call's end");
                    }
                    self.save_quality(appointment).await;
                }
                Effect::StartGrace { participant, after } => {
                    let app = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        app.grace_expired(appointment, participant).await;
                    });
                }
            }
        }
    }

    fn send_error(&self, conn: ConnId, code: ErrorCode) {
        CallRegistry::send(
            &self.calls().lock(),
            conn,
            Outgoing::Msg(ServerMsg::Error { code }),
        );
    }

    async fn media_join(
        &self,
        appointment: Uuid,
        conn: ConnId,
        participant: Uuid,
        media_peer: Uuid,
        sdp: String,
    ) {
        let Some(media) = self.media() else {
            self.send_error(conn, ErrorCode::Media);
            return;
        };
        self.calls()
            .lock()
            .media_peers
            .insert(media_peer, appointment);
        let answer = media
            .join(
                RoomId(appointment),
                PeerId(media_peer),
                participant.to_string(),
                sdp,
            )
            .await;
        match answer {
            Ok(sdp) => {
                // The participant may have left or reconnected while the media was set up.
                let current = {
                    let reg = self.calls().lock();
                    reg.rooms
                        .get(&appointment)
                        .and_then(|r| r.room.conn_of_media_peer(media_peer))
                };
                if current == Some(conn) {
                    CallRegistry::send(
                        &self.calls().lock(),
                        conn,
                        Outgoing::Msg(ServerMsg::Answer { sdp }),
                    );
                } else {
                    self.calls().lock().media_peers.remove(&media_peer);
                    media.leave(PeerId(media_peer));
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "the media server refused an offer");
                self.calls().lock().media_peers.remove(&media_peer);
                self.send_error(conn, ErrorCode::Media);
            }
        }
    }

    async fn audit_call(&self, appointment: Uuid, origin: ConnId, a: room::CallAudit) {
        let (ip, patient_id, actor_conn_id) = {
            let reg = self.calls().lock();
            let ip = reg
                .conns
                .get(&origin)
                .map(|c| c.ip.to_string())
                .unwrap_or_default();
            let actor = reg.conns.get(&origin).and_then(|c| c.actor_id);
            let patient = reg.rooms.get(&appointment).and_then(|r| r.patient_id);
            (ip, patient, actor)
        };
        let (actor_id, actor_label) = match a.actor {
            Who::Staff { staff_id } => (Some(staff_id), a.actor_name.clone()),
            Who::Guest { invitation_id, .. } => {
                (None, format!("{} (guest {invitation_id})", a.actor_name))
            }
        };
        let _ = actor_conn_id;
        let mut detail = a.detail.clone();
        if let Some(subject) = &a.subject {
            detail = if detail.is_empty() {
                subject.clone()
            } else {
                format!("{subject}: {detail}")
            };
        }
        let entry = NewAuditEntry {
            actor_id,
            actor_label,
            action: a.action,
            outcome: AuditOutcome::Success,
            patient_id,
            object: format!("appointment:{appointment}"),
            ip,
            detail,
            flagged: false,
        };
        if let Err(e) = self.store().append_audit(&entry, self.now()).await {
            tracing::error!(error = %e, "could not write a call event to the audit log");
        }
    }

    /// Queues a one-time code by SMS to the phone number on the invitation.
    async fn send_join_code(&self, invitation_id: Uuid, code: &str) -> crate::error::Result<()> {
        let invitation = self
            .store()
            .invitation(invitation_id)
            .await?
            .ok_or(AppError::NotFound("invitation"))?;
        let phone = invitation
            .phone
            .ok_or(AppError::NotFound("a phone number on file"))?;
        let org = self.organisation().await?;
        let ctx = MessageContext {
            organisation: org.name.clone(),
            support_phone: org.support_phone.clone(),
            code: Some(code.to_owned()),
            ..MessageContext::default()
        };
        let text = render(
            MessageKind::OneTimeCode,
            Channel::Sms,
            invitation.language,
            &ctx,
        )
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        let message = NewMessage {
            channel: OutboxChannel::Sms,
            recipient: phone,
            subject: text.subject,
            body: text.body,
            calendar: None,
            kind: "one-time-code".into(),
            not_before: now,
            dedupe_key: None,
        };
        self.store().enqueue_messages(&[message], None, now).await?;
        Ok(())
    }

    async fn save_quality(&self, appointment: Uuid) {
        let quality = {
            let reg = self.calls().lock();
            reg.rooms.get(&appointment).map(|r| r.room.quality())
        };
        if let Some(q) = quality {
            self.store_quality(appointment, q).await;
        }
    }

    async fn store_quality(&self, appointment: Uuid, q: room::Quality) {
        if q.reports > 0
            && let Err(e) = self
                .store()
                .save_call_quality(appointment, &to_store_quality(q), self.now())
                .await
        {
            tracing::warn!(error = %e, "could not save the call's quality figures");
        }
    }
}

fn to_store_quality(q: room::Quality) -> helsebro_store::CallQuality {
    let avg = |sum: f64, n: u64| if n == 0 { 0.0 } else { sum / n as f64 };
    helsebro_store::CallQuality {
        reports: q.reports as i64,
        avg_bitrate_in: avg(q.bitrate_in_sum, q.reports),
        avg_loss: avg(q.loss_sum, q.reports),
        max_loss: q.loss_max,
        avg_jitter: avg(q.jitter_sum, q.reports),
        avg_rtt: avg(q.rtt_sum, q.reports),
        max_rtt: q.rtt_max,
        freezes: q.freezes as i64,
        ..Default::default()
    }
}
