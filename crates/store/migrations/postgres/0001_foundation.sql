-- Helsebro foundation schema (PostgreSQL). Keep in step with ../sqlite/0001_foundation.sql.
-- IDs are UUIDv7 text; times are UTC milliseconds since the Unix epoch; flags are 0/1.

CREATE TABLE organisation (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    support_phone   TEXT NOT NULL,
    support_email   TEXT NOT NULL,
    support_hours   TEXT NOT NULL,
    -- Space-separated role codes that must use two-factor login.
    totp_roles      TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE units (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL
);

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    language        TEXT,
    unit_id         TEXT REFERENCES units(id),
    active          BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL
);

CREATE TABLE staff_roles (
    staff_id    TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    PRIMARY KEY (staff_id, role)
);

CREATE TABLE patients (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    national_id     TEXT NOT NULL UNIQUE,
    phone           TEXT,
    email           TEXT,
    language        TEXT NOT NULL,
    unit_id         TEXT REFERENCES units(id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE care_team (
    patient_id  TEXT NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    team_role   TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (patient_id, staff_id)
);
CREATE INDEX care_team_by_staff ON care_team (staff_id);

CREATE TABLE emergency_access (
    id          TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff(id),
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    reason      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    reviewed_by TEXT REFERENCES staff(id),
    reviewed_at BIGINT
);
CREATE INDEX emergency_access_lookup ON emergency_access (staff_id, patient_id, expires_at);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    stage       TEXT NOT NULL,
    csrf_token  TEXT NOT NULL,
    -- A TOTP secret shown during enrolment, kept until the first code confirms it.
    pending_totp_secret TEXT,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    ip          TEXT NOT NULL
);
CREATE INDEX sessions_by_staff ON sessions (staff_id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    TEXT,
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    patient_id  TEXT,
    object      TEXT NOT NULL,
    ip          TEXT NOT NULL,
    detail      TEXT NOT NULL,
    flagged     BIGINT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_by_patient ON audit_log (patient_id, seq);
CREATE INDEX audit_by_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_by_time ON audit_log (at);

-- The head of the hash chain: the last sequence number and hash. Appends lock this row.
CREATE TABLE audit_head (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    seq     BIGINT NOT NULL,
    hash    TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application never updates or deletes audit entries.
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
