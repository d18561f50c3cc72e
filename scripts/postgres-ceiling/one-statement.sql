-- The whole message, the patient's lookup too, in one statement: the most any
-- design that keeps each message and its audit entry durably before its ACK
-- could ask of PostgreSQL here.
\set control random(1, 1000000000000)
\set patient random(1, 600)
WITH kept AS (
    INSERT INTO interface_messages (sending_application, sending_facility, control_id, message_type, event, occurred_at_utc, received_at_utc, status, document)
        VALUES ('LAB', 'RXX', 'C' || :control::text, 'ORU', 'R01', '2026-12-01T08:00:00Z', '2026-12-01T08:00:00Z', 'applied', 'MSH|^~\&|LAB|RXX|CWS|RXX|20261201080000||ORU^R01|C1|P|2.5.1\rPID|||9990000001^^^NHS||TESTPATIENT^Alpha||19600101|F\rOBR|1||X1|FBC\rOBX|1|NM|NEUT^Neutrophils||1.40|10*9/L|2.0-7.5|L|||F\rOBX|2|NM|PLT^Platelets||250|10*9/L|150-400|N|||F')
        ON CONFLICT DO NOTHING RETURNING id),
found AS (SELECT id FROM patients WHERE nhs_number = (9990000000 + :patient::bigint)::text),
results AS (
    INSERT INTO lab_results (patient_id, message_id, code, name, value, value_type, units, reference_range, abnormal_flag, status, observed_at_utc, laboratory, used_for, held_because)
        SELECT found.id, kept.id, obx.* FROM kept, found, (VALUES
            ('NEUT', 'Neutrophils', '1.40', 'NM', '10*9/L', '2.0-7.5', 'L', 'F', '2026-12-01T08:00:00Z', 'RXX-HAEM', 'neutrophils', NULL),
            ('PLT', 'Platelets', '250', 'NM', '10*9/L', '150-400', 'N', 'F', '2026-12-01T08:00:00Z', 'RXX-HAEM', NULL, NULL)) AS obx
        RETURNING id)
SELECT (SELECT new_seq FROM cws_append_audit('interface-ceiling', 'ws1', 'interface.receive', found.id, '["message-1","result-1","result-2"]', 'ok', '"interface-ceiling","ws1","interface.receive",1,"[]","ok"]')) FROM kept, found;
