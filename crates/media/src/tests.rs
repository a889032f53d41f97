//! In-process tests of the SFU core: str0m client `Rtc`s play the browsers and exchange
//! datagrams with [`Sfu`] in memory, on a fake clock.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive, Transmit};
use str0m::{Candidate, Event, Input, Output, Rtc};
use uuid::Uuid;

use crate::router::LayerState;
use crate::sfu::Sfu;
use crate::{Counters, MediaEvent, PeerId, RoomId};

const SERVER_UDP: &str = "10.0.0.1:5000";
const SERVER_TCP: &str = "10.0.0.1:5001";

/// A fake browser.
struct Browser {
    id: PeerId,
    addr: SocketAddr,
    rtc: Rtc,
    pending: Option<SdpPendingOffer>,
    connected: bool,
    audio: Option<Mid>,
    video: Option<Mid>,
    /// Incoming tracks: mid -> (kind, msid stream id seen in the SDP).
    received: HashMap<Mid, MediaKind>,
    /// Frames received per incoming mid.
    frames: HashMap<Mid, usize>,
    stream_ids: Vec<String>,
    /// Send VP8 simulcast with rids "l" and "h".
    simulcast: bool,
    /// Keyframe requests received, per rid.
    keyframe_requests: Vec<Option<Rid>>,
    /// Size of the last video frame received (tells the simulcast layer apart).
    last_video_size: usize,
    /// Of every 10 datagrams from the SFU, this many are lost on the way to this browser.
    loss_in_10: u8,
    from_sfu: u64,
    /// Of every 10 datagrams from this browser, this many are lost on the way to the SFU.
    up_loss_in_10: u8,
    to_sfu: u64,
}

impl Browser {
    fn new(n: u128, now: Instant) -> Self {
        let addr: SocketAddr = format!("10.0.1.{n}:4000")
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([10, 0, 1, 1], 4000)));
        let mut rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .build(now);
        if let Ok(c) = Candidate::host(addr, "udp") {
            rtc.add_local_candidate(c);
        }
        Browser {
            id: PeerId(Uuid::from_u128(n)),
            addr,
            rtc,
            pending: None,
            connected: false,
            audio: None,
            video: None,
            received: HashMap::new(),
            frames: HashMap::new(),
            stream_ids: Vec::new(),
            simulcast: false,
            keyframe_requests: Vec::new(),
            last_video_size: 0,
            loss_in_10: 0,
            from_sfu: 0,
            up_loss_in_10: 0,
            to_sfu: 0,
        }
    }

    /// The browser's one offer: audio and video to send.
    fn offer(&mut self) -> String {
        let mut api = self.rtc.sdp_api();
        self.audio = Some(api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
        let simulcast = self.simulcast.then(|| {
            let mut s = Simulcast::new();
            s.add_send_layer(SimulcastLayer::new("l"));
            s.add_send_layer(SimulcastLayer::new("h"));
            s
        });
        self.video =
            Some(api.add_media(MediaKind::Video, Direction::SendOnly, None, None, simulcast));
        let Some((offer, pending)) = api.apply() else {
            panic!("no offer");
        };
        self.pending = Some(pending);
        offer.to_sdp_string()
    }

    fn accept_answer(&mut self, sdp: &str) {
        let answer = SdpAnswer::from_sdp_string(sdp).expect("answer parses");
        let pending = self.pending.take().expect("pending offer");
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("answer accepted");
    }

    /// Answer a server offer, noting the msid stream ids of the tracks it adds.
    fn answer(&mut self, sdp: &str) -> String {
        // The msid of the m-lines the server sends on (the others echo this browser's own).
        for section in sdp.split("\r\nm=").skip(1) {
            if !section.contains("a=sendonly") {
                continue;
            }
            for line in section.lines() {
                if let Some(rest) = line.strip_prefix("a=msid:")
                    && let Some(stream) = rest.split_whitespace().next()
                {
                    self.stream_ids.push(stream.to_string());
                }
            }
        }
        let offer = SdpOffer::from_sdp_string(sdp).expect("offer parses");
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .expect("offer accepted");
        answer.to_sdp_string()
    }

    fn write(
        &mut self,
        mid: Option<Mid>,
        rid: Option<Rid>,
        codec: Codec,
        time: MediaTime,
        data: &[u8],
    ) {
        if !self.connected {
            return;
        }
        let Some(mid) = mid else { return };
        let Some(writer) = self.rtc.writer(mid) else {
            return;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
        else {
            return;
        };
        let writer = match rid {
            Some(r) => writer.rid(r),
            None => writer,
        };
        let now = Instant::now();
        writer.write(pt, now, time, data.to_vec()).expect("write");
    }
}

struct Net {
    now: Instant,
    sfu: Sfu,
    browsers: Vec<Browser>,
    events: Vec<MediaEvent>,
    counters: Arc<Counters>,
    /// Poll the SFU after every datagram it receives, as the driver does when datagrams come
    /// one at a time, rather than once per step.
    poll_each: bool,
}

impl Net {
    fn new() -> Self {
        let counters = Arc::new(Counters::default());
        let udp = SERVER_UDP
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([10, 0, 0, 1], 5000)));
        let tcp = SERVER_TCP
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([10, 0, 0, 1], 5001)));
        Net {
            now: Instant::now(),
            sfu: Sfu::new(udp, tcp, counters.clone()),
            browsers: Vec::new(),
            events: Vec::new(),
            counters,
            poll_each: false,
        }
    }

    fn join(&mut self, n: u128, room: RoomId, label: &str) -> usize {
        self.join_with(n, room, label, false)
    }

    fn join_with(&mut self, n: u128, room: RoomId, label: &str, simulcast: bool) -> usize {
        let mut b = Browser::new(n, self.now);
        b.simulcast = simulcast;
        let offer = b.offer();
        let answer = self
            .sfu
            .join(self.now, room, b.id, label.to_string(), &offer)
            .expect("join");
        b.accept_answer(&answer);
        self.browsers.push(b);
        self.browsers.len() - 1
    }

    /// Run the network for `dur` in steps of 5 ms, every browser sending audio every 20 ms and
    /// VP8 every 40 ms (a keyframe every second).
    fn run(&mut self, dur: Duration) {
        let end = self.now + dur;
        let mut step = 0u64;
        while self.now < end {
            step += 1;
            let ms = step * 5;
            for b in &mut self.browsers {
                if ms.is_multiple_of(20) {
                    let t = MediaTime::new(ms * 48, Frequency::FORTY_EIGHT_KHZ);
                    b.write(b.audio, None, Codec::Opus, t, &[0xfc, 0xff, 0xfe, 1, 2, 3]);
                }
                if ms.is_multiple_of(40) {
                    let key = ms.is_multiple_of(1000) || ms == 40;
                    let mut frame = vec![if key { 0x10 } else { 0x11 }, 0x02, 0x00];
                    frame.extend_from_slice(&[0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
                    let t = MediaTime::from_90khz(ms * 90);
                    if b.simulcast {
                        frame.resize(300, 0x55);
                        b.write(b.video, Some(Rid::from("l")), Codec::Vp8, t, &frame);
                        frame.resize(3000, 0x55);
                        b.write(b.video, Some(Rid::from("h")), Codec::Vp8, t, &frame);
                    } else {
                        frame.resize(1200, 0x55);
                        b.write(b.video, None, Codec::Vp8, t, &frame);
                    }
                }
            }
            self.step();
            self.now += Duration::from_millis(5);
        }
    }

    fn step(&mut self) {
        let now = self.now;
        for _ in 0..4 {
            // Browsers -> SFU.
            for i in 0..self.browsers.len() {
                for t in self.browser_output(i, now) {
                    self.sfu
                        .handle_receive(now, t.proto, t.source, t.destination, &t.contents);
                    if self.poll_each {
                        self.deliver(now);
                    }
                }
            }
            self.deliver(now);
            // Signalling: server offers are answered at once.
            for ev in self.sfu.take_events() {
                if let MediaEvent::Offer { peer, sdp } = &ev
                    && let Some(b) = self.browsers.iter_mut().find(|b| b.id == *peer)
                {
                    let answer = b.answer(sdp);
                    self.sfu
                        .apply_answer(now, *peer, &answer)
                        .expect("answer applied");
                }
                self.events.push(ev);
            }
        }
    }

    /// Browser `i`'s datagrams for the SFU (less those its uplink loses); its events handled.
    fn browser_output(&mut self, i: usize, now: Instant) -> Vec<Transmit> {
        let b = &mut self.browsers[i];
        let _ = b.rtc.handle_input(Input::Timeout(now));
        let mut out = Vec::new();
        loop {
            match b.rtc.poll_output() {
                Ok(Output::Timeout(_)) | Err(_) => return out,
                Ok(Output::Transmit(t)) => {
                    b.to_sfu += 1;
                    if b.to_sfu % 10 >= u64::from(b.up_loss_in_10) {
                        out.push(t);
                    }
                }
                Ok(Output::Event(e)) => match e {
                    Event::Connected => b.connected = true,
                    Event::MediaAdded(m) => {
                        b.received.insert(m.mid, m.kind);
                    }
                    Event::MediaData(d) => {
                        *b.frames.entry(d.mid).or_default() += 1;
                        if b.received.get(&d.mid) == Some(&MediaKind::Video) {
                            b.last_video_size = d.data.len();
                        }
                    }
                    Event::KeyframeRequest(r) => b.keyframe_requests.push(r.rid),
                    _ => {}
                },
            }
        }
    }

    /// SFU -> browsers: what the SFU sends now, less what each browser's downlink loses.
    fn deliver(&mut self, now: Instant) {
        let mut out = Vec::new();
        self.sfu.poll(now, &mut |t| out.push(t));
        for t in out {
            let Some(b) = self.browsers.iter_mut().find(|b| b.addr == t.destination) else {
                continue;
            };
            b.from_sfu += 1;
            if b.from_sfu % 10 < u64::from(b.loss_in_10) {
                continue;
            }
            if let Ok(r) = Receive::new(Protocol::Udp, t.source, t.destination, &t.contents) {
                let _ = b.rtc.handle_input(Input::Receive(now, r));
            }
        }
    }

    fn frames(&self, i: usize, kind: MediaKind) -> usize {
        let b = &self.browsers[i];
        b.frames
            .iter()
            .filter(|(mid, _)| b.received.get(*mid) == Some(&kind))
            .map(|(_, n)| *n)
            .sum()
    }
}

fn room(n: u128) -> RoomId {
    RoomId(Uuid::from_u128(0x1000 + n))
}

#[test]
fn two_browsers_receive_each_others_audio_and_video_through_the_sfu() {
    let mut net = Net::new();
    let alice = net.join(1, room(1), "alice");
    let bob = net.join(2, room(1), "bob");
    net.run(Duration::from_secs(3));

    for (i, name) in [(alice, "alice"), (bob, "bob")] {
        let b = &net.browsers[i];
        assert!(b.connected, "{name} connected");
        assert!(
            net.events.contains(&MediaEvent::Connected { peer: b.id }),
            "{name}: Connected event"
        );
        assert_eq!(
            b.received.len(),
            2,
            "{name} got two tracks: {:?}",
            b.received
        );
        assert!(net.frames(i, MediaKind::Audio) > 50, "{name} audio frames");
        assert!(net.frames(i, MediaKind::Video) > 20, "{name} video frames");
    }
    // The msid stream id tells whose track it is.
    assert_eq!(net.browsers[alice].stream_ids.len(), 2);
    assert!(net.browsers[alice].stream_ids.iter().all(|s| s == "bob"));
    assert!(net.browsers[bob].stream_ids.iter().all(|s| s == "alice"));
    let stats = net.counters.snapshot();
    assert_eq!((stats.rooms, stats.peers), (1, 2));
    assert!(
        stats.packets_forwarded > 100 && stats.keyframe_requests > 0,
        "{stats:?}"
    );
}

#[test]
fn other_rooms_mute_and_leave_are_respected() {
    let mut net = Net::new();
    let alice = net.join(1, room(1), "alice");
    let bob = net.join(2, room(1), "bob");
    let carol = net.join(3, room(2), "carol");
    net.run(Duration::from_secs(2));
    assert!(net.browsers[carol].connected);
    assert!(
        net.browsers[carol].received.is_empty(),
        "carol alone in room 2"
    );
    assert_eq!(net.frames(carol, MediaKind::Audio), 0);
    assert!(net.frames(bob, MediaKind::Audio) > 0);

    // Host mute of alice's audio: bob's audio from alice stops, video continues.
    let alice_id = net.browsers[alice].id;
    let now = net.now;
    net.sfu.set_forwarding(now, alice_id, false, true);
    net.run(Duration::from_millis(500));
    let (a0, v0) = (
        net.frames(bob, MediaKind::Audio),
        net.frames(bob, MediaKind::Video),
    );
    net.run(Duration::from_secs(1));
    assert!(
        net.frames(bob, MediaKind::Audio) - a0 <= 1,
        "muted audio stopped"
    );
    assert!(net.frames(bob, MediaKind::Video) > v0 + 10, "video kept");

    // Alice leaves: bob gets an offer that stops her tracks, and no more frames.
    net.sfu.leave(alice_id);
    net.run(Duration::from_millis(500));
    let bob_id = net.browsers[bob].id;
    let offers = net
        .events
        .iter()
        .filter(|e| matches!(e, MediaEvent::Offer { peer, .. } if *peer == bob_id))
        .count();
    assert!(
        offers >= 2,
        "bob got a second offer removing alice's tracks"
    );
    let v1 = net.frames(bob, MediaKind::Video);
    net.run(Duration::from_secs(1));
    assert_eq!(net.frames(bob, MediaKind::Video), v1);
    assert_eq!(net.counters.snapshot().peers, 2);
}

#[test]
fn a_bad_offer_is_refused_cleanly() {
    let mut net = Net::new();
    let now = net.now;
    let r = net.sfu.join(
        now,
        room(1),
        PeerId(Uuid::from_u128(9)),
        "x".into(),
        "v=0\r\nbogus",
    );
    assert!(matches!(r, Err(crate::MediaError::BadSdp(_))), "{r:?}");
    assert!(matches!(
        net.sfu.apply_answer(now, PeerId(Uuid::from_u128(9)), "v=0"),
        Err(crate::MediaError::UnknownPeer)
    ));
    // Garbage datagrams are dropped.
    let src: SocketAddr = SocketAddr::from(([10, 9, 9, 9], 1));
    let dst: SocketAddr = SocketAddr::from(([10, 0, 0, 1], 5000));
    assert!(
        !net.sfu
            .handle_receive(now, Protocol::Udp, src, dst, &[0u8; 3])
    );
    assert!(
        !net.sfu
            .handle_receive(now, Protocol::Udp, src, dst, &[0x80u8; 40])
    );
}

#[test]
fn a_simulcast_publisher_reaches_a_subscriber_on_one_layer_with_keyframe_requests() {
    let mut net = Net::new();
    let alice = net.join_with(1, room(1), "alice", true);
    let bob = net.join(2, room(1), "bob");
    net.run(Duration::from_secs(3));
    assert!(net.browsers[bob].connected);
    let video = net.frames(bob, MediaKind::Video);
    // One layer is forwarded (25 frames/s), not both.
    assert!((20..=80).contains(&video), "bob video frames: {video}");
    // The SFU asked alice for a keyframe on a layer (the start waits for one).
    let requests = &net.browsers[alice].keyframe_requests;
    assert!(
        requests.iter().any(|r| r.is_some()),
        "keyframe requests with a rid: {requests:?}"
    );
}

#[test]
fn a_subscriber_with_a_clean_link_climbs_to_the_high_layer_and_drops_when_its_link_loses() {
    let mut net = Net::new();
    let _alice = net.join_with(1, room(1), "alice", true);
    let bob = net.join(2, room(1), "bob");
    net.run(Duration::from_secs(6));
    // The high layer's frames are 3000 bytes, the low layer's 300.
    assert_eq!(
        net.browsers[bob].last_video_size, 3000,
        "clean link: high layer"
    );
    // 30% of what the SFU sends bob is lost: his receiver reports say so, and the estimate
    // drops below the high layer's rate.
    net.browsers[bob].loss_in_10 = 3;
    net.run(Duration::from_secs(8));
    assert_eq!(
        net.browsers[bob].last_video_size, 300,
        "lossy link: low layer"
    );
    // The loss goes away: back up after the hold.
    net.browsers[bob].loss_in_10 = 0;
    net.run(Duration::from_secs(12));
    assert_eq!(
        net.browsers[bob].last_video_size, 3000,
        "recovered: high layer"
    );
}

#[test]
fn video_lost_on_the_way_to_a_subscriber_is_resent_and_audio_is_not() {
    let mut net = Net::new();
    let _alice = net.join(1, room(1), "alice");
    let bob = net.join(2, room(1), "bob");
    net.run(Duration::from_secs(2));
    let (video0, audio0) = (
        net.frames(bob, MediaKind::Video),
        net.frames(bob, MediaKind::Audio),
    );
    assert!(video0 > 0 && audio0 > 0, "bob receives before the loss");
    // Every tenth datagram from the SFU to bob is lost for 4 s: alice sends 100 video frames
    // (one packet each) and 200 audio packets in that time.
    net.browsers[bob].loss_in_10 = 1;
    net.run(Duration::from_secs(4));
    let video = net.frames(bob, MediaKind::Video) - video0;
    let audio = net.frames(bob, MediaKind::Audio) - audio0;
    // Video answers NACKs from the resend cache: nearly every frame arrives.
    assert!(video >= 97, "video frames with resends: {video} of 100");
    // Audio is not resent (a late Opus packet is worth less than concealment): the loss shows.
    assert!(
        (170..=190).contains(&audio),
        "audio packets without resends: {audio} of 200"
    );
}

#[test]
fn loss_on_one_publishers_uplink_does_not_lower_what_a_subscriber_gets_of_the_others() {
    let mut net = Net::new();
    let carol = net.join_with(3, room(1), "carol", true);
    let alice = net.join(1, room(1), "alice");
    let bob = net.join(2, room(1), "bob");
    // Alice's video is held back (the host's switch), so that carol's is all the video bob
    // gets: his estimate then covers her high layer with room to spare.
    let alice_id = net.browsers[alice].id;
    net.sfu.set_forwarding(net.now, alice_id, true, false);
    net.run(Duration::from_secs(2));
    // Alice's uplink loses 7 datagrams in 10 from now on. Bob's receiver reports on her audio
    // count the packets that never reached the SFU as lost; his own link is clean.
    net.browsers[alice].up_loss_in_10 = 7;
    net.run(Duration::from_secs(15));
    let (bob_id, carol_id) = (net.browsers[bob].id, net.browsers[carol].id);
    let from_carol = net.browsers[bob]
        .received
        .iter()
        .filter(|(_, kind)| **kind == MediaKind::Video)
        .map(|(mid, _)| *mid)
        .find(|mid| {
            net.sfu
                .router()
                .source_of(bob_id, *mid)
                .is_some_and(|t| t.peer == carol_id)
        })
        .expect("bob receives carol's video");
    assert_eq!(
        net.sfu.router().layer_state(bob_id, from_carol),
        Some(LayerState::On(Some(Rid::from("h")))),
        "bob's clean link keeps carol's high layer"
    );
    assert!(
        net.frames(bob, MediaKind::Audio) > 0 && net.frames(bob, MediaKind::Video) > 0,
        "media flows"
    );
}

/// Not a test: the SFU's work per forwarded packet in a meeting of 12 (or in 1:1 calls, see
/// below), for counting instructions with callgrind (`scripts/sfu-cost-probe.sh`), which
/// repeats to within a fraction of a percent where timings on a shared machine vary by a third. The SFU is polled after every datagram, as
/// the driver is when datagrams come one at a time (the most work per packet).
#[test]
#[ignore = "a measurement, run by scripts/sfu-cost-probe.sh"]
fn forwarding_cost_probe() {
    // Twelve participants in rooms of `SFU_PROBE_ROOM_SIZE` (default one room of 12; 2 for 1:1
    // calls, where nothing shares a connection's per-pass work).
    let size: u128 = std::env::var("SFU_PROBE_ROOM_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| (2..=12).contains(&s))
        .unwrap_or(12);
    let mut net = Net::new();
    for n in 0..12u128 {
        net.join(n + 1, room(n / size), &format!("p{n}"));
    }
    net.run(Duration::from_secs(3));
    net.poll_each = true;
    let before = net.counters.snapshot();
    cost_probe_window(&mut net);
    let after = net.counters.snapshot();
    println!(
        "cost probe: {} packets received, {} forwarded",
        after.packets_received - before.packets_received,
        after.packets_forwarded - before.packets_forwarded
    );
}

/// The measured window of [`forwarding_cost_probe`]: callgrind counts what runs inside it.
#[inline(never)]
fn cost_probe_window(net: &mut Net) {
    net.run(Duration::from_secs(5));
}
