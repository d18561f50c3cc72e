//! Signatures with a card's key: made on the card through PKCS#11, checked with
//! the certificate's public key. RSA PKCS#1 v1.5 with SHA-256 (NHS smartcards)
//! or ECDSA P-256 over SHA-256 (the demonstration cards). The login's key proof
//! and document signing both use these two functions.

use cryptoki::mechanism::Mechanism;
use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::IdentityError;
use crate::certificate::CardKey;

/// The signature scheme of a card's key, kept with every signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureAlgorithm {
    RsaPkcs1Sha256,
    EcdsaP256Sha256,
}

impl SignatureAlgorithm {
    pub(crate) fn of(key: &CardKey) -> Self {
        match key {
            CardKey::Rsa(_) => Self::RsaPkcs1Sha256,
            CardKey::EcP256(_) => Self::EcdsaP256Sha256,
        }
    }
}

/// Signs `bytes` on the card with its private key: the card hashes for RSA; for
/// ECDSA the SHA-256 digest is signed.
pub(crate) fn sign_on_card(
    session: &Session,
    key: ObjectHandle,
    public_key: &CardKey,
    bytes: &[u8],
) -> Result<Vec<u8>, IdentityError> {
    Ok(match public_key {
        CardKey::Rsa(_) => session.sign(&Mechanism::Sha256RsaPkcs, key, bytes)?,
        CardKey::EcP256(_) => session.sign(&Mechanism::Ecdsa, key, &Sha256::digest(bytes))?,
    })
}

/// Whether `signature` over `bytes` was made by the private half of `public_key`.
pub(crate) fn verifies(public_key: &CardKey, bytes: &[u8], signature: &[u8]) -> bool {
    match public_key {
        CardKey::Rsa(pkcs1) => {
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pkcs1).verify(bytes, signature).is_ok()
        }
        CardKey::EcP256(sec1) => {
            let Ok(verifying_key) = VerifyingKey::from_sec1_bytes(sec1) else { return false };
            Signature::from_slice(signature).is_ok_and(|signature| {
                verifying_key.verify_prehash(&Sha256::digest(bytes), &signature).is_ok()
            })
        }
    }
}
