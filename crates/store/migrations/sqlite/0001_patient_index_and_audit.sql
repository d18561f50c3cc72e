-- The patient index and the append-only, hash-chained audit trail.
-- Portable SQL: text dates (ISO 8601), integer booleans, no SQLite-only types.

CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    nhs_number TEXT NOT NULL UNIQUE,
    mrn TEXT UNIQUE,
    family_name TEXT NOT NULL,
    given_names TEXT NOT NULL,
    title TEXT,
    -- Upper-case copies for case-insensitive prefix search by index range.
    family_name_key TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    address TEXT,
    postcode TEXT,
    gp_practice_ods TEXT,
    gp_practice_name TEXT,
    deceased INTEGER NOT NULL DEFAULT 0 CHECK (deceased IN (0, 1)),
    deceased_date TEXT,
    created_at_utc TEXT NOT NULL
);

CREATE INDEX patients_by_family_name_and_birth ON patients (family_name_key, date_of_birth);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at_utc TEXT NOT NULL,
    actor TEXT NOT NULL,
    workstation TEXT NOT NULL,
    action TEXT NOT NULL,
    patient_id INTEGER,
    record_ids TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_log_by_time ON audit_log (at_utc);

-- The newest audit entry, kept in the same transaction as each append, so
-- deleting entries from the end of the chain is detected too.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE store_facts (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
