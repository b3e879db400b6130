-- Settlements of orders paid per epoch (storage deals), PostgreSQL: one row per
-- order and finalized epoch whose service the order pays (or that ends it),
-- voted in epoch order, one sequence number after another.
CREATE TABLE settlements (
    order_address BYTEA NOT NULL,
    epoch BIGINT NOT NULL,
    -- 1: the epoch's service was proven (it pays one epoch's share).
    delivered BIGINT NOT NULL,
    -- 1: the settlement completes the order (faulted, or its last epoch).
    closes BIGINT NOT NULL,
    receipt_hash BYTEA NOT NULL,
    -- pending, landed, closed (the order was gone first), expired (its
    -- settlement window passed first).
    state TEXT NOT NULL,
    -- The last transaction this oracle voted it in.
    signature TEXT,
    PRIMARY KEY (order_address, epoch)
);
CREATE INDEX settlements_by_state ON settlements (state, order_address, epoch);

-- 1 once the epoch's settlements are queued (after it was finalized).
ALTER TABLE epoch_results ADD COLUMN settlements_queued BIGINT NOT NULL DEFAULT 0;
