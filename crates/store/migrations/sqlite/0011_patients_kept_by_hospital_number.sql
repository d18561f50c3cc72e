-- no-transaction
-- A patient the PAS sends with an NHS number that fails its check is kept by
-- hospital number: the NHS number may now be absent (never two records without
-- one and without a hospital number), and the number received is kept beside
-- it to be shown and corrected. SQLite cannot drop NOT NULL in place, so the
-- table is rebuilt as its documentation describes: foreign keys off for the
-- copy (outside a transaction, where the pragma takes effect), checked after.
PRAGMA foreign_keys = OFF;

BEGIN;

CREATE TABLE patients_rebuilt (
    id INTEGER PRIMARY KEY,
    nhs_number TEXT UNIQUE,
    nhs_number_failing_check TEXT,
    mrn TEXT UNIQUE,
    family_name TEXT NOT NULL,
    given_names TEXT NOT NULL,
    title TEXT,
    family_name_key TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    address TEXT,
    postcode TEXT,
    gp_practice_ods TEXT,
    gp_practice_name TEXT,
    deceased INTEGER NOT NULL DEFAULT 0 CHECK (deceased IN (0, 1)),
    deceased_date TEXT,
    created_at_utc TEXT NOT NULL,
    merged_into INTEGER REFERENCES patients (id),
    CHECK (nhs_number IS NOT NULL OR mrn IS NOT NULL),
    CHECK (nhs_number IS NULL OR nhs_number_failing_check IS NULL)
);

INSERT INTO patients_rebuilt (id, nhs_number, mrn, family_name, given_names, title, family_name_key, date_of_birth,
        sex, address, postcode, gp_practice_ods, gp_practice_name, deceased, deceased_date, created_at_utc, merged_into)
    SELECT id, nhs_number, mrn, family_name, given_names, title, family_name_key, date_of_birth,
        sex, address, postcode, gp_practice_ods, gp_practice_name, deceased, deceased_date, created_at_utc, merged_into
    FROM patients;

DROP TABLE patients;
ALTER TABLE patients_rebuilt RENAME TO patients;
CREATE INDEX patients_by_family_name_and_birth ON patients (family_name_key, date_of_birth);

COMMIT;

PRAGMA foreign_keys = ON;
