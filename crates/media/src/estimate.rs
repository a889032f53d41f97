//! Each subscriber's downlink estimate, from the RTCP receiver reports its browser sends anyway:
//! the fraction of packets lost and the round-trip time. It feeds the router's choice of
//! simulcast layer (see [`crate::router`]). The loss is what the subscriber's own link lost: the
//! SFU reads each report's cumulative count against the sequence numbers it never sent because
//! the publisher's uplink lost them (see [`crate::forward`]), so that one participant's poor
//! uplink does not lower what everyone else receives.
//!
//! Why not str0m's send-side estimator (transport-wide feedback, delay-based, with a pacer): with
//! it enabled, str0m's pacer releases one packet per `handle_timeout`, so every forwarded packet
//! cost a full timeout pass over the subscriber's connection (ICE, every stream, estimator,
//! pacer). In the benchmark that was about a quarter of the SFU's CPU time and the whole of its
//! latency tail (a meeting of 12: 5.5 CPU-seconds and p99 4–6 ms with it, 4.1 and 1.2 ms
//! without). What an SFU forwards is already paced by its publisher, so the SFU only needs to
//! know how much each subscriber's link takes, and the receiver reports tell that:
//!
//! - Loss above [`LOSS_HIGH`]: the estimate drops by half the loss fraction (loss-based control
//!   as in Google Congestion Control, RFC draft-ietf-rmcat-gcc-02 §6).
//! - A round-trip time more than [`QUEUE_DELAY`] above the lowest seen in the last
//!   [`MIN_RTT_WINDOW`]: a queue is building on the path before anything is lost (a mobile link
//!   with deep buffers); the estimate drops by [`QUEUE_CUT_PCT`].
//! - Loss below [`LOSS_LOW`] and no queue: the estimate grows by [`GROWTH_PCT_PER_SEC`] per
//!   second, or by [`START_GROWTH_PCT_PER_SEC`] until the first report of loss or a queue (a
//!   slow start, as in TCP: a meeting of 12 wants 15 Mbit/s or more, which 10% a second would
//!   take half a minute to reach), up to [`CAP_HEADROOM_PCT`] above what the subscriber could
//!   use (growth beyond that would tell nothing and make a later drop slow to show).
//! - In between: held.
//!
//! A connection starts at [`INITIAL_BPS`], so the router picks a middle layer at once instead of
//! waiting for the first report; it never goes below [`FLOOR_BPS`] (audio always passes; the
//! router pauses video below its own minimum).

use std::time::{Duration, Instant};

/// Estimate a connection starts with.
pub const INITIAL_BPS: u64 = 1_000_000;
/// The estimate never drops below this.
pub const FLOOR_BPS: u64 = 80_000;
/// Loss fraction above which the estimate drops.
pub const LOSS_HIGH: f32 = 0.10;
/// Loss fraction below which the estimate may grow.
pub const LOSS_LOW: f32 = 0.02;
/// Growth per second of clean reports, in percent.
pub const GROWTH_PCT_PER_SEC: u64 = 10;
/// Growth per second of clean reports before the link first showed loss or a queue.
pub const START_GROWTH_PCT_PER_SEC: u64 = 50;
/// How far above its lowest the round-trip time may be before it counts as a queue.
pub const QUEUE_DELAY: Duration = Duration::from_millis(150);
/// Drop on a report that shows a queue, in percent.
pub const QUEUE_CUT_PCT: u64 = 15;
/// The lowest round-trip time is forgotten after this long (routes change).
pub const MIN_RTT_WINDOW: Duration = Duration::from_secs(30);
/// How far above the subscriber's wanted bitrate the estimate may grow, in percent.
pub const CAP_HEADROOM_PCT: u64 = 25;
/// A report later than this after the previous one counts as this long (no burst of growth
/// after a quiet spell).
const MAX_STEP: Duration = Duration::from_secs(2);

/// One subscriber's downlink estimate. Pure state: fed reports and the time, it answers the
/// estimate in bits per second.
#[derive(Debug, Clone)]
pub struct LinkEstimate {
    bps: u64,
    cap: u64,
    last_report: Option<Instant>,
    /// No report has shown loss or a queue yet.
    starting: bool,
    /// The lowest round-trip time seen and when that window started.
    min_rtt: Option<(Duration, Instant)>,
}

impl Default for LinkEstimate {
    fn default() -> Self {
        Self::new()
    }
}

impl LinkEstimate {
    /// A connection's estimate before any report: [`INITIAL_BPS`], no cap.
    pub fn new() -> Self {
        LinkEstimate {
            bps: INITIAL_BPS,
            cap: u64::MAX,
            last_report: None,
            starting: true,
            min_rtt: None,
        }
    }

    /// The current estimate, bits per second.
    pub fn bps(&self) -> u64 {
        self.bps
    }

    /// What the subscriber could use at most right now (all its tracks on their highest layer);
    /// the estimate grows no further than [`CAP_HEADROOM_PCT`] above it. `0` (nothing
    /// subscribed) leaves the cap as it was.
    ///
    /// An estimate held down by the cap says nothing about the link above it: when the cap
    /// rises (video added to a call that carried only audio), it starts again as a new
    /// connection would, from [`INITIAL_BPS`] (or the new cap) with the fast start.
    pub fn set_wanted(&mut self, wanted_bps: u64) {
        if wanted_bps == 0 {
            return;
        }
        let cap = (wanted_bps.saturating_mul(100 + CAP_HEADROOM_PCT) / 100).max(FLOOR_BPS);
        if cap > self.cap && self.bps >= self.cap {
            self.bps = self.bps.max(INITIAL_BPS.min(cap));
            self.starting = true;
        }
        self.cap = cap;
        self.bps = self.bps.min(self.cap).max(FLOOR_BPS);
    }

    /// Fresh receiver reports at `now`: `loss` is the fraction lost (0–1) over the packets they
    /// cover, `rtt` the round-trip time they give, if any. Returns the new estimate.
    pub fn on_report(&mut self, now: Instant, loss: f32, rtt: Option<Duration>) -> u64 {
        let step = self
            .last_report
            .map(|t| now.saturating_duration_since(t).min(MAX_STEP))
            .unwrap_or(Duration::from_secs(1));
        self.last_report = Some(now);
        let queue = rtt.is_some_and(|rtt| self.queueing(now, rtt));
        let loss = if loss.is_finite() {
            loss.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let bps = self.bps as f64;
        if queue || loss >= LOSS_LOW {
            self.starting = false;
        }
        let growth = if self.starting {
            START_GROWTH_PCT_PER_SEC
        } else {
            GROWTH_PCT_PER_SEC
        };
        let next = if loss > LOSS_HIGH {
            bps * (1.0 - 0.5 * f64::from(loss))
        } else if queue {
            bps * (100 - QUEUE_CUT_PCT) as f64 / 100.0
        } else if loss < LOSS_LOW {
            bps * (1.0 + growth as f64 / 100.0 * step.as_secs_f64())
        } else {
            bps
        };
        self.bps = (next.round() as u64).clamp(FLOOR_BPS, self.cap.max(FLOOR_BPS));
        self.bps
    }

    /// Whether `rtt` is a queue's worth above the lowest recently seen; keeps the lowest.
    fn queueing(&mut self, now: Instant, rtt: Duration) -> bool {
        match self.min_rtt {
            Some((min, since)) if now.saturating_duration_since(since) < MIN_RTT_WINDOW => {
                if rtt < min {
                    self.min_rtt = Some((rtt, since));
                }
                rtt.saturating_sub(min) > QUEUE_DELAY
            }
            _ => {
                self.min_rtt = Some((rtt, now));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn clean_reports_grow_fast_until_the_first_loss_then_ten_percent_a_second_up_to_the_cap() {
        let t0 = Instant::now();
        let mut e = LinkEstimate::new();
        e.set_wanted(8_000_000);
        assert_eq!(e.on_report(t0, 0.0, Some(20 * MS)), 1_500_000);
        assert_eq!(e.on_report(t0 + 500 * MS, 0.01, Some(20 * MS)), 1_875_000);
        // Some loss (held) ends the start.
        assert_eq!(e.on_report(t0 + 1000 * MS, 0.05, Some(20 * MS)), 1_875_000);
        assert_eq!(e.on_report(t0 + 1500 * MS, 0.0, Some(20 * MS)), 1_968_750);
        for i in 4..60 {
            e.on_report(t0 + 500 * MS * i, 0.0, Some(20 * MS));
        }
        assert_eq!(e.bps(), 10_000_000, "capped at 125% of what is wanted");
        // Wanting less pulls the estimate down with it.
        e.set_wanted(400_000);
        assert_eq!(e.bps(), 500_000);
    }

    #[test]
    fn an_estimate_held_down_by_the_cap_starts_again_when_the_cap_rises() {
        let t0 = Instant::now();
        let mut e = LinkEstimate::new();
        // Audio only: capped low, and a little loss ends the fast start.
        e.set_wanted(50_000);
        assert_eq!(e.bps(), FLOOR_BPS);
        e.on_report(t0, 0.05, None);
        assert_eq!(e.bps(), FLOOR_BPS);
        // Video arrives: back to the initial estimate and the fast start.
        e.set_wanted(3_000_000);
        assert_eq!(e.bps(), INITIAL_BPS);
        assert_eq!(e.on_report(t0 + 1000 * MS, 0.0, None), 1_500_000);
        // An estimate below its cap (the link's own limit) is left where it is.
        let mut lossy = LinkEstimate::new();
        lossy.set_wanted(2_000_000);
        lossy.on_report(t0, 0.5, None);
        assert_eq!(lossy.bps(), 750_000);
        lossy.set_wanted(6_000_000);
        assert_eq!(lossy.bps(), 750_000);
    }

    #[test]
    fn heavy_loss_cuts_by_half_the_loss_and_moderate_loss_holds() {
        let t0 = Instant::now();
        let mut e = LinkEstimate::new();
        e.set_wanted(5_000_000);
        assert_eq!(e.on_report(t0, 0.20, None), 900_000);
        assert_eq!(e.on_report(t0 + 500 * MS, 0.05, None), 900_000);
        assert_eq!(e.on_report(t0 + 1000 * MS, 0.5, None), 675_000);
        for i in 3..30 {
            e.on_report(t0 + 500 * MS * i, 0.9, None);
        }
        assert_eq!(e.bps(), FLOOR_BPS, "never below the floor");
    }

    #[test]
    fn a_rising_round_trip_time_cuts_before_anything_is_lost() {
        let t0 = Instant::now();
        let mut e = LinkEstimate::new();
        e.set_wanted(50_000_000);
        e.on_report(t0, 0.0, Some(40 * MS));
        let before = e.bps();
        // 100 ms above the lowest is not yet a queue: still growing.
        assert!(e.on_report(t0 + 1000 * MS, 0.0, Some(140 * MS)) > before);
        let grown = e.bps();
        assert_eq!(
            e.on_report(t0 + 2000 * MS, 0.0, Some(250 * MS)),
            grown * 85 / 100
        );
        // After the window the lowest is forgotten: a lasting longer route is the new normal.
        let later = t0 + MIN_RTT_WINDOW + 3000 * MS;
        let now_bps = e.bps();
        assert!(e.on_report(later, 0.0, Some(250 * MS)) > now_bps);
        assert!(e.on_report(later + 1000 * MS, 0.0, Some(260 * MS)) > now_bps);
    }

    #[test]
    fn a_long_quiet_spell_does_not_grow_in_one_jump_and_nonsense_is_ignored() {
        let t0 = Instant::now();
        let mut e = LinkEstimate::new();
        e.on_report(t0, 0.03, None);
        assert_eq!(
            e.on_report(t0 + Duration::from_secs(60), 0.0, None),
            1_200_000
        );
        let b = e.bps();
        assert_eq!(
            e.on_report(t0 + Duration::from_secs(61), f32::NAN, None),
            b * 11 / 10
        );
        // Wanting nothing (no subscriptions yet) keeps the cap.
        e.set_wanted(0);
        assert!(e.bps() > INITIAL_BPS);
    }
}
