-- Referral and inclusion (HF-1), service use against a baseline (HF-2) and end of service
-- (HF-11) for digital home follow-up. Keep in step with ../postgres/0009_followup_referrals.sql.
-- IDs are UUIDv7 text; times are UTC milliseconds; dates are 'YYYY-MM-DD'; flags are 0/1.
-- The care team's roles for a referral (referring, advising, following_up) are the existing
-- care_team.team_role codes, so care_team needs no change.

-- Inclusion and exclusion criteria, per service area (unit_id) or for the whole organisation
-- (unit_id NULL). Edited by a service owner or administrator; retired, never deleted, so an
-- assessment always points at the criterion it used.
CREATE TABLE followup_criteria (
    id              TEXT PRIMARY KEY,
    unit_id         TEXT REFERENCES units(id),
    kind            TEXT NOT NULL,      -- inclusion | exclusion
    text            TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    position        INTEGER NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX followup_criteria_by_unit ON followup_criteria (unit_id, active, position);

-- A referral to home follow-up from a hospital, a GP or a municipal service.
CREATE TABLE followup_referrals (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    source_kind     TEXT NOT NULL,      -- hospital | gp | municipal
    referrer_name   TEXT NOT NULL,
    referrer_org    TEXT NOT NULL,
    conditions      TEXT NOT NULL,      -- JSON array of followup::Condition
    reason          TEXT NOT NULL,
    received_on     TEXT NOT NULL,
    status          TEXT NOT NULL,      -- pending | accepted | declined
    decision_reason TEXT NOT NULL DEFAULT '',
    decided_by      TEXT,
    decided_by_label TEXT,
    decided_at      INTEGER,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX followup_referrals_by_patient ON followup_referrals (patient_id, created_at);
CREATE INDEX followup_referrals_by_status ON followup_referrals (status, received_on);

-- The assessment of one referral: each criterion met or not, as worded when assessed.
CREATE TABLE followup_referral_assessments (
    referral_id     TEXT NOT NULL REFERENCES followup_referrals(id) ON DELETE CASCADE,
    criterion_id    TEXT NOT NULL REFERENCES followup_criteria(id),
    kind            TEXT NOT NULL,
    text            TEXT NOT NULL,
    met             INTEGER NOT NULL,
    PRIMARY KEY (referral_id, criterion_id)
);

-- Use of health services in a period (HF-2): the baseline before inclusion and later periods.
CREATE TABLE followup_service_use (
    id                  TEXT PRIMARY KEY,
    patient_id          TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,  -- baseline | followup
    period_from         TEXT NOT NULL,
    period_to           TEXT NOT NULL,
    admissions          INTEGER NOT NULL,
    bed_days            INTEGER NOT NULL,
    outpatient_visits   INTEGER NOT NULL,
    gp_contacts         INTEGER NOT NULL,
    emergency_contacts  INTEGER NOT NULL,
    home_care_visits    INTEGER NOT NULL,
    patient_trips       INTEGER NOT NULL,
    recorded_by         TEXT NOT NULL,
    recorded_by_label   TEXT NOT NULL,
    recorded_at         INTEGER NOT NULL
);
CREATE INDEX followup_service_use_by_patient ON followup_service_use (patient_id, period_from);

-- The end of one period of follow-up (HF-11).
CREATE TABLE followup_endings (
    id                  TEXT PRIMARY KEY,
    patient_id          TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    reason              TEXT NOT NULL,  -- recovered_stable | moved | deceased | institution | patient_wish | other
    evaluation          TEXT NOT NULL,
    goals_met           INTEGER NOT NULL,
    handover_to         TEXT NOT NULL,  -- gp | home_care | hospital | none
    handover_receiver   TEXT NOT NULL,
    ended_by            TEXT NOT NULL,
    ended_by_label      TEXT NOT NULL,
    ended_at            INTEGER NOT NULL
);
CREATE INDEX followup_endings_by_patient ON followup_endings (patient_id, ended_at);

-- Lent equipment checked at the end of service: each item and whether it came back.
CREATE TABLE followup_equipment_returns (
    id              TEXT PRIMARY KEY,
    ending_id       TEXT NOT NULL REFERENCES followup_endings(id) ON DELETE CASCADE,
    patient_id      TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    item            TEXT NOT NULL,
    device_token_id TEXT,
    returned        INTEGER NOT NULL
);
CREATE INDEX followup_equipment_returns_by_ending ON followup_equipment_returns (ending_id);
