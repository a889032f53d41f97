//! Helsebro's SFU (selective forwarding unit): browsers send their audio and video once to the
//! server, which forwards it to the other participants of the room.
//!
//! # Architecture
//!
//! Three layers, the inner two sans-I/O (no sockets, no clocks, time passed in):
//!
//! - [`router::Router`]: a pure state machine for who is in which room, which published track
//!   goes to which subscriber, host mute, and the simulcast layer each subscriber receives
//!   (chosen from the subscriber's bandwidth estimate, switched at keyframes). It speaks in
//!   peer ids, mids and rids only, so unit tests drive it with synthetic frames and a fake clock.
//! - [`sfu::Sfu`]: one [str0m](https://docs.rs/str0m) `Rtc` per browser connection (ICE-lite,
//!   DTLS-SRTP, a UDP host candidate and a passive ICE-TCP candidate), the SDP work (answer to
//!   the browser's first offer, server offers after that), and the glue that feeds str0m events
//!   to the router and carries out its decisions. Still no sockets: it takes received datagrams
//!   and returns datagrams to send, so a test can connect str0m clients to it in memory.
//! - [`Media`] with the driver: one or more worker threads ([`MediaConfig::workers`]), each
//!   running a single-threaded tokio runtime with its own `Sfu`, its own UDP socket shared by
//!   its peers (demultiplexed with str0m's `Rtc::accepts`) and its own TCP listener for ICE-TCP
//!   with RFC 4571 framing (each packet prefixed by its 2-byte big-endian length). A worker
//!   sleeps until a datagram, a command or the core's next timeout. A room lives on one worker
//!   (the one with the fewest peers when the room started, see `placement`), so forwarding
//!   never crosses threads. Commands from the signalling code reach the room's worker over a
//!   channel; events from all workers come back on one.
//!
//! # Forwarding level
//!
//! RTP packets, not frames: str0m runs in RTP mode, so each packet a publisher sends arrives as
//! one `Event::RtpPacket` (already decrypted, RTX repaired) and is written to each subscriber's
//! m-line with `StreamTx::write_rtp`. The payload is shared, not copied; str0m encrypts it with
//! the subscriber's keys under the subscriber's SSRC and header extensions, keeps it for
//! answering NACKs with RTX, and sends RTCP and transport-wide (TWCC) feedback to publishers.
//! [`forward::Rewriter`] keeps each outgoing m-line one continuous stream across simulcast
//! switches and pauses (sequence number, timestamp, VP8 picture id and TL0PICIDX), and the
//! router starts and switches video only at a keyframe (detected in the payload: VP8 and
//! H.264). Nothing waits for a whole frame, so a packet leaves as soon as it came in. Only
//! Opus, VP8 and H.264 are negotiated; str0m matches the publisher's payload parameters to the
//! subscriber's payload type.
//!
//! Forwarded media is not paced a second time: the publisher's browser already paces what it
//! sends. str0m's send-side estimator is off, because its pacer costs a full timeout pass per
//! forwarded packet; each subscriber's downlink estimate comes instead from the receiver
//! reports its browser sends (loss and round-trip time, [`estimate::LinkEstimate`]) and drives
//! the simulcast layer choice.
//!
//! # Negotiation (for the signalling protocol)
//!
//! To avoid glare, offers go one way only after the first exchange:
//!
//! 1. The browser creates a `RTCPeerConnection`, adds its microphone and camera tracks (VP8
//!    simulcast with rids is welcome), and sends exactly **one** offer: [`Media::join`] returns
//!    the answer. The browser must not offer again on this connection (no `negotiationneeded`
//!    handling); to change anything it makes a fresh connection and joins again
//!    ([`Media::join`] with the same peer id replaces the old connection).
//! 2. Every later change comes from the server as [`MediaEvent::Offer`]: the other
//!    participants' tracks being added (each with msid stream id = that participant's `label`,
//!    so `ontrack`'s `event.streams[0].id` says whose track it is) or removed. The browser
//!    answers with `setRemoteDescription(offer)`, `createAnswer()`, `setLocalDescription()` and
//!    sends the answer to [`Media::apply_answer`].
//! 3. There is at most one server offer outstanding per peer. Changes that happen meanwhile are
//!    queued and sent as the next offer once the answer has been applied. The first server offer
//!    is sent only after the peer's [`MediaEvent::Connected`], which cannot happen before the
//!    browser has applied the answer to its own offer.
//!
//! Recvonly transceivers in the browser's first offer are answered but not used; tracks of the
//! others always arrive through server offers. `label` is reduced to RFC 8830 token characters
//! (letters, digits, `-`, `.`, `+` …) and at most 64 of them; a UUID is a good label.

#![warn(missing_docs)]

mod driver;
mod dtls;
pub mod estimate;
pub mod forward;
mod placement;
pub mod router;
pub mod sfu;
mod udp;

pub use udp::UdpIo;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

/// The hash map of the per-packet path (peers, routes, tracks, subscriptions): foldhash, seeded
/// per process, instead of std's SipHash. Every forwarded packet looks up its subscriber's peer
/// and subscription, and SipHash of a 16-byte peer id was about 1% of the server's CPU in the
/// benchmark. The keys are the server's own ids and addresses that have passed ICE, so the
/// hashing needs no more resistance to chosen keys than a random seed gives.
pub(crate) type FastMap<K, V> = foldhash::HashMap<K, V>;

/// A video room (a consultation or meeting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RoomId(pub uuid::Uuid);

/// One browser connection of a participant in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerId(pub uuid::Uuid);

/// A transport for ICE candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP host candidate.
    Udp,
    /// Passive ICE-TCP host candidate (RFC 6544, RFC 4571 framing).
    Tcp,
}

/// Where the SFU listens.
#[derive(Clone, Debug)]
pub struct MediaConfig {
    /// The UDP socket of the first worker, shared by its peers (port 0: any free port). Worker
    /// *i* listens on the port *i* above it.
    pub udp_listen: SocketAddr,
    /// The TCP listener for ICE-TCP of the first worker (port 0: any free port); worker *i*
    /// listens on the port *i* above it.
    pub tcp_listen: SocketAddr,
    /// The address put in the candidates; default: the listen IP (which must then not be
    /// unspecified, such as `0.0.0.0`).
    pub advertise_ip: Option<IpAddr>,
    /// Media worker threads (at least one): each forwards for its own rooms on its own core,
    /// with its own UDP and TCP port.
    pub workers: usize,
}

/// What the SFU tells the signalling layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    /// Send this offer to the peer's browser and pass its answer to [`Media::apply_answer`].
    Offer {
        /// The peer.
        peer: PeerId,
        /// The SDP offer.
        sdp: String,
    },
    /// ICE and DTLS are up (again) for this peer.
    Connected {
        /// The peer.
        peer: PeerId,
    },
    /// The peer's connection was lost (ICE timed out or the peer closed). A peer whose
    /// connection is closed for good is also removed, as by [`Media::leave`].
    Disconnected {
        /// The peer.
        peer: PeerId,
    },
}

/// Why a media request failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The SDP could not be parsed or is not acceptable to the SFU.
    #[error("unusable SDP: {0}")]
    BadSdp(String),
    /// No such peer (never joined, left, or removed).
    #[error("unknown peer")]
    UnknownPeer,
    /// An answer arrived while no server offer was outstanding.
    #[error("no offer is waiting for an answer")]
    NoPendingOffer,
    /// The SFU's configuration does not work (e.g. an unusable candidate address).
    #[error("media configuration: {0}")]
    Config(String),
    /// The SFU has stopped.
    #[error("the media server has stopped")]
    Closed,
}

/// Counters and gauges of the SFU, for `/metrics` and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// Rooms with at least one peer.
    pub rooms: u64,
    /// Peers in rooms.
    pub peers: u64,
    /// Self-test connections alive.
    pub probes: u64,
    /// RTP packets (audio or video) received from publishers.
    pub packets_received: u64,
    /// RTP packets written to subscribers (one per subscriber).
    pub packets_forwarded: u64,
    /// Payload bytes written to subscribers.
    pub bytes_forwarded: u64,
    /// Keyframe requests sent to publishers.
    pub keyframe_requests: u64,
    /// Datagrams no peer accepted or that did not parse.
    pub bad_packets: u64,
}

impl MediaStats {
    fn plus(&self, o: &MediaStats) -> MediaStats {
        MediaStats {
            rooms: self.rooms + o.rooms,
            peers: self.peers + o.peers,
            probes: self.probes + o.probes,
            packets_received: self.packets_received + o.packets_received,
            packets_forwarded: self.packets_forwarded + o.packets_forwarded,
            bytes_forwarded: self.bytes_forwarded + o.bytes_forwarded,
            keyframe_requests: self.keyframe_requests + o.keyframe_requests,
            bad_packets: self.bad_packets + o.bad_packets,
        }
    }
}

/// Shared counters behind [`MediaStats`] (one set per worker).
#[derive(Debug, Default)]
pub struct Counters {
    rooms: AtomicU64,
    peers: AtomicU64,
    probes: AtomicU64,
    packets_received: AtomicU64,
    packets_forwarded: AtomicU64,
    bytes_forwarded: AtomicU64,
    keyframe_requests: AtomicU64,
    bad_packets: AtomicU64,
}

impl Counters {
    /// A snapshot.
    pub fn snapshot(&self) -> MediaStats {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MediaStats {
            rooms: r(&self.rooms),
            peers: r(&self.peers),
            probes: r(&self.probes),
            packets_received: r(&self.packets_received),
            packets_forwarded: r(&self.packets_forwarded),
            bytes_forwarded: r(&self.bytes_forwarded),
            keyframe_requests: r(&self.keyframe_requests),
            bad_packets: r(&self.bad_packets),
        }
    }
}

/// A command from [`Media`] to the driver thread.
enum Command {
    Join {
        room: RoomId,
        peer: PeerId,
        label: String,
        offer: String,
        reply: oneshot::Sender<Result<String, MediaError>>,
    },
    Answer {
        peer: PeerId,
        answer: String,
        reply: oneshot::Sender<Result<(), MediaError>>,
    },
    Leave(PeerId),
    CloseRoom(RoomId),
    SetForwarding {
        peer: PeerId,
        audio: bool,
        video: bool,
    },
    Probe {
        offer: String,
        only: Transport,
        reply: oneshot::Sender<Result<String, MediaError>>,
    },
}

/// Handle to the running SFU. Cheap to clone; the workers stop when the last handle is dropped.
#[derive(Clone)]
pub struct Media {
    inner: Arc<Inner>,
}

struct Inner {
    workers: Vec<Worker>,
    placement: Mutex<placement::Placement>,
}

/// One running worker thread, as the handle sees it.
struct Worker {
    commands: mpsc::UnboundedSender<Command>,
    udp_addr: SocketAddr,
    tcp_addr: SocketAddr,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("udp_addrs", &self.udp_addrs())
            .field("tcp_addrs", &self.tcp_addrs())
            .finish_non_exhaustive()
    }
}

impl Media {
    /// Binds each worker's UDP socket and TCP listener and starts the worker threads.
    pub async fn start(
        cfg: MediaConfig,
    ) -> std::io::Result<(Media, mpsc::UnboundedReceiver<MediaEvent>)> {
        let (workers, events) = driver::start(cfg)?;
        let placement = Mutex::new(placement::Placement::new(workers.len()));
        let inner = Arc::new(Inner { workers, placement });
        Ok((Media { inner }, events))
    }

    /// The first worker's UDP socket address.
    pub fn udp_addr(&self) -> SocketAddr {
        self.inner
            .workers
            .first()
            .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |w| w.udp_addr)
    }

    /// The first worker's TCP listener address.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.inner
            .workers
            .first()
            .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |w| w.tcp_addr)
    }

    /// Every worker's UDP socket address, in worker order.
    pub fn udp_addrs(&self) -> Vec<SocketAddr> {
        self.inner.workers.iter().map(|w| w.udp_addr).collect()
    }

    /// Every worker's TCP listener address, in worker order.
    pub fn tcp_addrs(&self) -> Vec<SocketAddr> {
        self.inner.workers.iter().map(|w| w.tcp_addr).collect()
    }

    /// A browser's first (and only) offer for this connection: admits `peer` to `room` and
    /// returns the SDP answer (ICE-lite, a UDP host candidate and a passive ICE-TCP candidate).
    ///
    /// Once the peer is connected, the other peers of the room get server offers
    /// ([`MediaEvent::Offer`]) adding this peer's tracks with msid stream id = `label`, and this
    /// peer gets an offer with the others' tracks. A peer id that is already in use is replaced
    /// (a participant reconnecting with a fresh connection). See the crate documentation for
    /// the renegotiation rule.
    pub async fn join(
        &self,
        room: RoomId,
        peer: PeerId,
        label: String,
        offer_sdp: String,
    ) -> Result<String, MediaError> {
        let placed = self.placement().join(room, peer);
        if let Some(old) = placed.left {
            let _ = self.send(old, Command::Leave(peer));
        }
        let (reply, rx) = oneshot::channel();
        let sent = self.send(
            placed.worker,
            Command::Join {
                room,
                peer,
                label,
                offer: offer_sdp,
                reply,
            },
        );
        let result = match sent {
            Ok(()) => rx.await.unwrap_or(Err(MediaError::Closed)),
            Err(e) => Err(e),
        };
        // Refused: a fresh connection in the same room leaves the old one in place; otherwise
        // the peer is in no room.
        if result.is_err() && !placed.again {
            self.placement().leave(peer);
        }
        result
    }

    /// The browser's answer to the server's latest [`MediaEvent::Offer`] for `peer`.
    pub async fn apply_answer(&self, peer: PeerId, answer_sdp: String) -> Result<(), MediaError> {
        let worker = self
            .placement()
            .worker_of(peer)
            .ok_or(MediaError::UnknownPeer)?;
        let (reply, rx) = oneshot::channel();
        self.send(
            worker,
            Command::Answer {
                peer,
                answer: answer_sdp,
                reply,
            },
        )?;
        rx.await.map_err(|_| MediaError::Closed)?
    }

    /// Remove a peer (left, removed, or reconnecting with a fresh connection). Nothing is
    /// forwarded to or from it any more, and the others get offers that drop its tracks.
    pub fn leave(&self, peer: PeerId) {
        if let Some(worker) = self.placement().leave(peer) {
            let _ = self.send(worker, Command::Leave(peer));
        }
    }

    /// Remove every peer of the room.
    pub fn close_room(&self, room: RoomId) {
        if let Some(worker) = self.placement().close_room(room) {
            let _ = self.send(worker, Command::CloseRoom(room));
        }
    }

    /// Host mute: whether this peer's audio and video are forwarded to the others, until set
    /// back. Video resumes at the next keyframe (which is requested).
    pub fn set_forwarding(&self, peer: PeerId, audio: bool, video: bool) {
        if let Some(worker) = self.placement().worker_of(peer) {
            let _ = self.send(worker, Command::SetForwarding { peer, audio, video });
        }
    }

    /// Self-test: answers a browser offer that has only a data channel with a candidate of only
    /// the given transport. The connection is in no room and is dropped after 30 s; the browser
    /// checks that ICE connects.
    pub async fn probe(&self, offer_sdp: String, only: Transport) -> Result<String, MediaError> {
        let worker = self.placement().probe();
        let (reply, rx) = oneshot::channel();
        self.send(
            worker,
            Command::Probe {
                offer: offer_sdp,
                only,
                reply,
            },
        )?;
        rx.await.map_err(|_| MediaError::Closed)?
    }

    /// Rooms, peers and forwarding counters, summed over the workers.
    pub fn stats(&self) -> MediaStats {
        self.inner
            .workers
            .iter()
            .map(|w| w.counters.snapshot())
            .fold(MediaStats::default(), |a, b| a.plus(&b))
    }

    fn placement(&self) -> MutexGuard<'_, placement::Placement> {
        // The bookkeeping stays consistent even if a holder panicked: every change is one call.
        self.inner
            .placement
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn send(&self, worker: usize, cmd: Command) -> Result<(), MediaError> {
        self.inner
            .workers
            .get(worker)
            .ok_or(MediaError::Closed)?
            .commands
            .send(cmd)
            .map_err(|_| MediaError::Closed)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests;
