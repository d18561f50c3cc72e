-- A signed discharge summary keeps its card signature (JSON: algorithm,
-- signature, certificate, time, user id), who signed it (name, role and
-- registration, JSON) and when; it is checked whenever it is shown or sent.
ALTER TABLE discharge_summaries ADD COLUMN signature TEXT;
ALTER TABLE discharge_summaries ADD COLUMN signed_by TEXT;
ALTER TABLE discharge_summaries ADD COLUMN signed_at_utc TEXT;
