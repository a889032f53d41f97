//! The physical limit for the SFU benchmark: a plain UDP relay with no WebRTC at all. Every
//! datagram a member of a room sends is copied to every other member of that room, with batched
//! syscalls (`recvmmsg` for up to 64 datagrams, one `sendmmsg` for all the copies).
//!
//! Protocol (IPv4 only): a datagram `J` + room (u32, big endian) joins the sender's address to
//! the room and is answered with `A`; `L` leaves; anything else is media and is relayed.
//!
//! Prints `ready <udp addr>` on stdout once bound.

use std::collections::HashMap;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

const BATCH: usize = 64;
const MAX_OUT: usize = 1024;
const BUF: usize = 2048;

fn main() -> std::io::Result<()> {
    let ip: std::net::Ipv4Addr = std::env::var("BENCH_IP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST);
    let sock = UdpSocket::bind((ip, 0))?;
    println!("ready {}", sock.local_addr()?);
    let fd = sock.as_raw_fd();
    let mut bufs = vec![[0u8; BUF]; BATCH];
    let mut names: Vec<libc::sockaddr_in> = vec![zero_addr(); BATCH];
    let mut rooms: HashMap<u32, Vec<SocketAddrV4>> = HashMap::new();
    let mut member: HashMap<SocketAddrV4, u32> = HashMap::new();
    // Outgoing copies: (index of the received buffer, destination).
    let mut out: Vec<(usize, libc::sockaddr_in)> = Vec::with_capacity(MAX_OUT);
    loop {
        let mut iov: Vec<libc::iovec> = bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: BUF,
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = (0..BATCH)
            .map(|i| {
                // SAFETY: an all-zero mmsghdr is a valid value.
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_name = (&mut names[i] as *mut libc::sockaddr_in).cast();
                m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
                m.msg_hdr.msg_iov = &mut iov[i];
                m.msg_hdr.msg_iovlen = 1;
                m
            })
            .collect();
        // SAFETY: msgs, iov, names and bufs outlive the call and have the lengths given.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                msgs.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let lens: Vec<usize> = msgs[..n as usize]
            .iter()
            .map(|m| m.msg_len as usize)
            .collect();
        drop(msgs);
        drop(iov);
        out.clear();
        for (i, &len) in lens.iter().enumerate() {
            let from = from_raw(&names[i]);
            let data = &bufs[i][..len];
            match data.first() {
                Some(b'J') if len == 5 => {
                    let room = u32::from_be_bytes([data[1], data[2], data[3], data[4]]);
                    leave(&mut rooms, &mut member, from);
                    rooms.entry(room).or_default().push(from);
                    member.insert(from, room);
                    let _ = sock.send_to(b"A", SocketAddr::V4(from));
                }
                Some(b'L') if len == 1 => leave(&mut rooms, &mut member, from),
                _ => {
                    let Some(room) = member.get(&from) else {
                        continue;
                    };
                    let Some(peers) = rooms.get(room) else {
                        continue;
                    };
                    for p in peers {
                        if *p != from && out.len() < MAX_OUT {
                            out.push((i, names_of(*p)));
                        }
                    }
                }
            }
        }
        if out.is_empty() {
            continue;
        }
        let mut iov: Vec<libc::iovec> = out
            .iter()
            .map(|(i, _)| libc::iovec {
                iov_base: bufs[*i].as_mut_ptr().cast(),
                iov_len: lens[*i],
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = out
            .iter_mut()
            .zip(iov.iter_mut())
            .map(|((_, dst), v)| {
                // SAFETY: an all-zero mmsghdr is a valid value.
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_name = (dst as *mut libc::sockaddr_in).cast();
                m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
                m.msg_hdr.msg_iov = v;
                m.msg_hdr.msg_iovlen = 1;
                m
            })
            .collect();
        let mut sent = 0usize;
        while sent < msgs.len() {
            // SAFETY: as above; the slice from `sent` is within msgs.
            let r = unsafe {
                libc::sendmmsg(fd, msgs[sent..].as_mut_ptr(), (msgs.len() - sent) as u32, 0)
            };
            if r <= 0 {
                // A full socket buffer: drop the rest, as an SFU would.
                break;
            }
            sent += r as usize;
        }
    }
}

fn leave(
    rooms: &mut HashMap<u32, Vec<SocketAddrV4>>,
    member: &mut HashMap<SocketAddrV4, u32>,
    who: SocketAddrV4,
) {
    if let Some(room) = member.remove(&who)
        && let Some(v) = rooms.get_mut(&room)
    {
        v.retain(|a| *a != who);
        if v.is_empty() {
            rooms.remove(&room);
        }
    }
}

fn zero_addr() -> libc::sockaddr_in {
    // SAFETY: an all-zero sockaddr_in is a valid value.
    unsafe { std::mem::zeroed() }
}

fn from_raw(a: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        u32::from_be(a.sin_addr.s_addr).into(),
        u16::from_be(a.sin_port),
    )
}

fn names_of(a: SocketAddrV4) -> libc::sockaddr_in {
    let mut s = zero_addr();
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    s
}
