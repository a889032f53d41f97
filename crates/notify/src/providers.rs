//! Delivery providers: SMTP e-mail (lettre), an HTTP SMS gateway, and the development outbox.
//!
//! A provider answers with what the other end said, and whether a failure is worth retrying
//! (a timeout, a 4xx SMTP reply, a 5xx from the gateway) or permanent (a malformed address,
//! a 5xx SMTP reply, a 4xx from the gateway).

use helsebro_store::{OutboxChannel, OutboxMessage};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// What the receiving end answered on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered(pub String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later.
    #[error("temporary: {0}")]
    Temporary(String),
    /// Will never work as it is (bad address, refused for good).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP: only for a relay on the same host or a test server.
    None,
    /// STARTTLS on the submission port (587).
    StartTls,
    /// TLS from the first byte (465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    /// The sender, e.g. `Fjordvik kommune <ikke-svar@fjordvik.kommune.no>`.
    pub from: String,
}

/// An HTTP SMS gateway, in the shape most Norwegian gateways take: a POST with a JSON or
/// form body built from a template, an authentication header, and a success answer.
#[derive(Debug, Clone)]
pub struct SmsGatewaySettings {
    pub url: String,
    /// `Name: value`, e.g. `Authorization: Bearer …`. Empty for none.
    pub auth_header: String,
    /// `application/json` or `application/x-www-form-urlencoded`.
    pub content_type: String,
    /// The body with `{to}` and `{text}` placeholders, filled in escaped for the content type,
    /// e.g. `{"recipients":["{to}"],"message":"{text}"}` or `to={to}&text={text}`.
    pub body_template: String,
    /// If not empty, a 2xx answer counts as delivered only when its body contains this.
    pub success_contains: String,
}

/// One way of delivering messages of a channel.
pub enum Provider {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    HttpSms {
        client: reqwest::Client,
        settings: SmsGatewaySettings,
    },
    /// Keeps messages in the outbox for the development viewer; delivers nothing.
    DevOutbox,
}

impl Provider {
    pub fn smtp(s: &SmtpSettings) -> Result<Provider, String> {
        let builder = match s.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| format!("SMTP STARTTLS to {}: {e}", s.host))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| format!("SMTP TLS to {}: {e}", s.host))?,
        };
        let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(30)));
        if !s.username.is_empty() {
            builder = builder.credentials(Credentials::new(s.username.clone(), s.password.clone()));
        }
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| format!("smtp_from {:?} is not an address: {e}", s.from))?;
        Ok(Provider::Smtp {
            transport: builder.build(),
            from,
        })
    }

    pub fn http_sms(settings: SmsGatewaySettings) -> Result<Provider, String> {
        if !settings.url.starts_with("https://") && !settings.url.starts_with("http://") {
            return Err("sms_url must be an http(s) URL".into());
        }
        if !settings.body_template.contains("{to}") || !settings.body_template.contains("{text}") {
            return Err("sms_body_template must contain {to} and {text}".into());
        }
        // One crypto stack: rustls with aws-lc-rs (a no-op when the binary installed it already).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Provider::HttpSms { client, settings })
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Provider::Smtp { .. } => "smtp",
            Provider::HttpSms { .. } => "http sms gateway",
            Provider::DevOutbox => "development outbox",
        }
    }

    /// Delivers one message.
    pub async fn send(&self, m: &OutboxMessage) -> Result<Delivered, SendError> {
        match self {
            Provider::DevOutbox => Ok(Delivered(
                "kept in the development outbox; not delivered".into(),
            )),
            Provider::Smtp { transport, from } => send_email(transport, from, m).await,
            Provider::HttpSms { client, settings } => send_sms(client, settings, m).await,
        }
    }
}

async fn send_email(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    m: &OutboxMessage,
) -> Result<Delivered, SendError> {
    if m.channel != OutboxChannel::Email {
        return Err(SendError::Permanent("not an e-mail message".into()));
    }
    let to: Mailbox = m
        .recipient
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient is not an e-mail address: {e}")))?;
    let builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        // One Message-ID per outbox row: a receiver can recognise a repeated delivery.
        .message_id(Some(format!("<{}@helsebro>", m.id)));
    let email = match &m.calendar {
        None => builder.header(ContentType::TEXT_PLAIN).body(m.body.clone()),
        Some(ics) => {
            // The iTIP method of the attachment (REQUEST or CANCEL) goes in its content type
            // too, so mail clients offer to add, update or remove the event.
            let method = crate::ics::method_of(ics).unwrap_or("REQUEST");
            let calendar_type =
                ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .map_err(|e| SendError::Permanent(e.to_string()))?;
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(m.body.clone()))
                    .singlepart(
                        Attachment::new("invitasjon.ics".into()).body(ics.clone(), calendar_type),
                    ),
            )
        }
    }
    .map_err(|e| SendError::Permanent(format!("could not build the message: {e}")))?;
    match transport.send(email).await {
        Ok(response) => Ok(Delivered(format!(
            "{} {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        ))),
        Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
        Err(e) => Err(SendError::Temporary(e.to_string())),
    }
}

/// Escapes a value for a JSON string literal (without the quotes).
fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn form_escape(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Fills the body template for one message.
pub fn sms_body(settings: &SmsGatewaySettings, to: &str, text: &str) -> String {
    let escape: fn(&str) -> String = if settings.content_type.starts_with("application/json") {
        json_escape
    } else {
        form_escape
    };
    settings
        .body_template
        .replace("{to}", &escape(to))
        .replace("{text}", &escape(text))
}

async fn send_sms(
    client: &reqwest::Client,
    s: &SmsGatewaySettings,
    m: &OutboxMessage,
) -> Result<Delivered, SendError> {
    if m.channel != OutboxChannel::Sms {
        return Err(SendError::Permanent("not an SMS message".into()));
    }
    let mut req = client
        .post(&s.url)
        .header(reqwest::header::CONTENT_TYPE, &s.content_type)
        .body(sms_body(s, &m.recipient, &m.body));
    if let Some((name, value)) = s.auth_header.split_once(':') {
        req = req.header(name.trim(), value.trim());
    }
    let res = req
        .send()
        .await
        .map_err(|e| SendError::Temporary(format!("gateway unreachable: {e}")))?;
    let status = res.status();
    let text: String = res
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let answer = format!("{} {}", status.as_u16(), text.trim());
    if status.is_success() && (s.success_contains.is_empty() || text.contains(&s.success_contains))
    {
        Ok(Delivered(answer))
    } else if status.is_server_error() || status.as_u16() == 429 || status.is_success() {
        Err(SendError::Temporary(answer))
    } else {
        Err(SendError::Permanent(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_bodies_are_escaped_for_their_content_type() {
        let mut s = SmsGatewaySettings {
            url: "http://127.0.0.1/sms".into(),
            auth_header: String::new(),
            content_type: "application/json".into(),
            body_template: r#"{"to":"{to}","message":"{text}"}"#.into(),
            success_contains: String::new(),
        };
        let body = sms_body(&s, "+4791234567", "Hei \"Kari\"\nKl. 10 & 11");
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["message"], "Hei \"Kari\"\nKl. 10 & 11");
        s.content_type = "application/x-www-form-urlencoded".into();
        s.body_template = "to={to}&text={text}".into();
        assert_eq!(
            sms_body(&s, "+4791234567", "a&b c"),
            "to=%2B4791234567&text=a%26b+c"
        );
    }
}
