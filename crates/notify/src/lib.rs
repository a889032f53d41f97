//! Notifications to patients, relatives and staff (NT-1 to NT-4, VC-16).
//!
//! - `templates`: the texts of every message, in Fluent, per language (nb, nn, en), with no
//!   health information beyond the minimum.
//! - `sms`: how many SMS segments a text needs (GSM-7 or UCS-2).
//! - `ics`: iCalendar (RFC 5545) invitations for staff, marked private.

pub mod ics;
pub mod providers;
pub mod schedule;
pub mod sender;
pub mod sms;
pub mod templates;
