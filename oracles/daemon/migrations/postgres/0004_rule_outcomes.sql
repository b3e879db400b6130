-- What the rules made of each epoch (PostgreSQL).
-- Reports the rules refused, and why: an owner sees why a device earned nothing.
CREATE TABLE report_refusals (
    epoch BIGINT NOT NULL,
    content_hash BYTEA NOT NULL,
    device_mint BYTEA NOT NULL,
    rule TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (epoch, content_hash)
);
CREATE INDEX report_refusals_by_device ON report_refusals (device_mint, epoch);

-- Values a rule set carries from epoch to epoch (the mapping rules' last
-- mapping of each cell), with the epoch that last wrote each.
CREATE TABLE rule_state (
    space BIGINT NOT NULL,
    key BYTEA NOT NULL,
    value BIGINT NOT NULL,
    epoch BIGINT NOT NULL,
    PRIMARY KEY (space, key)
);

-- The rules' inputs beyond the reports (devices read, carried values read)
-- and the values they carried on, for the epoch's bundle (JSON).
ALTER TABLE epoch_results ADD COLUMN rule_io TEXT NOT NULL DEFAULT '{}';
