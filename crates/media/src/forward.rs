//! What the SFU changes in an RTP packet it forwards to one subscriber.
//!
//! The SFU forwards RTP packets as they come (str0m's RTP mode): the payload is shared between
//! all subscribers, and str0m encrypts it with each subscriber's keys, under that subscriber's
//! SSRC, with its own header extensions (mid, transport-wide sequence number). Three fields
//! must still be rewritten per subscriber, because one outgoing m-line carries packets from
//! different simulcast layers (separate RTP streams) over time, and stops and starts with
//! pauses:
//!
//! - the **sequence number**: continuous across a layer switch or a pause, so that the
//!   browser's jitter buffer sees one stream and does not ask for packets that never existed.
//!   Within one stretch of one layer the publisher's gaps are kept (the browser asks again
//!   for what was lost upstream, and a late retransmission fills the hole);
//! - the **RTP timestamp**: the layers need not share a timestamp base, so on a switch the new
//!   layer continues from the last output time plus the wall-clock time that has passed;
//! - for VP8, the **picture id** and **TL0PICIDX** in the payload descriptor, continued across
//!   a switch in the same way (str0m patches them while serialising, without copying the
//!   payload).
//!
//! A stretch starts at the first packet, at a change of layer, and at a keyframe that does not
//! follow the previous forwarded packet (forwarding resumed after a pause). The router only
//! starts or switches video at a keyframe, so every stretch of video begins with one.
//!
//! The gaps kept within a stretch were lost before the SFU, and the subscriber's receiver
//! reports count them as lost too. The rewriter keeps count of them
//! ([`Rewriter::skipped_through`]), so that the subscriber's downlink estimate learns only what
//! was lost on its own link: one participant with a poor uplink must not lower what everyone
//! else receives.

use std::collections::VecDeque;
use std::time::Instant;

use str0m::format::Codec;
use str0m::media::{MediaTime, Rid};
use str0m::rtp::Vp8Descriptor;

/// Where one forwarded packet goes out: what to put in its header and descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewritten {
    /// Extended sequence number (the low 16 bits go on the wire; the upper ones are the SRTP
    /// rollover counter, which starts at 0 for every subscriber).
    pub seq: u64,
    /// RTP timestamp.
    pub time: u32,
    /// VP8 picture id and TL0PICIDX to write, when they differ from the packet's.
    pub vp8: Option<(Option<u16>, Option<u8>)>,
}

/// The picture id and TL0PICIDX of a VP8 payload descriptor (RFC 7741, section 4.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vp8Ids {
    /// Picture id and whether it is the 15-bit form (otherwise 7 bits).
    pub picture_id: Option<(u16, bool)>,
    /// TL0PICIDX.
    pub tl0: Option<u8>,
}

/// Reads the picture id and TL0PICIDX of a VP8 payload. `None` for a truncated descriptor.
pub fn vp8_ids(payload: &[u8]) -> Option<Vp8Ids> {
    let first = *payload.first()?;
    let mut ids = Vp8Ids::default();
    if first & 0x80 == 0 {
        return Some(ids);
    }
    let ext = *payload.get(1)?;
    let mut at = 2;
    if ext & 0x80 != 0 {
        let b = *payload.get(at)?;
        if b & 0x80 != 0 {
            let lo = *payload.get(at + 1)?;
            ids.picture_id = Some(((u16::from(b & 0x7f) << 8) | u16::from(lo), true));
            at += 2;
        } else {
            ids.picture_id = Some((u16::from(b), false));
            at += 1;
        }
    }
    if ext & 0x40 != 0 {
        ids.tl0 = Some(*payload.get(at)?);
    }
    Some(ids)
}

/// A VP8 payload descriptor, parsed once per received packet: the ids for [`Rewriter`], and
/// str0m's descriptor from which the patch for each subscriber is built.
#[derive(Clone, Copy, Debug)]
pub struct Vp8Payload {
    /// Picture id and TL0PICIDX.
    pub ids: Vp8Ids,
    /// str0m's parse of the same descriptor.
    pub descriptor: Vp8Descriptor,
}

/// What the SFU reads from a received RTP payload of `codec`: whether it starts a keyframe, and
/// for VP8 its payload descriptor. A keyframe starts, for VP8, at the first packet of a key
/// frame; for H.264, at a packet with (or starting a fragmented) IDR slice or sequence
/// parameter set. Audio is never a keyframe; other codecs are not negotiated by the SFU.
pub fn inspect(codec: Codec, payload: &[u8]) -> (bool, Option<Vp8Payload>) {
    match codec {
        Codec::Vp8 => match Vp8Descriptor::parse(payload) {
            Ok(descriptor) => (
                descriptor.starts_keyframe(payload),
                vp8_ids(payload).map(|ids| Vp8Payload { ids, descriptor }),
            ),
            Err(_) => (false, None),
        },
        Codec::H264 => (h264_starts_keyframe(payload), None),
        _ => (false, None),
    }
}

/// H.264 (RFC 6184): a single NAL unit, the units of a STAP-A, or the first fragment of an
/// FU-A, of type 5 (IDR slice) or 7 (SPS).
fn h264_starts_keyframe(payload: &[u8]) -> bool {
    let is_key = |nal_type: u8| nal_type == 5 || nal_type == 7;
    let Some(&first) = payload.first() else {
        return false;
    };
    match first & 0x1f {
        24 => {
            // STAP-A: (16-bit size, NAL unit) repeated.
            let mut at = 1;
            while let (Some(&hi), Some(&lo)) = (payload.get(at), payload.get(at + 1)) {
                let size = usize::from(u16::from_be_bytes([hi, lo]));
                match payload.get(at + 2) {
                    Some(&nal) if size > 0 => {
                        if is_key(nal & 0x1f) {
                            return true;
                        }
                    }
                    _ => return false,
                }
                at += 2 + size;
            }
            false
        }
        28 => payload
            .get(1)
            .is_some_and(|&fu| fu & 0x80 != 0 && is_key(fu & 0x1f)),
        t => is_key(t),
    }
}

/// Most gaps remembered for [`Rewriter::skipped_through`]; older ones are folded together.
const GAPS_KEPT: usize = 256;

/// Sequence numbers an outgoing m-line skipped (lost upstream), as counts from a sequence
/// number on, for the receiver reports to be read against.
#[derive(Debug, Default)]
struct Skipped {
    /// Skipped before the first entry of `from`.
    base: u64,
    /// (first sequence number it applies from, skipped up to there), in order.
    from: VecDeque<(u64, u64)>,
    total: u64,
}

impl Skipped {
    /// The packet after `last` went out as `seq`.
    fn on_sent(&mut self, last: u64, seq: u64) {
        if seq > last + 1 {
            self.total += seq - last - 1;
        } else if seq <= last && self.total > 0 {
            // A late packet (a retransmission from the publisher) filled a hole: the
            // receiver counts it as received, so it is no longer skipped.
            self.total -= 1;
        } else {
            return;
        }
        // Counted from the first sequence number after those already sent: a report that
        // covers a hole also covers what was sent before it.
        match self.from.back_mut() {
            Some((from, n)) if *from == last + 1 => *n = self.total,
            _ => self.from.push_back((last + 1, self.total)),
        }
        if self.from.len() > GAPS_KEPT
            && let Some((_, n)) = self.from.pop_front()
        {
            self.base = n;
        }
    }

    /// Skipped up to and including `seq`. Reports come in order: what lies before `seq` is
    /// forgotten.
    fn through(&mut self, seq: u64) -> u64 {
        while let Some(&(from, n)) = self.from.front() {
            if from > seq {
                break;
            }
            self.base = n;
            self.from.pop_front();
        }
        self.base
    }
}

/// Per outgoing m-line: the rewriting state. See the module documentation.
#[derive(Debug, Default)]
pub struct Rewriter {
    layer: Option<Option<Rid>>,
    /// Added to the source's extended sequence number.
    seq_offset: i64,
    last_in_seq: u64,
    last_out_seq: Option<u64>,
    /// Added to the source's media time.
    time_offset: i128,
    last_time: Option<(u64, Instant)>,
    pid_offset: u16,
    last_pid: Option<u16>,
    tl0_offset: u8,
    last_tl0: Option<u8>,
    skipped: Skipped,
}

impl Rewriter {
    /// A rewriter that has forwarded nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The header fields for a packet of layer `rid` with extended sequence number `seq`, media
    /// time `time` (received at `wallclock`), starting a keyframe or not, with VP8 ids `vp8`.
    pub fn rewrite(
        &mut self,
        rid: Option<Rid>,
        seq: u64,
        keyframe: bool,
        time: MediaTime,
        wallclock: Instant,
        vp8: Option<Vp8Ids>,
    ) -> Rewritten {
        let layer_changed = self.layer != Some(rid);
        let resumed = keyframe && self.last_out_seq.is_some() && seq != self.last_in_seq + 1;
        let seq_in = i64::try_from(seq).unwrap_or(i64::MAX);
        if layer_changed || resumed {
            self.seq_offset = match self.last_out_seq {
                // Continue right after the last packet sent.
                Some(last) => i64::try_from(last).unwrap_or(i64::MAX) + 1 - seq_in,
                // First packet: keep the low 16 bits, with a rollover counter of 0.
                None => i64::from(seq as u16) - seq_in,
            };
        }
        if layer_changed {
            self.rebase_time(time, wallclock);
            if let Some(ids) = vp8 {
                self.rebase_vp8(ids);
            }
            self.layer = Some(rid);
        }
        let out_seq = u64::try_from(seq_in + self.seq_offset).unwrap_or(0);
        if let Some(last) = self.last_out_seq {
            self.skipped.on_sent(last, out_seq);
        }
        // A retransmission that arrives late is older than what was sent: it keeps its place.
        if seq > self.last_in_seq || self.last_out_seq.is_none() {
            self.last_in_seq = seq;
        }
        if self.last_out_seq.is_none_or(|l| out_seq > l) {
            self.last_out_seq = Some(out_seq);
        }

        let input = i128::from(time.numer());
        let out_time = u64::try_from((input + self.time_offset).max(0)).unwrap_or(0);
        self.last_time = Some((out_time, wallclock));

        let vp8 = vp8.and_then(|ids| self.map_vp8(ids));
        Rewritten {
            seq: out_seq,
            time: out_time as u32,
            vp8,
        }
    }

    /// How many of the sequence numbers up to and including `seq` (the highest a receiver
    /// report covers) were never sent, because they were lost before the SFU and not
    /// retransmitted in time. Call with non-decreasing `seq`.
    pub fn skipped_through(&mut self, seq: u64) -> u64 {
        self.skipped.through(seq)
    }

    fn rebase_time(&mut self, time: MediaTime, wallclock: Instant) {
        let Some((last_out, last_wall)) = self.last_time else {
            return;
        };
        let freq = u128::from(time.denom().max(1));
        let elapsed = wallclock.saturating_duration_since(last_wall).as_micros();
        let ticks = i128::try_from(elapsed.saturating_mul(freq) / 1_000_000).unwrap_or(0);
        let expected = i128::from(last_out) + ticks.max(1);
        self.time_offset = expected - i128::from(time.numer());
    }

    fn rebase_vp8(&mut self, ids: Vp8Ids) {
        if let (Some(last), Some((pid, _))) = (self.last_pid, ids.picture_id) {
            self.pid_offset = last.wrapping_add(1).wrapping_sub(pid);
        }
        if let (Some(last), Some(tl0)) = (self.last_tl0, ids.tl0) {
            self.tl0_offset = last.wrapping_add(1).wrapping_sub(tl0);
        }
    }

    /// The rewritten ids, `None` when nothing changes.
    fn map_vp8(&mut self, ids: Vp8Ids) -> Option<(Option<u16>, Option<u8>)> {
        let pid = ids.picture_id.map(|(pid, long)| {
            let mask = if long { 0x7fff } else { 0x7f };
            let out = pid.wrapping_add(self.pid_offset) & mask;
            self.last_pid = Some(out);
            (out, out != pid)
        });
        let tl0 = ids.tl0.map(|t| {
            let out = t.wrapping_add(self.tl0_offset);
            self.last_tl0 = Some(out);
            (out, out != t)
        });
        let changed = pid.is_some_and(|p| p.1) || tl0.is_some_and(|t| t.1);
        changed.then(|| (pid.map(|p| p.0), tl0.map(|t| t.0)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key(codec: Codec, payload: &[u8]) -> bool {
        inspect(codec, payload).0
    }

    fn t90(v: u64) -> MediaTime {
        MediaTime::from_90khz(v)
    }

    fn pid(p: u16) -> Option<Vp8Ids> {
        Some(Vp8Ids {
            picture_id: Some((p, true)),
            tl0: None,
        })
    }

    #[test]
    fn one_layer_passes_through_with_its_gaps() {
        let start = Instant::now();
        let mut r = Rewriter::new();
        let h = Some(Rid::from("h"));
        let a = r.rewrite(h, 70_000, true, t90(1000), start, pid(5));
        // Rollover counter 0 for the subscriber, same low 16 bits.
        assert_eq!(a.seq, 70_000 % 65_536);
        assert_eq!(a.time, 1000);
        assert_eq!(a.vp8, None);
        let b = r.rewrite(h, 70_001, false, t90(1000), start, pid(5));
        assert_eq!(b.seq, a.seq + 1);
        // Upstream loss of 70_002 is kept as a gap; the late retransmission fills it.
        let c = r.rewrite(h, 70_003, false, t90(3970), start, pid(6));
        assert_eq!(c.seq, a.seq + 3);
        let late = r.rewrite(h, 70_002, false, t90(1000), start, pid(5));
        assert_eq!(late.seq, a.seq + 2);
        let d = r.rewrite(h, 70_004, false, t90(3970), start, pid(6));
        assert_eq!(d.seq, a.seq + 4);
    }

    #[test]
    fn gaps_lost_upstream_are_counted_for_the_receiver_reports_and_a_late_fill_uncounted() {
        let start = Instant::now();
        let mut r = Rewriter::new();
        let seq = |r: &mut Rewriter, s: u64, key: bool| {
            r.rewrite(None, s, key, t90(s * 3000), start, None).seq
        };
        let first = seq(&mut r, 100, true);
        seq(&mut r, 101, false);
        // 102 and 103 lost upstream.
        let after_gap = seq(&mut r, 104, false);
        seq(&mut r, 105, false);
        // 106 lost, then filled late by a retransmission.
        seq(&mut r, 107, false);
        seq(&mut r, 106, false);
        // 108 lost; then forwarding pauses and resumes at a keyframe: no gap across the pause.
        seq(&mut r, 109, false);
        let resumed = seq(&mut r, 200, true);
        assert_eq!(resumed, first + 10, "a resumption continues the sequence");
        // A report that covers only what came before the first gap: nothing skipped.
        assert_eq!(r.skipped_through(first + 1), 0);
        assert_eq!(r.skipped_through(after_gap), 2);
        // Up to 109: 102, 103 and 108 (106 came late and counts as sent).
        assert_eq!(r.skipped_through(first + 9), 3);
        assert_eq!(r.skipped_through(resumed), 3);
    }

    #[test]
    fn a_switch_continues_sequence_time_and_picture_id() {
        let start = Instant::now();
        let mut r = Rewriter::new();
        let h = Some(Rid::from("h"));
        let l = Some(Rid::from("l"));
        r.rewrite(h, 100, true, t90(1000), start, pid(10));
        let last = r.rewrite(h, 101, false, t90(1000), start, pid(10));
        // Switch to a layer with unrelated sequence numbers, timestamps and picture ids, 33 ms
        // later.
        let t1 = start + Duration::from_millis(33);
        let first = r.rewrite(l, 9_000, true, t90(5_000_000), t1, pid(700));
        assert_eq!(first.seq, last.seq + 1);
        assert_eq!(first.time, 1000 + 2970);
        assert_eq!(first.vp8, Some((Some(11), None)));
        let next = r.rewrite(l, 9_001, false, t90(5_002_970), t1, pid(701));
        assert_eq!(next.seq, last.seq + 2);
        assert_eq!(next.time, 1000 + 2 * 2970);
        assert_eq!(next.vp8, Some((Some(12), None)));
    }

    #[test]
    fn resuming_at_a_keyframe_closes_the_gap_of_the_pause() {
        let start = Instant::now();
        let mut r = Rewriter::new();
        let a = r.rewrite(None, 10, true, t90(0), start, None);
        // Paused: 11..=499 were not forwarded. Forwarding resumes at a keyframe.
        let b = r.rewrite(None, 500, true, t90(90_000), start, None);
        assert_eq!(b.seq, a.seq + 1);
        // The time is the source's own (same stream): the pause shows as time passing.
        assert_eq!(b.time, 90_000);
        // A gap that ends in an ordinary packet is upstream loss and is kept.
        let c = r.rewrite(None, 503, false, t90(93_000), start, None);
        assert_eq!(c.seq, a.seq + 4);
    }

    #[test]
    fn seven_bit_picture_ids_wrap_in_seven_bits() {
        let start = Instant::now();
        let mut r = Rewriter::new();
        let short = |p| {
            Some(Vp8Ids {
                picture_id: Some((p, false)),
                tl0: Some(200),
            })
        };
        r.rewrite(Some(Rid::from("h")), 1, true, t90(0), start, short(127));
        let s = r.rewrite(Some(Rid::from("l")), 50, true, t90(0), start, short(3));
        assert_eq!(s.vp8, Some((Some(0), Some(201))));
    }

    #[test]
    fn reads_vp8_descriptor_ids() {
        // X=1, S=1; I=1, L=1, T=1; 15-bit picture id 0x1234; TL0PICIDX 9; TID 0; then the
        // VP8 header.
        let p = [0x90, 0xE0, 0x80 | 0x12, 0x34, 9, 0x00, 0x00];
        assert_eq!(
            vp8_ids(&p),
            Some(Vp8Ids {
                picture_id: Some((0x1234, true)),
                tl0: Some(9)
            })
        );
        assert_eq!(vp8_ids(&[0x10, 0x00]), Some(Vp8Ids::default()));
        assert_eq!(vp8_ids(&[0x90, 0x80]), None);
        assert!(key(Codec::Vp8, &p));
        // P bit set: an interframe.
        assert!(!key(Codec::Vp8, &[0x90, 0xE0, 0x92, 0x34, 9, 0x00, 0x01]));
    }

    #[test]
    fn detects_h264_keyframes() {
        assert!(key(Codec::H264, &[0x65, 0x88]));
        assert!(!key(Codec::H264, &[0x41, 0x9a]));
        // STAP-A with an SPS and a PPS.
        assert!(key(
            Codec::H264,
            &[0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce]
        ));
        // FU-A: start of an IDR slice, and a middle fragment of one.
        assert!(key(Codec::H264, &[0x7c, 0x85, 0x00]));
        assert!(!key(Codec::H264, &[0x7c, 0x05, 0x00]));
        assert!(!key(Codec::Opus, &[0x65]));
        assert!(!key(Codec::H264, &[]));
    }
}
