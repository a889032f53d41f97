//! Digital home follow-up (HF-1..HF-12): the rules, without any I/O.
//!
//! This crate holds what home follow-up *decides*, so it can be tested exhaustively and
//! benchmarked; the store keeps the data, the app layer checks access and writes the audit log,
//! and the web layer shows pages and serves FHIR. Nothing here touches a database, a socket, a
//! file or the clock: every function takes the data it needs and a `now`.
//!
//! - [`catalogue`]: the measurements (LOINC, UCUM, plausible ranges) and [`Observation`];
//! - [`careplan`]: the self-care plan per colour, versioned and approved by the GP;
//! - [`questionnaire`]: our own scored questionnaires, texts in bokmål, nynorsk and English;
//! - [`triage`](mod@triage): rules per condition and per patient — absolute limits, change from baseline,
//!   trends, questionnaire bands — giving a colour with an explanation, or "measure again";
//! - [`whatif`]: how many alerts a changed rule set would have raised over a history;
//! - [`notes`]: summary notes per alert and per period for the patient record (HF-10);
//! - [`worklist`]: the follow-up centre's order (red, yellow, missing reports) and escalation;
//! - [`schedule`]: when tasks are due and which reports are missing, in Europe/Oslo, with pauses;
//! - [`fhir`]: minimal FHIR R4 JSON types for the resources Helsebro serves, conversion from the
//!   types above, and validation of incoming Observations into errors that become an
//!   OperationOutcome;
//! - [`time`]: Norwegian local days and due times, DST-correct.
//!
//! Checks beyond `cargo test -p helsebro-followup`:
//!
//! ```sh
//! # throughput of pure triage (observations per second), no storage
//! cargo run --release -p helsebro-followup --bin followup-bench -- 200000 1000
//! # our FHIR output against the official R4 JSON schema (npm package, installed once)
//! (cd crates/followup/fhir-schema && npm install --no-audit --no-fund)
//! cargo run -q -p helsebro-followup --example fhir-samples | node crates/followup/fhir-schema/validate.mjs
//! ```

pub mod careplan;
pub mod catalogue;
pub mod colour;
pub mod fhir;
pub mod notes;
pub mod questionnaire;
pub mod schedule;
pub mod text;
pub mod time;
pub mod triage;
pub mod whatif;
pub mod worklist;

pub use catalogue::{MeasurementKind, Metric, Observation, Source, Value};
pub use colour::{Colour, Direction, Interpretation};
pub use text::{Lang, Text};
pub use triage::{
    Condition, History, Outcome, PatientSettings, RuleSet, triage, triage_response, triage_with,
};
