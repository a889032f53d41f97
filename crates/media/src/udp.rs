//! A media worker's UDP socket, both ways, through `quinn-udp`.
//!
//! **Sending**: the datagrams the SFU core gives to send, with segmentation offload (Linux UDP
//! GSO) where consecutive datagrams go to the same address at the same size, one `sendmsg` for a
//! whole run. That is the shape of a keyframe: 15 or so packets of the same size, fanned out to
//! every subscriber one after the other. Sent one by one, the fan-out is the longest stretch in
//! which other publishers' packets wait; as one call per subscriber, the kernel walks its send
//! path (route, headers, queueing) once per run instead of once per datagram. Where the kernel
//! or the device has no GSO, `quinn-udp` reports one segment at most and everything goes singly.
//! Datagrams the socket cannot take yet (send buffer full) wait in a backlog, in order, until it
//! is writable again. `quinn-udp` also sets don't-fragment on the socket: browsers keep their
//! RTP packets to about 1,200 bytes, and str0m its own datagrams to 1,150, under any path's MTU.
//!
//! **Receiving**: up to [`RECV_READS`] datagrams per call, one read at a time into one buffer
//! (through `quinn-udp`), with the kernel's receive timestamp of each. `quinn-udp` turns on
//! receive offload (UDP GRO) on the socket, so the kernel may hand over a burst of same-size
//! datagrams from one sender (a keyframe, on a NIC that coalesces) as one buffer:
//! [`UdpIo::recv`] splits it again. A plain `recv_from` on such a socket would read the first
//! 2 KB of the burst and lose the rest.

use std::collections::VecDeque;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::ops::Range;
use std::time::Duration;

use quinn_udp::{RecvMeta, UdpSockRef, UdpSocketState};
use str0m::net::Transmit;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams waiting for the socket beyond this are dropped (media tolerates loss; str0m
/// retransmits video).
const UDP_BACKLOG: usize = 16_384;
/// Most bytes in one segmented send (the kernel's limit is one IP datagram, 64 KiB).
const MAX_GSO_BYTES: usize = 60_000;
/// Reads per receive call (each a datagram, or a coalesced burst). The driver polls the core
/// once after each call, so the datagrams of one call share one timeout pass and one drain per
/// peer, str0m's per-connection work that costs the same for one packet or many. A browser
/// sends a video frame's packets (about 4 at 1.2 Mbit/s, 15 or more in a keyframe) as one
/// burst, and 4 reads split many frames over two polls. A/B in the benchmark with video in
/// frames, the builds alternated: at 45 participants 58–63% of the core with 16 reads against
/// 66–71% with 4, p99 1.6–2.0 ms against 1.9–3.3 ms; 64 reads gave the same as 16. But 16
/// let a whole keyframe into one poll, and str0m's send queue of every outgoing video stream
/// keeps the capacity of its largest burst: 1,035–1,061 KB of private memory per participant
/// in a meeting of 12 against 984–1,016 KB with 4, over the 1 MB the benchmark holds the SFU
/// to. 8 reads take a delta frame and the audio around it and kept 992–996 KB. (An earlier
/// latency tail with batching came from str0m's pacer, which released one packet per timeout;
/// it is not used since the estimates come from receiver reports, see `estimate`.) One buffer
/// serves every read: each datagram is handled before the next read.
const RECV_READS: usize = 8;
/// Bytes of the receive buffer: what one coalesced burst can be (one IP datagram at most).
/// One read at a time into one buffer keeps a worker's receive memory at this (four buffers
/// for one `recvmmsg` would be a quarter of a megabyte).
const RECV_BUFFER: usize = 64 * 1024;

/// One UDP socket's send and receive paths (the socket itself stays with the caller, so that it
/// can wait on it).
pub struct UdpIo {
    state: UdpSocketState,
    /// One run's datagrams, back to back.
    buf: Vec<u8>,
    backlog: VecDeque<Transmit>,
    /// The receive buffer, [`RECV_BUFFER`] bytes once the first receive allocates it.
    rx: Vec<u8>,
}

impl UdpIo {
    /// The send and receive paths of `udp` (a std or tokio socket), whose options it sets.
    pub fn new<S: std::os::fd::AsFd>(udp: &S) -> io::Result<Self> {
        let state = UdpSocketState::new(UdpSockRef::from(udp))?;
        tracing::debug!(
            segments = state.max_gso_segments(),
            gro = state.gro_segments(),
            "UDP segmentation offload"
        );
        Ok(UdpIo {
            state,
            buf: Vec::with_capacity(MAX_GSO_BYTES),
            backlog: VecDeque::new(),
            rx: Vec::new(),
        })
    }

    /// Receives what the socket holds now, up to [`RECV_READS`] reads' worth, and hands each
    /// datagram to `each` with its source and the kernel's receive time (since the Unix epoch,
    /// where the kernel gives one). The number of datagrams; `WouldBlock` when there were none.
    pub fn recv(
        &mut self,
        udp: &UdpSocket,
        mut each: impl FnMut(SocketAddr, &[u8], Option<Duration>),
    ) -> io::Result<usize> {
        if self.rx.is_empty() {
            self.rx = vec![0u8; RECV_BUFFER];
        }
        let mut datagrams = 0;
        for _ in 0..RECV_READS {
            let mut meta = [RecvMeta::default()];
            let state = &self.state;
            let rx = &mut self.rx;
            let read = udp.try_io(Interest::READABLE, || {
                let mut bufs = [IoSliceMut::new(rx)];
                state.recv(UdpSockRef::from(udp), &mut bufs, &mut meta)
            });
            match read {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if datagrams == 0 => return Err(e),
                Err(_) => break,
            }
            let [m] = meta;
            let data = self.rx.get(..m.len).unwrap_or_default();
            // Coalesced datagrams lie back to back, `stride` bytes each (the last may be
            // shorter); an uncoalesced one has a stride of its own length.
            for d in data.chunks(m.stride.max(1)) {
                each(m.addr, d, m.timestamp);
                datagrams += 1;
            }
        }
        Ok(datagrams)
    }

    /// Whether datagrams wait for the socket to take them.
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Sends `out` (emptied) in order: runs for the same address and size in one call each.
    pub fn send_all(&mut self, udp: &UdpSocket, out: &mut Vec<Transmit>) {
        if !self.backlog.is_empty() {
            self.queue(out.drain(..));
            return;
        }
        let max_segments = self.state.max_gso_segments();
        let mut start = 0;
        while start < out.len() {
            let run = next_run(out, start, max_segments, MAX_GSO_BYTES);
            let done = self.send_run(udp, &out[run.clone()]);
            if done < run.len() {
                // The socket is full: what is left of this run and the rest wait, in order.
                self.queue(out.drain(run.start + done..));
                out.clear();
                return;
            }
            start = run.end;
        }
        out.clear();
    }

    /// Sends what waits in the backlog until the socket is full again.
    pub fn flush(&mut self, udp: &UdpSocket) {
        while let Some(t) = self.backlog.front() {
            if !self.send_one(udp, t) {
                return;
            }
            self.backlog.pop_front();
        }
    }

    fn queue(&mut self, ts: impl Iterator<Item = Transmit>) {
        for t in ts {
            if self.backlog.len() < UDP_BACKLOG {
                self.backlog.push_back(t);
            } else {
                tracing::trace!("UDP backlog full; datagram dropped");
            }
        }
    }

    /// How many datagrams of the run were handed to the socket (or given up after an error):
    /// fewer than all only when its send buffer is full.
    fn send_run(&mut self, udp: &UdpSocket, run: &[Transmit]) -> usize {
        let [first, ..] = run else {
            return 0;
        };
        if run.len() == 1 {
            return usize::from(self.send_one(udp, first));
        }
        self.buf.clear();
        for t in run {
            self.buf.extend_from_slice(&t.contents);
        }
        let transmit = quinn_udp::Transmit {
            destination: first.destination,
            ecn: None,
            contents: &self.buf,
            segment_size: Some(first.contents.len()),
            src_ip: None,
        };
        let state = &self.state;
        match udp.try_io(Interest::WRITABLE, || {
            state.try_send(UdpSockRef::from(udp), &transmit)
        }) {
            Ok(()) => run.len(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => {
                // E.g. a device without segmentation offload (quinn-udp then stops offering
                // it): the same datagrams one by one.
                tracing::debug!(error = %e, segments = run.len(), "segmented UDP send failed");
                run.iter().take_while(|t| self.send_one(udp, t)).count()
            }
        }
    }

    /// One datagram. `false` only when the socket's send buffer is full; any other failure is
    /// logged and the datagram given up.
    fn send_one(&self, udp: &UdpSocket, t: &Transmit) -> bool {
        match udp.try_send_to(&t.contents, t.destination) {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(e) => {
                tracing::trace!(error = %e, "UDP send failed");
                true
            }
        }
    }
}

/// The run of datagrams from `start` that one segmented send can carry: the same destination,
/// the same size (the last may be shorter, and ends the run), at most `max_segments` and
/// `max_bytes`. Never empty when `start` is in range.
fn next_run(out: &[Transmit], start: usize, max_segments: usize, max_bytes: usize) -> Range<usize> {
    let Some(first) = out.get(start) else {
        return start..start;
    };
    let size = first.contents.len();
    let mut end = start + 1;
    let mut bytes = size;
    while let Some(t) = out.get(end) {
        let len = t.contents.len();
        if end - start >= max_segments
            || t.destination != first.destination
            || len > size
            || len == 0
            || bytes + len > max_bytes
        {
            break;
        }
        end += 1;
        bytes += len;
        if len < size {
            break;
        }
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use str0m::net::Protocol;

    fn t(to: u16, len: usize) -> Transmit {
        Transmit {
            proto: Protocol::Udp,
            source: SocketAddr::from(([10, 0, 0, 1], 5000)),
            destination: SocketAddr::from(([10, 0, 0, 2], to)),
            contents: vec![0u8; len].into(),
        }
    }

    fn runs(out: &[Transmit], max_segments: usize, max_bytes: usize) -> Vec<Range<usize>> {
        let mut all = Vec::new();
        let mut start = 0;
        while start < out.len() {
            let r = next_run(out, start, max_segments, max_bytes);
            assert!(!r.is_empty(), "a run is never empty");
            start = r.end;
            all.push(r);
        }
        all
    }

    #[test]
    fn a_keyframe_to_each_subscriber_is_one_run_per_subscriber() {
        // Three packets of 1,100 bytes and a last one of 400, to subscriber 1, then to 2.
        let out = [
            t(1, 1100),
            t(1, 1100),
            t(1, 1100),
            t(1, 400),
            t(2, 1100),
            t(2, 1100),
            t(2, 1100),
            t(2, 400),
        ];
        assert_eq!(runs(&out, 64, MAX_GSO_BYTES), [0..4, 4..8]);
    }

    #[test]
    fn a_shorter_datagram_ends_a_run_and_a_longer_one_starts_the_next() {
        let out = [t(1, 1100), t(1, 90), t(1, 1100), t(1, 1200), t(1, 1200)];
        assert_eq!(runs(&out, 64, MAX_GSO_BYTES), [0..2, 2..3, 3..5]);
    }

    #[test]
    fn runs_respect_the_segment_and_byte_limits() {
        let out: Vec<Transmit> = (0..10).map(|_| t(1, 1000)).collect();
        assert_eq!(runs(&out, 4, MAX_GSO_BYTES), [0..4, 4..8, 8..10]);
        assert_eq!(runs(&out, 64, 3500), [0..3, 3..6, 6..9, 9..10]);
        // Without offload, every datagram alone.
        assert_eq!(runs(&out, 1, MAX_GSO_BYTES).len(), 10);
    }

    /// A receiving and a sending socket on loopback, and the sender on the second.
    async fn sockets() -> (UdpSocket, UdpSocket, UdpIo) {
        let rx = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let tx = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let sender = UdpIo::new(&tx).expect("sender");
        (rx, tx, sender)
    }

    /// Datagrams of the given sizes from `tx` to `rx`, each filled with its number (from `first`).
    fn datagrams(tx: &UdpSocket, rx: &UdpSocket, sizes: &[usize], first: u8) -> Vec<Transmit> {
        let (from, to) = (
            tx.local_addr().expect("addr"),
            rx.local_addr().expect("addr"),
        );
        (first..)
            .zip(sizes)
            .map(|(i, len)| Transmit {
                proto: Protocol::Udp,
                source: from,
                destination: to,
                contents: vec![i; *len].into(),
            })
            .collect()
    }

    /// Receives datagrams of the given sizes, in order, each filled with its index; then none.
    async fn expect_in_order(rx: &UdpSocket, sizes: &[usize]) {
        let mut buf = [0u8; 2048];
        for (i, len) in sizes.iter().enumerate() {
            let (n, _) =
                tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv_from(&mut buf))
                    .await
                    .expect("a datagram in time")
                    .expect("received");
            assert_eq!(n, *len, "datagram {i}'s size");
            assert!(
                buf[..n].iter().all(|b| usize::from(*b) == i),
                "datagram {i}'s contents, in order"
            );
        }
        let again = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            rx.recv_from(&mut buf),
        )
        .await;
        assert!(again.is_err(), "no datagram twice");
    }

    #[tokio::test]
    async fn a_run_sent_in_one_call_arrives_as_separate_datagrams_in_order() {
        let (rx, tx, mut sender) = sockets().await;
        let sizes = [1100, 1100, 1100, 1100, 300];
        let mut out = datagrams(&tx, &rx, &sizes, 0);
        // As in the driver's loop: tokio knows the socket is writable once it has polled it.
        tx.writable().await.expect("writable");
        sender.send_all(&tx, &mut out);
        assert!(out.is_empty(), "all handed to the socket");
        assert!(!sender.has_backlog(), "none waits");
        expect_in_order(&rx, &sizes).await;
    }

    #[tokio::test]
    async fn what_waits_for_the_socket_goes_out_in_order_and_once() {
        let (rx, tx, mut sender) = sockets().await;
        let sizes = [1100, 1100, 700, 90, 1100, 1100, 50];
        let mut out = datagrams(&tx, &rx, &sizes[..6], 0);
        // Before tokio has seen the socket writable, a send finds it "full": what is not sent
        // waits in the backlog, and later sends queue behind it.
        sender.send_all(&tx, &mut out);
        assert!(out.is_empty(), "nothing left in the caller's list");
        assert!(
            sender.has_backlog(),
            "the backlog is what this test exercises"
        );
        let mut more = datagrams(&tx, &rx, &sizes[6..], 6);
        sender.send_all(&tx, &mut more);
        while sender.has_backlog() {
            tx.writable().await.expect("writable");
            sender.flush(&tx);
        }
        expect_in_order(&rx, &sizes).await;
    }

    #[tokio::test]
    async fn a_burst_the_kernel_coalesces_is_received_as_its_datagrams() {
        // A socket with receive offload (as `UdpIo` sets it up) gets a segmented send from
        // loopback as one buffer: exactly what a NIC that coalesces a keyframe burst hands over.
        let (rx, tx, mut sender) = sockets().await;
        let mut receiver = UdpIo::new(&rx).expect("receive path");
        let sizes = [1000, 1000, 1000, 1000, 200];
        let mut out = datagrams(&tx, &rx, &sizes, 0);
        tx.writable().await.expect("writable");
        sender.send_all(&tx, &mut out);
        assert!(out.is_empty(), "all handed to the socket");
        let mut got: Vec<(SocketAddr, Vec<u8>, bool)> = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while got.len() < sizes.len() && std::time::Instant::now() < deadline {
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(100), rx.readable()).await;
            let _ = receiver.recv(&rx, |from, data, at| {
                got.push((from, data.to_vec(), at.is_some()))
            });
        }
        let from = tx.local_addr().expect("addr");
        assert_eq!(
            got.len(),
            sizes.len(),
            "every datagram of the burst, none merged or lost"
        );
        for (i, ((source, data, stamped), len)) in got.iter().zip(sizes).enumerate() {
            assert_eq!(*source, from, "datagram {i}'s source");
            assert_eq!(data.len(), len, "datagram {i}'s size");
            assert!(
                data.iter().all(|b| usize::from(*b) == i),
                "datagram {i}'s contents, in order"
            );
            assert!(*stamped, "datagram {i} has the kernel's receive time");
        }
    }
}
