-- Where each report came from: 'ingest' (a device sent it here) or the URL of
-- the peer oracle it was pulled from. Peers are served only what was ingested
-- here, so every oracle's epoch set is the union of what each one heard.
ALTER TABLE reports ADD COLUMN origin TEXT NOT NULL DEFAULT 'ingest';
