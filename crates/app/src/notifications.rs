//! Notifications as administrators see them: the outbox (what was sent, what waits, what
//! failed, with the provider's answer) and a test message to check the delivery set-up.

use crate::App;
use crate::access::StaffPrincipal;
use crate::error::{AppError, Result};
use helsebro_domain::patient::{is_plausible_email, normalise_phone};
use helsebro_domain::{AuditAction, AuditOutcome, Language, Permission};
use helsebro_notify::templates::{Channel, MessageContext, MessageKind, render};
use helsebro_store::{NewAuditEntry, NewMessage, OutboxChannel, OutboxMessage};

/// The outbox: counts by status and the newest messages.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OutboxView {
    /// `queued`, `sending`, `sent`, `failed` with their counts.
    pub counts: Vec<(String, i64)>,
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<OutboxMessage>,
}

impl App {
    pub async fn outbox(&self, p: &StaffPrincipal, limit: i64) -> Result<OutboxView> {
        p.require(Permission::ManageOrganisation)?;
        Ok(OutboxView {
            counts: self.store().outbox_counts().await?,
            messages: self.store().recent_messages(limit).await?,
        })
    }

    /// Queues a test message to `recipient` (an e-mail address or a phone number) through
    /// the configured provider, so an administrator can check that delivery works.
    pub async fn send_test_message(
        &self,
        p: &StaffPrincipal,
        channel: OutboxChannel,
        recipient: &str,
        language: Language,
        ip: &str,
    ) -> Result<()> {
        p.require(Permission::ManageOrganisation)?;
        let recipient = match channel {
            OutboxChannel::Email => {
                let r = recipient.trim();
                if !is_plausible_email(r) {
                    return Err(AppError::invalid("recipient", "not a valid e-mail address"));
                }
                r.to_owned()
            }
            OutboxChannel::Sms => normalise_phone(recipient)
                .map_err(|m| AppError::invalid("recipient", m))?
                .ok_or(AppError::invalid("recipient", "give a phone number"))?,
        };
        let org = self.organisation().await?;
        let ctx = MessageContext {
            organisation: org.name.clone(),
            support_phone: org.support_phone.clone(),
            ..MessageContext::default()
        };
        let template_channel = match channel {
            OutboxChannel::Email => Channel::Email,
            OutboxChannel::Sms => Channel::Sms,
        };
        let text = render(MessageKind::Test, template_channel, language, &ctx)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        let message = NewMessage {
            channel,
            recipient,
            subject: text.subject,
            body: text.body,
            calendar: None,
            kind: "test".into(),
            not_before: now,
            dedupe_key: None,
        };
        let audit = NewAuditEntry {
            actor_id: Some(p.id),
            actor_label: p.username.clone(),
            action: AuditAction::TestMessageSent,
            outcome: AuditOutcome::Success,
            patient_id: None,
            object: format!("outbox:{}", channel.code()),
            ip: ip.to_owned(),
            detail: String::new(),
            flagged: false,
        };
        self.store()
            .enqueue_messages(&[message], Some(&audit), now)
            .await?;
        Ok(())
    }
}
