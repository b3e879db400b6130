-- Accepted device reports and the state of each epoch (PostgreSQL).
CREATE TABLE reports (
    id BIGSERIAL PRIMARY KEY,
    -- SHA-256 of the signed message: a report is stored once.
    content_hash BYTEA NOT NULL UNIQUE,
    epoch BIGINT NOT NULL,
    device_mint BYTEA NOT NULL,
    kind BIGINT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    -- The signed report in its binary encoding, exactly as verified.
    signed BYTEA NOT NULL
);
CREATE INDEX reports_by_epoch ON reports (epoch, id);
CREATE INDEX reports_by_device ON reports (device_mint, epoch);

CREATE TABLE epochs (
    epoch BIGINT PRIMARY KEY,
    -- open, closed, scored, voted, finalized
    state TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
