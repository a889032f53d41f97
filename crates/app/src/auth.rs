//! Staff login: argon2id passwords, TOTP two-factor (enrolment and verification), sessions
//! with an idle timeout, and rate limits on login and code attempts (ID-1, ID-5).

use crate::access::StaffPrincipal;
use crate::error::{AppError, Result};
use crate::secrets::{random_token, same, token_hash};
use crate::{App, Config};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use helsebro_domain::{AuditAction, AuditOutcome, Role};
use helsebro_store::{NewAuditEntry, Session, SessionStage};
use jiff::SignedDuration;
use std::num::NonZeroU32;
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

/// Shortest password accepted for staff.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Hashes a password with argon2id and a random salt (PHC string format).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| AppError::Internal(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Checks a password against a stored hash, off the async threads.
async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when the username is unknown so that
/// response times do not reveal which usernames exist.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn dummy_hash() -> String {
    DUMMY_HASH
        .get_or_init(|| {
            let mut salt = [0u8; 16];
            let _ = getrandom::fill(&mut salt);
            SaltString::encode_b64(&salt)
                .ok()
                .and_then(|salt| {
                    Argon2::default()
                        .hash_password(random_token(16).as_bytes(), &salt)
                        .ok()
                        .map(|h| h.to_string())
                })
                .unwrap_or_default()
        })
        .clone()
}

/// Checks a new password against the password policy.
pub fn check_password_policy(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            format!("the password must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if password.len() > 1024 {
        return Err(AppError::invalid("password", "the password is too long"));
    }
    Ok(())
}

/// Per-key rate limiters for login attempts and code checks.
pub(crate) struct RateLimits {
    by_username: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<String>,
    codes: DefaultKeyedRateLimiter<String>,
    /// Self-test connections to the media server, per client address.
    pub(crate) probes: DefaultKeyedRateLimiter<String>,
    /// Calendar feed requests, per client address.
    pub(crate) feeds: DefaultKeyedRateLimiter<String>,
}

impl RateLimits {
    pub(crate) fn new(config: &Config) -> RateLimits {
        let per_minute =
            NonZeroU32::new(config.login_attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        // Several people may share one address (a ward's network): allow four times as many.
        let per_address = per_minute.saturating_mul(NonZeroU32::new(4).unwrap_or(NonZeroU32::MIN));
        RateLimits {
            by_username: RateLimiter::keyed(Quota::per_minute(per_minute)),
            by_address: RateLimiter::keyed(Quota::per_minute(per_address)),
            codes: RateLimiter::keyed(Quota::per_minute(per_minute)),
            probes: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            )),
            feeds: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    pub(crate) fn check(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<()> {
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited(wait.max(std::time::Duration::from_secs(1)))
        })
    }

    /// Forgets keys whose limits have fully recovered, so memory does not grow.
    pub(crate) fn shrink(&self) {
        self.by_username.retain_recent();
        self.by_address.retain_recent();
        self.codes.retain_recent();
        self.probes.retain_recent();
        self.feeds.retain_recent();
    }
}

/// Where a login stands after the password step.
#[derive(Debug, Clone)]
pub struct LoginStart {
    /// The session token for the cookie. Only its hash is stored.
    pub token: String,
    pub stage: SessionStage,
}

/// A session looked up from its cookie.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub principal: StaffPrincipal,
    pub stage: SessionStage,
}

/// What the enrolment page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Enrolment {
    /// Base32 secret, for typing into an authenticator app by hand.
    pub secret: String,
    /// `otpauth://totp/…` URI.
    pub uri: String,
    /// The URI as an inline SVG QR code.
    pub qr_svg: String,
}

fn totp_for(secret_b32: &str, account: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|_| AppError::Internal("stored TOTP secret is not valid base32".into()))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Helsebro".into()),
        account.replace(':', "_"),
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The TOTP time step (30 s) in which `code` is valid for `secret`, allowing one step of clock
/// drift either way.
pub fn matching_totp_step(
    secret_b32: &str,
    account: &str,
    code: &str,
    unix_seconds: u64,
) -> Result<Option<i64>> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp_for(secret_b32, account)?;
    for offset in [0i64, -1, 1] {
        let step = (unix_seconds / 30) as i64 + offset;
        if step < 0 {
            continue;
        }
        if same(&totp.generate(step as u64 * 30), &code) {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

/// The current code for a secret (used by the demo helper command and tests).
pub fn current_totp_code(secret_b32: &str, unix_seconds: u64) -> Result<String> {
    Ok(totp_for(secret_b32, "x")?.generate(unix_seconds))
}

impl App {
    fn audit_entry(
        &self,
        actor: Option<Uuid>,
        label: &str,
        action: AuditAction,
        outcome: AuditOutcome,
        ip: &str,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor_id: actor,
            actor_label: label.chars().take(100).collect(),
            action,
            outcome,
            patient_id: None,
            object: String::new(),
            ip: ip.to_owned(),
            detail: String::new(),
            flagged: false,
        }
    }

    /// Logs what a staff member's own login did.
    async fn log_login(
        &self,
        p: &StaffPrincipal,
        action: AuditAction,
        outcome: AuditOutcome,
        ip: &str,
    ) -> Result<()> {
        let entry = self.audit_entry(Some(p.id), &p.username, action, outcome, ip);
        self.store().append_audit(&entry, self.now()).await?;
        Ok(())
    }

    /// The password step of a login.
    pub async fn login(&self, username: &str, password: &str, ip: &str) -> Result<LoginStart> {
        let username = username.trim();
        let limits = &self.inner.limits;
        let limited = RateLimits::check(&limits.by_address, ip.to_owned())
            .and_then(|_| RateLimits::check(&limits.by_username, username.to_lowercase()));
        if let Err(e) = limited {
            self.store()
                .append_audit(
                    &self.audit_entry(
                        None,
                        username,
                        AuditAction::LoginRateLimited,
                        AuditOutcome::Denied,
                        ip,
                    ),
                    self.now(),
                )
                .await?;
            return Err(e);
        }
        let staff = self.store().staff_by_username(username).await?;
        let ok = match &staff {
            Some(s) if s.active => {
                verify_password(password.to_owned(), s.password_hash.clone()).await
            }
            _ => {
                verify_password(password.to_owned(), dummy_hash()).await;
                false
            }
        };
        let Some(staff) = staff.filter(|_| ok) else {
            self.store()
                .append_audit(
                    &self.audit_entry(
                        None,
                        username,
                        AuditAction::LoginFailed,
                        AuditOutcome::Failed,
                        ip,
                    ),
                    self.now(),
                )
                .await?;
            return Err(AppError::BadCredentials("wrong username or password"));
        };
        let org = self.organisation().await?;
        let stage = if staff.totp_secret.is_some() {
            SessionStage::Totp
        } else if staff.roles.iter().any(|r| org.totp_roles.contains(r)) {
            SessionStage::Enrol
        } else {
            SessionStage::Full
        };
        let token = random_token(32);
        let now = self.now();
        self.store()
            .create_session(
                &Session {
                    token_hash: token_hash(&token),
                    staff_id: staff.id,
                    stage,
                    csrf_token: random_token(32),
                    created_at: now,
                    last_seen: now,
                },
                ip,
            )
            .await?;
        if stage == SessionStage::Full {
            self.store()
                .append_audit(
                    &self.audit_entry(
                        Some(staff.id),
                        &staff.username,
                        AuditAction::LoginSucceeded,
                        AuditOutcome::Success,
                        ip,
                    ),
                    now,
                )
                .await?;
        }
        Ok(LoginStart { token, stage })
    }

    /// Looks up the session behind a cookie token; ends it if it has expired.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        if token.len() != 64 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some(session) = self.store().session(&hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let cfg = self.config();
        let idle = SignedDuration::from_mins(i64::from(cfg.session_idle_minutes));
        let max = SignedDuration::from_hours(i64::from(cfg.session_max_hours));
        if now.duration_since(session.last_seen) > idle
            || now.duration_since(session.created_at) > max
        {
            self.store().delete_session(&hash).await?;
            return Ok(None);
        }
        let Some(staff) = self.store().staff_by_id(session.staff_id).await? else {
            return Ok(None);
        };
        if !staff.active {
            self.store().delete_session(&hash).await?;
            return Ok(None);
        }
        // Write the sliding timestamp at most once a minute.
        if now.duration_since(session.last_seen) > SignedDuration::from_mins(1) {
            self.store().touch_session(&hash, now).await?;
        }
        Ok(Some(SessionInfo {
            principal: StaffPrincipal {
                id: staff.id,
                username: staff.username,
                display_name: staff.display_name,
                roles: staff.roles,
                language: staff.language,
                csrf_token: session.csrf_token,
                session_hash: hash,
            },
            stage: session.stage,
        }))
    }

    fn check_code_rate(&self, staff_id: Uuid) -> Result<()> {
        RateLimits::check(&self.inner.limits.codes, format!("totp:{staff_id}"))
    }

    fn unix_seconds(&self) -> u64 {
        u64::try_from(self.now().as_second()).unwrap_or(0)
    }

    /// The second step: a TOTP code for a user who has enrolled.
    pub async fn verify_totp(&self, session: &SessionInfo, code: &str, ip: &str) -> Result<()> {
        if session.stage != SessionStage::Totp {
            return Err(AppError::Forbidden("this login does not wait for a code"));
        }
        let p = &session.principal;
        self.check_code_rate(p.id)?;
        let staff = self
            .store()
            .staff_by_id(p.id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let secret = staff.totp_secret.ok_or(AppError::Unauthenticated)?;
        let step = matching_totp_step(&secret, &p.username, code, self.unix_seconds())?;
        let accepted = match step {
            Some(step) => self.store().claim_totp_step(p.id, step).await?,
            None => false,
        };
        if !accepted {
            self.log_login(p, AuditAction::TotpFailed, AuditOutcome::Failed, ip)
                .await?;
            return Err(AppError::BadCredentials(
                "the code is wrong or has already been used",
            ));
        }
        self.store()
            .set_session_stage(&p.session_hash, SessionStage::Full)
            .await?;
        self.log_login(p, AuditAction::LoginSucceeded, AuditOutcome::Success, ip)
            .await?;
        Ok(())
    }

    /// The secret and QR code for a user who must enrol in two-factor login.
    pub async fn enrolment(&self, session: &SessionInfo) -> Result<Enrolment> {
        if session.stage != SessionStage::Enrol {
            return Err(AppError::Forbidden("this login does not need enrolment"));
        }
        let p = &session.principal;
        let secret = match self.store().pending_totp_secret(&p.session_hash).await? {
            Some(s) => s,
            None => {
                let mut raw = [0u8; 20];
                getrandom::fill(&mut raw).map_err(|e| AppError::Internal(e.to_string()))?;
                let Secret::Encoded(s) = Secret::Raw(raw.to_vec()).to_encoded() else {
                    return Err(AppError::Internal("could not encode the secret".into()));
                };
                self.store()
                    .set_pending_totp_secret(&p.session_hash, Some(&s))
                    .await?;
                s
            }
        };
        let uri = totp_for(&secret, &p.username)?.get_url();
        let qr_svg = qrcode::QrCode::new(uri.as_bytes())
            .map_err(|e| AppError::Internal(e.to_string()))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .build();
        // Keep only the <svg> element for inline use.
        let qr_svg = qr_svg
            .find("<svg")
            .map(|i| qr_svg[i..].to_owned())
            .unwrap_or_default();
        Ok(Enrolment {
            secret,
            uri,
            qr_svg,
        })
    }

    /// Confirms enrolment with the first code from the user's app.
    pub async fn finish_enrolment(
        &self,
        session: &SessionInfo,
        code: &str,
        ip: &str,
    ) -> Result<()> {
        if session.stage != SessionStage::Enrol {
            return Err(AppError::Forbidden("this login does not need enrolment"));
        }
        let p = &session.principal;
        self.check_code_rate(p.id)?;
        let secret = self
            .store()
            .pending_totp_secret(&p.session_hash)
            .await?
            .ok_or(AppError::invalid(
                "code",
                "open the enrolment page again to get a new code",
            ))?;
        let Some(step) = matching_totp_step(&secret, &p.username, code, self.unix_seconds())?
        else {
            self.log_login(p, AuditAction::TotpFailed, AuditOutcome::Failed, ip)
                .await?;
            return Err(AppError::BadCredentials(
                "the code is wrong; check the time on your phone and try the next code",
            ));
        };
        self.store()
            .set_totp_secret(p.id, Some(&secret), step)
            .await?;
        self.store()
            .set_pending_totp_secret(&p.session_hash, None)
            .await?;
        self.store()
            .set_session_stage(&p.session_hash, SessionStage::Full)
            .await?;
        self.log_login(p, AuditAction::TotpEnrolled, AuditOutcome::Success, ip)
            .await?;
        self.log_login(p, AuditAction::LoginSucceeded, AuditOutcome::Success, ip)
            .await?;
        Ok(())
    }

    pub async fn logout(&self, session: &SessionInfo, ip: &str) -> Result<()> {
        let p = &session.principal;
        self.store().delete_session(&p.session_hash).await?;
        self.log_login(p, AuditAction::Logout, AuditOutcome::Success, ip)
            .await
    }

    /// Sets the staff member's preferred language.
    pub async fn set_language(
        &self,
        principal: &StaffPrincipal,
        language: helsebro_domain::Language,
    ) -> Result<()> {
        Ok(self
            .store()
            .set_staff_language(principal.id, language)
            .await?)
    }

    /// Periodic clean-up: expired sessions and idle rate-limit keys.
    pub async fn housekeeping(&self) -> Result<u64> {
        self.inner.limits.shrink();
        self.prune_calls();
        let now = self.now();
        let cfg = self.config();
        let idle = now - SignedDuration::from_mins(i64::from(cfg.session_idle_minutes));
        let max = now - SignedDuration::from_hours(i64::from(cfg.session_max_hours));
        Ok(self.store().purge_sessions(idle, max).await?)
    }

    /// Whether any of `roles` must use two-factor login under the organisation's settings.
    pub async fn totp_required(&self, roles: &[Role]) -> Result<bool> {
        let org = self.organisation().await?;
        Ok(roles.iter().any(|r| org.totp_roles.contains(r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), h.clone()).await);
        assert!(!verify_password("wrong".into(), h).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("long enough password").is_ok());
    }

    #[test]
    fn totp_accepts_adjacent_steps_only() {
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let t = 1_800_000_000u64;
        let code = current_totp_code(secret, t).unwrap();
        assert_eq!(
            matching_totp_step(secret, "a", &code, t).unwrap(),
            Some((t / 30) as i64)
        );
        assert!(
            matching_totp_step(secret, "a", &code, t + 30)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            matching_totp_step(secret, "a", &code, t + 120).unwrap(),
            None
        );
        assert_eq!(matching_totp_step(secret, "a", "12345", t).unwrap(), None);
        assert_eq!(matching_totp_step(secret, "a", "abcdef", t).unwrap(), None);
    }
}
