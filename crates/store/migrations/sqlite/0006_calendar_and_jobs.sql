-- Staff calendars (VC-16, IO-4) and the persistent scheduler (VC-17).

-- A staff member's personal calendar feed: <public_url>/calendar/<token>.ics. Only the
-- SHA-256 of the token is stored; a new feed revokes the old one.
CREATE TABLE calendar_feeds (
    token_hash      TEXT PRIMARY KEY,
    staff_id        TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE INDEX calendar_feeds_by_staff ON calendar_feeds (staff_id);

-- Work that is not a message, done at a set time: claimed with a lease like the outbox,
-- retried with back-off, its status recorded. One row per (kind, subject): scheduling it
-- again moves it.
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,      -- purge_appointment
    subject         TEXT NOT NULL,      -- e.g. the appointment's id
    run_at          INTEGER NOT NULL,
    status          TEXT NOT NULL,      -- scheduled | running | done | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     INTEGER,
    -- Random per claim: only the runner holding the claim can record the result.
    claim           TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    UNIQUE (kind, subject)
);
CREATE INDEX jobs_due ON jobs (status, run_at);

-- When an appointment's details were deleted (data minimisation); only statistics remain.
ALTER TABLE appointments ADD COLUMN purged_at INTEGER;
