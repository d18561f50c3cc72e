-- Appends one audit entry on the server, in one round trip, whichever
-- workstation calls it:
-- 1. a transaction-scoped advisory lock (key "cwsaudit" in ASCII) serialises
--    appends from every workstation until the appending transaction ends;
-- 2. in new statements (fresh snapshots, in READ COMMITTED, that see what the
--    lock's last holder committed): the head, and the server's clock, so a
--    workstation's skewed clock cannot reorder history;
-- 3. the hash, SHA-256 over the previous hash and the entry's canonical bytes:
--    the workstation sends the canonical JSON after its first element (the
--    time, which only the server knows); `Store::verify_audit` recomputes every
--    hash in Rust, so a difference here shows at once as an edited entry.
CREATE FUNCTION cws_append_audit(
    p_actor TEXT,
    p_workstation TEXT,
    p_action TEXT,
    p_patient_id BIGINT,
    p_record_ids TEXT,
    p_outcome TEXT,
    p_canonical_after_time TEXT
) RETURNS TABLE (new_seq BIGINT, new_hash TEXT)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_prev_seq BIGINT;
    v_prev_hash TEXT;
    v_at TEXT;
    v_hash TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(7167324194401970548);
    SELECT h.seq, h.hash INTO v_prev_seq, v_prev_hash FROM audit_head AS h WHERE h.id = 1;
    v_prev_seq := COALESCE(v_prev_seq, 0);
    v_prev_hash := COALESCE(v_prev_hash, repeat('0', 64));
    v_at := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    v_hash := encode(sha256(convert_to(v_prev_hash || '["' || v_at || '",' || p_canonical_after_time, 'UTF8')), 'hex');
    INSERT INTO audit_log (seq, at_utc, actor, workstation, action, patient_id, record_ids, outcome, prev_hash, hash)
        VALUES (v_prev_seq + 1, v_at, p_actor, p_workstation, p_action, p_patient_id, p_record_ids, p_outcome,
                v_prev_hash, v_hash);
    INSERT INTO audit_head AS head (id, seq, hash) VALUES (1, v_prev_seq + 1, v_hash)
        ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
    RETURN QUERY SELECT v_prev_seq + 1, v_hash;
END
$$;
