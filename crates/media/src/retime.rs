//! Keeps an outgoing track's media time continuous when its source switches simulcast layer.
//!
//! The layers of a simulcast track are separate RTP streams and need not share an RTP timestamp
//! base. A subscriber's m-line carries one stream, so when the router moves it to another layer
//! the timestamps are re-based: the first frame of the new layer gets the last output time plus
//! the wall-clock time that has passed since, and later frames keep that offset.

use std::time::Instant;

use str0m::media::{MediaTime, Rid};

/// Per outgoing m-line: maps a source frame's media time to the time written out.
#[derive(Debug, Default)]
pub struct Retimer {
    layer: Option<Option<Rid>>,
    offset: i128,
    last: Option<(u64, Instant)>,
}

impl Retimer {
    /// A retimer that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The output time for a frame of layer `rid` with source time `time` that arrived at
    /// `wallclock`.
    pub fn map(&mut self, rid: Option<Rid>, time: MediaTime, wallclock: Instant) -> MediaTime {
        let freq = u128::from(time.denom().max(1));
        let input = i128::from(time.numer());
        if self.layer != Some(rid) {
            if let Some((last_out, last_wall)) = self.last {
                let elapsed = wallclock.saturating_duration_since(last_wall).as_micros();
                let ticks = i128::try_from(elapsed.saturating_mul(freq) / 1_000_000).unwrap_or(0);
                let expected = i128::from(last_out) + ticks.max(1);
                self.offset = expected - input;
            }
            self.layer = Some(rid);
        }
        let out = u64::try_from((input + self.offset).max(0)).unwrap_or(0);
        self.last = Some((out, wallclock));
        MediaTime::new(out, time.frequency())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn t90(v: u64) -> MediaTime {
        MediaTime::from_90khz(v)
    }

    #[test]
    fn same_layer_passes_time_through_and_switch_is_continuous() {
        let start = Instant::now();
        let mut r = Retimer::new();
        let h = Some(Rid::from("h"));
        let l = Some(Rid::from("l"));
        assert_eq!(r.map(h, t90(1000), start).numer(), 1000);
        let t1 = start + Duration::from_millis(33);
        assert_eq!(r.map(h, t90(1000 + 2970), t1).numer(), 3970);
        // Switch to a layer with an unrelated timestamp base, 33 ms later.
        let t2 = t1 + Duration::from_millis(33);
        assert_eq!(r.map(l, t90(5_000_000), t2).numer(), 3970 + 2970);
        // The offset sticks for the new layer.
        let t3 = t2 + Duration::from_millis(33);
        assert_eq!(r.map(l, t90(5_002_970), t3).numer(), 3970 + 2 * 2970);
    }
}
