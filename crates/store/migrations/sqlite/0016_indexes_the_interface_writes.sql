-- Each message received writes only the index pages it must, each one more
-- page written (and, on the local store, encrypted) at the message's commit.
--
-- The error queue's index holds only the messages waiting in it; indexing
-- every message by its status served no reader but the queue.
DROP INDEX interface_messages_by_status;

CREATE INDEX interface_messages_in_error_queue ON interface_messages (id) WHERE status = 'error';

-- A patient's stays by patient alone: every stay update sets its state, and
-- an index holding the state was rewritten by every transfer. A patient has a
-- handful of stays; the readers filter on the state as they go.
DROP INDEX stays_by_patient;

CREATE INDEX stays_by_patient ON stays (patient_id);
