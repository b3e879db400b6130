-- What the epoch worker computed for each epoch, written once, in the same
-- transaction that moves the epoch to 'scored' (PostgreSQL).
CREATE TABLE epoch_results (
    epoch BIGINT PRIMARY KEY,
    -- The rule set (JSON: name, version, constants).
    rule_set TEXT NOT NULL,
    report_count BIGINT NOT NULL,
    -- Amounts are u64 stored bit for bit in BIGINT.
    amount BIGINT NOT NULL,
    dust BIGINT NOT NULL,
    root BYTEA NOT NULL,
    total BIGINT NOT NULL,
    leaf_count BIGINT NOT NULL,
    -- borsh: this epoch's score and reward per device, by mint.
    rewards BYTEA NOT NULL,
    -- borsh: every device's cumulative total after this epoch, by mint.
    leaves BYTEA NOT NULL,
    -- The vote's transaction signature once it landed.
    vote_signature TEXT,
    -- The finalized root on chain, once final (it may differ from ours).
    finalized_root BYTEA
);
