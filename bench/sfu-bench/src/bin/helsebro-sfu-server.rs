//! A thin server around Helsebro's SFU (`helsebro_media::Media`) for the benchmark: the media
//! path exactly as `helsebro serve` runs it, with a minimal signalling instead of the web layer
//! (no login, no knock/admit), so that the benchmark measures the SFU and nothing else.
//!
//! Signalling: one TCP connection per participant on `BENCH_IP` (default 127.0.0.1), one JSON object per line.
//! - client → server `{"type":"join","room":"<uuid>","peer":"<uuid>","sdp":"<offer>"}`,
//!   server → client `{"type":"answer","sdp":"<answer>"}` (or `{"type":"error","message":…}`);
//! - server → client `{"type":"offer","sdp":"<offer>"}`, client → server
//!   `{"type":"answer","sdp":"<answer>"}`;
//! - the connection closing is `Media::leave`.
//!
//! On start it prints one line `ready <udp addr> <signalling addr>` on stdout.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;

use helsebro_media::{Media, MediaConfig, MediaEvent, PeerId, RoomId};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

type Writers = Rc<RefCell<HashMap<PeerId, mpsc::UnboundedSender<String>>>>;

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, serve())
}

async fn serve() -> anyhow::Result<()> {
    let ip = std::env::var("BENCH_IP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    let (media, mut events) = Media::start(MediaConfig {
        udp_listen: SocketAddr::new(ip, 0),
        tcp_listen: SocketAddr::new(ip, 0),
        advertise_ip: None,
        // One worker unless told otherwise: the benchmark compares CPU per packet on one core.
        workers: std::env::var("BENCH_WORKERS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1),
    })
    .await?;
    let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
    println!("ready {} {}", media.udp_addr(), listener.local_addr()?);
    let writers: Writers = Rc::default();
    {
        let writers = writers.clone();
        tokio::task::spawn_local(async move {
            while let Some(ev) = events.recv().await {
                if let MediaEvent::Offer { peer, sdp } = ev {
                    let line = json!({"type": "offer", "sdp": sdp}).to_string();
                    if let Some(w) = writers.borrow().get(&peer) {
                        let _ = w.send(line);
                    }
                }
            }
        });
    }
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::task::spawn_local(connection(stream, media.clone(), writers.clone()));
    }
}

async fn connection(stream: TcpStream, media: Media, writers: Writers) {
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tokio::task::spawn_local(async move {
        while let Some(mut line) = rx.recv().await {
            line.push('\n');
            if wr.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let mut lines = BufReader::new(rd).lines();
    let mut me: Option<PeerId> = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            break;
        };
        let sdp = msg["sdp"].as_str().unwrap_or_default().to_string();
        let reply = match msg["type"].as_str() {
            Some("join") => {
                let room = msg["room"].as_str().and_then(|s| s.parse().ok());
                let peer = msg["peer"].as_str().and_then(|s| s.parse().ok());
                let (Some(room), Some(peer)) = (room, peer) else {
                    break;
                };
                let peer = PeerId(peer);
                me = Some(peer);
                writers.borrow_mut().insert(peer, tx.clone());
                match media
                    .join(RoomId(room), peer, peer.0.to_string(), sdp)
                    .await
                {
                    Ok(answer) => json!({"type": "answer", "sdp": answer}),
                    Err(e) => json!({"type": "error", "message": e.to_string()}),
                }
            }
            Some("answer") => {
                let Some(peer) = me else { break };
                match media.apply_answer(peer, sdp).await {
                    Ok(()) => continue,
                    Err(e) => json!({"type": "error", "message": e.to_string()}),
                }
            }
            _ => break,
        };
        let _ = tx.send(reply.to_string());
    }
    if let Some(peer) = me {
        writers.borrow_mut().remove(&peer);
        media.leave(peer);
    }
}
