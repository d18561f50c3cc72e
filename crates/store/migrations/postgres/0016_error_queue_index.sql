-- The error queue's index holds only the messages waiting in it. Indexing
-- every message by its status cost each message received one more page
-- written (and, on the local store, encrypted) at its commit; the queue is
-- the only reader.
DROP INDEX interface_messages_by_status;

CREATE INDEX interface_messages_in_error_queue ON interface_messages (id) WHERE status = 'error';
