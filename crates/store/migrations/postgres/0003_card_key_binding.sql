-- Enrolment binds a user to the key on their card (as the local store's 0003).
ALTER TABLE users ADD COLUMN card_key_sha256 TEXT;
