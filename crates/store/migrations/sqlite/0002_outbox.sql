-- The notification outbox (NT-2). A message is written in the same transaction as the change
-- that causes it; the sender claims due messages, delivers them and records the outcome.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,      -- email | sms
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    calendar        TEXT,               -- an iCalendar attachment, for staff invitations
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,      -- queued | sending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_answer     TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    -- The same logical message (e.g. one reminder of one appointment to one person) is queued once.
    dedupe_key      TEXT UNIQUE
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recent ON outbox (created_at);
