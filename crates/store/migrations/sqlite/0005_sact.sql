-- SACT courses and cycles. A cycle is kept whole as the sact crate's JSON
-- document (its drugs, signers, release findings and administrations), with
-- its state and date beside it for queues, and a row version for optimistic
-- concurrency: an update names the version it read. Doses given are also kept
-- one per row, decimals as text, so lifetime totals are summed exactly from
-- what was given, here or (imported) at another site.
CREATE TABLE sact_courses (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    regimen_code TEXT NOT NULL,
    regimen_version TEXT NOT NULL,
    regimen_sha256 TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    banding_version TEXT NOT NULL,
    intent TEXT NOT NULL,
    line INTEGER NOT NULL,
    consultant TEXT NOT NULL,
    planned_cycles INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    created_at_utc TEXT NOT NULL
);

CREATE INDEX sact_courses_by_patient ON sact_courses (patient_id);

CREATE TABLE sact_cycles (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES sact_courses (id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    treatment_date TEXT NOT NULL,
    document TEXT NOT NULL,
    row_version INTEGER NOT NULL,
    UNIQUE (course_id, number)
);

CREATE INDEX sact_cycles_by_state ON sact_cycles (state, treatment_date);

CREATE TABLE sact_doses_given (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    cycle_id INTEGER REFERENCES sact_cycles (id),
    drug TEXT NOT NULL,
    dose TEXT NOT NULL,
    unit TEXT NOT NULL,
    dose_per_m2 TEXT,
    given_at_utc TEXT NOT NULL,
    site TEXT NOT NULL
);

CREATE INDEX sact_doses_given_by_patient ON sact_doses_given (patient_id, drug);
