-- Staff enrolled to sign in with a smart card: the card's user id maps to
-- this record, which holds the name, professional registration and roles.
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    job_title TEXT NOT NULL,
    professional_body TEXT,
    registration_number TEXT,
    -- JSON array of {"code": "R8000", "name": "..."}.
    roles TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    enrolled_at_utc TEXT NOT NULL
);
