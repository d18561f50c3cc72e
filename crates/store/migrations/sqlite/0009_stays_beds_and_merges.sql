-- A patient's stays as the PAS's ADT feed tells them: each kept whole as the
-- adt crate's JSON document (its state, bed and every step, for cancels), with
-- the state and location beside it for the bed board, and a row version so two
-- listeners cannot both move one stay.
CREATE TABLE stays (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    state TEXT NOT NULL,
    ward TEXT,
    room TEXT,
    bed TEXT,
    latest_utc TEXT NOT NULL,
    document TEXT NOT NULL,
    row_version INTEGER NOT NULL
);

CREATE INDEX stays_by_patient ON stays (patient_id, state);

-- Beds, from the site's wards and every location the feed names (PV1-3), each
-- in a state of HL7 table 0116 and, when occupied, with its patient.
CREATE TABLE beds (
    id INTEGER PRIMARY KEY,
    ward TEXT NOT NULL,
    room TEXT NOT NULL,
    bed TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('U', 'O', 'C', 'H', 'K', 'I')),
    patient_id INTEGER REFERENCES patients (id),
    changed_at_utc TEXT NOT NULL,
    UNIQUE (ward, room, bed)
);

-- A40: the patient merged into another; their records now belong to it.
ALTER TABLE patients ADD COLUMN merged_into INTEGER REFERENCES patients (id);
