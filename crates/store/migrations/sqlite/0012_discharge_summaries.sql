-- Discharge summaries: each version of a patient's summary, its content as
-- JSON, a draft until signed. A draft is saved only from the row version read,
-- so two workstations editing one draft cannot overwrite each other unseen.
CREATE TABLE discharge_summaries (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    stay_id INTEGER REFERENCES stays (id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'signed')),
    content TEXT NOT NULL,
    author TEXT NOT NULL,
    updated_at_utc TEXT NOT NULL,
    row_version INTEGER NOT NULL
);

CREATE INDEX discharge_summaries_by_patient ON discharge_summaries (patient_id, id);
