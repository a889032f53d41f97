//! The sans-I/O SFU core: one str0m [`Rtc`] per browser connection, the [`Router`] that decides
//! where frames go, and the server-side renegotiation of each connection.
//!
//! [`Sfu`] never touches a socket or a clock. The driver (or a test) hands it received datagrams
//! with [`Sfu::handle_receive`], calls [`Sfu::poll`] with the current time to let every
//! connection work and get the datagrams to send, and sleeps until the instant `poll` returns or
//! the next datagram or command arrives.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::config::CryptoProvider;
use str0m::format::PayloadParams;
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Pt, Rid};
use str0m::net::{Protocol, Receive, TcpType, Transmit};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Ssrc};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Reason, Rtc};

use crate::FastMap;
use crate::estimate::LinkEstimate;
use crate::forward::{Rewriter, Vp8Payload, inspect};
use crate::router::{Action, Kind, Router, TrackRef};
use crate::{Counters, MediaError, MediaEvent, PeerId, RoomId, Transport};

/// How long a self-test peer lives.
pub const PROBE_LIFETIME: Duration = Duration::from_secs(30);
/// How often str0m reports per outgoing stream (what the receiver reports said): the input of
/// each subscriber's [`LinkEstimate`].
const STATS_INTERVAL: Duration = Duration::from_millis(500);
/// Most rounds of propagation in one `poll`.
const MAX_POLL_ROUNDS: usize = 16;
/// Most packets kept per outgoing video stream for answering NACKs: the half second of
/// [`RTX_CACHE_AGE`] at 1.2 Mbit/s (about 115 packets/s with keyframes); a quarter of a second at
/// 2.5 Mbit/s. Each slot of str0m's ring is a packet record of about 430 bytes.
const RTX_CACHE_PACKETS: usize = 64;
/// How long a sent packet is kept for answering NACKs.
const RTX_CACHE_AGE: Duration = Duration::from_millis(500);
/// How late str0m's periodic timers may be served (see [`wake_at`]): less than the 20 ms between
/// a talking publisher's audio packets, so that its own traffic serves them.
const TIMER_SLACK: Duration = Duration::from_millis(15);
/// How often a subscriber's estimate learns from the router what the subscriber could use.
const WANTED_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    /// Wanted, not offered yet.
    ToOpen,
    /// Offered with this mid, waiting for the answer.
    Negotiating(Mid),
    /// Negotiated; frames are written to this mid.
    Open(Mid),
    /// To be removed in the next offer.
    ToStop(Mid),
    /// Removal offered, waiting for the answer.
    NegotiatingStop(Mid),
}

/// A track of another peer that this peer receives (or will).
#[derive(Debug)]
struct OutTrack {
    source: TrackRef,
    kind: Kind,
    label: String,
    state: OutState,
    /// The source left while this was being offered: stop it once the answer is in.
    orphaned: bool,
    rewriter: Rewriter,
    /// The last payload type mapping: publisher's parameters to this m-line's payload type.
    pt: Option<(PayloadParams, Pt)>,
    /// From the last receiver report read: the highest sequence number it covered, the packets
    /// lost on the subscriber's own link up to there, and those skipped (lost before the SFU).
    reported: Option<(u64, u64, u64)>,
    /// The SSRC of the outgoing stream of the open m-line, once looked up.
    tx: Option<Ssrc>,
}

#[derive(Debug)]
enum Role {
    /// A participant of a room.
    Member { room: RoomId, label: String },
    /// A self-test connection, dropped at `expires`.
    Probe { expires: Instant },
}

#[derive(Debug)]
struct Peer {
    rtc: Rtc,
    role: Role,
    connected: bool,
    /// `Disconnected` already reported.
    lost: bool,
    /// The peer's tracks have been offered to the others (happens once it is connected).
    announced: bool,
    published: Vec<(Mid, Kind)>,
    outs: Vec<OutTrack>,
    pending: Option<SdpPendingOffer>,
    next_timeout: Instant,
    /// Has input or writes that `poll` must drain.
    dirty: bool,
    /// Had packets written to it since its last timeout.
    written: bool,
    /// The downlink estimate from the receiver reports.
    link: LinkEstimate,
    /// When `link` last learnt what the subscriber could use.
    last_wanted: Option<Instant>,
    /// Receiver reports of the stats round being drained.
    report: ReportRound,
    /// Packets sent per outgoing m-line at the last stats round (to weigh the loss).
    sent: Vec<(Mid, u64)>,
}

impl Peer {
    /// A new connection, to be drained at once.
    fn new(rtc: Rtc, role: Role, outs: Vec<OutTrack>, now: Instant) -> Self {
        Peer {
            rtc,
            role,
            connected: false,
            lost: false,
            announced: false,
            published: Vec::new(),
            outs,
            pending: None,
            next_timeout: now,
            dirty: true,
            written: false,
            link: LinkEstimate::new(),
            last_wanted: None,
            report: ReportRound::default(),
            sent: Vec::new(),
        }
    }
}

/// The receiver reports of one stats round, over all of a peer's outgoing m-lines.
#[derive(Debug, Default)]
struct ReportRound {
    /// Packets lost on the subscriber's link since the previous round, over all m-lines.
    lost: f64,
    /// Packets sent that the reports cover since the previous round.
    packets: u64,
    /// Any m-line had a fresh report.
    fresh: bool,
    /// The highest loss reported, for a round in which nothing was sent to weigh it by.
    max_loss: f32,
    rtt: Option<Duration>,
}

impl ReportRound {
    /// One m-line's fresh report: `loss` over the `packets` sent to it since the last round.
    fn add(&mut self, loss: f32, packets: u64, rtt: Option<Duration>) {
        self.add_counts(f64::from(loss) * packets as f64, packets, rtt);
        self.max_loss = self.max_loss.max(loss);
    }

    /// One m-line's fresh report: `lost` of the `packets` it covers since the last round.
    fn add_counts(&mut self, lost: f64, packets: u64, rtt: Option<Duration>) {
        self.fresh = true;
        self.lost += lost;
        self.packets += packets;
        self.rtt = self.rtt.max(rtt);
    }

    /// The round's loss (weighed by packets sent) and round-trip time; `None` without a report.
    fn result(&self) -> Option<(f32, Option<Duration>)> {
        if !self.fresh {
            return None;
        }
        let loss = if self.packets > 0 {
            (self.lost / self.packets as f64) as f32
        } else {
            self.max_loss
        };
        Some((loss, self.rtt))
    }
}

/// Something one peer's output causes at other peers, handled after that peer is drained.
#[derive(Debug)]
enum Propagated {
    Media(PeerId, Box<Incoming>),
    KeyframeRequest(PeerId, Mid),
    Estimate(PeerId, u64),
    Connected(PeerId),
    TrackAdded(PeerId, Mid, Kind),
}

/// An RTP packet from a publisher, with what the router and the rewriting need to know.
#[derive(Debug)]
struct Incoming {
    mid: Mid,
    rid: Option<Rid>,
    params: PayloadParams,
    keyframe: bool,
    /// The VP8 payload descriptor, parsed once for all subscribers.
    vp8: Option<Vp8Payload>,
    pkt: RtpPacket,
}

/// The SFU core. See the module documentation.
pub struct Sfu {
    udp_candidate: SocketAddr,
    tcp_candidate: SocketAddr,
    crypto: Arc<CryptoProvider>,
    peers: FastMap<PeerId, Peer>,
    router: Router,
    /// Which peer last accepted datagrams from a remote address.
    routes: FastMap<(Protocol, SocketAddr), PeerId>,
    queue: Vec<Propagated>,
    /// Datagrams produced while handling input, sent at the next `poll`.
    outbox: Vec<Transmit>,
    actions: Vec<Action>,
    events: Vec<MediaEvent>,
    counters: Arc<Counters>,
}

impl Sfu {
    /// A core whose host candidates are `udp_candidate` (UDP) and `tcp_candidate` (passive TCP).
    /// These are the addresses browsers send to; received datagrams must carry them as
    /// destination.
    pub fn new(
        udp_candidate: SocketAddr,
        tcp_candidate: SocketAddr,
        counters: Arc<Counters>,
    ) -> Self {
        let crypto = Arc::new(crate::dtls::crypto_provider());
        // The process's first random numbers seed aws-lc's generator from CPU jitter: 40–70 ms
        // here, once. Done at start, rather than in the first participant's join, during which
        // the worker would forward nothing.
        let _ = crypto.dtls_provider.generate_certificate();
        Sfu {
            udp_candidate,
            tcp_candidate,
            crypto,
            peers: FastMap::default(),
            router: Router::new(),
            routes: FastMap::default(),
            queue: Vec::new(),
            outbox: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
            counters,
        }
    }

    fn new_rtc(&self, now: Instant, only: Option<Transport>) -> Result<Rtc, MediaError> {
        let mut rtc = Rtc::builder()
            .set_crypto_provider(self.crypto.clone())
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_h264(true)
            // No send-side estimator: its pacer costs a full timeout per packet (see `estimate`).
            .enable_bwe(None)
            .set_stats_interval(Some(STATS_INTERVAL))
            .build(now);
        if only != Some(Transport::Tcp) {
            let c = Candidate::host(self.udp_candidate, "udp")
                .map_err(|e| MediaError::Config(format!("UDP candidate: {e}")))?;
            rtc.add_local_candidate(c);
        }
        if only != Some(Transport::Udp) {
            let c = Candidate::builder()
                .tcp()
                .host(self.tcp_candidate)
                .tcptype(TcpType::Passive)
                .build()
                .map_err(|e| MediaError::Config(format!("TCP candidate: {e}")))?;
            rtc.add_local_candidate(c);
        }
        Ok(rtc)
    }

    /// A browser's first offer: admit `peer` to `room` and answer. See [`crate::Media::join`].
    pub fn join(
        &mut self,
        now: Instant,
        room: RoomId,
        peer: PeerId,
        label: String,
        offer_sdp: &str,
    ) -> Result<String, MediaError> {
        let offer =
            SdpOffer::from_sdp_string(offer_sdp).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let mut rtc = self.new_rtc(now, None)?;
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| MediaError::BadSdp(e.to_string()))?;
        // A fresh PeerConnection from the same participant replaces the old one.
        self.leave(peer);
        self.router.add_peer(room, peer);
        let mut outs = Vec::new();
        for (other_id, other) in &self.peers {
            let Role::Member { room: r, label: l } = &other.role else {
                continue;
            };
            if *r != room || !other.announced {
                continue;
            }
            for (mid, kind) in &other.published {
                outs.push(OutTrack::new(
                    TrackRef {
                        peer: *other_id,
                        mid: *mid,
                    },
                    *kind,
                    l.clone(),
                ));
            }
        }
        self.peers.insert(
            peer,
            Peer::new(rtc, Role::Member { room, label }, outs, now),
        );
        self.update_gauges();
        Ok(answer.to_sdp_string())
    }

    /// The browser's answer to the pending server offer.
    pub fn apply_answer(
        &mut self,
        now: Instant,
        peer_id: PeerId,
        answer_sdp: &str,
    ) -> Result<(), MediaError> {
        let peer = self
            .peers
            .get_mut(&peer_id)
            .ok_or(MediaError::UnknownPeer)?;
        let answer = SdpAnswer::from_sdp_string(answer_sdp)
            .map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let pending = peer.pending.take().ok_or(MediaError::NoPendingOffer)?;
        peer.dirty = true;
        if let Err(e) = peer.rtc.sdp_api().accept_answer(pending, answer) {
            // Offer again from scratch next time round.
            for out in &mut peer.outs {
                out.state = match out.state {
                    OutState::Negotiating(_) => OutState::ToOpen,
                    OutState::NegotiatingStop(m) => OutState::ToStop(m),
                    s => s,
                };
            }
            // Offer the same changes again.
            self.negotiate(peer_id);
            return Err(MediaError::BadSdp(e.to_string()));
        }
        let mut opened = Vec::new();
        for out in &mut peer.outs {
            match out.state {
                OutState::Negotiating(m) if out.orphaned => out.state = OutState::ToStop(m),
                OutState::Negotiating(m) => {
                    out.state = OutState::Open(m);
                    opened.push((m, out.source, out.kind));
                }
                _ => {}
            }
        }
        peer.outs
            .retain(|o| !matches!(o.state, OutState::NegotiatingStop(_)));
        // The resend cache (for NACKs) holds what a retransmission can still repair: half a
        // second, a NACK and a retransmission on a round trip of up to about 250 ms (a Norwegian
        // mobile link is 30–100 ms). str0m's default (1024 packets, 3 s) kept a ring of up to
        // 1024 packet records per outgoing video stream, and a subscriber in a meeting of 12 has
        // 11 of them. The payloads are shared between subscribers (`Arc`); the records (header,
        // extension values) are not: at 64 slots they are still about a third of the heap of a
        // meeting of 12 (heaptrack).
        // Audio is written not nackable (Opus conceals a lost packet better than a late resend
        // repairs it): its streams keep no cache, and no byte history for the resend cap.
        let mut direct = peer.rtc.direct_api();
        for (mid, _, kind) in &opened {
            if let Some(tx) = direct.stream_tx_by_mid(*mid, None) {
                match kind {
                    Kind::Video => tx.set_rtx_cache(RTX_CACHE_PACKETS, RTX_CACHE_AGE, Some(0.15)),
                    Kind::Audio => tx.set_rtx_cache(0, Duration::ZERO, None),
                }
            }
        }
        // New subscriptions change what the subscriber could use: tell its estimate at once.
        if !opened.is_empty() {
            peer.last_wanted = None;
        }
        for (mid, source, _) in opened {
            if let Err(e) = self
                .router
                .subscribe(now, peer_id, mid, source, &mut self.actions)
            {
                tracing::debug!(peer = ?peer_id.0, error = %e, "subscription refused");
            }
        }
        self.run_actions(None);
        self.negotiate(peer_id);
        Ok(())
    }

    /// Remove `peer` and stop its tracks at the others. Unknown peers are ignored.
    pub fn leave(&mut self, peer_id: PeerId) {
        let Some(mut peer) = self.peers.remove(&peer_id) else {
            return;
        };
        peer.rtc.disconnect();
        if peer.connected && !peer.lost {
            self.events.push(MediaEvent::Disconnected { peer: peer_id });
        }
        self.router.remove_peer(peer_id);
        self.routes.retain(|_, p| *p != peer_id);
        let mut touched = Vec::new();
        for (id, other) in &mut self.peers {
            let before = other.outs.len();
            other
                .outs
                .retain(|o| !(o.source.peer == peer_id && o.state == OutState::ToOpen));
            let mut changed = other.outs.len() != before;
            for out in &mut other.outs {
                if out.source.peer != peer_id {
                    continue;
                }
                match out.state {
                    OutState::Open(m) => {
                        out.state = OutState::ToStop(m);
                        changed = true;
                    }
                    OutState::Negotiating(_) => out.orphaned = true,
                    _ => {}
                }
            }
            if changed {
                touched.push(*id);
            }
        }
        for id in touched {
            self.negotiate(id);
        }
        self.update_gauges();
    }

    /// Remove every peer of `room`.
    pub fn close_room(&mut self, room: RoomId) {
        for peer in self.router.peers_in(room) {
            self.leave(peer);
        }
    }

    /// Host mute. See [`crate::Media::set_forwarding`].
    pub fn set_forwarding(&mut self, now: Instant, peer: PeerId, audio: bool, video: bool) {
        self.router
            .set_forwarding(now, peer, audio, video, &mut self.actions);
        self.run_actions(None);
    }

    /// A self-test peer with a data channel only and a candidate of one transport.
    pub fn probe(
        &mut self,
        now: Instant,
        offer_sdp: &str,
        only: Transport,
    ) -> Result<String, MediaError> {
        let offer =
            SdpOffer::from_sdp_string(offer_sdp).map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let mut rtc = self.new_rtc(now, Some(only))?;
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| MediaError::BadSdp(e.to_string()))?;
        let id = PeerId(uuid::Uuid::now_v7());
        let role = Role::Probe {
            expires: now + PROBE_LIFETIME,
        };
        self.peers.insert(id, Peer::new(rtc, role, Vec::new(), now));
        self.update_gauges();
        Ok(answer.to_sdp_string())
    }

    /// A received datagram (for TCP: one RFC 4571 frame). Returns whether a peer took it.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) -> bool {
        let Ok(receive) = Receive::new(proto, source, destination, data) else {
            self.counters.bad_packets.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let input = Input::Receive(now, receive);
        let cached = self
            .routes
            .get(&(proto, source))
            .copied()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rtc.accepts(&input)));
        let target = cached.or_else(|| {
            self.peers
                .iter()
                .find(|(_, p)| p.rtc.accepts(&input))
                .map(|(id, _)| *id)
        });
        let Some(id) = target else {
            self.counters.bad_packets.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        self.routes.insert((proto, source), id);
        if let Some(peer) = self.peers.get_mut(&id) {
            if let Err(e) = peer.rtc.handle_input(input) {
                tracing::debug!(peer = ?id.0, error = %e, "input refused; disconnecting peer");
                peer.rtc.disconnect();
            }
            // In RTP mode str0m holds one received packet until it is polled: drain now, before
            // another datagram can come in. What the packet causes at the others is done in
            // `poll`.
            let outbox = &mut self.outbox;
            peer.next_timeout = drain(id, peer, now, &mut self.queue, &mut self.events, &mut |t| {
                outbox.push(t)
            });
            peer.dirty = false;
        }
        true
    }

    /// Events for the signalling layer produced since the last call.
    pub fn take_events(&mut self) -> Vec<MediaEvent> {
        std::mem::take(&mut self.events)
    }

    /// Let every peer that has work do it: time-outs, propagation of media between peers,
    /// renegotiation. Datagrams to send go to `send`. Returns when `poll` wants to be called
    /// again at the latest.
    pub fn poll(&mut self, now: Instant, send: &mut dyn FnMut(Transmit)) -> Instant {
        for t in self.outbox.drain(..) {
            send(t);
        }
        let mut dead = Vec::new();
        // The first round handles the peers whose timeout is due; later rounds only the peers
        // that the earlier rounds gave work (media written to them, offers). Bounded, so that
        // one misbehaving peer cannot keep the driver here.
        for round in 0..MAX_POLL_ROUNDS {
            let ids: Vec<PeerId> = self
                .peers
                .iter()
                .filter(|(_, p)| p.dirty || (round == 0 && p.next_timeout <= now))
                .map(|(id, _)| *id)
                .collect();
            if ids.is_empty() && self.queue.is_empty() {
                break;
            }
            for id in ids {
                let Some(peer) = self.peers.get_mut(&id) else {
                    continue;
                };
                if let Role::Probe { expires } = peer.role
                    && expires <= now
                {
                    dead.push(id);
                    peer.dirty = false;
                    peer.next_timeout = now + PROBE_LIFETIME;
                    continue;
                }
                // Packets written with `write_rtp` become sendable only when str0m's time moves
                // (its send queue stamps them in `handle_timeout`): a peer that was written to
                // gets a timeout now, not at its next due time.
                if (peer.next_timeout <= now || std::mem::take(&mut peer.written))
                    && let Err(e) = peer.rtc.handle_input(Input::Timeout(now))
                {
                    tracing::debug!(peer = ?id.0, error = %e, "timeout failed");
                    peer.rtc.disconnect();
                }
                peer.dirty = false;
                if let Role::Member { .. } = peer.role {
                    let due = peer
                        .last_wanted
                        .is_none_or(|t| now.saturating_duration_since(t) >= WANTED_INTERVAL);
                    if due && peer.connected {
                        peer.last_wanted = Some(now);
                        let before = peer.link.bps();
                        peer.link.set_wanted(self.router.wanted_bitrate(id, now));
                        if peer.link.bps() != before {
                            self.queue.push(Propagated::Estimate(id, peer.link.bps()));
                        }
                    }
                }
                peer.next_timeout = drain(id, peer, now, &mut self.queue, &mut self.events, send);
                if !peer.rtc.is_alive() {
                    dead.push(id);
                }
            }
            self.propagate(now);
            for id in dead.drain(..) {
                self.drop_peer(id);
            }
        }
        let mut next = now + Duration::from_secs(1);
        for peer in self.peers.values() {
            next = next.min(peer.next_timeout);
            if let Role::Probe { expires } = peer.role {
                next = next.min(expires);
            }
        }
        next.max(now)
    }

    /// A peer whose connection died: report it and remove it like a leave.
    fn drop_peer(&mut self, id: PeerId) {
        if let Some(peer) = self.peers.get_mut(&id)
            && matches!(peer.role, Role::Member { .. })
            && !peer.lost
        {
            peer.lost = true;
            self.events.push(MediaEvent::Disconnected { peer: id });
        }
        self.leave(id);
    }

    fn propagate(&mut self, now: Instant) {
        let mut queue = std::mem::take(&mut self.queue);
        for p in queue.drain(..) {
            match p {
                Propagated::Media(from, data) => {
                    self.counters
                        .packets_received
                        .fetch_add(1, Ordering::Relaxed);
                    self.router.on_media(
                        now,
                        from,
                        data.mid,
                        data.rid,
                        data.keyframe,
                        data.pkt.payload.len(),
                        &mut self.actions,
                    );
                    self.run_actions(Some(&data));
                }
                Propagated::KeyframeRequest(from, mid) => {
                    self.router
                        .on_keyframe_request(now, from, mid, &mut self.actions);
                    self.run_actions(None);
                }
                Propagated::Estimate(peer, bps) => {
                    self.router.on_estimate(now, peer, bps, &mut self.actions);
                    self.run_actions(None);
                }
                Propagated::Connected(id) => self.announce(id),
                Propagated::TrackAdded(id, mid, kind) => {
                    if let Err(e) = self.router.add_track(id, mid, kind) {
                        tracing::debug!(peer = ?id.0, error = %e, "track not added");
                    }
                }
            }
        }
        if self.queue.is_empty() {
            self.queue = queue;
        }
    }

    /// Offer the tracks of a newly connected peer to the others in its room, and start its own
    /// pending offer.
    fn announce(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let Role::Member { room, label } = &peer.role else {
            return;
        };
        let (room, label) = (*room, label.clone());
        peer.announced = true;
        let published = peer.published.clone();
        let mut touched = vec![id];
        for (other_id, other) in &mut self.peers {
            if *other_id == id {
                continue;
            }
            if !matches!(&other.role, Role::Member { room: r, .. } if *r == room) {
                continue;
            }
            for (mid, kind) in &published {
                other.outs.push(OutTrack::new(
                    TrackRef {
                        peer: id,
                        mid: *mid,
                    },
                    *kind,
                    label.clone(),
                ));
            }
            if !published.is_empty() {
                touched.push(*other_id);
            }
        }
        for t in touched {
            self.negotiate(t);
        }
    }

    /// Perform the router's actions. `data` is the packet `Forward` refers to.
    fn run_actions(&mut self, data: Option<&Incoming>) {
        // Drained from a taken buffer that is handed back afterwards, so that its capacity is
        // reused instead of allocated again for every packet.
        let mut actions = std::mem::take(&mut self.actions);
        for action in actions.drain(..) {
            match action {
                Action::Forward { to, mid } => {
                    let Some(data) = data else { continue };
                    let Some(peer) = self.peers.get_mut(&to) else {
                        continue;
                    };
                    if forward(peer, mid, data) {
                        self.counters
                            .packets_forwarded
                            .fetch_add(1, Ordering::Relaxed);
                        self.counters
                            .bytes_forwarded
                            .fetch_add(data.pkt.payload.len() as u64, Ordering::Relaxed);
                    }
                }
                Action::RequestKeyframe { track, rid } => {
                    let Some(peer) = self.peers.get_mut(&track.peer) else {
                        continue;
                    };
                    let mut direct = peer.rtc.direct_api();
                    let Some(rx) = direct.stream_rx_by_mid(track.mid, rid) else {
                        continue;
                    };
                    rx.request_keyframe(KeyframeRequestKind::Pli);
                    peer.dirty = true;
                    self.counters
                        .keyframe_requests
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if self.actions.is_empty() {
            self.actions = actions;
        }
    }

    /// Send the next server offer to `id` if it is connected, has no offer outstanding and has
    /// changes queued. One offer at a time per peer; further changes wait for the answer.
    fn negotiate(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        if !peer.connected || peer.pending.is_some() {
            return;
        }
        let mut unsubscribed = Vec::new();
        let mut api = peer.rtc.sdp_api();
        for out in &mut peer.outs {
            match out.state {
                OutState::ToOpen => {
                    let kind = match out.kind {
                        Kind::Audio => MediaKind::Audio,
                        Kind::Video => MediaKind::Video,
                    };
                    let mid = api.add_media(
                        kind,
                        Direction::SendOnly,
                        Some(out.label.clone()),
                        None,
                        None,
                    );
                    out.state = OutState::Negotiating(mid);
                }
                OutState::ToStop(mid) => {
                    api.stop_media(mid);
                    unsubscribed.push(mid);
                    out.state = OutState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        if !api.has_changes() {
            return;
        }
        let Some((offer, pending)) = api.apply() else {
            return;
        };
        peer.pending = Some(pending);
        peer.dirty = true;
        for mid in unsubscribed {
            self.router.unsubscribe(id, mid);
        }
        self.events.push(MediaEvent::Offer {
            peer: id,
            sdp: offer.to_sdp_string(),
        });
    }

    fn update_gauges(&self) {
        let probes = self
            .peers
            .values()
            .filter(|p| matches!(p.role, Role::Probe { .. }))
            .count();
        self.counters
            .peers
            .store((self.peers.len() - probes) as u64, Ordering::Relaxed);
        self.counters.probes.store(probes as u64, Ordering::Relaxed);
        self.counters
            .rooms
            .store(self.router.room_count() as u64, Ordering::Relaxed);
    }

    /// The UDP and TCP candidate addresses.
    pub fn candidates(&self) -> (SocketAddr, SocketAddr) {
        (self.udp_candidate, self.tcp_candidate)
    }

    /// Whether `peer` is connected (ICE and DTLS up).
    pub fn is_connected(&self, peer: PeerId) -> bool {
        self.peers.get(&peer).is_some_and(|p| p.connected)
    }

    /// The router, for inspection in tests.
    pub fn router(&self) -> &Router {
        &self.router
    }
}

impl OutTrack {
    /// A receiver report for this m-line covers sequence numbers up to `max_seq` and counts
    /// `lost` (cumulative, the report's 24-bit field). Returns the packets lost on the
    /// subscriber's own link since the previous report, and how many packets were sent to it
    /// in that stretch: what was lost before the SFU (skipped, see `forward`) is neither.
    fn downlink_loss(&mut self, max_seq: u64, lost: u64) -> (u64, u64) {
        // A negative count (duplicates) reads as a large 24-bit number.
        let lost = if lost & 0x80_0000 != 0 { 0 } else { lost };
        let skipped = self.rewriter.skipped_through(max_seq);
        let own = lost.saturating_sub(skipped);
        match self.reported.replace((max_seq, own, skipped)) {
            Some((prev_seq, prev_own, prev_skipped)) if max_seq > prev_seq => {
                let sent =
                    (max_seq - prev_seq).saturating_sub(skipped.saturating_sub(prev_skipped));
                (own.saturating_sub(prev_own).min(sent), sent)
            }
            // The first report, or one that covers nothing new.
            _ => (0, 0),
        }
    }

    fn new(source: TrackRef, kind: Kind, label: String) -> Self {
        OutTrack {
            source,
            kind,
            label,
            state: OutState::ToOpen,
            orphaned: false,
            rewriter: Rewriter::new(),
            pt: None,
            reported: None,
            tx: None,
        }
    }
}

/// Write one packet to `peer`'s m-line `mid`, rewritten for it. Whether it was written.
fn forward(peer: &mut Peer, mid: Mid, data: &Incoming) -> bool {
    let Some(out) = peer
        .outs
        .iter_mut()
        .find(|o| o.state == OutState::Open(mid))
    else {
        return false;
    };
    let pt = match out.pt {
        Some((params, pt)) if params == data.params => pt,
        _ => {
            let Some(pt) = peer.rtc.codec_config().match_params(data.params) else {
                return false;
            };
            out.pt = Some((data.params, pt.pt()));
            pt.pt()
        }
    };
    let w = out.rewriter.rewrite(
        data.rid,
        *data.pkt.seq_no,
        data.keyframe,
        data.pkt.time,
        data.pkt.timestamp,
        data.vp8.map(|v| v.ids),
    );
    let video = out.kind == Kind::Video;
    let ext = &data.pkt.header.ext_vals;
    let ext_vals = ExtensionValues {
        audio_level: ext.audio_level,
        voice_activity: ext.voice_activity,
        video_orientation: ext.video_orientation,
        ..ExtensionValues::default()
    };
    let mut write = RtpWrite::new(
        pt,
        w.seq.into(),
        w.time,
        data.pkt.timestamp,
        data.pkt.payload.clone(),
    )
    .marker(data.pkt.header.marker)
    .nackable(video)
    .ext_vals(ext_vals);
    if let (Some((pid, tl0)), Some(v)) = (w.vp8, data.vp8) {
        let mut b = v.descriptor.patch();
        if let Some(p) = pid {
            b = b.picture_id(p);
        }
        if let Some(t) = tl0 {
            b = b.tl0_pic_idx(t);
        }
        if let Ok(p) = b.build() {
            write = write.vp8_patch(p);
        }
    }
    let mut direct = peer.rtc.direct_api();
    // str0m finds a stream by mid by looking at each of the peer's outgoing streams in turn (22
    // in a meeting of 12); by SSRC it is one map lookup, done once per packet: the stream found
    // by the remembered SSRC is written to when it still is this m-line's.
    if let Some(tx) = out
        .tx
        .and_then(|s| direct.stream_tx(&s))
        .filter(|t| t.mid() == mid)
    {
        tx.write_rtp(write);
    } else if let Some(tx) = direct.stream_tx_by_mid(mid, None) {
        out.tx = Some(tx.ssrc());
        tx.write_rtp(write);
    } else {
        return false;
    }
    peer.dirty = true;
    peer.written = true;
    true
}

/// When to wake for a connection whose next timeout is `t`, due to `reason`: str0m's periodic
/// work a little late. Its NACK check (every 33 ms), transport-wide feedback (every 50 ms),
/// reports and stats run in whatever pass comes first, and every datagram a connection
/// receives runs a pass: for a connection with traffic, that work is done in passing within
/// a few milliseconds. Waking for it on time meant a wake-up and a pass of its own: in 1:1
/// calls, 1,000 a second for 20 participants, 37% of all passes (2,700 a second). Work that is
/// already due (a keyframe request to send, feedback queued) and every other timer (ICE, DTLS,
/// data channels) stay exact.
fn wake_at(now: Instant, t: Instant, reason: Reason) -> Instant {
    match reason {
        Reason::Nack | Reason::Twcc | Reason::Feedback | Reason::Stats if t > now => {
            t + TIMER_SLACK
        }
        _ => t,
    }
}

/// Drain one peer's output until it wants a timeout. Media, keyframe requests and estimates go
/// to `queue` for the other peers; datagrams to `send`.
fn drain(
    id: PeerId,
    peer: &mut Peer,
    now: Instant,
    queue: &mut Vec<Propagated>,
    events: &mut Vec<MediaEvent>,
    send: &mut dyn FnMut(Transmit),
) -> Instant {
    let member = matches!(peer.role, Role::Member { .. });
    loop {
        if !peer.rtc.is_alive() {
            return now;
        }
        let output = match peer.rtc.poll_output() {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(peer = ?id.0, error = %e, "poll failed; disconnecting peer");
                peer.rtc.disconnect();
                return now;
            }
        };
        match output {
            Output::Timeout(t) => {
                // A stats round comes out in one go: all of it is in once the peer wants a
                // timeout.
                let round = std::mem::take(&mut peer.report);
                if member && let Some((loss, rtt)) = round.result() {
                    let bps = peer.link.on_report(now, loss, rtt);
                    queue.push(Propagated::Estimate(id, bps));
                }
                return wake_at(now, t, peer.rtc.last_timeout_reason());
            }
            Output::Transmit(t) => send(t),
            Output::Event(event) => match event {
                Event::Connected => {
                    peer.connected = true;
                    if member {
                        events.push(MediaEvent::Connected { peer: id });
                        queue.push(Propagated::Connected(id));
                        queue.push(Propagated::Estimate(id, peer.link.bps()));
                    }
                }
                Event::IceConnectionStateChange(IceConnectionState::Disconnected)
                    if member && peer.connected && !peer.lost =>
                {
                    peer.lost = true;
                    events.push(MediaEvent::Disconnected { peer: id });
                }
                Event::IceConnectionStateChange(
                    IceConnectionState::Connected | IceConnectionState::Completed,
                ) if member && peer.lost => {
                    peer.lost = false;
                    events.push(MediaEvent::Connected { peer: id });
                }
                Event::MediaAdded(added) if member => {
                    let receiving =
                        matches!(added.direction, Direction::RecvOnly | Direction::SendRecv);
                    if receiving && !peer.published.iter().any(|(m, _)| *m == added.mid) {
                        let kind = match added.kind {
                            MediaKind::Audio => Kind::Audio,
                            MediaKind::Video => Kind::Video,
                        };
                        peer.published.push((added.mid, kind));
                        queue.push(Propagated::TrackAdded(id, added.mid, kind));
                    }
                }
                Event::RtpPacket(pkt) if member => {
                    let ssrc = pkt.header.ssrc;
                    let Some((mid, rid)) = peer
                        .rtc
                        .direct_api()
                        .stream_rx(&ssrc)
                        .map(|s| (s.mid(), s.rid()))
                    else {
                        continue;
                    };
                    let pt = pkt.header.payload_type;
                    let Some(params) = peer
                        .rtc
                        .codec_config()
                        .params()
                        .iter()
                        .find(|p| p.pt() == pt)
                        .copied()
                    else {
                        continue;
                    };
                    let (keyframe, vp8) = inspect(params.spec().codec, &pkt.payload);
                    queue.push(Propagated::Media(
                        id,
                        Box::new(Incoming {
                            mid,
                            rid,
                            params,
                            keyframe,
                            vp8,
                            pkt,
                        }),
                    ));
                }
                Event::KeyframeRequest(req) if member => {
                    queue.push(Propagated::KeyframeRequest(id, req.mid));
                }
                Event::MediaEgressStats(stats) if member => {
                    let sent = match peer.sent.iter_mut().find(|(m, _)| *m == stats.mid) {
                        Some((_, n)) => std::mem::replace(n, stats.packets),
                        None => {
                            peer.sent.push((stats.mid, stats.packets));
                            0
                        }
                    };
                    let Some(loss) = stats.loss else {
                        continue;
                    };
                    let out = peer
                        .outs
                        .iter_mut()
                        .find(|o| o.state == OutState::Open(stats.mid));
                    match (out, stats.remote) {
                        (Some(out), Some(remote)) => {
                            let (lost, sent) = out.downlink_loss(
                                *remote.maximum_sequence_number,
                                remote.packets_lost,
                            );
                            peer.report.add_counts(lost as f64, sent, stats.rtt);
                        }
                        _ => {
                            let packets = stats.packets.saturating_sub(sent);
                            peer.report.add(loss, packets, stats.rtt);
                        }
                    }
                }
                _ => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use str0m::Reason;
    use str0m::media::{MediaTime, Mid};
    use uuid::Uuid;

    use super::{OutTrack, TIMER_SLACK, wake_at};
    use crate::PeerId;
    use crate::router::{Kind, TrackRef};

    #[test]
    fn a_report_is_read_as_loss_on_the_subscribers_own_link_since_the_last() {
        let source = TrackRef {
            peer: PeerId(Uuid::from_u128(1)),
            mid: Mid::from("a"),
        };
        let mut out = OutTrack::new(source, Kind::Audio, "a".into());
        let start = Instant::now();
        // Sends 1000..=1099 with 1020..=1029 lost before the SFU: out 0..100, ten skipped.
        let mut first = None;
        for seq in (1000..1100).filter(|s| !(1020..1030).contains(s)) {
            let w = out
                .rewriter
                .rewrite(None, seq, false, MediaTime::from_90khz(seq), start, None);
            first.get_or_insert(w.seq);
        }
        let first = first.unwrap_or_default();
        // The first report, before the gap, sets the baseline.
        assert_eq!(out.downlink_loss(first + 15, 0), (0, 0));
        // Up to the end: the receiver counts 13 lost, 10 of them never sent; of the 74 sent
        // since the last report (84 sequence numbers less the 10), 3 were lost on its link.
        assert_eq!(out.downlink_loss(first + 99, 13), (3, 74));
        // A report that covers nothing new tells nothing; a negative count (duplicates) is 0.
        assert_eq!(out.downlink_loss(first + 99, 13), (0, 0));
        assert_eq!(out.downlink_loss(first + 99, 0xff_fffe), (0, 0));
    }

    #[test]
    fn periodic_timers_wait_for_traffic_and_the_rest_stay_exact() {
        let now = Instant::now();
        let soon = now + Duration::from_millis(20);
        for reason in [Reason::Nack, Reason::Twcc, Reason::Feedback, Reason::Stats] {
            assert_eq!(wake_at(now, soon, reason), soon + TIMER_SLACK, "{reason:?}");
            // Already due (a keyframe request queued): at once.
            assert_eq!(wake_at(now, now, reason), now, "{reason:?} due");
        }
        for reason in [Reason::DTLS, Reason::Ice, Reason::Sctp, Reason::Channel] {
            assert_eq!(wake_at(now, soon, reason), soon, "{reason:?}");
        }
    }
}
