-- The discharge outbox: one row per recipient of each signed version, written
-- in the same transaction as the signature, so a signed summary is never
-- left unsent and never queued twice for one recipient. A sender claims a row
-- (sending, with a lease in next_try_utc), delivers it, and records the
-- remote id; a failure waits until next_try_utc; after the limits it fails
-- and the dashboard raises it.
CREATE TABLE discharge_outbox (
    id INTEGER PRIMARY KEY,
    summary_id INTEGER NOT NULL REFERENCES discharge_summaries (id),
    channel TEXT NOT NULL CHECK (channel IN ('smtp', 'mesh', 'mdm')),
    recipient TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'delivered', 'acknowledged', 'failed')),
    attempts INTEGER NOT NULL,
    next_try_utc TEXT NOT NULL,
    last_error TEXT,
    remote_id TEXT,
    created_at_utc TEXT NOT NULL,
    delivered_at_utc TEXT,
    UNIQUE (summary_id, channel, recipient)
);

CREATE INDEX discharge_outbox_due ON discharge_outbox (status, next_try_utc);
