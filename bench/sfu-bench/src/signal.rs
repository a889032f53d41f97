//! Signalling of the two WebRTC servers: the thin Helsebro server's JSON lines, and Janus's
//! VideoRoom plugin over its HTTP (REST + long poll) transport.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};

use crate::load::{self, ConnSpec, Ctl, Shared};

/// One participant of Helsebro's SFU: one connection that publishes and receives.
pub async fn helsebro_participant(
    signal: SocketAddr,
    room: uuid::Uuid,
    me: u32,
    loss: f64,
    shared: Rc<Shared>,
) {
    if let Err(e) = helsebro_inner(signal, room, me, loss, shared.clone()).await {
        shared.fail(format!("participant {me}: {e}"));
    }
}

async fn helsebro_inner(
    signal: SocketAddr,
    room: uuid::Uuid,
    me: u32,
    loss: f64,
    shared: Rc<Shared>,
) -> anyhow::Result<()> {
    let sock = UdpSocket::bind((load::bench_ip(), 0)).await?;
    let mut rtc = load::new_rtc(sock.local_addr()?)?;
    let (offer, pending, amid, vmid) = load::publish_offer(&mut rtc)?;
    let stream = TcpStream::connect(signal).await?;
    stream.set_nodelay(true)?;
    let (rd, mut wr) = stream.into_split();
    let mut lines = BufReader::new(rd).lines();
    shared.ready_to_offer().await;
    let t_offer = Instant::now();
    let join = json!({"type": "join", "room": room.to_string(),
        "peer": uuid::Uuid::now_v7().to_string(), "sdp": offer});
    wr.write_all(format!("{join}\n").as_bytes()).await?;
    let line = lines
        .next_line()
        .await?
        .ok_or_else(|| anyhow::anyhow!("signalling closed"))?;
    let msg: Value = serde_json::from_str(&line)?;
    let Some(answer) = msg["sdp"].as_str() else {
        anyhow::bail!("join refused: {line}");
    };
    load::accept_answer(&mut rtc, pending, answer)?;
    let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
    let fail = shared.clone();
    let signalling = tokio::task::spawn_local(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                break;
            };
            match msg["type"].as_str() {
                Some("offer") => {
                    let (tx, rx) = oneshot::channel();
                    let sdp = msg["sdp"].as_str().unwrap_or_default().to_string();
                    if ctl_tx.send(Ctl::Offer(sdp, tx)).is_err() {
                        break;
                    }
                    let Ok(answer) = rx.await else { break };
                    let reply = json!({"type": "answer", "sdp": answer});
                    if wr.write_all(format!("{reply}\n").as_bytes()).await.is_err() {
                        break;
                    }
                }
                _ => fail.fail(format!("participant {me}: server said {line}")),
            }
        }
        // Dropping the writer closes the connection: the server's leave.
        drop(wr);
    });
    let spec = ConnSpec {
        me,
        publish: Some((amid, vmid)),
        t_offer,
        loss,
        receives: true,
    };
    load::run_rtc(rtc, sock, ctl_rx, spec, shared).await;
    signalling.abort();
    Ok(())
}

/// A Janus session over the HTTP transport, with its long-poll loop.
pub struct Janus {
    http: reqwest::Client,
    url: String,
    events: mpsc::UnboundedReceiver<Value>,
    poller: tokio::task::JoinHandle<()>,
    next_tx: u64,
}

impl Drop for Janus {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

impl Janus {
    pub async fn connect(base: &str) -> anyhow::Result<Janus> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(40))
            .build()?;
        let created: Value = http
            .post(base)
            .json(&json!({"janus": "create", "transaction": "c"}))
            .send()
            .await?
            .json()
            .await?;
        let sid = created["data"]["id"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("no session: {created}"))?;
        let url = format!("{base}/{sid}");
        let (tx, events) = mpsc::unbounded_channel();
        let (h2, u2) = (http.clone(), url.clone());
        let poller = tokio::task::spawn_local(async move {
            loop {
                let Ok(r) = h2.get(format!("{u2}?maxev=20")).send().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(v) = r.json::<Value>().await else {
                    continue;
                };
                let list = match v {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                for e in list {
                    if tx.send(e).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Janus {
            http,
            url,
            events,
            poller,
            next_tx: 0,
        })
    }

    pub async fn attach(&mut self) -> anyhow::Result<u64> {
        let v = self
            .post(
                &self.url.clone(),
                json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
            )
            .await?;
        v["data"]["id"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("attach failed: {v}"))
    }

    async fn post(&mut self, url: &str, mut body: Value) -> anyhow::Result<Value> {
        self.next_tx += 1;
        let tx = format!("t{}", self.next_tx);
        body["transaction"] = json!(tx);
        let v: Value = self.http.post(url).json(&body).send().await?.json().await?;
        if v["janus"] == "ack" {
            // The answer comes as an event with the same transaction.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                let e = tokio::time::timeout_at(deadline, self.events.recv())
                    .await
                    .map_err(|_| anyhow::anyhow!("no event for {tx}"))?
                    .ok_or_else(|| anyhow::anyhow!("long poll ended"))?;
                if e["transaction"] == json!(tx) {
                    return Ok(e);
                }
            }
        }
        if v["janus"] == "error" {
            anyhow::bail!("janus error: {v}");
        }
        Ok(v)
    }

    /// A VideoRoom request on `handle`, optionally with a JSEP; returns the plugin's answer.
    pub async fn message(
        &mut self,
        handle: u64,
        body: Value,
        jsep: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut msg = json!({"janus": "message", "body": body});
        if let Some(j) = jsep {
            msg["jsep"] = j;
        }
        let v = self.post(&format!("{}/{handle}", self.url), msg).await?;
        if let Some(err) = v["plugindata"]["data"]["error"].as_str() {
            anyhow::bail!("videoroom: {err}");
        }
        Ok(v)
    }
}

/// Feed ids of the publishers of each Janus room: (participant, feed).
pub type Feeds = Rc<RefCell<HashMap<u64, Vec<(u32, u64)>>>>;

/// One participant of Janus VideoRoom: a publisher connection, then (once every member of the
/// room publishes) one multistream subscriber connection for all the others' feeds.
#[allow(clippy::too_many_arguments)]
pub async fn janus_participant(
    base: String,
    room: u64,
    room_size: usize,
    me: u32,
    loss: f64,
    feeds: Feeds,
    shared: Rc<Shared>,
) {
    if let Err(e) = janus_inner(base, room, room_size, me, loss, feeds, shared.clone()).await {
        shared.fail(format!("participant {me}: {e:#}"));
    }
}

async fn janus_inner(
    base: String,
    room: u64,
    room_size: usize,
    me: u32,
    loss: f64,
    feeds: Feeds,
    shared: Rc<Shared>,
) -> anyhow::Result<()> {
    let mut janus = Janus::connect(&base).await?;
    let pub_handle = janus.attach().await?;
    let sock = UdpSocket::bind((load::bench_ip(), 0)).await?;
    let mut rtc = load::new_rtc(sock.local_addr()?)?;
    let (offer, pending, amid, vmid) = load::publish_offer(&mut rtc)?;
    shared.ready_to_offer().await;
    let t_offer = Instant::now();
    let ev = janus
        .message(
            pub_handle,
            json!({"request": "joinandconfigure", "room": room, "ptype": "publisher",
                "display": format!("p{me}"), "audio": true, "video": true}),
            Some(json!({"type": "offer", "sdp": offer})),
        )
        .await?;
    let answer = ev["jsep"]["sdp"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no answer: {ev}"))?;
    load::accept_answer(&mut rtc, pending, answer)?;
    let feed = ev["plugindata"]["data"]["id"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no feed id: {ev}"))?;
    feeds.borrow_mut().entry(room).or_default().push((me, feed));
    let (_keep_pub, pub_rx) = mpsc::unbounded_channel();
    let publisher = tokio::task::spawn_local(load::run_rtc(
        rtc,
        sock,
        pub_rx,
        ConnSpec {
            me,
            publish: Some((amid, vmid)),
            t_offer,
            loss,
            receives: false,
        },
        shared.clone(),
    ));
    // Wait for the others to publish.
    let others: Vec<u64> = loop {
        let f: Vec<(u32, u64)> = feeds.borrow().get(&room).cloned().unwrap_or_default();
        if f.len() >= room_size {
            break f
                .iter()
                .filter(|(p, _)| *p != me)
                .map(|(_, f)| *f)
                .collect();
        }
        if Instant::now() >= shared.stop_at {
            anyhow::bail!("the room never filled");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let sub_handle = janus.attach().await?;
    let streams: Vec<Value> = others.iter().map(|f| json!({"feed": f})).collect();
    // Janus knows a feed only once its publisher's connection is up: retry until then.
    let ev = loop {
        match janus
            .message(
                sub_handle,
                json!({"request": "join", "room": room, "ptype": "subscriber",
                    "streams": streams.clone()}),
                None,
            )
            .await
        {
            Ok(ev) => break ev,
            Err(e) if e.to_string().contains("No such feed") && Instant::now() < shared.stop_at => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let offer = ev["jsep"]["sdp"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no subscriber offer: {ev}"))?;
    let sock = UdpSocket::bind((load::bench_ip(), 0)).await?;
    let mut rtc = load::new_rtc(sock.local_addr()?)?;
    let answer = load::answer_offer(&mut rtc, offer)?;
    janus
        .message(
            sub_handle,
            json!({"request": "start", "room": room}),
            Some(json!({"type": "answer", "sdp": answer})),
        )
        .await?;
    let (_keep_sub, sub_rx) = mpsc::unbounded_channel();
    load::run_rtc(
        rtc,
        sock,
        sub_rx,
        ConnSpec {
            me,
            publish: None,
            t_offer,
            loss,
            receives: true,
        },
        shared,
    )
    .await;
    let _ = publisher.await;
    Ok(())
}

/// Create a VideoRoom room (Opus + VP8, no bitrate cap) through a session of its own.
pub async fn janus_create_room(base: &str, room: u64) -> anyhow::Result<()> {
    let mut janus = Janus::connect(base).await?;
    let h = janus.attach().await?;
    janus
        .message(
            h,
            json!({"request": "create", "room": room, "publishers": 32, "bitrate": 0,
                "audiocodec": "opus", "videocodec": "vp8", "fir_freq": 0,
                "notify_joining": false}),
            None,
        )
        .await?;
    Ok(())
}
