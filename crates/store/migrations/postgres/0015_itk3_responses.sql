-- ITK3 over MESH: the MessageHeader id each MESH send went with and the
-- mailbox it went to (a practice's response names the one and must come from
-- the other), and the last response at each level, as words for people. A
-- negative response fails the row and raises it.
ALTER TABLE discharge_outbox ADD COLUMN itk_message_id TEXT;
ALTER TABLE discharge_outbox ADD COLUMN mesh_mailbox TEXT;
ALTER TABLE discharge_outbox ADD COLUMN infrastructure_response TEXT;
ALTER TABLE discharge_outbox ADD COLUMN business_response TEXT;

CREATE INDEX discharge_outbox_itk_message ON discharge_outbox (itk_message_id);
