-- Digital home follow-up (HF-1..HF-12). The rules live in the followup crate; these tables
-- keep who is followed up, what they measured, what triage said and what staff did about it.

-- A patient in home follow-up: conditions (JSON array of followup::Condition) and status.
CREATE TABLE followup_enrolments (
    patient_id      TEXT PRIMARY KEY REFERENCES patients(id) ON DELETE CASCADE,
    conditions      TEXT NOT NULL,
    status          TEXT NOT NULL,      -- active | paused | ended
    status_reason   TEXT NOT NULL DEFAULT '',
    enrolled_by     TEXT NOT NULL,
    enrolled_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- Missing reports and reminders have been looked for up to this time.
    swept_until     INTEGER NOT NULL
);

-- A clinician's change to one patient's triage rules (JSON followup::triage::Adjustment),
-- with who and why; applied in order of made_at.
CREATE TABLE followup_adjustments (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    adjustment      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    made_by         TEXT NOT NULL,
    made_by_label   TEXT NOT NULL,
    made_at         INTEGER NOT NULL
);
CREATE INDEX followup_adjustments_by_patient ON followup_adjustments (patient_id, made_at);

-- The measurement plan (HF-4): one JSON followup::schedule::TaskSchedule per row.
CREATE TABLE followup_schedules (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    schedule        TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX followup_schedules_by_patient ON followup_schedules (patient_id);

-- Readings (HF-6, HF-7). The same reading sent twice has the same idempotency key and is kept once.
CREATE TABLE followup_observations (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,      -- followup::MeasurementKind
    loinc           TEXT NOT NULL,
    value1          REAL NOT NULL,
    value2          REAL,               -- diastolic pressure
    unit            TEXT NOT NULL,      -- UCUM
    effective_at    INTEGER NOT NULL,
    device_error    INTEGER NOT NULL,
    device_id       TEXT,               -- NULL: entered by hand
    entered_via     TEXT NOT NULL,      -- app | staff | device
    received_at     INTEGER NOT NULL,
    colour          TEXT,               -- green | yellow | red; NULL: measure again
    explanation     TEXT NOT NULL,
    -- Green readings seen by staff ("acknowledge all green").
    reviewed_at     INTEGER
);
CREATE INDEX followup_observations_by_patient ON followup_observations (patient_id, effective_at);

-- The follow-up centre's work items (HF-8): red, yellow and missing reports.
CREATE TABLE followup_alerts (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,      -- red | yellow | missing_report
    observation_id  TEXT REFERENCES followup_observations(id) ON DELETE CASCADE,
    -- Missing reports: one per patient and due occurrence.
    occurrence_key  TEXT UNIQUE,
    explanation     TEXT NOT NULL,
    raised_at       INTEGER NOT NULL,
    escalated_at    INTEGER,
    acknowledged_by TEXT,
    acknowledged_by_label TEXT,
    acknowledged_at INTEGER,
    action          TEXT,               -- called | video_call | contacted_gp | adjusted_plan | no_action
    note            TEXT NOT NULL DEFAULT '',
    acted_at        INTEGER
);
CREATE INDEX followup_alerts_open ON followup_alerts (acknowledged_at, raised_at);
CREATE INDEX followup_alerts_by_patient ON followup_alerts (patient_id, raised_at);

-- Pauses (hospital stay, holiday): no missing reports or reminders while one covers a task.
CREATE TABLE followup_pauses (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    from_at         INTEGER NOT NULL,
    until_at        INTEGER,
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX followup_pauses_by_patient ON followup_pauses (patient_id);

-- A measuring device's token for POST /fhir/r4/Observation; only its SHA-256 is kept.
CREATE TABLE followup_device_tokens (
    token_hash      TEXT PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    label           TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);

-- The patient app (ID-2): one-time login codes (hashed) and sessions (token hashed).
CREATE TABLE followup_login_codes (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    code_hash       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    used_at         INTEGER
);
CREATE INDEX followup_login_codes_by_patient ON followup_login_codes (patient_id, created_at);

CREATE TABLE followup_patient_sessions (
    token_hash      TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
