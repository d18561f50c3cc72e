-- Enrolment binds a user to the key on their card (SHA-256 of the certificate's
-- SubjectPublicKeyInfo, hex), not only to the user id a certificate carries, so
-- another card bearing the same user id is refused. NULL: enrolled before the
-- binding existed; such a user must be re-enrolled before they can sign in.
ALTER TABLE users ADD COLUMN card_key_sha256 TEXT;
