//! Patients (service recipients) and the validation of what staff enter about them.
//!
//! The national identity number (fødselsnummer or D-number) is validated with its two
//! mod-11 check digits. It is stored, shown only to the care team, and never put in a URL
//! or a log line: its `Debug` output is masked.

use crate::Language;
use jiff::civil::Date;
use serde::Deserialize;
use std::fmt;

/// An 11-digit Norwegian national identity number with valid check digits.
#[derive(Clone, PartialEq, Eq)]
pub struct NationalId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NationalIdError {
    #[error("must be exactly 11 digits")]
    Length,
    #[error("the check digits do not match")]
    Checksum,
}

impl NationalId {
    pub fn parse(input: &str) -> Result<NationalId, NationalIdError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NationalIdError::Length);
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let check = |weights: &[u32]| -> Option<u32> {
            let sum: u32 = weights.iter().zip(&d).map(|(w, x)| w * x).sum();
            match 11 - sum % 11 {
                11 => Some(0),
                10 => None,
                k => Some(k),
            }
        };
        let k1 = check(&[3, 7, 6, 1, 8, 9, 4, 5, 2]).ok_or(NationalIdError::Checksum)?;
        if k1 != d[9] {
            return Err(NationalIdError::Checksum);
        }
        let k2 = check(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]).ok_or(NationalIdError::Checksum)?;
        if k2 != d[10] {
            return Err(NationalIdError::Checksum);
        }
        Ok(NationalId(digits))
    }

    /// Completes nine leading digits (birth date and individual number) with valid check
    /// digits, if any exist. Used to make synthetic numbers for demo data and tests.
    pub fn complete(first_nine: &str) -> Option<NationalId> {
        (0..100).find_map(|k| NationalId::parse(&format!("{first_nine}{k:02}")).ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Only the birth-date part, for lists where the full number is not needed.
    pub fn masked(&self) -> String {
        format!("{}*****", &self.0[..6])
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({})", self.masked())
    }
}

/// Problems with one field of a patient form, keyed by field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PatientFieldError {
    pub field: &'static str,
    pub message: String,
}

/// What staff enter to register a patient, before validation.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewPatient {
    pub name: String,
    /// ISO date, e.g. 1941-03-15.
    pub birth_date: String,
    /// 11 digits. Stored; never in a URL or a log.
    pub national_id: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub language: Language,
}

/// A validated patient registration.
#[derive(Debug, Clone)]
pub struct ValidPatient {
    pub name: String,
    pub birth_date: Date,
    pub national_id: NationalId,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Language,
}

impl NewPatient {
    /// Checks every field, and returns all problems at once so a form can show them together.
    pub fn validate(&self) -> Result<ValidPatient, Vec<PatientFieldError>> {
        let mut errors = Vec::new();
        let mut err = |field: &'static str, message: &str| {
            errors.push(PatientFieldError {
                field,
                message: message.to_owned(),
            })
        };
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            err("name", "the name is missing");
        } else if name.chars().count() > 200 {
            err("name", "the name is longer than 200 characters");
        }
        let birth_date = match self.birth_date.trim().parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                err("birth_date", "use the form YYYY-MM-DD, e.g. 1941-03-15");
                None
            }
        };
        let national_id = match NationalId::parse(&self.national_id) {
            Ok(n) => Some(n),
            Err(e) => {
                err(
                    "national_id",
                    &format!("not a valid national identity number: {e}"),
                );
                None
            }
        };
        let phone = normalise_phone(&self.phone);
        if let Err(m) = &phone {
            err("phone", m);
        }
        let email = self.email.trim();
        if !email.is_empty() && !is_plausible_email(email) {
            err("email", "not a valid e-mail address");
        }
        match (birth_date, national_id, phone) {
            (Some(birth_date), Some(national_id), Ok(phone)) if errors.is_empty() => {
                Ok(ValidPatient {
                    name,
                    birth_date,
                    national_id,
                    phone,
                    email: (!email.is_empty()).then(|| email.to_owned()),
                    language: self.language,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Normalises a phone number to E.164. Eight digits without a country code are taken as
/// Norwegian (+47). An empty input means no phone.
pub fn normalise_phone(input: &str) -> Result<Option<String>, &'static str> {
    let compact: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    if compact.is_empty() {
        return Ok(None);
    }
    let digits = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_owned()
    } else if compact.len() == 8 {
        format!("47{compact}")
    } else {
        return Err("write the number with its country code, e.g. +47 912 34 567");
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a phone number may contain only digits, spaces and a leading +");
    }
    if let Some(national) = digits.strip_prefix("47") {
        if national.len() != 8 {
            return Err("a Norwegian number has 8 digits after +47");
        }
    } else if !(8..=15).contains(&digits.len()) {
        return Err("an international number has 8 to 15 digits");
    }
    Ok(Some(format!("+{digits}")))
}

/// A conservative e-mail shape check: one `@`, a local part, a dotted domain, no spaces.
pub fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_id_check_digits() {
        let id = NationalId::complete("150341123").expect("a valid completion exists");
        assert!(NationalId::parse(id.as_str()).is_ok());
        let mut wrong = id.as_str().to_owned();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '9' {
            '0'
        } else {
            char::from(last as u8 + 1)
        });
        assert_eq!(NationalId::parse(&wrong), Err(NationalIdError::Checksum));
        assert_eq!(NationalId::parse("1234"), Err(NationalIdError::Length));
        assert_eq!(
            NationalId::parse("1503411234x"),
            Err(NationalIdError::Length)
        );
        assert!(!format!("{id:?}").contains(&id.as_str()[6..]));
    }

    #[test]
    fn phone_numbers() {
        assert_eq!(
            normalise_phone("912 34 567"),
            Ok(Some("+4791234567".into()))
        );
        assert_eq!(
            normalise_phone("+47 912 34 567"),
            Ok(Some("+4791234567".into()))
        );
        assert_eq!(
            normalise_phone("0046 70 123 45 67"),
            Ok(Some("+46701234567".into()))
        );
        assert_eq!(normalise_phone(""), Ok(None));
        assert!(normalise_phone("+47 1234").is_err());
        assert!(normalise_phone("12345").is_err());
        assert!(normalise_phone("+47 abc defgh").is_err());
    }

    #[test]
    fn patient_validation_reports_every_field() {
        let bad = NewPatient {
            name: " ".into(),
            birth_date: "15.03.1941".into(),
            national_id: "123".into(),
            phone: "12".into(),
            email: "not-an-address".into(),
            language: Language::Nb,
        };
        let errors = bad.validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["name", "birth_date", "national_id", "phone", "email"]
        );

        let good = NewPatient {
            name: "Kari Nordmann".into(),
            birth_date: "1941-03-15".into(),
            national_id: NationalId::complete("150341123").unwrap().as_str().into(),
            phone: "91234567".into(),
            email: "".into(),
            language: Language::Nn,
        };
        let valid = good.validate().unwrap();
        assert_eq!(valid.phone.as_deref(), Some("+4791234567"));
        assert_eq!(valid.email, None);
    }
}
