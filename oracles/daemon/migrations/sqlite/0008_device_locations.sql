-- Where each device's asserted cell was, as this oracle's registry read it: a row
-- each time a device's cell differs from its last row (the dashboard's location
-- history). Cells are u64 stored bit for bit in BIGINT.
CREATE TABLE device_locations (
    device_mint BLOB NOT NULL,
    location BIGINT NOT NULL,
    seen_ms BIGINT NOT NULL,
    PRIMARY KEY (device_mint, seen_ms)
);
