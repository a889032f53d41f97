-- Video appointments (VC-1, VC-2, VC-14): one room per appointment, its staff hosts, and one
-- join link per invited participant. Only the SHA-256 of a link's token is stored.
CREATE TABLE appointments (
    id                  TEXT PRIMARY KEY,
    unit_id             TEXT REFERENCES units(id),
    -- Empty for an ad-hoc room or a meeting without a patient.
    patient_id          TEXT REFERENCES patients(id),
    kind                TEXT NOT NULL,      -- scheduled | adhoc
    starts_at           BIGINT NOT NULL,
    duration_minutes    BIGINT NOT NULL,
    policy              TEXT NOT NULL,      -- consultation | administrative
    -- Free text for the staff's own list; never put in a notification.
    title               TEXT NOT NULL DEFAULT '',
    -- Bumped on every move, so the messages of each version have their own dedupe keys.
    version             BIGINT NOT NULL DEFAULT 1,
    created_by          TEXT NOT NULL REFERENCES staff(id),
    created_at          BIGINT NOT NULL,
    cancelled_at        BIGINT,
    call_started_at     BIGINT,
    call_ended_at       BIGINT,
    outcome             TEXT,               -- held | no_show | fallback_phone | fallback_physical | cancelled
    outcome_minutes     BIGINT,
    outcome_recorded_by TEXT REFERENCES staff(id),
    outcome_recorded_at BIGINT,
    outcome_note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX appointments_by_start ON appointments (starts_at);

CREATE TABLE appointment_hosts (
    appointment_id  TEXT NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    staff_id        TEXT NOT NULL REFERENCES staff(id),
    PRIMARY KEY (appointment_id, staff_id)
);
CREATE INDEX appointment_hosts_by_staff ON appointment_hosts (staff_id);

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    role            TEXT NOT NULL,          -- patient | relative | interpreter | external | staff
    display_name    TEXT NOT NULL,
    phone           TEXT,                   -- E.164
    email           TEXT,
    language        TEXT NOT NULL,
    -- SHA-256 (hex) of the first link's token; the token itself is shown once and never stored.
    token_hash      TEXT NOT NULL UNIQUE,
    valid_from      BIGINT NOT NULL,
    valid_until     BIGINT NOT NULL,
    revoked_at      BIGINT,
    spent_at        BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX invitations_by_appointment ON invitations (appointment_id);

-- Every link of an invitation: the first, and a new one sent with each change of time (the
-- old token cannot be recovered to resend it). All stay valid until the invitation ends.
CREATE TABLE invitation_tokens (
    token_hash      TEXT PRIMARY KEY,
    invitation_id   TEXT NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL
);
CREATE INDEX invitation_tokens_by_invitation ON invitation_tokens (invitation_id);
