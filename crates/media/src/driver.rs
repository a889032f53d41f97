//! The thin I/O driver around [`Sfu`], once per media worker: the worker's UDP socket shared by
//! its peers, its TCP listener for passive ICE-TCP (RFC 4571 framing), the command channel from
//! [`crate::Media`] and the event channel to the signalling layer (shared by all workers). Each
//! worker runs on its own thread with a single-threaded tokio runtime and sleeps until a
//! datagram, a command, a TCP frame or the core's next timeout. The datagrams waiting (a few
//! reads' worth, see `udp`) are handed to the core, then the core is polled once, and what the
//! poll gave to send over UDP goes out together (`udp`: runs of datagrams to one address in one
//! segmented send, a backlog for what the socket cannot take yet).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::Candidate;
use str0m::net::{Protocol, Transmit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::sfu::Sfu;
use crate::udp::UdpIo;
use crate::{Command, Counters, MediaConfig, MediaEvent, Worker};

/// Most ICE-TCP connections held at once; further connections are closed at once.
const MAX_TCP_CONNECTIONS: usize = 1024;
/// A TCP connection must deliver its first frame within this time.
const TCP_FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames queued for one TCP connection before further ones are dropped.
const TCP_SEND_QUEUE: usize = 512;
/// Socket buffer sizes asked for (the kernel caps them at `net.core.rmem_max` and
/// `net.core.wmem_max`, often 208 KiB). The default receive buffer holds some 100 video packets:
/// at 80% CPU in the benchmark a worker overran it now and then (0.14% loss). 1 MiB absorbs such
/// spells; much more only turns an overloaded worker's drops into hundreds of milliseconds of
/// queue.
const SOCKET_BUFFER: usize = 1 << 20;

enum TcpIn {
    Frame(SocketAddr, Vec<u8>),
    Closed(SocketAddr, u64),
}

struct Conn {
    id: u64,
    tx: mpsc::Sender<Vec<u8>>,
}

/// Binds every worker's sockets (all or nothing) and starts the worker threads.
pub(crate) fn start(
    cfg: MediaConfig,
) -> io::Result<(Vec<Worker>, mpsc::UnboundedReceiver<MediaEvent>)> {
    let count = cfg.workers.max(1);
    let mut bound = Vec::with_capacity(count);
    for i in 0..count {
        let udp = std::net::UdpSocket::bind(nth_port(cfg.udp_listen, i)?)?;
        udp.set_nonblocking(true)?;
        let sock = socket2::SockRef::from(&udp);
        // Bigger buffers are better but not needed: a refusal only leaves the default.
        let _ = sock.set_recv_buffer_size(SOCKET_BUFFER);
        let _ = sock.set_send_buffer_size(SOCKET_BUFFER);
        tracing::debug!(
            receive = sock.recv_buffer_size().unwrap_or(0),
            send = sock.send_buffer_size().unwrap_or(0),
            "media UDP socket buffers"
        );
        let tcp = std::net::TcpListener::bind(nth_port(cfg.tcp_listen, i)?)?;
        tcp.set_nonblocking(true)?;
        let udp_addr = udp.local_addr()?;
        let tcp_addr = tcp.local_addr()?;
        let udp_candidate =
            SocketAddr::new(cfg.advertise_ip.unwrap_or(udp_addr.ip()), udp_addr.port());
        let tcp_candidate =
            SocketAddr::new(cfg.advertise_ip.unwrap_or(tcp_addr.ip()), tcp_addr.port());
        for c in [udp_candidate, tcp_candidate] {
            Candidate::host(c, "udp").map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{c} cannot be a candidate address ({e}); set advertise_ip"),
                )
            })?;
        }
        // The send path's socket options (segmentation offload) are set here too, so that a
        // socket they fail on fails the start instead of a worker later.
        let udp_io = UdpIo::new(&udp)?;
        bound.push((
            udp,
            udp_io,
            tcp,
            udp_addr,
            tcp_addr,
            udp_candidate,
            tcp_candidate,
        ));
    }

    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let mut workers = Vec::with_capacity(count);
    for (i, (udp, udp_io, tcp, udp_addr, tcp_addr, udp_candidate, tcp_candidate)) in
        bound.into_iter().enumerate()
    {
        let counters = Arc::new(Counters::default());
        let sfu = Sfu::new(udp_candidate, tcp_candidate, counters.clone());
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let events = ev_tx.clone();
        std::thread::Builder::new()
            .name(format!("helsebro-media-{i}"))
            .spawn(move || {
                rt.block_on(async move {
                    if let Err(e) = run(sfu, udp, udp_io, tcp, cmd_rx, events).await {
                        tracing::error!(worker = i, error = %e, "media worker stopped");
                    }
                });
            })?;
        tracing::info!(worker = i, %udp_candidate, %tcp_candidate, "media worker listening");
        workers.push(Worker {
            commands: cmd_tx,
            udp_addr,
            tcp_addr,
            counters,
        });
    }
    Ok((workers, ev_rx))
}

/// Worker `i`'s address: `i` ports above `base` (port 0 stays 0: any free port).
fn nth_port(base: SocketAddr, i: usize) -> io::Result<SocketAddr> {
    if base.port() == 0 {
        return Ok(base);
    }
    u16::try_from(i)
        .ok()
        .and_then(|i| base.port().checked_add(i))
        .map(|port| SocketAddr::new(base.ip(), port))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{base}: too few ports above it for every media worker"),
            )
        })
}

async fn run(
    mut sfu: Sfu,
    udp: std::net::UdpSocket,
    mut udp_io: UdpIo,
    tcp: std::net::TcpListener,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<MediaEvent>,
) -> io::Result<()> {
    let udp = UdpSocket::from_std(udp)?;
    let listener = TcpListener::from_std(tcp)?;
    let (udp_candidate, tcp_candidate) = sfu.candidates();
    let (frame_tx, mut frames) = mpsc::channel::<TcpIn>(1024);
    let mut conns: HashMap<SocketAddr, Conn> = HashMap::new();
    let mut next_conn_id = 0u64;
    // Datagrams to one address as the poll gives them, sent when the next one is for another
    // address (or the poll ends): a run to one subscriber goes out together, at once.
    let mut outgoing: Vec<Transmit> = Vec::new();

    loop {
        let deadline = sfu.poll(Instant::now(), &mut |t| match t.proto {
            Protocol::Udp => {
                if outgoing
                    .last()
                    .is_some_and(|l| l.destination != t.destination)
                {
                    udp_io.send_all(&udp, &mut outgoing);
                }
                outgoing.push(t);
            }
            Protocol::Tcp => send_tcp(&conns, t),
            _ => {}
        });
        udp_io.send_all(&udp, &mut outgoing);
        for event in sfu.take_events() {
            // The receiver may be gone (server shutting down); nothing to do then.
            let _ = events.send(event);
        }
        tokio::select! {
            cmd = commands.recv() => match cmd {
                None => break,
                Some(cmd) => handle_command(&mut sfu, cmd),
            },
            readable = udp.readable() => {
                if readable.is_ok() {
                    // Each datagram's own arrival time (the core's clock, not the kernel's).
                    let received = udp_io.recv(&udp, |source, data, _| {
                        let now = Instant::now();
                        sfu.handle_receive(now, Protocol::Udp, source, udp_candidate, data);
                    });
                    if let Err(e) = received
                        && e.kind() != io::ErrorKind::WouldBlock
                    {
                        tracing::debug!(error = %e, "UDP receive failed");
                    }
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    if conns.len() >= MAX_TCP_CONNECTIONS {
                        tracing::warn!("too many ICE-TCP connections; refusing one");
                        continue;
                    }
                    next_conn_id += 1;
                    let (tx, rx) = mpsc::channel(TCP_SEND_QUEUE);
                    conns.insert(remote, Conn { id: next_conn_id, tx });
                    tokio::spawn(serve_tcp(stream, remote, next_conn_id, frame_tx.clone(), rx));
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "TCP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(input) = frames.recv() => match input {
                TcpIn::Frame(remote, data) => {
                    sfu.handle_receive(Instant::now(), Protocol::Tcp, remote, tcp_candidate, &data);
                }
                TcpIn::Closed(remote, id) => {
                    if conns.get(&remote).is_some_and(|c| c.id == id) {
                        conns.remove(&remote);
                    }
                }
            },
            writable = udp.writable(), if udp_io.has_backlog() => {
                if writable.is_ok() {
                    udp_io.flush(&udp);
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {}
        }
    }
    Ok(())
}

fn handle_command(sfu: &mut Sfu, cmd: Command) {
    let now = Instant::now();
    match cmd {
        Command::Join {
            room,
            peer,
            label,
            offer,
            reply,
        } => {
            let _ = reply.send(sfu.join(now, room, peer, label, &offer));
        }
        Command::Answer {
            peer,
            answer,
            reply,
        } => {
            let _ = reply.send(sfu.apply_answer(now, peer, &answer));
        }
        Command::Leave(peer) => sfu.leave(peer),
        Command::CloseRoom(room) => sfu.close_room(room),
        Command::SetForwarding { peer, audio, video } => {
            sfu.set_forwarding(now, peer, audio, video);
        }
        Command::Probe { offer, only, reply } => {
            let _ = reply.send(sfu.probe(now, &offer, only));
        }
    }
}

/// Send one datagram framed on the TCP connection to its destination (ICE-TCP); a full queue
/// drops it.
fn send_tcp(conns: &HashMap<SocketAddr, Conn>, t: Transmit) {
    let Some(conn) = conns.get(&t.destination) else {
        return;
    };
    let Ok(len) = u16::try_from(t.contents.len()) else {
        return;
    };
    let mut framed = Vec::with_capacity(t.contents.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(&t.contents);
    if conn.tx.try_send(framed).is_err() {
        tracing::trace!("TCP send queue full; datagram dropped");
    }
}

/// One ICE-TCP connection: frames in go to the driver, frames out come from `out`.
async fn serve_tcp(
    stream: TcpStream,
    remote: SocketAddr,
    id: u64,
    frames: mpsc::Sender<TcpIn>,
    mut out: mpsc::Receiver<Vec<u8>>,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        while let Some(frame) = out.recv().await {
            if wr.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let mut first = true;
    loop {
        let read = read_frame(&mut rd);
        let frame = if first {
            first = false;
            match tokio::time::timeout(TCP_FIRST_FRAME_TIMEOUT, read).await {
                Ok(r) => r,
                Err(_) => break,
            }
        } else {
            read.await
        };
        let Ok(frame) = frame else { break };
        if frame.is_empty() {
            continue;
        }
        if frames.send(TcpIn::Frame(remote, frame)).await.is_err() {
            break;
        }
    }
    let _ = frames.send(TcpIn::Closed(remote, id)).await;
    writer.abort();
}

/// One RFC 4571 frame: a 2-byte big-endian length, then that many bytes.
async fn read_frame(rd: &mut tokio::net::tcp::OwnedReadHalf) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    rd.read_exact(&mut len).await?;
    let mut data = vec![0u8; usize::from(u16::from_be_bytes(len))];
    rd.read_exact(&mut data).await?;
    Ok(data)
}
