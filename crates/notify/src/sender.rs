//! The outbox sender: claims due messages, hands each to its channel's provider, and records
//! the answer — sent, another try later with back-off, or failed for good.
//!
//! Safe to run in several processes at once (claims never overlap, see the store's outbox).
//! A process killed mid-delivery leaves its claimed messages `sending`; they become due again
//! when their lease runs out, so a message is never lost, and the only messages that can be
//! delivered twice are the ones in flight at the moment of the crash.

use crate::providers::{Provider, SendError};
use helsebro_domain::Clock;
use helsebro_store::{OutboxChannel, OutboxMessage, Store};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// How long a claimed message is ours before another sender may take it over.
    pub lease: SignedDuration,
    /// Attempts before a message is failed for good.
    pub max_attempts: i64,
    /// Messages claimed at a time.
    pub batch: i64,
    /// Pause when nothing is due.
    pub idle_poll: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        SenderSettings {
            lease: SignedDuration::from_mins(2),
            max_attempts: 8,
            batch: 10,
            idle_poll: Duration::from_secs(1),
        }
    }
}

/// Back-off before attempt `attempts + 1`: 30 s, 1 min, 2 min, … up to one hour.
pub fn backoff(attempts: i64) -> SignedDuration {
    let doublings = attempts.saturating_sub(1).clamp(0, 7) as u32;
    SignedDuration::from_secs(30 * 2i64.pow(doublings)).min(SignedDuration::from_hours(1))
}

pub struct Sender {
    store: Store,
    clock: Arc<dyn Clock>,
    email: Provider,
    sms: Provider,
    settings: SenderSettings,
}

impl Sender {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        email: Provider,
        sms: Provider,
        settings: SenderSettings,
    ) -> Sender {
        Sender {
            store,
            clock,
            email,
            sms,
            settings,
        }
    }

    fn provider(&self, m: &OutboxMessage) -> &Provider {
        match m.channel {
            OutboxChannel::Email => &self.email,
            OutboxChannel::Sms => &self.sms,
        }
    }

    /// Claims one batch and delivers it. Returns how many messages were handled.
    pub async fn run_once(&self) -> Result<usize, helsebro_store::StoreError> {
        let now = self.clock.now();
        let batch = self
            .store
            .claim_due_messages(now, now + self.settings.lease, self.settings.batch)
            .await?;
        for m in &batch {
            let outcome = self.provider(m).send(m).await;
            let now = self.clock.now();
            match outcome {
                Ok(delivered) => {
                    self.store
                        .mark_message_sent(m.id, &delivered.0, now)
                        .await?;
                    tracing::info!(message = %m.id, kind = %m.kind, "message delivered");
                }
                Err(SendError::Temporary(answer)) if m.attempts < self.settings.max_attempts => {
                    let retry = now + backoff(m.attempts);
                    self.store
                        .mark_message_failed(m.id, &answer, Some(retry))
                        .await?;
                    tracing::warn!(message = %m.id, attempts = m.attempts, "delivery failed; will retry");
                }
                Err(e) => {
                    self.store
                        .mark_message_failed(m.id, &e.to_string(), None)
                        .await?;
                    tracing::error!(message = %m.id, attempts = m.attempts, "delivery failed for good");
                }
            }
        }
        Ok(batch.len())
    }

    /// Delivers until the process ends.
    pub async fn run(self) {
        loop {
            match self.run_once().await {
                Ok(0) => tokio::time::sleep(self.settings.idle_poll).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "the outbox could not be read; trying again shortly");
                    tokio::time::sleep(self.settings.idle_poll * 5).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), SignedDuration::from_secs(30));
        assert_eq!(backoff(2), SignedDuration::from_secs(60));
        assert_eq!(backoff(4), SignedDuration::from_secs(240));
        assert_eq!(backoff(8), SignedDuration::from_hours(1));
        assert_eq!(backoff(50), SignedDuration::from_hours(1));
    }
}
