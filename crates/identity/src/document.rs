//! Documents signed with the card of the person signing: a discharge summary,
//! a pharmacist's verification. The card signs the document's canonical bytes;
//! the signature, the certificate and the time go with the document, and anyone
//! holding the site's trust can check them later.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::certificate::{Trust, check};
use crate::signing::{SignatureAlgorithm, sign_on_card, verifies};
use crate::{CardReader, IdentityError};

/// A detached signature over a document's bytes, and what is needed to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSignature {
    pub algorithm: SignatureAlgorithm,
    pub signature: Vec<u8>,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
    /// When it was signed (UTC): the certificate is judged as it stood then.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// The signer's NHS user id, from the certificate.
    pub user_id: String,
}

impl CardReader {
    /// Signs `document` with `card` (its serial, or a label no other card
    /// present has, as a login finds it), after the PIN and the certificate
    /// checks a login makes. The signature is checked before it is returned.
    pub fn sign_document(
        &self,
        card: &str,
        pin: &Zeroizing<String>,
        trust: &Trust,
        now: OffsetDateTime,
        document: &[u8],
    ) -> Result<DocumentSignature, IdentityError> {
        let slot = self.find(card)?;
        let (_, holder, signature) =
            self.with_logged_in_card(slot, pin, trust, now, |session, key, holder| {
                sign_on_card(session, key, &holder.public_key, document)
            })?;
        if !verifies(&holder.public_key, document, &signature) {
            return Err(IdentityError::KeyProofFailed);
        }
        Ok(DocumentSignature {
            algorithm: SignatureAlgorithm::of(&holder.public_key),
            signature,
            certificate: holder.certificate_der,
            signed_at: now,
            user_id: holder.user_id,
        })
    }
}

/// Checks that `signature` is a good signature over exactly these bytes, by a
/// certificate the site trusts, valid when it was signed. A changed document, a
/// changed signature, or a certificate from elsewhere is refused.
pub fn verify_document(
    document: &[u8],
    signature: &DocumentSignature,
    trust: &Trust,
) -> Result<(), IdentityError> {
    let holder = check(&signature.certificate, trust, signature.signed_at)?;
    if holder.user_id != signature.user_id
        || SignatureAlgorithm::of(&holder.public_key) != signature.algorithm
    {
        return Err(IdentityError::DocumentSignatureInvalid);
    }
    match verifies(&holder.public_key, document, &signature.signature) {
        true => Ok(()),
        false => Err(IdentityError::DocumentSignatureInvalid),
    }
}
