-- Regimen versions received from elsewhere (the regional cancer centre), kept
-- as the exact text that was received, so its content hash is the sender's.
-- The shipped library is not stored; these are the versions beside it. Each
-- arrives as a draft: it is prescribed only once approved here (regimen_approvals).
CREATE TABLE regimen_versions (
    id INTEGER PRIMARY KEY,
    regimen_code TEXT NOT NULL,
    regimen_version TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    document TEXT NOT NULL,
    received_from TEXT NOT NULL,
    received_by TEXT NOT NULL,
    received_at_utc TEXT NOT NULL,
    UNIQUE (regimen_code, regimen_version)
);
