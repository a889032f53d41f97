//! Benchmark: home follow-up ingestion with triage, end to end through the app layer into
//! SQLite (the embedded default): per reading the patient's rules and history are applied,
//! the reading is stored under its idempotency key, red/yellow readings raise alerts, and each
//! batch is committed with its audit entry (hash chain) — the same path as
//! `POST /fhir/r4/Observation` without HTTP.
//!
//! Two figures: devices uploading batches (one transaction per batch of `BATCH` readings of one
//! patient), and single readings (one transaction each, like the patient app).
//!
//! ```sh
//! cargo run --release -p helsebro --example followup_ingest -- [patients] [readings-per-patient] [--write]
//! ```
//! With `--write` the figures replace this benchmark's section of `docs/benchmarks.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use helsebro_app::admin::StaffInput;
use helsebro_app::followup::rules::{Condition, MeasurementKind, Observation};
use helsebro_app::{App, Config, Purpose, StaffPrincipal};
use helsebro_domain::{FakeClock, NationalId, NewPatient, Role};
use helsebro_store::Store;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Instant;

const BATCH: usize = 100;

fn readings(patient: usize, n: usize, start: Timestamp) -> Vec<Observation> {
    (0..n)
        .map(|i| {
            let at = start + SignedDuration::from_mins(i as i64 * 15);
            // A wandering SpO2 around 93 with an occasional dip (some yellow and red).
            let v = 93.0 + ((i * 7 + patient * 3) % 9) as f64
                - 4.0
                - if i % 97 == 0 { 6.0 } else { 0.0 };
            let kind = if i % 2 == 0 {
                MeasurementKind::OxygenSaturation
            } else {
                MeasurementKind::Pulse
            };
            let value = if kind == MeasurementKind::Pulse {
                60.0 + ((i * 13) % 70) as f64
            } else {
                v
            };
            Observation::manual(kind, at, value)
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let patients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let per_patient: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let write = args.iter().any(|a| a == "--write");

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    config.database_url = Store::sqlite_url_in(dir.path());
    let store = Store::connect(&config.effective_database_url(), 8)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let start = Timestamp::from_second(1_800_000_000).unwrap();
    let clock = FakeClock::new(start + SignedDuration::from_hours(24 * 400));
    let app = App::with_clock(store.clone(), config, Arc::new(clock));
    app.bootstrap().await.unwrap();
    let roles = vec![Role::FollowUpNurse, Role::Clinician];
    let staff = app
        .create_staff(
            None,
            &StaffInput {
                username: "bench".into(),
                display_name: "Bench".into(),
                email: String::new(),
                password: "a long benchmark password".into(),
                roles: roles.clone(),
                unit_id: None,
            },
            "bench",
        )
        .await
        .unwrap();
    let principal = StaffPrincipal {
        id: staff,
        username: "bench".into(),
        display_name: "Bench".into(),
        roles,
        language: None,
        csrf_token: String::new(),
        session_hash: String::new(),
    };
    let mut ids = Vec::new();
    let mut seq = 0u32;
    while ids.len() < patients + 1 {
        seq += 1;
        let nine = format!(
            "{:02}{:02}50{:03}",
            1 + seq % 28,
            1 + (seq / 28) % 12,
            seq % 1000
        );
        let Some(nid) = NationalId::complete(&nine) else {
            continue;
        };
        let new = NewPatient {
            name: format!("Pasient {seq}"),
            birth_date: "1950-01-01".into(),
            national_id: nid.as_str().to_owned(),
            phone: String::new(),
            email: String::new(),
            language: helsebro_domain::Language::Nb,
        };
        let Ok(id) = app.register_patient(&principal, &new, "bench").await else {
            continue;
        };
        let access = app
            .authorize_patient(&principal, id, Purpose::Change, "bench")
            .await
            .unwrap();
        app.enrol_followup(&access, &[Condition::Copd], &[])
            .await
            .unwrap();
        ids.push(id);
    }

    // Batches.
    let t = Instant::now();
    let mut n = 0usize;
    let mut alerts = 0usize;
    for (p, id) in ids.iter().take(patients).enumerate() {
        let all = readings(p, per_patient, start);
        for chunk in all.chunks(BATCH) {
            let out = app
                .ingest_batch(*id, chunk.to_vec(), "bench")
                .await
                .unwrap();
            n += out.len();
            alerts += out
                .iter()
                .filter(|o| o.colour.is_some_and(|c| c.is_alert()))
                .count();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let batch_rate = n as f64 / secs;
    println!(
        "batches of {BATCH}: {n} readings in {secs:.2} s = {batch_rate:.0} readings/s ({alerts} alerts)"
    );

    // Single readings (one transaction each), on the spare patient.
    let single_n = 2000.min(per_patient.max(200));
    let spare = ids[patients];
    let t = Instant::now();
    for o in readings(patients, single_n, start) {
        app.ingest_batch(spare, vec![o], "bench").await.unwrap();
    }
    let secs1 = t.elapsed().as_secs_f64();
    let single_rate = single_n as f64 / secs1;
    println!("single readings: {single_n} in {secs1:.2} s = {single_rate:.0} readings/s");

    if write {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let section = format!(
            "<!-- followup-ingest -->\n# Home follow-up ingestion with triage\n\n\
             Written by `cargo run --release -p helsebro --example followup_ingest -- {patients} {per_patient} --write`; \
             the program's source says what it measures. SQLite in WAL mode with `synchronous=FULL` on a temporary \
             directory, {cores} cores (available_parallelism). Every reading is triaged against the patient's COPD \
             rules and the {history} days of history those rules look back over, stored under its idempotency key, alerts raised, and each \
             transaction carries its audit entry.\n\n\
             | mode | readings | seconds | readings/s |\n|---|---|---|---|\n\
             | device batches of {BATCH} (one transaction each) | {n} | {secs:.2} | **{batch_rate:.0}** |\n\
             | single readings (one transaction each) | {single_n} | {secs1:.2} | {single_rate:.0} |\n\n\
             Target (issue 4): ≥ 5,000 readings/s on SQLite.\n<!-- /followup-ingest -->\n",
            history = helsebro_app::followup::rules::RuleSet::for_patient(
                &[Condition::Copd],
                &helsebro_app::followup::rules::PatientSettings::default(),
            )
            .lookback_days(),
        );
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = match (
            old.find("<!-- followup-ingest -->"),
            old.find("<!-- /followup-ingest -->"),
        ) {
            (Some(a), Some(b)) => format!(
                "{}{}{}",
                &old[..a],
                section,
                &old[b + "<!-- /followup-ingest -->\n".len().min(old.len() - b)..]
            ),
            _ => format!(
                "{}{}{}",
                old,
                if old.is_empty() || old.ends_with("\n\n") {
                    ""
                } else {
                    "\n"
                },
                section
            ),
        };
        std::fs::write(&path, new).unwrap();
        println!("wrote {}", path.display());
    }
}
