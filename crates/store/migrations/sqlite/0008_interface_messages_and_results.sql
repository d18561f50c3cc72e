-- Messages received from the PAS and the laboratory over HL7 v2. Each is
-- kept once, keyed by (MSH-3, MSH-4, MSH-10): a resent message finds its
-- row and is acknowledged again, never applied twice. A message that could
-- not be applied stays here (status 'error') for `cws adt errors` and replay.
CREATE TABLE interface_messages (
    id INTEGER PRIMARY KEY,
    sending_application TEXT NOT NULL,
    sending_facility TEXT NOT NULL,
    control_id TEXT NOT NULL,
    message_type TEXT NOT NULL,
    event TEXT NOT NULL,
    occurred_at_utc TEXT,
    received_at_utc TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'stale', 'error', 'replayed')),
    error TEXT,
    document TEXT NOT NULL,
    UNIQUE (sending_application, sending_facility, control_id)
);

CREATE INDEX interface_messages_by_status ON interface_messages (status, id);

-- Laboratory results, one row per OBX, decimals kept as the text sent.
-- `used_for` names the chemotherapy check a result may serve; `held_because`
-- says why one a check would use is held for a person to look at.
CREATE TABLE lab_results (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    message_id INTEGER NOT NULL REFERENCES interface_messages (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    value_type TEXT NOT NULL,
    units TEXT NOT NULL,
    reference_range TEXT NOT NULL,
    abnormal_flag TEXT NOT NULL,
    status TEXT NOT NULL,
    observed_at_utc TEXT NOT NULL,
    laboratory TEXT NOT NULL,
    used_for TEXT,
    held_because TEXT
);

CREATE INDEX lab_results_by_patient ON lab_results (patient_id, observed_at_utc);
