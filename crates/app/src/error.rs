//! The one error type of the app crate's boundary.

use helsebro_store::StoreError;
use std::time::Duration;

/// A problem with one input field, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not logged in, or the session has expired.
    #[error("you are not logged in, or your session has expired")]
    Unauthenticated,
    /// Wrong username or password, or a wrong code. Deliberately vague.
    #[error("{0}")]
    BadCredentials(&'static str),
    #[error("you do not have access to this: {0}")]
    Forbidden(&'static str),
    #[error("{0} was not found")]
    NotFound(&'static str),
    #[error("some fields need attention")]
    Invalid(Vec<FieldError>),
    /// The request itself could not be read (malformed JSON, wrong content type).
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; try again in {} seconds", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Conflict(what) => AppError::Conflict(format!("{what} already exists")),
            other => AppError::Internal(other.to_string()),
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
