-- Staff enrolled to sign in with a smart card (as the local store's 0002).
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    job_title TEXT NOT NULL,
    professional_body TEXT,
    registration_number TEXT,
    roles TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    enrolled_at_utc TEXT NOT NULL
);
