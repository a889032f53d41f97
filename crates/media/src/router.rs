//! The forwarding decisions of the SFU as a pure state machine: who is in which room, which
//! published track goes to which subscriber, and which simulcast layer each subscriber gets.
//!
//! The router never touches str0m's `Rtc`, sockets or clocks. It is fed "a frame arrived from
//! publisher P on track T, layer R, keyframe or not", "subscriber S's bandwidth estimate is B",
//! "subscriber S asked for a keyframe on its m-line M" and the current time, and it answers with
//! [`Action`]s: forward this frame to S on m-line M, ask P for a keyframe on layer R. The only
//! str0m items it uses are the plain value types [`Mid`] and [`Rid`], so a unit test drives it with
//! synthetic frames and an `Instant` it advances by hand.
//!
//! Layer choice, per subscriber and video track:
//! - The subscriber's egress estimate, less [`AUDIO_RESERVE_BPS`] per audio track it receives
//!   (audio first: audio is always forwarded), is shared evenly between its video tracks.
//! - Each layer's bitrate is measured from the frames that arrive. The highest layer that fits the
//!   share is chosen; going *up* needs [`UP_HEADROOM_PCT`] of headroom and waits
//!   [`UP_HOLD`] after the last switch, going down is immediate. When not even the lowest layer
//!   fits, the video is paused (nothing forwarded) until it fits again.
//! - A switch to another layer keeps forwarding the old layer until a keyframe arrives on the new
//!   one, and asks the publisher for that keyframe (repeated at most every
//!   [`KEYFRAME_REQUEST_INTERVAL`] while waiting).
//! - A track without simulcast (one layer, no lower one to fall back to) is not paused merely
//!   because the share is below its rate: it is the only picture there is, and the publisher's
//!   own congestion control lowers its bitrate. It is forwarded (a link that cannot take it
//!   shows loss in its receiver reports, and the estimate falls), unless the estimate less audio
//!   is below [`MIN_VIDEO_BPS`] (paused at once), or the share has stayed below
//!   [`SINGLE_LAYER_PAUSE_PCT`] of the layer's rate without rising for [`SINGLE_LAYER_PAUSE_AFTER`].
//!   It resumes, after [`UP_HOLD`], once the share is back above that fraction.
//! - Before any estimate has arrived a subscriber gets the lowest active layer.

use std::time::{Duration, Instant};

use str0m::media::{Mid, Rid};

use crate::{FastMap, PeerId, RoomId};

/// Bitrate set aside for each audio track a subscriber receives before video gets a share.
pub const AUDIO_RESERVE_BPS: u64 = 50_000;
/// Headroom (percent above the layer's measured bitrate) needed before switching up to a layer.
pub const UP_HEADROOM_PCT: u64 = 15;
/// Minimum time after a layer switch (or pause) before the router switches up again.
pub const UP_HOLD: Duration = Duration::from_secs(2);
/// Minimum time between two keyframe requests for the same layer of the same track.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);
/// A layer that sent nothing for this long counts as switched off by the publisher.
pub const LAYER_INACTIVE_AFTER: Duration = Duration::from_millis(1500);
/// Below this much bitrate for all video together (estimate less audio), video without
/// simulcast is paused at once.
pub const MIN_VIDEO_BPS: u64 = 100_000;
/// Video without simulcast is paused when its share stays below this percentage of its rate...
pub const SINGLE_LAYER_PAUSE_PCT: u64 = 50;
/// ...for this long without the estimate rising.
pub const SINGLE_LAYER_PAUSE_AFTER: Duration = Duration::from_secs(3);
/// A rise of the estimate by this percentage counts as rising (restarts the pause timer).
const RISING_PCT: u64 = 5;
/// What [`Router::wanted_bitrate`] counts for a video track none of whose layers is measured.
pub const UNMEASURED_VIDEO_BPS: u64 = 2_500_000;
/// Window over which a layer's bitrate is measured.
const RATE_WINDOW: Duration = Duration::from_millis(500);

/// Audio or video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Opus audio.
    Audio,
    /// VP8 (or H.264) video, possibly simulcast.
    Video,
}

/// A published track: the publisher and the mid of the m-line on the publisher's connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrackRef {
    /// The publishing peer.
    pub peer: PeerId,
    /// The m-line on the publisher's connection.
    pub mid: Mid,
}

/// What the router asks its caller to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Forward the frame just given to [`Router::on_media`] to peer `to`, on its m-line `mid`.
    Forward {
        /// The subscriber.
        to: PeerId,
        /// The subscriber's (sending) m-line for this track.
        mid: Mid,
    },
    /// Ask the publisher of `track` for a keyframe on simulcast layer `rid`.
    RequestKeyframe {
        /// The published track.
        track: TrackRef,
        /// The layer, `None` when the track is not simulcast.
        rid: Option<Rid>,
    },
}

/// Why the router refused a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The subscriber or the publisher is not (or no longer) in a room.
    #[error("peer not in a room")]
    UnknownPeer,
    /// The publisher has no such track.
    #[error("no such track")]
    UnknownTrack,
    /// Subscriber and publisher are in different rooms, or are the same peer.
    #[error("subscriber and publisher not in the same room")]
    NotSameRoom,
}

/// Forwarding state of one subscription on video: which layer is sent, which is wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerState {
    /// Nothing forwarded (paused for bandwidth, or not started yet).
    Paused,
    /// Forwarding `current` (if any), and waiting for a keyframe on `target`.
    Switching {
        /// Layer forwarded until the switch completes.
        current: Option<Option<Rid>>,
        /// Layer switched to at its next keyframe.
        target: Option<Rid>,
    },
    /// Forwarding this layer.
    On(Option<Rid>),
}

#[derive(Debug)]
struct PeerState {
    room: RoomId,
    send_audio: bool,
    send_video: bool,
    estimate_bps: Option<u64>,
    /// The subscriber's own m-lines (keys into `Router::subs`).
    subs: Vec<Mid>,
    /// Tracks this peer publishes.
    tracks: Vec<Mid>,
}

#[derive(Debug)]
struct Layer {
    rid: Option<Rid>,
    window_start: Instant,
    window_bytes: u64,
    /// Smoothed bitrate; `None` until the first window is complete.
    rate_bps: Option<u64>,
    last_seen: Instant,
    last_keyframe_request: Option<Instant>,
}

impl Layer {
    fn new(rid: Option<Rid>, now: Instant) -> Self {
        Layer {
            rid,
            window_start: now,
            window_bytes: 0,
            rate_bps: None,
            last_seen: now,
            last_keyframe_request: None,
        }
    }

    fn record(&mut self, now: Instant, bytes: usize) {
        self.last_seen = now;
        self.window_bytes += bytes as u64;
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= RATE_WINDOW {
            let micros = u64::try_from(elapsed.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            let rate = self.window_bytes.saturating_mul(8_000_000) / micros;
            self.rate_bps = Some(match self.rate_bps {
                None => rate,
                Some(old) => (old + rate) / 2,
            });
            self.window_start = now;
            self.window_bytes = 0;
        }
    }

    fn active(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_seen) < LAYER_INACTIVE_AFTER
    }
}

#[derive(Debug)]
struct Track {
    kind: Kind,
    layers: Vec<Layer>,
    /// (subscriber, subscriber's mid)
    subscribers: Vec<(PeerId, Mid)>,
}

impl Track {
    fn layer_mut(&mut self, rid: Option<Rid>, now: Instant) -> &mut Layer {
        let idx = match self.layers.iter().position(|l| l.rid == rid) {
            Some(i) => i,
            None => {
                self.layers.push(Layer::new(rid, now));
                self.layers.len() - 1
            }
        };
        &mut self.layers[idx]
    }

    /// Active layers with a measured bitrate, lowest first. A layer is measured after its first
    /// [`RATE_WINDOW`]; until one is, a track without simulcast offers its one layer (bitrate
    /// 0), and a simulcast track offers none, so nobody starts on an unknown, possibly large layer.
    fn active_layers(&self, now: Instant) -> Vec<(Option<Rid>, u64)> {
        let mut v: Vec<(Option<Rid>, u64)> = self
            .layers
            .iter()
            .filter(|l| l.active(now))
            .filter_map(|l| l.rate_bps.map(|r| (l.rid, r)))
            .collect();
        if v.is_empty()
            && let [only] = self.layers.as_slice()
            && only.rid.is_none()
            && only.active(now)
        {
            v.push((only.rid, 0));
        }
        v.sort_by_key(|(_, r)| *r);
        v
    }

    /// Ask for a keyframe on `rid` unless one was asked for recently.
    fn request_keyframe(
        &mut self,
        me: TrackRef,
        rid: Option<Rid>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let layer = self.layer_mut(rid, now);
        let due = layer
            .last_keyframe_request
            .is_none_or(|t| now.saturating_duration_since(t) >= KEYFRAME_REQUEST_INTERVAL);
        if due {
            layer.last_keyframe_request = Some(now);
            out.push(Action::RequestKeyframe { track: me, rid });
        }
    }
}

#[derive(Debug)]
struct Sub {
    source: TrackRef,
    kind: Kind,
    layer: LayerState,
    last_switch: Option<Instant>,
    /// Single-layer video: since when its share has been too low, and the estimate then.
    low_since: Option<(Instant, u64)>,
}

/// What a subscriber's estimate leaves for its video.
#[derive(Clone, Copy, Debug)]
struct VideoBudget {
    /// The estimate itself.
    estimate: u64,
    /// The estimate less the audio reserve.
    video_total: u64,
    /// `video_total` shared evenly between the video tracks.
    share: u64,
}

/// Rooms, peers, tracks, subscriptions and the layer each subscriber receives.
#[derive(Debug, Default)]
pub struct Router {
    peers: FastMap<PeerId, PeerState>,
    tracks: FastMap<TrackRef, Track>,
    subs: FastMap<(PeerId, Mid), Sub>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Admit `peer` to `room` (forwarding on for audio and video). A peer already known moves to
    /// the new room with all its tracks and subscriptions dropped.
    pub fn add_peer(&mut self, room: RoomId, peer: PeerId) {
        self.remove_peer(peer);
        self.peers.insert(
            peer,
            PeerState {
                room,
                send_audio: true,
                send_video: true,
                estimate_bps: None,
                subs: Vec::new(),
                tracks: Vec::new(),
            },
        );
    }

    /// Forget `peer`: its tracks, its subscriptions and the others' subscriptions to its tracks.
    pub fn remove_peer(&mut self, peer: PeerId) {
        let Some(state) = self.peers.remove(&peer) else {
            return;
        };
        for mid in state.subs {
            self.unsubscribe(peer, mid);
        }
        for mid in state.tracks {
            let me = TrackRef { peer, mid };
            if let Some(track) = self.tracks.remove(&me) {
                for (sub_peer, sub_mid) in track.subscribers {
                    self.subs.remove(&(sub_peer, sub_mid));
                    if let Some(p) = self.peers.get_mut(&sub_peer) {
                        p.subs.retain(|m| *m != sub_mid);
                    }
                }
            }
        }
    }

    /// The room `peer` is in.
    pub fn room_of(&self, peer: PeerId) -> Option<RoomId> {
        self.peers.get(&peer).map(|p| p.room)
    }

    /// The peers in `room`.
    pub fn peers_in(&self, room: RoomId) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, p)| p.room == room)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Number of rooms with at least one peer.
    pub fn room_count(&self) -> usize {
        let mut rooms: Vec<RoomId> = self.peers.values().map(|p| p.room).collect();
        rooms.sort_by_key(|r| r.0);
        rooms.dedup();
        rooms.len()
    }

    /// `peer` publishes a track on its m-line `mid`.
    pub fn add_track(&mut self, peer: PeerId, mid: Mid, kind: Kind) -> Result<(), RouteError> {
        let state = self.peers.get_mut(&peer).ok_or(RouteError::UnknownPeer)?;
        if !state.tracks.contains(&mid) {
            state.tracks.push(mid);
        }
        self.tracks
            .entry(TrackRef { peer, mid })
            .or_insert_with(|| Track {
                kind,
                layers: Vec::new(),
                subscribers: Vec::new(),
            });
        Ok(())
    }

    /// The kind of a published track.
    pub fn track_kind(&self, track: TrackRef) -> Option<Kind> {
        self.tracks.get(&track).map(|t| t.kind)
    }

    /// From now on, frames of `source` may be forwarded to `subscriber` on its m-line `mid`.
    /// Refused unless both peers are admitted to the same room (and are not the same peer).
    /// For video this asks the publisher for a keyframe, since forwarding starts at one.
    pub fn subscribe(
        &mut self,
        now: Instant,
        subscriber: PeerId,
        mid: Mid,
        source: TrackRef,
        out: &mut Vec<Action>,
    ) -> Result<(), RouteError> {
        let sub_room = self
            .peers
            .get(&subscriber)
            .ok_or(RouteError::UnknownPeer)?
            .room;
        let pub_room = self
            .peers
            .get(&source.peer)
            .ok_or(RouteError::UnknownPeer)?
            .room;
        if sub_room != pub_room || subscriber == source.peer {
            return Err(RouteError::NotSameRoom);
        }
        if !self.tracks.contains_key(&source) {
            return Err(RouteError::UnknownTrack);
        }
        self.unsubscribe(subscriber, mid);
        let Some(track) = self.tracks.get_mut(&source) else {
            return Err(RouteError::UnknownTrack);
        };
        track.subscribers.push((subscriber, mid));
        let kind = track.kind;
        let layer = match kind {
            Kind::Audio => LayerState::On(None),
            Kind::Video => LayerState::Paused,
        };
        self.subs.insert(
            (subscriber, mid),
            Sub {
                source,
                kind,
                layer,
                last_switch: None,
                low_since: None,
            },
        );
        if let Some(p) = self.peers.get_mut(&subscriber) {
            p.subs.push(mid);
        }
        if kind == Kind::Video {
            self.reevaluate(now, subscriber, mid, out);
        }
        Ok(())
    }

    /// Stop forwarding to `subscriber`'s m-line `mid`.
    pub fn unsubscribe(&mut self, subscriber: PeerId, mid: Mid) {
        if let Some(sub) = self.subs.remove(&(subscriber, mid))
            && let Some(track) = self.tracks.get_mut(&sub.source)
        {
            track
                .subscribers
                .retain(|(p, m)| !(*p == subscriber && *m == mid));
        }
        if let Some(p) = self.peers.get_mut(&subscriber) {
            p.subs.retain(|m| *m != mid);
        }
    }

    /// The published track behind `subscriber`'s m-line `mid`.
    pub fn source_of(&self, subscriber: PeerId, mid: Mid) -> Option<TrackRef> {
        self.subs.get(&(subscriber, mid)).map(|s| s.source)
    }

    /// The layer state of `subscriber`'s m-line `mid`.
    pub fn layer_state(&self, subscriber: PeerId, mid: Mid) -> Option<LayerState> {
        self.subs.get(&(subscriber, mid)).map(|s| s.layer)
    }

    /// Host mute: whether `peer`'s audio and video reach the others. Turning video back on
    /// restarts its subscribers at a keyframe.
    pub fn set_forwarding(
        &mut self,
        now: Instant,
        peer: PeerId,
        audio: bool,
        video: bool,
        out: &mut Vec<Action>,
    ) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let video_was = state.send_video;
        state.send_audio = audio;
        state.send_video = video;
        if video_was == video {
            return;
        }
        let tracks = state.tracks.clone();
        for mid in tracks {
            let me = TrackRef { peer, mid };
            let Some(track) = self.tracks.get(&me) else {
                continue;
            };
            if track.kind != Kind::Video {
                continue;
            }
            for (sp, sm) in track.subscribers.clone() {
                if let Some(sub) = self.subs.get_mut(&(sp, sm)) {
                    sub.layer = LayerState::Paused;
                    sub.last_switch = None;
                }
                if video {
                    self.reevaluate(now, sp, sm, out);
                }
            }
        }
    }

    /// A new egress bandwidth estimate for `subscriber` (bits per second).
    pub fn on_estimate(
        &mut self,
        now: Instant,
        subscriber: PeerId,
        bps: u64,
        out: &mut Vec<Action>,
    ) {
        let Some(state) = self.peers.get_mut(&subscriber) else {
            return;
        };
        state.estimate_bps = Some(bps);
        for mid in state.subs.clone() {
            self.reevaluate(now, subscriber, mid, out);
        }
    }

    /// `subscriber` (its browser) asked for a keyframe on its m-line `mid`: pass it on to the
    /// publisher, for the layer the subscriber receives (or is switching to).
    pub fn on_keyframe_request(
        &mut self,
        now: Instant,
        subscriber: PeerId,
        mid: Mid,
        out: &mut Vec<Action>,
    ) {
        let Some(sub) = self.subs.get(&(subscriber, mid)) else {
            return;
        };
        let rid = match sub.layer {
            LayerState::Paused => return,
            LayerState::On(r) => r,
            LayerState::Switching { target, .. } => target,
        };
        let source = sub.source;
        if let Some(track) = self.tracks.get_mut(&source) {
            track.request_keyframe(source, rid, now, out);
        }
    }

    /// What `subscriber` should receive of its m-line `mid` given the estimate and the layers
    /// that are active now. Updates the layer state and asks for keyframes when switching.
    fn reevaluate(&mut self, now: Instant, subscriber: PeerId, mid: Mid, out: &mut Vec<Action>) {
        let Some(sub) = self.subs.get(&(subscriber, mid)) else {
            return;
        };
        if sub.kind != Kind::Video {
            return;
        }
        let source = sub.source;
        let Some(publisher) = self.peers.get(&source.peer) else {
            return;
        };
        if !publisher.send_video {
            if let Some(sub) = self.subs.get_mut(&(subscriber, mid)) {
                sub.layer = LayerState::Paused;
            }
            return;
        }
        let budget = self.video_budget(subscriber);
        let Some(track) = self.tracks.get_mut(&source) else {
            return;
        };
        let layers = track.active_layers(now);
        if layers.is_empty() {
            return;
        }
        let Some(sub) = self.subs.get_mut(&(subscriber, mid)) else {
            return;
        };
        let (now_layer, wanted_before) = match sub.layer {
            LayerState::Paused => (None, None),
            LayerState::On(r) => (Some(r), Some(r)),
            LayerState::Switching { current, target } => (current, Some(target)),
        };
        // The layer sent or being switched to: staying at or below it needs no headroom and
        // no hold time, so a switch in progress is not undone by the next measurement.
        let held_rank = wanted_before.and_then(|c| layers.iter().position(|(r, _)| *r == c));
        let may_go_up = sub
            .last_switch
            .is_none_or(|t| now.saturating_duration_since(t) >= UP_HOLD);
        let single = matches!(layers.as_slice(), [(None, _)]);
        let choice: Option<Option<Rid>> = match budget {
            // No estimate yet: the lowest active layer.
            None => layers.first().map(|(r, _)| *r),
            Some(b) if single => {
                let rate = layers[0].1;
                let low = b.share.saturating_mul(100) < rate.saturating_mul(SINGLE_LAYER_PAUSE_PCT);
                if b.video_total < MIN_VIDEO_BPS {
                    sub.low_since = Some((now, b.estimate));
                    None
                } else if !low {
                    sub.low_since = None;
                    if sub.layer == LayerState::Paused && !may_go_up {
                        None
                    } else {
                        Some(None)
                    }
                } else if sub.layer == LayerState::Paused {
                    // Stays paused while the share is too low.
                    None
                } else {
                    match sub.low_since {
                        Some((since, at))
                            if b.estimate.saturating_mul(100)
                                <= at.saturating_mul(100 + RISING_PCT) =>
                        {
                            if now.saturating_duration_since(since) >= SINGLE_LAYER_PAUSE_AFTER {
                                None
                            } else {
                                Some(None)
                            }
                        }
                        // First time low, or the estimate rose: (re)start the timer.
                        _ => {
                            sub.low_since = Some((now, b.estimate));
                            Some(None)
                        }
                    }
                }
            }
            Some(VideoBudget { share, .. }) => {
                let mut best = None;
                for (rank, (rid, rate)) in layers.iter().enumerate() {
                    let up = held_rank.is_none_or(|c| rank > c);
                    let need = if up {
                        rate + rate * UP_HEADROOM_PCT / 100
                    } else {
                        *rate
                    };
                    if need <= share && (!up || may_go_up || held_rank.is_none()) {
                        best = Some(*rid);
                    }
                }
                // Resuming from a pause also waits for the hold time.
                if sub.layer == LayerState::Paused && !may_go_up {
                    None
                } else {
                    best
                }
            }
        };
        match choice {
            None => {
                if sub.layer != LayerState::Paused {
                    sub.layer = LayerState::Paused;
                    sub.last_switch = Some(now);
                }
            }
            Some(target) => {
                if wanted_before == Some(target) {
                    // Already there or already switching there.
                    return;
                }
                sub.layer = if now_layer == Some(target) {
                    LayerState::On(target)
                } else {
                    LayerState::Switching {
                        current: now_layer,
                        target,
                    }
                };
                sub.last_switch = Some(now);
                if now_layer != Some(target) {
                    track.request_keyframe(source, target, now, out);
                }
            }
        }
    }

    /// The bitrate `subscriber`'s video may use, or `None` without an estimate.
    fn video_budget(&self, subscriber: PeerId) -> Option<VideoBudget> {
        let state = self.peers.get(&subscriber)?;
        let estimate = state.estimate_bps?;
        let mut audio = 0u64;
        let mut video = 0u64;
        for mid in &state.subs {
            match self.subs.get(&(subscriber, *mid)) {
                Some(s) if s.kind == Kind::Audio => audio += 1,
                // A camera the host switched off sends nothing and takes no share.
                Some(s) if self.sends_video(s.source.peer) => video += 1,
                _ => {}
            }
        }
        let left = estimate.saturating_sub(audio * AUDIO_RESERVE_BPS);
        Some(VideoBudget {
            estimate,
            video_total: left,
            share: left / video.max(1),
        })
    }

    /// A frame arrived from `publisher` on its m-line `mid`, layer `rid`. Pushes where to
    /// forward it, and any keyframe requests this causes, to `out`.
    #[allow(clippy::too_many_arguments)]
    pub fn on_media(
        &mut self,
        now: Instant,
        publisher: PeerId,
        mid: Mid,
        rid: Option<Rid>,
        keyframe: bool,
        bytes: usize,
        out: &mut Vec<Action>,
    ) {
        let me = TrackRef {
            peer: publisher,
            mid,
        };
        let Some(pstate) = self.peers.get(&publisher) else {
            return;
        };
        let (room, send_audio, send_video) = (pstate.room, pstate.send_audio, pstate.send_video);
        let Some(track) = self.tracks.get_mut(&me) else {
            return;
        };
        let layer = track.layer_mut(rid, now);
        let had_rate = layer.rate_bps;
        layer.record(now, bytes);
        let rate_changed = had_rate != layer.rate_bps;
        let kind = track.kind;
        // Taken out for the loop (no copy per frame) and put back after it: nothing in the
        // loop adds or removes subscribers.
        let subscribers = std::mem::take(&mut track.subscribers);
        self.forward(
            now,
            me,
            room,
            rid,
            keyframe,
            rate_changed,
            (kind, send_audio, send_video),
            &subscribers,
            out,
        );
        if let Some(track) = self.tracks.get_mut(&me) {
            track.subscribers = subscribers;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn forward(
        &mut self,
        now: Instant,
        me: TrackRef,
        room: RoomId,
        rid: Option<Rid>,
        keyframe: bool,
        rate_changed: bool,
        (kind, send_audio, send_video): (Kind, bool, bool),
        subscribers: &[(PeerId, Mid)],
        out: &mut Vec<Action>,
    ) {
        match kind {
            Kind::Audio => {
                if !send_audio {
                    return;
                }
                for &(sp, sm) in subscribers {
                    if self.peers.get(&sp).is_some_and(|p| p.room == room) {
                        out.push(Action::Forward { to: sp, mid: sm });
                    }
                }
            }
            Kind::Video => {
                if !send_video {
                    return;
                }
                for &(sp, sm) in subscribers {
                    if !self.peers.get(&sp).is_some_and(|p| p.room == room) {
                        continue;
                    }
                    // Re-evaluate on new measurements, and whenever the layer received is
                    // gone or nothing is received yet.
                    let state = self.subs.get(&(sp, sm)).map(|s| s.layer);
                    let needs_choice = match state {
                        None => continue,
                        Some(LayerState::Paused) => true,
                        Some(LayerState::On(r)) => self.layer_gone(me, r, now),
                        Some(LayerState::Switching { target, .. }) => {
                            self.layer_gone(me, target, now)
                        }
                    };
                    if rate_changed || needs_choice {
                        self.reevaluate(now, sp, sm, out);
                    }
                    let Some(sub) = self.subs.get_mut(&(sp, sm)) else {
                        continue;
                    };
                    match sub.layer {
                        LayerState::Paused => {}
                        LayerState::On(r) => {
                            if r == rid {
                                out.push(Action::Forward { to: sp, mid: sm });
                            }
                        }
                        LayerState::Switching { current, target } => {
                            if target == rid && keyframe {
                                sub.layer = LayerState::On(target);
                                out.push(Action::Forward { to: sp, mid: sm });
                            } else if current == Some(rid) {
                                out.push(Action::Forward { to: sp, mid: sm });
                            } else if target == rid {
                                // Still waiting: repeat the request now and then.
                                if let Some(track) = self.tracks.get_mut(&me) {
                                    track.request_keyframe(me, target, now, out);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn layer_gone(&self, track: TrackRef, rid: Option<Rid>, now: Instant) -> bool {
        self.tracks
            .get(&track)
            .is_none_or(|t| !t.layers.iter().any(|l| l.rid == rid && l.active(now)))
    }

    /// What the subscriber would like to receive at best quality, in bits per second: its
    /// estimate need not grow beyond this (see [`crate::estimate`]).
    pub fn wanted_bitrate(&self, subscriber: PeerId, now: Instant) -> u64 {
        let Some(state) = self.peers.get(&subscriber) else {
            return 0;
        };
        let mut wanted = 0u64;
        for mid in &state.subs {
            let Some(sub) = self.subs.get(&(subscriber, *mid)) else {
                continue;
            };
            match sub.kind {
                Kind::Audio => wanted += AUDIO_RESERVE_BPS,
                Kind::Video if self.sends_video(sub.source.peer) => {
                    let Some(track) = self.tracks.get(&sub.source) else {
                        continue;
                    };
                    // A layer not measured yet counts as a typical top layer: understating here
                    // would cap the estimate below what the subscriber could take.
                    let top = match track.active_layers(now).last() {
                        Some((_, r)) if *r > 0 => *r,
                        _ => UNMEASURED_VIDEO_BPS,
                    };
                    wanted += top + top * UP_HEADROOM_PCT / 100;
                }
                Kind::Video => {}
            }
        }
        wanted
    }

    /// Whether `publisher`'s video is forwarded (not switched off by the host).
    fn sends_video(&self, publisher: PeerId) -> bool {
        self.peers.get(&publisher).is_some_and(|p| p.send_video)
    }
}

#[cfg(test)]
mod tests;
