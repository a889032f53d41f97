//! The load client: emulated participants that publish audio and video and measure what they
//! receive. Sans-I/O str0m `Rtc`s for Helsebro and Janus, plain datagrams for the raw relay; all
//! on one single-threaded tokio runtime (the client is pinned to one core).
//!
//! Every frame starts with a [`Header`]: the publisher, a sequence number, the send time and the
//! number of media packets the frame stands for, so that a subscriber measures latency and loss.
//! A frame's latency ends at the kernel's receive time (read with the datagram, `SO_TIMESTAMPNS`)
//! of the last of its packets to arrive, not when the client got round to it: the client does as
//! much WebRTC work as the server under test, and at high load its own queue would otherwise
//! count as the server's. Nor when str0m hands the frame over: its depacketizer holds frames
//! behind a hole in an earlier one (up to 15 audio and 30 video packets), and in the lossy room
//! that hold, the client's own, was counted as the server's latency. Each packet's arrival is
//! kept by SSRC and sequence number, which SRTP leaves in clear ([`Arrivals`]).
//! The first byte is the VP8 frame tag (bit 0 clear: keyframe), since the SFU looks at it.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use helsebro_media::UdpIo;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// Bytes of a frame header.
pub const HEADER: usize = 24;
/// Payload of one video packet (about 1,100 bytes on the wire with RTP, SRTP and UDP).
pub const VIDEO_PAYLOAD: usize = 1040;
/// Payload of one Opus packet (about 64 kbit/s at 50 packets/s).
pub const AUDIO_PAYLOAD: usize = 160;
/// Packets in a keyframe burst.
pub const KEYFRAME_PACKETS: usize = 15;
/// Keyframe interval.
pub const KEYFRAME_EVERY: Duration = Duration::from_secs(3);
/// Audio packet interval (Opus frames of 20 ms).
const AUDIO_EVERY: Duration = Duration::from_millis(20);

/// What a publisher sends.
#[derive(Clone, Copy, Debug)]
pub struct Traffic {
    /// Video bitrate on the wire, keyframes included.
    pub video_kbps: u32,
    /// Video frames per second, each sent as one burst of packets, as a browser's encoder and
    /// pacer do (about 4.4 packets per frame at 1.2 Mbit/s and 30 frames/s). 0: every packet a
    /// frame of its own, the model of the runs before 2026-11-23.
    pub video_fps: u32,
}

impl Traffic {
    /// Time between video frames, and the delta-frame packets a frame carries on average, so
    /// that with keyframes the total meets the bitrate.
    fn video_frames(&self) -> (Duration, f64) {
        let total = f64::from(self.video_kbps) * 1000.0 / 8.0 / 1100.0;
        let key = KEYFRAME_PACKETS as f64 / KEYFRAME_EVERY.as_secs_f64();
        let delta = (total - key).max(1.0);
        match self.video_fps {
            0 => (Duration::from_secs_f64(1.0 / delta), 1.0),
            fps => {
                let fps = f64::from(fps);
                (Duration::from_secs_f64(1.0 / fps), (delta / fps).max(1.0))
            }
        }
    }
}

/// Frame header.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    pub keyframe: bool,
    pub video: bool,
    pub units: u16,
    pub publisher: u32,
    pub seq: u32,
    pub sent_ns: u64,
}

impl Header {
    pub fn frame(&self, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len.max(HEADER)];
        v[0] = if self.keyframe { 0x00 } else { 0x01 };
        v[1] = u8::from(self.video);
        v[2..4].copy_from_slice(&self.units.to_be_bytes());
        v[4..8].copy_from_slice(&self.publisher.to_be_bytes());
        v[8..12].copy_from_slice(&self.seq.to_be_bytes());
        v[12..20].copy_from_slice(&self.sent_ns.to_be_bytes());
        v
    }

    pub fn parse(d: &[u8]) -> Option<Header> {
        if d.len() < HEADER || d[1] > 1 {
            return None;
        }
        let u32_at = |i: usize| u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
        let mut t = [0u8; 8];
        t.copy_from_slice(&d[12..20]);
        Some(Header {
            keyframe: d[0] & 1 == 0,
            video: d[1] == 1,
            units: u16::from_be_bytes([d[2], d[3]]),
            publisher: u32_at(4),
            seq: u32_at(8),
            sent_ns: u64::from_be_bytes(t),
        })
    }
}

/// Measurements of one scenario run, shared by all participants.
pub struct Shared {
    pub epoch: Instant,
    /// `epoch` on the kernel's receive-time clock (since the Unix epoch), nanoseconds.
    epoch_unix_ns: u64,
    pub window: (Instant, Instant),
    pub stop_at: Instant,
    pub traffic: Traffic,
    /// Media units sent in the window, per publisher.
    pub sent: RefCell<HashMap<u32, u64>>,
    /// Media units received in the window, per (publisher, receiver).
    pub received: RefCell<HashMap<(u32, u32), u64>>,
    /// One-way latency of every frame in the window, microseconds.
    pub latency_us: RefCell<Vec<u32>>,
    /// Offer (or relay join) to first media received, per connection that receives.
    pub join_ms: RefCell<Vec<f64>>,
    /// Connections that failed, with why.
    pub failures: RefCell<Vec<String>>,
    pub connected: Cell<u32>,
    /// In a join burst: where every participant of the thread waits, ready to offer, so that
    /// the offers go out together (see [`Shared::ready_to_offer`]).
    gate: Option<tokio::sync::Barrier>,
}

impl Shared {
    pub fn new(epoch: Instant, window: (Instant, Instant), stop_at: Instant, t: Traffic) -> Self {
        // The kernel stamps datagrams on the real-time clock; both clocks run at the same rate.
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(epoch.elapsed());
        Shared {
            epoch,
            epoch_unix_ns: u64::try_from(unix.as_nanos()).unwrap_or(0),
            window,
            stop_at,
            traffic: t,
            sent: RefCell::default(),
            received: RefCell::default(),
            latency_us: RefCell::default(),
            join_ms: RefCell::default(),
            failures: RefCell::default(),
            connected: Cell::new(0),
            gate: None,
        }
    }

    /// Hold the participants back at [`Shared::ready_to_offer`] until `n` of them are there.
    pub fn with_burst_gate(mut self, n: usize) -> Self {
        self.gate = Some(tokio::sync::Barrier::new(n));
        self
    }

    /// A participant has done what a browser does before it joins (its connection and offer
    /// made, its signalling connection open): in a join burst, wait for the others of the
    /// thread, so that all offers leave at once. Join time starts after this. Before, each
    /// participant's clock started with its own offer made, and the load client then spent
    /// about 2 ms of its one core on each further participant's connection before it sent
    /// the first offer: up to 75 ms of the burst's join times were the client's.
    pub async fn ready_to_offer(&self) {
        if let Some(gate) = &self.gate {
            // Bounded: a participant that failed before the gate must not hold the rest.
            let _ = tokio::time::timeout_at(self.stop_at.into(), gate.wait()).await;
        }
    }

    fn in_window(&self, sent_ns: u64) -> bool {
        let t = self.epoch + Duration::from_nanos(sent_ns);
        t >= self.window.0 && t < self.window.1
    }

    fn now_ns(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    /// When a datagram arrived, nanoseconds since `epoch`: the kernel's receive time
    /// (`at`, since the Unix epoch) where it gave one, else `now`.
    fn arrival_ns(&self, at: Option<Duration>, now: Instant) -> u64 {
        match at {
            Some(at) => u64::try_from(at.as_nanos())
                .unwrap_or(u64::MAX)
                .saturating_sub(self.epoch_unix_ns),
            None => self.now_ns(now),
        }
    }

    fn on_sent(&self, publisher: u32, h: &Header) {
        if self.in_window(h.sent_ns) {
            *self.sent.borrow_mut().entry(publisher).or_default() += u64::from(h.units);
        }
    }

    /// `h` arrived at `receiver` at `arrival_ns` (see [`Shared::arrival_ns`]).
    fn on_received(&self, receiver: u32, h: &Header, arrival_ns: u64) {
        if !self.in_window(h.sent_ns) {
            return;
        }
        *self
            .received
            .borrow_mut()
            .entry((h.publisher, receiver))
            .or_default() += u64::from(h.units);
        let lat = arrival_ns.saturating_sub(h.sent_ns) / 1000;
        self.latency_us
            .borrow_mut()
            .push(u32::try_from(lat).unwrap_or(u32::MAX));
    }

    pub fn fail(&self, what: String) {
        self.failures.borrow_mut().push(what);
    }
}

/// When each recent RTP packet arrived at one connection, by SSRC and sequence number, so that a
/// frame str0m hands over late is stamped with the arrival of its own packets.
#[derive(Default)]
struct Arrivals {
    /// Per SSRC a ring of (sequence number, arrival in ns since the epoch), by sequence number.
    rings: HashMap<u32, Vec<(u16, u64)>>,
}

/// Packets remembered per SSRC: a keyframe and the 30 packets str0m may hold behind a hole,
/// many times over.
const ARRIVAL_RING: usize = 512;

impl Arrivals {
    /// Notes the arrival of `datagram` if it is an RTP packet (RFC 7983: first byte 128–191;
    /// RFC 5761: payload types 64–95 of that range are RTCP).
    fn note(&mut self, datagram: &[u8], arrival_ns: u64) {
        let [first, second, s0, s1, _, _, _, _, r0, r1, r2, r3, ..] = *datagram else {
            return;
        };
        if !(128..=191).contains(&first) || (64..=95).contains(&(second & 0x7f)) {
            return;
        }
        let seq = u16::from_be_bytes([s0, s1]);
        let ring = self
            .rings
            .entry(u32::from_be_bytes([r0, r1, r2, r3]))
            .or_insert_with(|| vec![(0, u64::MAX); ARRIVAL_RING]);
        ring[usize::from(seq) % ARRIVAL_RING] = (seq, arrival_ns);
    }

    /// When the frame of packets `first..=last` of `ssrc` was complete: the latest arrival of
    /// its packets, or `fallback` (the datagram being handled now) where one of them is not
    /// known, as for a packet repaired on a separate retransmission stream.
    fn completed(&self, ssrc: u32, first: u64, last: u64, fallback: u64) -> u64 {
        let Some(ring) = self.rings.get(&ssrc) else {
            return fallback;
        };
        if last < first || last - first >= ARRIVAL_RING as u64 {
            return fallback;
        }
        let mut latest = 0;
        for seq in first..=last {
            let seq = seq as u16;
            match ring[usize::from(seq) % ARRIVAL_RING] {
                (s, at) if s == seq && at != u64::MAX => latest = latest.max(at),
                _ => return fallback,
            }
        }
        latest
    }
}

/// Per-connection sender state: sequence numbers and the next due times.
struct Sender {
    me: u32,
    audio_seq: u32,
    video_seq: u32,
    next_audio: Instant,
    next_video: Instant,
    next_key: Instant,
    last_key_request: Option<Instant>,
    /// Time between video frames.
    delta: Duration,
    /// Delta-frame packets per frame on average, and what is owed of them (frames carry whole
    /// packets, so some carry one more).
    per_frame: f64,
    owed: f64,
    started: Instant,
}

/// A frame to send.
struct Frame {
    video: bool,
    data: Vec<u8>,
    /// For RTP time.
    at: Instant,
}

impl Sender {
    /// A publisher's clocks start at `now` plus a phase of its own, drawn per participant:
    /// independent cameras and microphones start anywhere in their frame interval. (Starting
    /// every clock at connect put the publishers of a load scenario, who join 25 ms apart, into
    /// four phases of the 33 ms frame interval, eight or more frames arriving at once.)
    fn new(me: u32, now: Instant, t: Traffic) -> Self {
        let (delta, per_frame) = t.video_frames();
        let mut rng = fastrand::Rng::with_seed(0x5EED_0000_0000 ^ u64::from(me));
        let video_phase = delta.mul_f64(rng.f64());
        let audio_phase = AUDIO_EVERY.mul_f64(rng.f64());
        Sender {
            me,
            audio_seq: 0,
            video_seq: 0,
            next_audio: now + audio_phase,
            next_video: now + video_phase,
            next_key: now,
            last_key_request: None,
            delta,
            per_frame,
            owed: 0.0,
            started: now,
        }
    }

    fn next_due(&self) -> Instant {
        self.next_audio.min(self.next_video)
    }

    /// The packets of the next delta frame: whole packets, averaging `per_frame`.
    fn delta_packets(&mut self) -> usize {
        self.owed += self.per_frame;
        let n = self.owed.floor().max(1.0);
        self.owed -= n;
        n as usize
    }

    /// A keyframe was asked for: send one now (at most every 300 ms).
    fn keyframe_requested(&mut self, now: Instant) {
        if self
            .last_key_request
            .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_millis(300))
        {
            self.last_key_request = Some(now);
            self.next_key = now;
            self.next_video = now;
        }
    }

    /// Frames due at `now`. `split`: a video frame as one frame per packet (raw relay).
    fn due(&mut self, now: Instant, shared: &Shared, split: bool, out: &mut Vec<Frame>) {
        let now_ns = shared.now_ns(now);
        while self.next_audio <= now {
            let h = Header {
                keyframe: false,
                video: false,
                units: 1,
                publisher: self.me,
                seq: self.audio_seq,
                sent_ns: now_ns,
            };
            self.audio_seq += 1;
            shared.on_sent(self.me, &h);
            out.push(Frame {
                video: false,
                data: h.frame(AUDIO_PAYLOAD),
                at: self.next_audio,
            });
            self.next_audio += AUDIO_EVERY;
        }
        if self.next_video <= now {
            let key = self.next_key <= now;
            if key {
                self.next_key = now + KEYFRAME_EVERY;
            }
            let packets = if key {
                KEYFRAME_PACKETS
            } else {
                self.delta_packets()
            };
            let (frames, units, len) = if split {
                (packets, 1u16, VIDEO_PAYLOAD)
            } else {
                (1, packets as u16, VIDEO_PAYLOAD * packets)
            };
            for _ in 0..frames {
                let h = Header {
                    keyframe: key,
                    video: true,
                    units,
                    publisher: self.me,
                    seq: self.video_seq,
                    sent_ns: now_ns,
                };
                self.video_seq += 1;
                shared.on_sent(self.me, &h);
                out.push(Frame {
                    video: true,
                    data: h.frame(len),
                    at: now,
                });
            }
            // Skip ahead rather than bursting after a stall.
            self.next_video = (self.next_video + self.delta).max(now);
        }
    }
}

/// Tiny xorshift for the emulated lossy link.
struct Lossy {
    p: f64,
    s: u64,
}

impl Lossy {
    fn drop_one(&mut self) -> bool {
        if self.p <= 0.0 {
            return false;
        }
        self.s ^= self.s << 13;
        self.s ^= self.s >> 7;
        self.s ^= self.s << 17;
        (self.s % 1_000_000) as f64 / 1_000_000.0 < self.p
    }
}

/// The address every media socket of the benchmark binds to: `BENCH_IP`, default 127.0.0.1.
/// (Janus gathers no candidates on loopback, so the script runs the benchmark in a network
/// namespace with a veth address.)
pub fn bench_ip() -> std::net::IpAddr {
    std::env::var("BENCH_IP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))
}

/// A client `Rtc` with Opus and VP8 and a host candidate on `addr`.
pub fn new_rtc(addr: SocketAddr) -> anyhow::Result<Rtc> {
    let mut rtc = Rtc::builder()
        .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .build(Instant::now());
    rtc.add_local_candidate(Candidate::host(addr, "udp")?);
    Ok(rtc)
}

/// The publisher's offer: audio and video, send only. Returns (offer SDP, pending, mids).
pub fn publish_offer(rtc: &mut Rtc) -> anyhow::Result<(String, SdpPendingOffer, Mid, Mid)> {
    let mut api = rtc.sdp_api();
    let audio = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let video = api.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().ok_or_else(|| anyhow::anyhow!("no offer"))?;
    Ok((offer.to_sdp_string(), pending, audio, video))
}

pub fn accept_answer(rtc: &mut Rtc, pending: SdpPendingOffer, sdp: &str) -> anyhow::Result<()> {
    let answer = SdpAnswer::from_sdp_string(sdp)?;
    rtc.sdp_api().accept_answer(pending, answer)?;
    Ok(())
}

pub fn answer_offer(rtc: &mut Rtc, sdp: &str) -> anyhow::Result<String> {
    let offer = SdpOffer::from_sdp_string(sdp)?;
    Ok(rtc.sdp_api().accept_offer(offer)?.to_sdp_string())
}

/// Something for a running connection from its signalling.
pub enum Ctl {
    /// A server offer: answer it.
    Offer(String, oneshot::Sender<String>),
}

/// What one WebRTC connection does.
pub struct ConnSpec {
    /// The participant (receiver identity for the statistics).
    pub me: u32,
    /// Publish on these (audio, video) mids.
    pub publish: Option<(Mid, Mid)>,
    /// When the participant sent its first offer (join time starts).
    pub t_offer: Instant,
    /// Loss of the emulated link, each direction.
    pub loss: f64,
    /// This connection receives media (join time is measured on it).
    pub receives: bool,
}

/// Run one str0m connection until the scenario stops.
pub async fn run_rtc(
    mut rtc: Rtc,
    sock: UdpSocket,
    mut ctl: mpsc::UnboundedReceiver<Ctl>,
    spec: ConnSpec,
    shared: Rc<Shared>,
) {
    let local = match sock.local_addr() {
        Ok(a) => a,
        Err(e) => return shared.fail(format!("socket: {e}")),
    };
    let mut io = match UdpIo::new(&sock) {
        Ok(io) => io,
        Err(e) => return shared.fail(format!("socket: {e}")),
    };
    // Datagrams read but not yet given to the Rtc: one at a time, each drained before the
    // next, so that what a datagram completes is stamped with that datagram's arrival.
    let mut inbox: VecDeque<(SocketAddr, Vec<u8>, Option<Duration>)> = VecDeque::new();
    let mut sender = Sender::new(spec.me, Instant::now(), shared.traffic);
    let mut connected = false;
    let mut joined = false;
    let mut lossy = Lossy {
        p: spec.loss,
        s: 0x9E37_79B9_7F4A_7C15 ^ u64::from(spec.me),
    };
    let mut arrivals = Arrivals::default();
    let mut frames = Vec::new();
    let mut ctl_open = true;
    loop {
        let now = Instant::now();
        if now >= shared.stop_at {
            break;
        }
        let mut arrival = None;
        if let Some((from, data, at)) = inbox.pop_front() {
            arrival = at;
            arrivals.note(&data, shared.arrival_ns(at, now));
            if let Ok(rcv) = Receive::new(Protocol::Udp, from, local, &data)
                && let Err(e) = rtc.handle_input(Input::Receive(now, rcv))
            {
                shared.fail(format!("participant {}: input: {e}", spec.me));
            }
        }
        // Drain the Rtc.
        let timeout = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    if !lossy.drop_one() {
                        let _ = sock.try_send_to(&t.contents, t.destination);
                    }
                }
                Ok(Output::Event(ev)) => match ev {
                    Event::Connected => {
                        connected = true;
                        shared.connected.set(shared.connected.get() + 1);
                        sender = Sender::new(spec.me, Instant::now(), shared.traffic);
                    }
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        shared.fail(format!("participant {} disconnected", spec.me));
                    }
                    Event::MediaData(d) => {
                        let now = Instant::now();
                        if let Some(h) = Header::parse(&d.data) {
                            if !joined && spec.receives {
                                joined = true;
                                let ms = now.saturating_duration_since(spec.t_offer);
                                shared.join_ms.borrow_mut().push(ms.as_secs_f64() * 1000.0);
                            }
                            let now_ns = shared.arrival_ns(arrival, now);
                            let ssrc = rtc
                                .direct_api()
                                .stream_rx_by_mid(d.mid, d.rid)
                                .map(|s| *s.ssrc());
                            let at = ssrc.map_or(now_ns, |ssrc| {
                                let (first, last) = (**d.seq_range.start(), **d.seq_range.end());
                                arrivals.completed(ssrc, first, last, now_ns)
                            });
                            shared.on_received(spec.me, &h, at);
                        }
                    }
                    Event::KeyframeRequest(_) => sender.keyframe_requested(Instant::now()),
                    _ => {}
                },
                Err(e) => {
                    shared.fail(format!("participant {}: {e}", spec.me));
                    return;
                }
            }
        };
        if !rtc.is_alive() {
            shared.fail(format!("participant {}: connection closed", spec.me));
            return;
        }
        if !inbox.is_empty() {
            continue;
        }
        let mut wake = timeout.min(shared.stop_at);
        if connected && spec.publish.is_some() {
            wake = wake.min(sender.next_due());
        }
        tokio::select! {
            c = ctl.recv(), if ctl_open => match c {
                Some(Ctl::Offer(sdp, reply)) => match answer_offer(&mut rtc, &sdp) {
                    Ok(a) => { let _ = reply.send(a); }
                    Err(e) => shared.fail(format!("participant {}: server offer: {e}", spec.me)),
                },
                None => ctl_open = false,
            },
            r = sock.readable() => {
                if r.is_ok() {
                    let _ = io.recv(&sock, |from, data, at| {
                        if !lossy.drop_one() {
                            inbox.push_back((from, data.to_vec(), at));
                        }
                    });
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if connected && let Some((amid, vmid)) = spec.publish {
                    frames.clear();
                    sender.due(now, &shared, false, &mut frames);
                    for f in frames.drain(..) {
                        let mid = if f.video { vmid } else { amid };
                        write_frame(&mut rtc, mid, &f, sender.started);
                    }
                }
                if let Err(e) = rtc.handle_input(Input::Timeout(now)) {
                    shared.fail(format!("participant {}: timeout: {e}", spec.me));
                }
            }
        }
    }
    rtc.disconnect();
}

fn write_frame(rtc: &mut Rtc, mid: Mid, f: &Frame, started: Instant) {
    let Some(writer) = rtc.writer(mid) else {
        return;
    };
    let codec = if f.video { Codec::Vp8 } else { Codec::Opus };
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
    else {
        return;
    };
    let elapsed = f.at.saturating_duration_since(started);
    let time = if f.video {
        MediaTime::new(
            (elapsed.as_micros() * 9 / 100) as u64,
            Frequency::NINETY_KHZ,
        )
    } else {
        MediaTime::new(
            (elapsed.as_micros() * 48 / 1000) as u64,
            Frequency::FORTY_EIGHT_KHZ,
        )
    };
    let _ = writer.write(pt, f.at, time, f.data.clone());
}

/// A participant of the raw relay: plain datagrams, no WebRTC.
pub async fn run_raw(relay: SocketAddr, room: u32, me: u32, loss: f64, shared: Rc<Shared>) {
    let sock = match UdpSocket::bind((bench_ip(), 0)).await {
        Ok(s) => s,
        Err(e) => return shared.fail(format!("bind: {e}")),
    };
    let mut join = vec![b'J'];
    join.extend_from_slice(&room.to_be_bytes());
    let t_offer = Instant::now();
    let mut buf = vec![0u8; 2048];
    let mut acked = false;
    for _ in 0..50 {
        let _ = sock.send_to(&join, relay).await;
        if let Ok(Ok((n, _))) =
            tokio::time::timeout(Duration::from_millis(100), sock.recv_from(&mut buf)).await
            && n == 1
            && buf[0] == b'A'
        {
            acked = true;
            break;
        }
    }
    if !acked {
        return shared.fail(format!("participant {me}: relay did not answer"));
    }
    shared.connected.set(shared.connected.get() + 1);
    let mut sender = Sender::new(me, Instant::now(), shared.traffic);
    let mut lossy = Lossy {
        p: loss,
        s: 0x9E37_79B9_7F4A_7C15 ^ u64::from(me),
    };
    let mut io = match UdpIo::new(&sock) {
        Ok(io) => io,
        Err(e) => return shared.fail(format!("socket: {e}")),
    };
    let mut frames = Vec::new();
    let mut joined = false;
    loop {
        let now = Instant::now();
        if now >= shared.stop_at {
            break;
        }
        let wake = sender.next_due().min(shared.stop_at);
        tokio::select! {
            r = sock.readable() => {
                if r.is_ok() {
                    let _ = io.recv(&sock, |_, data, at| {
                        if !lossy.drop_one()
                            && let Some(h) = Header::parse(data)
                        {
                            let now = Instant::now();
                            if !joined {
                                joined = true;
                                let ms =
                                    now.saturating_duration_since(t_offer).as_secs_f64() * 1000.0;
                                shared.join_ms.borrow_mut().push(ms);
                            }
                            shared.on_received(me, &h, shared.arrival_ns(at, now));
                        }
                    });
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                frames.clear();
                sender.due(Instant::now(), &shared, true, &mut frames);
                for f in frames.drain(..) {
                    if !lossy.drop_one() {
                        let _ = sock.try_send_to(&f.data, relay);
                    }
                }
            }
        }
    }
    let _ = sock.send_to(b"L", relay).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RTP header (12 bytes) of payload type 96 and a byte of payload.
    fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
        let mut d = vec![0x80, 96];
        d.extend_from_slice(&seq.to_be_bytes());
        d.extend_from_slice(&[0; 4]);
        d.extend_from_slice(&ssrc.to_be_bytes());
        d.push(0);
        d
    }

    #[test]
    fn a_frame_is_stamped_with_the_latest_arrival_of_its_own_packets() {
        let mut a = Arrivals::default();
        // A keyframe of three packets across the wrap of the 16-bit sequence number, the last
        // one first; another stream with the same sequence numbers.
        a.note(&rtp(0, 7), 300);
        a.note(&rtp(65_534, 7), 100);
        a.note(&rtp(65_535, 7), 200);
        a.note(&rtp(0, 8), 900);
        assert_eq!(a.completed(7, 65_534, 65_536, 5_000), 300);
        assert_eq!(a.completed(7, 65_534, 65_534, 5_000), 100);
        // Handed over later (held behind a hole): still its own arrival.
        assert_eq!(a.completed(8, 65_536, 65_536, 5_000), 900);
    }

    #[test]
    fn a_frame_with_a_packet_not_seen_takes_the_arrival_now() {
        let mut a = Arrivals::default();
        a.note(&rtp(10, 7), 100);
        a.note(&rtp(12, 7), 300);
        // 11 came on a retransmission stream (or not at all): the datagram handled now.
        assert_eq!(a.completed(7, 10, 12, 5_000), 5_000);
        // A slot overwritten by a packet 512 later is not taken for the old one.
        a.note(&rtp(10 + ARRIVAL_RING as u16, 7), 400);
        assert_eq!(a.completed(7, 10, 10, 5_000), 5_000);
        assert_eq!(a.completed(9, 10, 10, 5_000), 5_000);
    }

    #[test]
    fn video_comes_in_frames_of_whole_packets_that_meet_the_bitrate() {
        let t = Traffic {
            video_kbps: 1200,
            video_fps: 30,
        };
        let (every, per_frame) = t.video_frames();
        assert_eq!(every, Duration::from_secs_f64(1.0 / 30.0));
        // 1.2 Mbit/s in packets of 1,100 bytes is 136.4 a second, 5 of them keyframe bursts.
        assert!((per_frame - 131.36 / 30.0).abs() < 0.01, "{per_frame}");
        let mut s = Sender::new(1, Instant::now(), t);
        let frames: Vec<usize> = (0..300).map(|_| s.delta_packets()).collect();
        assert!(frames.iter().all(|n| (4..=5).contains(n)), "{frames:?}");
        let per_second = frames.iter().sum::<usize>() / 10;
        assert!((130..=132).contains(&per_second), "{per_second}");
        // The model of the earlier runs: every packet a frame of its own.
        let (every, per_frame) = Traffic { video_fps: 0, ..t }.video_frames();
        assert_eq!((every.as_micros(), per_frame), (7612, 1.0));
    }

    #[test]
    fn publishers_start_their_clocks_at_phases_of_their_own() {
        let t = Traffic {
            video_kbps: 1200,
            video_fps: 30,
        };
        let now = Instant::now();
        let (every, _) = t.video_frames();
        let phases: Vec<Duration> = (0..40)
            .map(|me| Sender::new(me, now, t).next_video - now)
            .collect();
        assert!(phases.iter().all(|p| *p < every), "{phases:?}");
        // Spread over the whole frame interval: every third of it holds some of the 40.
        for third in 0..3 {
            let (lo, hi) = (every * third / 3, every * (third + 1) / 3);
            assert!(phases.iter().any(|p| *p >= lo && *p < hi), "{phases:?}");
        }
        // The same participant, the same phase (runs are repeatable).
        assert_eq!(
            Sender::new(7, now, t).next_audio,
            Sender::new(7, now, t).next_audio
        );
    }

    #[test]
    fn rtcp_and_other_datagrams_are_not_taken_for_rtp() {
        let mut a = Arrivals::default();
        // A receiver report (payload type 201 with the marker bit, i.e. second byte 201).
        let mut rr = rtp(10, 7);
        rr[1] = 201;
        a.note(&rr, 100);
        // STUN (first byte 0) and a short datagram.
        let mut stun = rtp(10, 7);
        stun[0] = 0;
        a.note(&stun, 100);
        a.note(&[0x80, 96, 0], 100);
        assert!(a.rings.is_empty());
    }
}
