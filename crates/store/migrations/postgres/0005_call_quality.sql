-- Call quality per call (VC-13): aggregates of the browsers' WebRTC statistics and the
-- optional 1–5 ratings. Never content, never per-participant figures.
CREATE TABLE call_quality (
    appointment_id TEXT PRIMARY KEY REFERENCES appointments(id) ON DELETE CASCADE,
    reports BIGINT NOT NULL DEFAULT 0,
    avg_bitrate_in DOUBLE PRECISION NOT NULL DEFAULT 0,
    avg_loss DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_loss DOUBLE PRECISION NOT NULL DEFAULT 0,
    avg_jitter DOUBLE PRECISION NOT NULL DEFAULT 0,
    avg_rtt DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_rtt DOUBLE PRECISION NOT NULL DEFAULT 0,
    freezes BIGINT NOT NULL DEFAULT 0,
    ratings BIGINT NOT NULL DEFAULT 0,
    sound_sum BIGINT NOT NULL DEFAULT 0,
    picture_sum BIGINT NOT NULL DEFAULT 0,
    recorded_at BIGINT NOT NULL
);
