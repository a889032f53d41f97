//! Per-call quality aggregates (VC-13): figures only, never content.

use crate::{Result, Store, ms};
use jiff::Timestamp;
use uuid::Uuid;

/// A `call_quality` row: reports, six averages and maxima, freezes, and the rating sums.
type QualityRow = (i64, f64, f64, f64, f64, f64, f64, i64, i64, i64, i64);

/// Averages and maxima of the browsers' reports over one call, and the ratings given.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, utoipa::ToSchema)]
pub struct CallQuality {
    pub reports: i64,
    /// Received bits per second.
    pub avg_bitrate_in: f64,
    /// Fraction of packets lost, 0–1.
    pub avg_loss: f64,
    pub max_loss: f64,
    /// Seconds.
    pub avg_jitter: f64,
    /// Seconds.
    pub avg_rtt: f64,
    pub max_rtt: f64,
    pub freezes: i64,
    /// Ratings given after the call, and the sums of their 1–5 scores.
    pub ratings: i64,
    pub sound_sum: i64,
    pub picture_sum: i64,
}

impl Store {
    /// Saves (or, when the call is picked up again and ends a second time, replaces) the
    /// statistics of a call, keeping any ratings already given.
    pub async fn save_call_quality(
        &self,
        appointment: Uuid,
        q: &CallQuality,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO call_quality (appointment_id, reports, avg_bitrate_in, avg_loss, \
             max_loss, avg_jitter, avg_rtt, max_rtt, freezes, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (appointment_id) DO UPDATE SET reports = excluded.reports, \
             avg_bitrate_in = excluded.avg_bitrate_in, avg_loss = excluded.avg_loss, \
             max_loss = excluded.max_loss, avg_jitter = excluded.avg_jitter, \
             avg_rtt = excluded.avg_rtt, max_rtt = excluded.max_rtt, \
             freezes = excluded.freezes, recorded_at = excluded.recorded_at",
        )
        .bind(appointment.to_string())
        .bind(q.reports)
        .bind(q.avg_bitrate_in)
        .bind(q.avg_loss)
        .bind(q.max_loss)
        .bind(q.avg_jitter)
        .bind(q.avg_rtt)
        .bind(q.max_rtt)
        .bind(q.freezes)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Adds one participant's 1–5 rating of sound and picture to a call's figures.
    pub async fn add_call_rating(
        &self,
        appointment: Uuid,
        sound: i64,
        picture: i64,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO call_quality (appointment_id, ratings, sound_sum, picture_sum, recorded_at) \
             VALUES ($1, 1, $2, $3, $4) ON CONFLICT (appointment_id) DO UPDATE SET \
             ratings = call_quality.ratings + 1, sound_sum = call_quality.sound_sum + excluded.sound_sum, \
             picture_sum = call_quality.picture_sum + excluded.picture_sum",
        )
        .bind(appointment.to_string())
        .bind(sound)
        .bind(picture)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The quality figures of a call, if any were reported.
    pub async fn call_quality(&self, appointment: Uuid) -> Result<Option<CallQuality>> {
        let row: Option<QualityRow> = sqlx::query_as(
            "SELECT reports, avg_bitrate_in, avg_loss, max_loss, avg_jitter, avg_rtt, max_rtt, \
             freezes, ratings, sound_sum, picture_sum FROM call_quality WHERE appointment_id = $1",
        )
        .bind(appointment.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| CallQuality {
            reports: r.0,
            avg_bitrate_in: r.1,
            avg_loss: r.2,
            max_loss: r.3,
            avg_jitter: r.4,
            avg_rtt: r.5,
            max_rtt: r.6,
            freezes: r.7,
            ratings: r.8,
            sound_sum: r.9,
            picture_sum: r.10,
        }))
    }
}
