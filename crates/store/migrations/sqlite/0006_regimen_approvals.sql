-- Local approvals of regimen versions: who approved which exact version (by
-- its content hash), in what capacity (consultant or pharmacist), and when.
CREATE TABLE regimen_approvals (
    id INTEGER PRIMARY KEY,
    regimen_code TEXT NOT NULL,
    regimen_version TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    capacity TEXT NOT NULL CHECK (capacity IN ('consultant', 'pharmacist')),
    note TEXT NOT NULL,
    approved_at_utc TEXT NOT NULL,
    UNIQUE (regimen_code, regimen_version, content_sha256, approved_by)
);
