-- Storage providers' latest announcements (SQLite): where each device's node
-- takes and serves shards, and its free room; a newer one replaces an older.
CREATE TABLE providers (
    device BLOB PRIMARY KEY,
    device_mint BLOB NOT NULL,
    endpoint TEXT NOT NULL,
    free_bytes BIGINT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    signature BLOB NOT NULL
);
