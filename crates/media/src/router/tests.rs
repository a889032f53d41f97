//! Router tests: synthetic frames and a fake clock (an `Instant` advanced by hand).

use std::time::{Duration, Instant};

use str0m::media::{Mid, Rid};
use uuid::Uuid;

use super::*;

fn peer(n: u128) -> PeerId {
    PeerId(Uuid::from_u128(n))
}

fn room(n: u128) -> RoomId {
    RoomId(Uuid::from_u128(0x1000 + n))
}

fn mid(s: &str) -> Mid {
    Mid::from(s)
}

fn rid(s: &str) -> Option<Rid> {
    Some(Rid::from(s))
}

const FRAME: Duration = Duration::from_millis(33);

/// Bytes per frame at 30 frames/s for a bitrate.
fn bytes_for(bps: u64) -> usize {
    usize::try_from(bps / 8 / 30).unwrap_or(0)
}

/// Simulcast layers of the test publisher: rid and bitrate.
const LAYERS: [(&str, u64); 3] = [("l", 150_000), ("m", 500_000), ("h", 1_500_000)];

struct Sim {
    r: Router,
    now: Instant,
    out: Vec<Action>,
}

impl Sim {
    fn new() -> Self {
        Sim {
            r: Router::new(),
            now: Instant::now(),
            out: Vec::new(),
        }
    }

    /// One frame of every layer of `track`, keyframes on the layers named in `key`.
    /// Returns, per layer, the subscribers it was forwarded to; keyframe requests stay in `out`.
    fn frame_all(&mut self, track: TrackRef, key: &[&str]) -> Vec<(String, Vec<(PeerId, Mid)>)> {
        let mut res = Vec::new();
        for (name, bps) in LAYERS {
            let start = self.out.len();
            self.r.on_media(
                self.now,
                track.peer,
                track.mid,
                rid(name),
                key.contains(&name),
                bytes_for(bps),
                &mut self.out,
            );
            let mut fwd = Vec::new();
            let mut rest = Vec::new();
            for a in self.out.drain(start..) {
                match a {
                    Action::Forward { to, mid } => fwd.push((to, mid)),
                    other => rest.push(other),
                }
            }
            self.out.extend(rest);
            res.push((name.to_string(), fwd));
        }
        self.now += FRAME;
        res
    }

    /// Frames for `dur` without keyframes; returns the layers forwarded to `to` in the last frame.
    fn run(&mut self, track: TrackRef, dur: Duration, to: PeerId) -> Vec<String> {
        let end = self.now + dur;
        let mut last = Vec::new();
        while self.now < end {
            last = forwarded_to(&self.frame_all(track, &[]), to);
        }
        last
    }

    fn keyframe_requests(&mut self) -> Vec<Option<Rid>> {
        let v = self
            .out
            .iter()
            .filter_map(|a| match a {
                Action::RequestKeyframe { rid, .. } => Some(*rid),
                Action::Forward { .. } => None,
            })
            .collect();
        self.out.clear();
        v
    }
}

fn forwarded_to(frame: &[(String, Vec<(PeerId, Mid)>)], to: PeerId) -> Vec<String> {
    frame
        .iter()
        .filter(|(_, fwd)| fwd.iter().any(|(p, _)| *p == to))
        .map(|(n, _)| n.clone())
        .collect()
}

/// Publisher 1 with a simulcast video track (mid "v") and an audio track (mid "a"), subscriber
/// 2 receiving the video on its mid "1" and the audio on its mid "0", both in room 1.
fn setup() -> (Sim, TrackRef, TrackRef) {
    let mut s = Sim::new();
    s.r.add_peer(room(1), peer(1));
    s.r.add_peer(room(1), peer(2));
    let video = TrackRef {
        peer: peer(1),
        mid: mid("v"),
    };
    let audio = TrackRef {
        peer: peer(1),
        mid: mid("a"),
    };
    s.r.add_track(peer(1), video.mid, Kind::Video).ok();
    s.r.add_track(peer(1), audio.mid, Kind::Audio).ok();
    let now = s.now;
    assert_eq!(
        s.r.subscribe(now, peer(2), mid("0"), audio, &mut s.out),
        Ok(())
    );
    assert_eq!(
        s.r.subscribe(now, peer(2), mid("1"), video, &mut s.out),
        Ok(())
    );
    (s, video, audio)
}

/// Runs until the layers are measured and the subscriber receives the lowest one.
fn started(s: &mut Sim, video: TrackRef) {
    s.run(video, Duration::from_millis(600), peer(2));
    s.frame_all(video, &["l", "m", "h"]);
    s.out.clear();
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::On(rid("l")))
    );
}

#[test]
fn starts_on_the_lowest_measured_layer_at_a_keyframe_and_requests_it() {
    let (mut s, video, _) = setup();
    // Layers not measured yet: nothing chosen, nothing forwarded, even at keyframes.
    let f = s.frame_all(video, &["l", "m", "h"]);
    assert!(forwarded_to(&f, peer(2)).is_empty());
    assert!(s.run(video, Duration::from_millis(600), peer(2)).is_empty());
    // Once measured: a keyframe asked for on the lowest layer, forwarded from that keyframe.
    assert_eq!(s.keyframe_requests(), vec![rid("l")]);
    assert!(s.run(video, FRAME, peer(2)).is_empty());
    let f = s.frame_all(video, &["l", "m", "h"]);
    assert_eq!(forwarded_to(&f, peer(2)), vec!["l"]);
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::On(rid("l")))
    );
    assert_eq!(s.run(video, FRAME, peer(2)), vec!["l"]);
}

#[test]
fn a_single_layer_track_starts_without_waiting_for_a_measurement() {
    let (mut s, video, _) = setup();
    let now = s.now;
    s.r.on_media(now, peer(1), video.mid, None, true, 3000, &mut s.out);
    assert_eq!(
        s.out,
        vec![
            Action::RequestKeyframe {
                track: video,
                rid: None
            },
            Action::Forward {
                to: peer(2),
                mid: mid("1")
            }
        ]
    );
}

#[test]
fn switches_up_and_down_with_the_estimate_at_keyframes() {
    let (mut s, video, _) = setup();
    started(&mut s, video);
    s.run(video, Duration::from_secs(3), peer(2));
    s.keyframe_requests();

    // Plenty of bandwidth: switch up to "h", but keep "l" until "h" has a keyframe.
    let now = s.now;
    s.r.on_estimate(now, peer(2), 3_000_000, &mut s.out);
    assert_eq!(s.keyframe_requests(), vec![rid("h")]);
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::Switching {
            current: Some(rid("l")),
            target: rid("h")
        })
    );
    let f = s.frame_all(video, &[]);
    assert_eq!(forwarded_to(&f, peer(2)), vec!["l"]);
    // While waiting, the request is repeated now and then, not on every frame.
    s.run(video, Duration::from_millis(600), peer(2));
    let repeats = s.keyframe_requests();
    assert!(
        (1..=2).contains(&repeats.len()) && repeats.iter().all(|r| *r == rid("h")),
        "{repeats:?}"
    );
    // The "l" frame of the same instant still went out before the "h" keyframe switched.
    let f = s.frame_all(video, &["h"]);
    assert_eq!(forwarded_to(&f, peer(2)), vec!["l", "h"]);
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::On(rid("h")))
    );
    assert_eq!(s.run(video, Duration::from_secs(1), peer(2)), vec!["h"]);

    // The estimate drops: down to the layer that fits ("m", 500 kbps), at its keyframe.
    let now = s.now;
    s.r.on_estimate(now, peer(2), 700_000, &mut s.out);
    assert_eq!(s.keyframe_requests(), vec![rid("m")]);
    assert_eq!(s.run(video, FRAME, peer(2)), vec!["h"]);
    let f = s.frame_all(video, &["m"]);
    assert_eq!(forwarded_to(&f, peer(2)), vec!["m"]);
    assert_eq!(s.run(video, Duration::from_secs(1), peer(2)), vec!["m"]);

    // Recovering estimate: no immediate switch back up within the hold time...
    let now = s.now;
    s.r.on_estimate(now, peer(2), 3_000_000, &mut s.out);
    assert_eq!(s.run(video, FRAME, peer(2)), vec!["m"]);
    s.keyframe_requests();
    // ...but after it (at the next measurement).
    s.run(video, UP_HOLD, peer(2));
    let requests = s.keyframe_requests();
    assert!(
        !requests.is_empty() && requests.iter().all(|r| *r == rid("h")),
        "{requests:?}"
    );
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::Switching {
            current: Some(rid("m")),
            target: rid("h")
        })
    );
}

#[test]
fn video_pauses_below_the_lowest_layer_and_audio_keeps_flowing() {
    let (mut s, video, audio) = setup();
    started(&mut s, video);
    s.run(video, Duration::from_secs(1), peer(2));
    // 50 kbps for audio leaves 40 kbps for video: less than the lowest layer.
    let now = s.now;
    s.r.on_estimate(now, peer(2), 90_000, &mut s.out);
    assert_eq!(s.r.layer_state(peer(2), mid("1")), Some(LayerState::Paused));
    let f = s.frame_all(video, &["l", "m", "h"]);
    assert!(forwarded_to(&f, peer(2)).is_empty());
    let now = s.now;
    s.r.on_media(now, peer(1), audio.mid, None, false, 100, &mut s.out);
    assert_eq!(
        s.out,
        vec![Action::Forward {
            to: peer(2),
            mid: mid("0")
        }]
    );
    s.out.clear();

    // Enough again for the lowest layer: resumes (after the hold time) at a keyframe.
    s.run(video, UP_HOLD, peer(2));
    let now = s.now;
    s.r.on_estimate(now, peer(2), 260_000, &mut s.out);
    assert_eq!(s.keyframe_requests(), vec![rid("l")]);
    let f = s.frame_all(video, &["l"]);
    assert_eq!(forwarded_to(&f, peer(2)), vec!["l"]);
}

#[test]
fn a_subscribers_keyframe_request_goes_to_the_publisher_for_its_layer() {
    let (mut s, video, _) = setup();
    started(&mut s, video);
    s.run(video, Duration::from_secs(1), peer(2));
    s.keyframe_requests();
    let now = s.now;
    s.r.on_keyframe_request(now, peer(2), mid("1"), &mut s.out);
    assert_eq!(
        s.out,
        vec![Action::RequestKeyframe {
            track: video,
            rid: rid("l")
        }]
    );
    s.out.clear();
    // Throttled: a second request right after is not passed on...
    s.r.on_keyframe_request(now, peer(2), mid("1"), &mut s.out);
    assert!(s.out.is_empty());
    // ...one later is.
    let later = now + KEYFRAME_REQUEST_INTERVAL;
    s.r.on_keyframe_request(later, peer(2), mid("1"), &mut s.out);
    assert_eq!(s.keyframe_requests(), vec![rid("l")]);
    // A request for an m-line that carries nothing is ignored.
    s.r.on_keyframe_request(later, peer(2), mid("9"), &mut s.out);
    assert!(s.out.is_empty());
}

#[test]
fn a_layer_the_publisher_stops_is_left_for_one_still_sent() {
    let (mut s, video, _) = setup();
    started(&mut s, video);
    s.run(video, Duration::from_secs(3), peer(2));
    let now = s.now;
    s.r.on_estimate(now, peer(2), 3_000_000, &mut s.out);
    s.frame_all(video, &["h"]);
    assert_eq!(s.run(video, FRAME, peer(2)), vec!["h"]);
    s.keyframe_requests();
    // The publisher's uplink degrades and its browser stops sending "h".
    let end = s.now + Duration::from_secs(2);
    while s.now < end {
        for (name, bps) in &LAYERS[..2] {
            let now = s.now;
            s.r.on_media(
                now,
                peer(1),
                video.mid,
                rid(name),
                false,
                bytes_for(*bps),
                &mut s.out,
            );
        }
        s.now += FRAME;
    }
    assert!(s.keyframe_requests().contains(&rid("m")));
    let now = s.now;
    s.r.on_media(now, peer(1), video.mid, rid("m"), true, 2000, &mut s.out);
    assert!(s.out.contains(&Action::Forward {
        to: peer(2),
        mid: mid("1")
    }));
}

#[test]
fn host_mute_stops_audio_and_video_until_set_back() {
    let (mut s, video, audio) = setup();
    started(&mut s, video);
    let now = s.now;
    s.r.set_forwarding(now, peer(1), false, false, &mut s.out);
    s.r.on_media(now, peer(1), audio.mid, None, false, 100, &mut s.out);
    let f = s.frame_all(video, &["l", "m", "h"]);
    assert!(forwarded_to(&f, peer(2)).is_empty());
    assert!(s.out.is_empty(), "{:?}", s.out);

    s.now += KEYFRAME_REQUEST_INTERVAL;
    let now = s.now;
    s.r.set_forwarding(now, peer(1), true, true, &mut s.out);
    assert_eq!(s.keyframe_requests(), vec![rid("l")]);
    s.r.on_media(now, peer(1), audio.mid, None, false, 100, &mut s.out);
    assert_eq!(s.out.len(), 1);
    s.out.clear();
    // Video resumes at a keyframe only.
    assert!(s.run(video, FRAME, peer(2)).is_empty());
    let f = s.frame_all(video, &["l"]);
    assert_eq!(forwarded_to(&f, peer(2)), vec!["l"]);
}

#[test]
fn nothing_reaches_peers_outside_the_room_or_removed() {
    let mut s = Sim::new();
    let (publisher, member, other_room, never_admitted) = (peer(1), peer(2), peer(3), peer(4));
    s.r.add_peer(room(1), publisher);
    s.r.add_peer(room(1), member);
    s.r.add_peer(room(2), other_room);
    let audio = TrackRef {
        peer: publisher,
        mid: mid("a"),
    };
    s.r.add_track(publisher, audio.mid, Kind::Audio).ok();
    let now = s.now;
    assert_eq!(
        s.r.subscribe(now, other_room, mid("0"), audio, &mut s.out),
        Err(RouteError::NotSameRoom)
    );
    assert_eq!(
        s.r.subscribe(now, never_admitted, mid("0"), audio, &mut s.out),
        Err(RouteError::UnknownPeer)
    );
    assert_eq!(
        s.r.subscribe(now, publisher, mid("0"), audio, &mut s.out),
        Err(RouteError::NotSameRoom)
    );
    assert_eq!(
        s.r.subscribe(
            now,
            member,
            mid("0"),
            TrackRef {
                peer: publisher,
                mid: mid("x")
            },
            &mut s.out
        ),
        Err(RouteError::UnknownTrack)
    );
    assert_eq!(
        s.r.subscribe(now, member, mid("0"), audio, &mut s.out),
        Ok(())
    );
    s.r.on_media(now, publisher, audio.mid, None, false, 100, &mut s.out);
    assert_eq!(
        s.out,
        vec![Action::Forward {
            to: member,
            mid: mid("0")
        }]
    );
    s.out.clear();
    assert_eq!(s.r.room_count(), 2);

    // The member leaves: nothing more to it.
    s.r.remove_peer(member);
    s.r.on_media(now, publisher, audio.mid, None, false, 100, &mut s.out);
    assert!(s.out.is_empty());
    assert_eq!(s.r.source_of(member, mid("0")), None);

    // Back in the room: subscribes again; then the publisher leaves: nothing from it.
    s.r.add_peer(room(1), member);
    assert_eq!(
        s.r.subscribe(now, member, mid("0"), audio, &mut s.out),
        Ok(())
    );
    s.r.remove_peer(publisher);
    s.r.on_media(now, publisher, audio.mid, None, false, 100, &mut s.out);
    assert!(s.out.is_empty());
    assert_eq!(s.r.source_of(member, mid("0")), None);
    assert_eq!(s.r.peers_in(room(1)), vec![member]);
}

#[test]
fn rooms_are_isolated() {
    let mut s = Sim::new();
    for (p, r) in [(1, 1), (2, 1), (3, 2), (4, 2)] {
        s.r.add_peer(room(r), peer(p));
    }
    let a1 = TrackRef {
        peer: peer(1),
        mid: mid("a"),
    };
    let a3 = TrackRef {
        peer: peer(3),
        mid: mid("a"),
    };
    s.r.add_track(peer(1), a1.mid, Kind::Audio).ok();
    s.r.add_track(peer(3), a3.mid, Kind::Audio).ok();
    let now = s.now;
    assert!(
        s.r.subscribe(now, peer(2), mid("0"), a1, &mut s.out)
            .is_ok()
    );
    assert!(
        s.r.subscribe(now, peer(4), mid("0"), a3, &mut s.out)
            .is_ok()
    );
    assert!(
        s.r.subscribe(now, peer(4), mid("1"), a1, &mut s.out)
            .is_err()
    );
    s.r.on_media(now, peer(1), a1.mid, None, false, 100, &mut s.out);
    s.r.on_media(now, peer(3), a3.mid, None, false, 100, &mut s.out);
    assert_eq!(
        s.out,
        vec![
            Action::Forward {
                to: peer(2),
                mid: mid("0")
            },
            Action::Forward {
                to: peer(4),
                mid: mid("0")
            }
        ]
    );
}

#[test]
fn with_an_estimate_from_the_start_video_starts_low_and_climbs_after_the_hold() {
    let (mut s, video, _) = setup();
    let now = s.now;
    s.r.on_estimate(now, peer(2), 3_000_000, &mut s.out);
    // The layers are measured one after another; later measurements must not undo the start.
    s.run(video, Duration::from_millis(600), peer(2));
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::Switching {
            current: None,
            target: rid("l")
        })
    );
    let f = s.frame_all(video, &["l", "m", "h"]);
    assert_eq!(forwarded_to(&f, peer(2)), vec!["l"]);
    s.keyframe_requests();
    s.run(video, UP_HOLD, peer(2));
    assert!(s.keyframe_requests().contains(&rid("h")));
}

/// Rate of the single-layer (non-simulcast) test video.
const SINGLE_BPS: u64 = 1_200_000;

/// One frame of single-layer `video` (keyframe or not); whether it was forwarded to peer 2.
fn single_frame(s: &mut Sim, video: TrackRef, key: bool) -> bool {
    let now = s.now;
    let start = s.out.len();
    s.r.on_media(
        now,
        video.peer,
        video.mid,
        None,
        key,
        bytes_for(SINGLE_BPS),
        &mut s.out,
    );
    let fwd = s.out[start..]
        .iter()
        .any(|a| matches!(a, Action::Forward { to, .. } if *to == peer(2)));
    s.now += FRAME;
    fwd
}

/// Single-layer frames for `dur`; how many were forwarded to peer 2.
fn single_run(s: &mut Sim, video: TrackRef, dur: Duration) -> usize {
    let end = s.now + dur;
    let mut n = 0;
    while s.now < end {
        n += usize::from(single_frame(s, video, false));
    }
    n
}

/// `setup` with a single-layer video that peer 2 already receives (measured, estimate 1 Mbit/s).
fn single_started() -> (Sim, TrackRef, TrackRef) {
    let (mut s, video, audio) = setup();
    let now = s.now;
    s.r.on_estimate(now, peer(2), 1_000_000, &mut s.out);
    assert!(single_frame(&mut s, video, true));
    single_run(&mut s, video, Duration::from_millis(600));
    s.out.clear();
    (s, video, audio)
}

#[test]
fn single_layer_video_is_not_paused_because_a_rising_estimate_is_below_its_rate() {
    let (mut s, video, _) = single_started();
    // 1 Mbit/s less audio is below the 1.2 Mbit/s layer, but above half of it: forwarded.
    let n = single_run(&mut s, video, Duration::from_secs(5));
    assert!(n >= 151, "every frame forwarded: {n}");
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::On(None))
    );
    // Far below (400 kbps) but rising by more than 5% each second: still forwarded.
    let mut est = 400_000;
    for _ in 0..6 {
        let now = s.now;
        s.r.on_estimate(now, peer(2), est, &mut s.out);
        assert!(single_run(&mut s, video, Duration::from_secs(1)) >= 30);
        est = est * 110 / 100;
    }
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::On(None))
    );
}

#[test]
fn single_layer_video_pauses_when_the_estimate_stays_far_below_and_audio_keeps_flowing() {
    let (mut s, video, audio) = single_started();
    let now = s.now;
    s.r.on_estimate(now, peer(2), 400_000, &mut s.out);
    // Not at once: forwarded for the grace period...
    let n = single_run(
        &mut s,
        video,
        SINGLE_LAYER_PAUSE_AFTER - Duration::from_millis(200),
    );
    assert!(n >= 80, "forwarded during the grace period: {n}");
    // ...then paused, as the estimate did not rise.
    single_run(&mut s, video, Duration::from_millis(600));
    assert_eq!(s.r.layer_state(peer(2), mid("1")), Some(LayerState::Paused));
    assert_eq!(single_run(&mut s, video, Duration::from_secs(1)), 0);
    s.out.clear();
    let now = s.now;
    s.r.on_media(now, peer(1), audio.mid, None, false, 100, &mut s.out);
    assert_eq!(
        s.out,
        vec![Action::Forward {
            to: peer(2),
            mid: mid("0")
        }]
    );
    s.out.clear();
    // Back above half the layer's rate: resumes (after the hold time) at a keyframe.
    single_run(&mut s, video, UP_HOLD);
    let now = s.now;
    s.r.on_estimate(now, peer(2), 800_000, &mut s.out);
    assert_eq!(s.keyframe_requests(), vec![None]);
    assert!(!single_frame(&mut s, video, false));
    assert!(single_frame(&mut s, video, true));
    assert_eq!(
        s.r.layer_state(peer(2), mid("1")),
        Some(LayerState::On(None))
    );
}

#[test]
fn single_layer_video_pauses_at_once_when_the_estimate_barely_covers_audio() {
    let (mut s, video, _) = single_started();
    let now = s.now;
    // 50 kbps audio reserve leaves 90 kbps: below MIN_VIDEO_BPS.
    s.r.on_estimate(now, peer(2), 140_000, &mut s.out);
    assert_eq!(s.r.layer_state(peer(2), mid("1")), Some(LayerState::Paused));
    assert!(!single_frame(&mut s, video, true));
}

#[test]
fn unmeasured_video_counts_as_a_typical_top_layer_in_the_wanted_bitrate() {
    let (s, _, _) = setup();
    assert_eq!(
        s.r.wanted_bitrate(peer(2), s.now),
        AUDIO_RESERVE_BPS + UNMEASURED_VIDEO_BPS + UNMEASURED_VIDEO_BPS * UP_HEADROOM_PCT / 100
    );
}

#[test]
fn a_camera_the_host_switched_off_takes_no_share_of_the_subscribers_estimate() {
    let (mut s, video, _) = setup();
    // A second publisher whose video the host has switched off, also received by peer 2.
    s.r.add_peer(room(1), peer(3));
    let off = TrackRef {
        peer: peer(3),
        mid: mid("w"),
    };
    s.r.add_track(peer(3), off.mid, Kind::Video).ok();
    let now = s.now;
    assert_eq!(
        s.r.subscribe(now, peer(2), mid("2"), off, &mut s.out),
        Ok(())
    );
    s.r.set_forwarding(now, peer(3), true, false, &mut s.out);
    started(&mut s, video);
    s.run(video, Duration::from_secs(3), peer(2));
    s.keyframe_requests();
    // What peer 2 could use: its audio and the one video it gets, on its top layer.
    let wanted = s.r.wanted_bitrate(peer(2), s.now);
    assert!(
        (1_700_000..2_000_000).contains(&wanted),
        "wanted {wanted}: audio and one top layer, not the switched-off camera"
    );
    // 2 Mbit/s covers the top layer for the one video that flows (not half of it for each).
    let now = s.now;
    s.r.on_estimate(now, peer(2), 2_000_000, &mut s.out);
    assert_eq!(s.keyframe_requests(), vec![rid("h")]);
}
