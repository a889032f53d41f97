-- Self-care plans (HF-3) and questionnaire responses (HF-4, HF-5, HF-7).

-- One row per version of a patient's self-care plan. A change makes a new version and the old
-- ones are kept; a version without approved_at is a draft the patient does not see.
CREATE TABLE followup_plans (
    id                  TEXT PRIMARY KEY,
    patient_id          TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    version             BIGINT NOT NULL,
    conditions          TEXT NOT NULL,      -- JSON array of followup::Condition
    entries             TEXT NOT NULL,      -- JSON array of app::followup_plans::PlanEntry
    created_by          TEXT NOT NULL,
    created_by_label    TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    approved_by         TEXT,
    approved_by_label   TEXT,
    approved_at         BIGINT,
    UNIQUE (patient_id, version)
);

-- A completed questionnaire with its score and triage colour.
CREATE TABLE followup_responses (
    id                  TEXT PRIMARY KEY,
    patient_id          TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    questionnaire       TEXT NOT NULL,      -- followup::questionnaire id
    questionnaire_version TEXT NOT NULL,
    answers             TEXT NOT NULL,      -- JSON array of [link_id, option code]
    score               BIGINT NOT NULL,
    colour              TEXT NOT NULL,      -- green | yellow | red
    explanation         TEXT NOT NULL,
    entered_via         TEXT NOT NULL,      -- app | staff
    authored_at         BIGINT NOT NULL,
    received_at         BIGINT NOT NULL
);
CREATE INDEX followup_responses_by_patient ON followup_responses (patient_id, authored_at);

-- A red or yellow response raises an alert on the work list like a reading does.
ALTER TABLE followup_alerts ADD COLUMN questionnaire_response_id TEXT
    REFERENCES followup_responses(id) ON DELETE CASCADE;
