-- Legitimate relationships: the wards a member of staff works on, and each
-- person's own patient list (with the reason each patient was added, and when
-- they were taken off). Imaging and more are gated on them.
CREATE TABLE user_wards (
    user_id TEXT NOT NULL,
    ward TEXT NOT NULL,
    UNIQUE (user_id, ward)
);

CREATE TABLE patient_lists (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    reason TEXT NOT NULL,
    added_at_utc TEXT NOT NULL,
    removed_at_utc TEXT
);

CREATE INDEX patient_lists_by_user ON patient_lists (user_id, patient_id);
