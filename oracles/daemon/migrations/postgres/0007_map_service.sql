-- The map service (PostgreSQL). The network's map: each cell the mapping rules verified, as of its
-- latest verification: when, in which epoch, by how many devices, its
-- freshness value then, and the report whose frames show it. Centers in
-- 1e-7 degrees, for bounding-box queries.
CREATE TABLE map_cells (
    cell BIGINT PRIMARY KEY,
    lat_e7 BIGINT NOT NULL,
    lon_e7 BIGINT NOT NULL,
    verified_ms BIGINT NOT NULL,
    epoch BIGINT NOT NULL,
    devices BIGINT NOT NULL,
    value BIGINT NOT NULL,
    report BYTEA NOT NULL
);
CREATE INDEX map_cells_by_lat ON map_cells (lat_e7, lon_e7);

-- Each paying wallet's nonces, so a signed request is served once.
CREATE TABLE request_nonces (
    wallet BYTEA NOT NULL,
    nonce BYTEA NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    PRIMARY KEY (wallet, nonce)
);
CREATE INDEX request_nonces_by_time ON request_nonces (timestamp_ms);

-- Each charged request: its wallet, epoch, what it served and cost, and the
-- burn that attested it on chain once the epoch ended.
CREATE TABLE charges (
    wallet BYTEA NOT NULL,
    request BYTEA NOT NULL,
    epoch BIGINT NOT NULL,
    units BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    burn_signature TEXT,
    PRIMARY KEY (wallet, request)
);
CREATE INDEX charges_by_epoch ON charges (epoch, wallet);
