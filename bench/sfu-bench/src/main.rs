//! `helsebro-bench`: the SFU benchmark. Starts each server under test (the raw UDP relay, Janus
//! VideoRoom, Helsebro's SFU) as its own process pinned to one core, drives every scenario
//! against it with the load client (this process, on another core), reads the server's CPU time
//! and resident memory from /proc, and writes the results as Markdown.
//!
//! Usage: `helsebro-bench [--short] [--out FILE] [--servers relay,janus,helsebro]
//!         [--server-core N] [--video-kbps N] [--scenarios 1:1,meeting-12,...] [--command "how it was run"]`

mod load;
mod server;
mod signal;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::{Duration, Instant};

use load::{Shared, Traffic};
use server::{Kind, Server};

/// One scenario: rooms of the given sizes.
#[derive(Clone, Debug)]
struct Scenario {
    name: &'static str,
    what: String,
    rooms: Vec<usize>,
    /// Participant 0 of room 0 has a link losing this fraction each way.
    lossy: f64,
    /// All participants join at once (otherwise 25 ms apart).
    burst: bool,
    warmup: Duration,
    window: Duration,
}

impl Scenario {
    fn participants(&self) -> usize {
        self.rooms.iter().sum()
    }
}

/// What one (server, scenario) run measured.
#[derive(Clone, Debug, Default)]
struct Outcome {
    participants: usize,
    connected: u32,
    window_s: f64,
    forwarded: u64,
    expected: u64,
    /// Expected and received on links that do not touch the lossy participant.
    clean_expected: u64,
    clean_forwarded: u64,
    cpu_s: f64,
    client_cpu_s: f64,
    lat_p50: f64,
    lat_p99: f64,
    lat_p999: f64,
    join_p50: f64,
    join_p99: f64,
    rss_base_kb: u64,
    rss_kb: u64,
    failures: Vec<String>,
}

impl Outcome {
    fn pps_per_cpu(&self) -> f64 {
        if self.cpu_s > 0.0 {
            self.forwarded as f64 / self.cpu_s
        } else {
            0.0
        }
    }
    fn loss_pct(&self) -> f64 {
        pct_lost(self.expected, self.forwarded)
    }
    fn clean_loss_pct(&self) -> f64 {
        pct_lost(self.clean_expected, self.clean_forwarded)
    }
    fn rss_per_participant_kb(&self) -> f64 {
        self.rss_kb.saturating_sub(self.rss_base_kb) as f64 / self.participants.max(1) as f64
    }
}

fn pct_lost(expected: u64, got: u64) -> f64 {
    if expected == 0 {
        return 100.0;
    }
    (1.0 - got as f64 / expected as f64).max(0.0) * 100.0
}

struct Args {
    short: bool,
    out: Option<String>,
    servers: Vec<Kind>,
    server_core: Option<usize>,
    video_kbps: u32,
    command: String,
    /// Run only these scenarios (by name); empty: all.
    only: Vec<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        short: false,
        out: None,
        servers: vec![Kind::Relay, Kind::Janus, Kind::Helsebro],
        server_core: None,
        video_kbps: 1200,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--short" => a.short = true,
            "--out" => a.out = Some(val()?),
            "--servers" => {
                a.servers = val()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| match s {
                        "relay" => Ok(Kind::Relay),
                        "janus" => Ok(Kind::Janus),
                        "helsebro" => Ok(Kind::Helsebro),
                        other => Err(anyhow::anyhow!("unknown server {other}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--server-core" => a.server_core = Some(val()?.parse()?),
            "--video-kbps" => a.video_kbps = val()?.parse()?,
            "--command" => a.command = val()?,
            "--scenarios" => {
                a.only = val()?.split(',').map(str::to_string).collect();
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

fn scenarios(short: bool) -> Vec<Scenario> {
    let (warmup, window) = if short {
        (Duration::from_secs(2), Duration::from_secs(3))
    } else {
        (Duration::from_secs(4), Duration::from_secs(20))
    };
    let one_to_one = if short { 2 } else { 10 };
    let burst = if short { 4 } else { 20 };
    let mut v = vec![
        Scenario {
            name: "1:1",
            what: format!("{one_to_one} rooms of 2"),
            rooms: vec![2; one_to_one],
            lossy: 0.0,
            burst: false,
            warmup,
            window,
        },
        Scenario {
            name: "lossy-4",
            what: "a room of 4, one link losing 5% each way".into(),
            rooms: vec![4],
            lossy: 0.05,
            burst: false,
            warmup,
            window,
        },
        Scenario {
            name: "join-burst",
            what: format!("{burst} rooms of 2 joining at once"),
            rooms: vec![2; burst],
            lossy: 0.0,
            burst: true,
            warmup,
            window: if short {
                window
            } else {
                Duration::from_secs(10)
            },
        },
    ];
    if !short {
        v.insert(
            1,
            Scenario {
                name: "meeting-12",
                what: "one room of 12".into(),
                rooms: vec![12],
                lossy: 0.0,
                burst: false,
                warmup,
                window,
            },
        );
    }
    v
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let traffic = Traffic {
        video_kbps: args.video_kbps,
    };
    let mut scenarios = scenarios(args.short);
    if !args.only.is_empty() {
        scenarios.retain(|s| args.only.iter().any(|o| o == s.name));
    }
    let mut results: Vec<(Kind, Scenario, Outcome)> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for kind in &args.servers {
        if *kind == Kind::Janus && !server::janus_available() {
            let msg =
                "Janus is not installed (`janus` not found): its rows are missing".to_string();
            eprintln!("{msg}");
            skipped.push(msg);
            continue;
        }
        for sc in &scenarios {
            eprintln!("== {} / {} ({})", kind.name(), sc.name, sc.what);
            let server = Server::start(*kind, args.server_core).await?;
            let out = run_scenario(&server, sc, traffic).await;
            drop(server);
            let out = out?;
            eprintln!(
                "   forwarded {} of {} units, cpu {:.2}s, {:.0} pkt/cpu-s, p50 {:.2} ms, p99 {:.2} ms, join p50 {:.0} ms, {} failures",
                out.forwarded,
                out.expected,
                out.cpu_s,
                out.pps_per_cpu(),
                out.lat_p50,
                out.lat_p99,
                out.join_p50,
                out.failures.len()
            );
            for f in out.failures.iter().take(5) {
                eprintln!("   ! {f}");
            }
            results.push((*kind, sc.clone(), out));
        }
    }
    let md = report(&args, &results, &skipped, traffic);
    match &args.out {
        Some(path) => write_section(std::path::Path::new(path), &md)?,
        None => print!("{md}"),
    }
    // The harness itself must work: every server that ran forwarded something in every scenario.
    let broken: Vec<String> = results
        .iter()
        .filter(|(_, _, o)| o.forwarded == 0)
        .map(|(k, s, _)| format!("{} / {}", k.name(), s.name))
        .collect();
    if !broken.is_empty() {
        anyhow::bail!("nothing was forwarded in: {}", broken.join(", "));
    }
    Ok(())
}

async fn run_scenario(server: &Server, sc: &Scenario, traffic: Traffic) -> anyhow::Result<Outcome> {
    let rss_base_kb = server.rss_kb();
    let start = Instant::now();
    let window = (start + sc.warmup, start + sc.warmup + sc.window);
    let stop_at = window.1 + Duration::from_millis(800);
    let shared = Rc::new(Shared::new(start, window, stop_at, traffic));
    let feeds: signal::Feeds = Rc::default();
    let mut tasks = Vec::new();
    let mut lossy_id = None;
    let mut me = 0u32;
    let mut room_of: HashMap<u32, usize> = HashMap::new();
    if server.kind == Kind::Janus {
        for r in 0..sc.rooms.len() {
            signal::janus_create_room(&server.janus_url(), 1000 + r as u64).await?;
        }
    }
    for (r, &size) in sc.rooms.iter().enumerate() {
        let room_uuid = uuid::Uuid::now_v7();
        for i in 0..size {
            let loss = if r == 0 && i == 0 && sc.lossy > 0.0 {
                lossy_id = Some(me);
                sc.lossy
            } else {
                0.0
            };
            room_of.insert(me, r);
            let sh = shared.clone();
            let t = match server.kind {
                Kind::Relay => {
                    tokio::task::spawn_local(load::run_raw(server.udp, r as u32, me, loss, sh))
                }
                Kind::Helsebro => tokio::task::spawn_local(signal::helsebro_participant(
                    server.signal,
                    room_uuid,
                    me,
                    loss,
                    sh,
                )),
                Kind::Janus => tokio::task::spawn_local(signal::janus_participant(
                    server.janus_url(),
                    1000 + r as u64,
                    size,
                    me,
                    loss,
                    feeds.clone(),
                    sh,
                )),
            };
            tasks.push(t);
            me += 1;
            if !sc.burst {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }
    tokio::time::sleep_until(window.0.into()).await;
    let cpu0 = server.cpu_s();
    let self0 = server::self_cpu_s();
    tokio::time::sleep_until(window.1.into()).await;
    let cpu1 = server.cpu_s();
    let self1 = server::self_cpu_s();
    let rss_kb = server.rss_kb();
    for t in tasks {
        let _ = t.await;
    }

    let sent = shared.sent.borrow();
    let received = shared.received.borrow();
    let mut out = Outcome {
        participants: sc.participants(),
        connected: shared.connected.get(),
        window_s: sc.window.as_secs_f64(),
        cpu_s: cpu1 - cpu0,
        client_cpu_s: self1 - self0,
        rss_base_kb,
        rss_kb,
        failures: shared.failures.borrow().clone(),
        ..Outcome::default()
    };
    for (&publisher, &n) in sent.iter() {
        for (&receiver, &room) in &room_of {
            if receiver == publisher || room_of.get(&publisher) != Some(&room) {
                continue;
            }
            let got = received.get(&(publisher, receiver)).copied().unwrap_or(0);
            out.expected += n;
            out.forwarded += got;
            if lossy_id != Some(publisher) && lossy_id != Some(receiver) {
                out.clean_expected += n;
                out.clean_forwarded += got;
            }
        }
    }
    let mut lat = shared.latency_us.borrow().clone();
    lat.sort_unstable();
    out.lat_p50 = percentile(&lat, 0.50) / 1000.0;
    out.lat_p99 = percentile(&lat, 0.99) / 1000.0;
    out.lat_p999 = percentile(&lat, 0.999) / 1000.0;
    let mut joins = shared.join_ms.borrow().clone();
    joins.sort_by(f64::total_cmp);
    out.join_p50 = percentile_f(&joins, 0.50);
    out.join_p99 = percentile_f(&joins, 0.99);
    Ok(out)
}

const BEGIN: &str = "<!-- sfu-bench -->\n";
const END: &str = "<!-- /sfu-bench -->\n";

/// Writes the report between the `sfu-bench` markers of `path`, keeping everything else in the
/// file (other benchmarks' sections, notes added by hand). Without markers the report is added
/// at the top.
fn write_section(path: &std::path::Path, md: &str) -> std::io::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let section = format!("{BEGIN}{md}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{section}{}", &old[..a], &old[b + END.len()..])
        }
        _ if old.is_empty() => section,
        _ => format!("{section}\n{old}"),
    };
    std::fs::write(path, new)
}

fn percentile(v: &[u32], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    f64::from(v[i.min(v.len() - 1)])
}

fn percentile_f(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i.min(v.len() - 1)]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores (nproc), CPU: {cpu}, Linux {}", kernel.trim())
}

fn report(
    args: &Args,
    results: &[(Kind, Scenario, Outcome)],
    skipped: &[String],
    traffic: Traffic,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# SFU benchmark\n");
    let _ = writeln!(
        s,
        "Written by `helsebro-bench` (bench/sfu-bench); do not edit by hand. What it measures and \
         how is described in the bench crate's source and in `scripts/bench-sfu.sh`.\n"
    );
    let _ = writeln!(s, "- Command: `{}`", args.command);
    let _ = writeln!(s, "- Machine: {}", machine());
    let _ = writeln!(
        s,
        "- Mode: {}; server under test pinned to core {}, load client to another core",
        if args.short {
            "short (a smoke run: figures are not meaningful)"
        } else {
            "full"
        },
        args.server_core.map_or_else(
            || "(none: fewer than 2 cores)".to_string(),
            |c| c.to_string()
        )
    );
    let _ = writeln!(
        s,
        "- Traffic per publisher: Opus-sized audio 50 packets/s of {} bytes; video {} kbit/s in \
         packets of {} bytes of payload (about 1,100 on the wire), a keyframe burst of {} packets \
         every {} s and on request",
        load::AUDIO_PAYLOAD,
        traffic.video_kbps,
        load::VIDEO_PAYLOAD,
        load::KEYFRAME_PACKETS,
        load::KEYFRAME_EVERY.as_secs()
    );
    for m in skipped {
        let _ = writeln!(s, "- **{m}**");
    }
    let _ = writeln!(s);

    // Headline ratios over the steady scenarios (everything but the join burst).
    let total = |k: Kind| -> (u64, f64) {
        results
            .iter()
            .filter(|(kk, sc, _)| *kk == k && sc.name != "join-burst")
            .fold((0, 0.0), |(n, c), (_, _, o)| (n + o.forwarded, c + o.cpu_s))
    };
    let rate = |k: Kind| {
        let (n, c) = total(k);
        (c > 0.0).then(|| n as f64 / c)
    };
    let (relay, janus, helsebro) = (rate(Kind::Relay), rate(Kind::Janus), rate(Kind::Helsebro));
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "Forwarded packets per CPU-second of the server, over all steady scenarios together \
         (1:1, meeting, lossy room; the join burst left out):\n"
    );
    for (k, r) in [
        (Kind::Relay, relay),
        (Kind::Janus, janus),
        (Kind::Helsebro, helsebro),
    ] {
        if let Some(r) = r {
            let frac = relay.map_or(String::new(), |rr| {
                format!(" ({:.1}% of the raw relay)", r / rr * 100.0)
            });
            let _ = writeln!(s, "- {}: {:.0}{}", k.name(), r, frac);
        }
    }
    let _ = writeln!(s);
    match (helsebro, janus) {
        (Some(h), Some(j)) => {
            let _ = writeln!(s, "Helsebro/Janus packets per CPU-second: {:.2}", h / j);
        }
        _ => {
            let _ = writeln!(
                s,
                "Helsebro/Janus packets per CPU-second: n/a (a server did not run)"
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "## Results\n");
    let _ = writeln!(
        s,
        "| scenario | server | parts | fwd pkt/s | server CPU | pkt per CPU-s | of relay | CPU µs/pkt | latency p50 / p99 / p99.9 ms | loss % (clean links) | join p50 / p99 ms | RSS KB/part | client CPU |"
    );
    let _ = writeln!(
        s,
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|---:|"
    );
    for (k, sc, o) in results {
        let relay_rate = results
            .iter()
            .find(|(kk, ss, _)| *kk == Kind::Relay && ss.name == sc.name)
            .map(|(_, _, r)| r.pps_per_cpu());
        let of_relay = match relay_rate {
            Some(r) if r > 0.0 => format!("{:.0}%", o.pps_per_cpu() / r * 100.0),
            _ => "–".into(),
        };
        let us = if o.forwarded > 0 {
            o.cpu_s * 1e6 / o.forwarded as f64
        } else {
            f64::NAN
        };
        let loss = if sc.lossy > 0.0 {
            format!("{:.2} ({:.2})", o.loss_pct(), o.clean_loss_pct())
        } else {
            format!("{:.2}", o.loss_pct())
        };
        let _ = writeln!(
            s,
            "| {} ({}) | {} | {}{} | {:.0} | {:.0}% | {:.0} | {} | {:.1} | {:.2} / {:.2} / {:.2} | {} | {:.0} / {:.0} | {:.0} | {:.0}% |",
            sc.name,
            sc.what,
            k.name(),
            o.participants,
            if o.connected as usize >= o.participants {
                String::new()
            } else {
                format!(" ({} up)", o.connected)
            },
            o.forwarded as f64 / o.window_s,
            o.cpu_s / o.window_s * 100.0,
            o.pps_per_cpu(),
            of_relay,
            us,
            o.lat_p50,
            o.lat_p99,
            o.lat_p999,
            loss,
            o.join_p50,
            o.join_p99,
            o.rss_per_participant_kb(),
            o.client_cpu_s / o.window_s * 100.0,
        );
    }
    let _ = writeln!(s);
    let fails: Vec<String> = results
        .iter()
        .flat_map(|(k, sc, o)| {
            o.failures
                .iter()
                .take(3)
                .map(move |f| format!("- {} / {}: {}", k.name(), sc.name, f))
        })
        .collect();
    if !fails.is_empty() {
        let _ = writeln!(s, "## Failures seen\n");
        for f in fails {
            let _ = writeln!(s, "{f}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "{}", NOTES);
    s
}

const NOTES: &str = "## How to read it

- *fwd pkt/s*: media packets delivered to subscribers per second (a keyframe counts as its
  packets). *server CPU*: user + system time of the server process (all threads) from
  `/proc/<pid>/stat` over the measurement window, as a share of one core. *pkt per CPU-s* is
  their ratio, *of relay* the same against the raw UDP relay in the same scenario.
- *latency*: one-way, publisher's send call to the subscriber's receipt of the whole frame,
  measured in the load client (so it includes the client's own WebRTC work, and for keyframes the
  wait for all their packets). The raw relay's figure is the floor: the latency the SFU adds is
  the difference.
- *loss*: media units sent in the window that never arrived. In the lossy room, the figure in
  brackets is for the links that do not touch the lossy participant.
- *join*: from a participant's first offer (for the relay: its join datagram) to its first media
  received from another participant. For Janus this includes waiting for everyone in the room
  to publish before subscribing (the load client subscribes once to all feeds).
- *RSS KB/part*: growth of the server's VmRSS from idle to the end of the window, divided by the
  participants.
- *client CPU*: the load client's own CPU share; near 100% means the client, not the server, is
  the limit.
- The Helsebro server is `helsebro-sfu-server`: `helsebro_media::Media` as `helsebro serve` runs
  it, with a line-based signalling on a local TCP port instead of the web layer. It measures the
  media path (the SFU), not the HTTP/WebSocket layer.
- The lossy link is emulated inside the load client (5% of that participant's datagrams dropped
  before sending and on receipt), because this kernel has no `sch_netem` for tc netem.
";
