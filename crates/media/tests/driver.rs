//! The driver over real loopback sockets: a str0m client connects to the running SFU over UDP
//! (join) and over ICE-TCP (probe with only a TCP candidate).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use helsebro_media::{Media, MediaConfig, MediaEvent, PeerId, RoomId, Transport};
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::{Candidate, Event, Input, Output, Rtc};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(10);

async fn start() -> (Media, tokio::sync::mpsc::UnboundedReceiver<MediaEvent>) {
    start_workers(1).await
}

async fn start_workers(
    workers: usize,
) -> (Media, tokio::sync::mpsc::UnboundedReceiver<MediaEvent>) {
    Media::start(MediaConfig {
        udp_listen: "127.0.0.1:0".parse().unwrap(),
        tcp_listen: "127.0.0.1:0".parse().unwrap(),
        advertise_ip: None,
        workers,
    })
    .await
    .expect("media server starts")
}

fn client() -> Rtc {
    Rtc::builder()
        .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
        .build(Instant::now())
}

/// Drain the client's output; `Some(true)` once connected, `Some(false)` on failure.
fn drain(rtc: &mut Rtc, send: &mut dyn FnMut(&[u8], SocketAddr)) -> (Option<bool>, Instant) {
    loop {
        match rtc.poll_output() {
            Ok(Output::Timeout(t)) => return (None, t),
            Ok(Output::Transmit(t)) => send(&t.contents, t.destination),
            Ok(Output::Event(Event::Connected)) => return (Some(true), Instant::now()),
            Ok(Output::Event(_)) => {}
            Err(_) => return (Some(false), Instant::now()),
        }
    }
}

fn wait(timeout: Instant) -> Duration {
    timeout
        .saturating_duration_since(Instant::now())
        .clamp(Duration::from_millis(1), Duration::from_millis(50))
}

/// Run a client over UDP until it is connected (ICE and DTLS) or the deadline passes.
fn connect_udp(mut rtc: Rtc, socket: UdpSocket) -> bool {
    let local = socket.local_addr().unwrap();
    let end = Instant::now() + DEADLINE;
    let mut buf = vec![0u8; 2048];
    while Instant::now() < end {
        let (done, timeout) = drain(&mut rtc, &mut |data, to| {
            let _ = socket.send_to(data, to);
        });
        if let Some(ok) = done {
            return ok;
        }
        socket.set_read_timeout(Some(wait(timeout))).unwrap();
        let input_ok = match socket.recv_from(&mut buf) {
            Ok((n, source)) => match Receive::new(Protocol::Udp, source, local, &buf[..n]) {
                Ok(r) => rtc.handle_input(Input::Receive(Instant::now(), r)).is_ok(),
                Err(_) => true,
            },
            Err(_) => rtc.handle_input(Input::Timeout(Instant::now())).is_ok(),
        };
        if !input_ok {
            return false;
        }
    }
    false
}

/// Run a client over one TCP connection (RFC 4571 framing) until connected or the deadline.
fn connect_tcp(mut rtc: Rtc, mut stream: TcpStream) -> bool {
    let local = stream.local_addr().unwrap();
    let remote = stream.peer_addr().unwrap();
    let end = Instant::now() + DEADLINE;
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut writer = stream.try_clone().unwrap();
    while Instant::now() < end {
        let (done, timeout) = drain(&mut rtc, &mut |data, _to| {
            let mut framed = (data.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(data);
            let _ = writer.write_all(&framed);
        });
        if let Some(ok) = done {
            return ok;
        }
        stream.set_read_timeout(Some(wait(timeout))).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        while pending.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([pending[0], pending[1]]));
            if pending.len() < 2 + len {
                break;
            }
            let frame: Vec<u8> = pending.drain(..2 + len).skip(2).collect();
            if let Ok(r) = Receive::new(Protocol::Tcp, remote, local, &frame)
                && rtc.handle_input(Input::Receive(Instant::now(), r)).is_err()
            {
                return false;
            }
        }
        if rtc.handle_input(Input::Timeout(Instant::now())).is_err() {
            return false;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_joins_and_connects_over_udp() {
    let (media, mut events) = start().await;
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rtc = client();
    rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().unwrap();

    let peer = PeerId(Uuid::now_v7());
    let room = RoomId(Uuid::now_v7());
    let answer = media
        .join(room, peer, "alice".into(), offer.to_sdp_string())
        .await
        .expect("join answered");
    assert!(answer.contains(&format!("{}", media.udp_addr().port())));
    assert!(answer.contains("tcptype passive"), "{answer}");
    rtc.sdp_api()
        .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
        .unwrap();

    let connected = tokio::task::spawn_blocking(move || connect_udp(rtc, socket))
        .await
        .unwrap();
    assert!(connected, "client connected over UDP");
    let event = tokio::time::timeout(DEADLINE, events.recv()).await;
    assert_eq!(event.ok().flatten(), Some(MediaEvent::Connected { peer }));
    assert_eq!((media.stats().rooms, media.stats().peers), (1, 1));

    media.leave(peer);
    let end = Instant::now() + DEADLINE;
    while media.stats().peers != 0 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(media.stats().peers, 0);
}

/// A client with one audio track; its offer and the pending state to accept the answer.
fn audio_client(socket: &UdpSocket) -> (Rtc, String, str0m::change::SdpPendingOffer) {
    let mut rtc = client();
    rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, pending) = api.apply().unwrap();
    (rtc, offer.to_sdp_string(), pending)
}

/// The UDP port in an answer's host candidate.
fn udp_port(answer: &str) -> u16 {
    answer
        .lines()
        .find(|l| l.starts_with("a=candidate") && l.to_lowercase().contains(" udp "))
        .and_then(|l| l.split_whitespace().nth(5))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no UDP candidate in {answer}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn rooms_spread_over_two_workers_each_room_on_one_and_all_connect() {
    let (media, mut events) = start_workers(2).await;
    let ports: Vec<u16> = media.udp_addrs().iter().map(|a| a.port()).collect();
    assert_eq!(ports.len(), 2);
    assert_ne!(ports[0], ports[1]);
    assert_eq!(media.tcp_addrs().len(), 2);

    let rooms = [RoomId(Uuid::now_v7()), RoomId(Uuid::now_v7())];
    // Two peers in the first room, one in the second.
    let mut clients = Vec::new();
    for room in [rooms[0], rooms[0], rooms[1]] {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (mut rtc, offer, pending) = audio_client(&socket);
        let peer = PeerId(Uuid::now_v7());
        let answer = media.join(room, peer, "p".into(), offer).await.unwrap();
        let port = udp_port(&answer);
        rtc.sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
            .unwrap();
        clients.push((peer, port, rtc, socket));
    }
    assert_eq!(clients[0].1, clients[1].1, "one room, one worker");
    assert_ne!(
        clients[0].1, clients[2].1,
        "the second room on the other worker"
    );
    assert!(clients.iter().all(|c| ports.contains(&c.1)));

    let mut waiting = Vec::new();
    for (_, _, rtc, socket) in clients.drain(..) {
        waiting.push(tokio::task::spawn_blocking(move || {
            connect_udp(rtc, socket)
        }));
    }
    for w in waiting {
        assert!(w.await.unwrap(), "client connected over UDP");
    }
    let mut connected = 0;
    while connected < 3 {
        match tokio::time::timeout(DEADLINE, events.recv()).await {
            Ok(Some(MediaEvent::Connected { .. })) => connected += 1,
            Ok(Some(_)) => {}
            other => panic!("waiting for Connected: {other:?}"),
        }
    }
    // Counters are summed over the workers.
    assert_eq!((media.stats().rooms, media.stats().peers), (2, 3));
    media.close_room(rooms[0]);
    let end = Instant::now() + DEADLINE;
    while media.stats().peers != 1 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!((media.stats().rooms, media.stats().peers), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tcp_only_probe_connects_over_ice_tcp() {
    let (media, _events) = start().await;
    let stream = TcpStream::connect(media.tcp_addr()).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut rtc = client();
    let candidate = Candidate::builder()
        .tcp()
        .host(stream.local_addr().unwrap())
        .tcptype(TcpType::Active)
        .build()
        .unwrap();
    rtc.add_local_candidate(candidate);
    let mut api = rtc.sdp_api();
    api.add_channel("probe".into());
    let (offer, pending) = api.apply().unwrap();

    let answer = media
        .probe(offer.to_sdp_string(), Transport::Tcp)
        .await
        .expect("probe answered");
    let candidates: Vec<&str> = answer
        .lines()
        .filter(|l| l.starts_with("a=candidate"))
        .collect();
    assert_eq!(candidates.len(), 1, "{answer}");
    assert!(candidates[0].contains("tcp") && candidates[0].contains("tcptype passive"));
    rtc.sdp_api()
        .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
        .unwrap();
    assert_eq!(media.stats().probes, 1);

    let connected = tokio::task::spawn_blocking(move || connect_tcp(rtc, stream))
        .await
        .unwrap();
    assert!(connected, "client connected over ICE-TCP");
    // A probe is in no room.
    assert_eq!(media.stats().rooms, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_udp_only_probe_offers_only_udp_and_bad_sdp_is_refused() {
    let (media, _events) = start().await;
    let mut rtc = client();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
    let mut api = rtc.sdp_api();
    api.add_channel("probe".into());
    let (offer, _pending) = api.apply().unwrap();
    let answer = media
        .probe(offer.to_sdp_string(), Transport::Udp)
        .await
        .unwrap();
    let candidates: Vec<&str> = answer
        .lines()
        .filter(|l| l.starts_with("a=candidate"))
        .collect();
    assert_eq!(candidates.len(), 1, "{answer}");
    assert!(candidates[0].to_lowercase().contains("udp"));

    let bad = media
        .join(
            RoomId(Uuid::now_v7()),
            PeerId(Uuid::now_v7()),
            "x".into(),
            "not sdp".into(),
        )
        .await;
    assert!(matches!(bad, Err(helsebro_media::MediaError::BadSdp(_))));
    // Garbage on the UDP socket does not hurt the server.
    socket.send_to(&[0xff; 64], media.udp_addr()).unwrap();
    let end = Instant::now() + DEADLINE;
    while media.stats().bad_packets == 0 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(media.stats().bad_packets >= 1);
    assert!(
        media
            .probe("nonsense".into(), Transport::Udp)
            .await
            .is_err()
    );
}
