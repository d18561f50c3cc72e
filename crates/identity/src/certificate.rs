//! The card's certificate: its dates, its issuer and its user id.

use ::time::OffsetDateTime;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::*;

use crate::IdentityError;

/// The issuing CA a site trusts, as DER.
#[derive(Debug, Clone)]
pub struct Trust {
    ca_der: Vec<u8>,
}

impl Trust {
    pub fn from_der(ca_der: Vec<u8>) -> Result<Self, IdentityError> {
        parse(&ca_der)?;
        Ok(Self { ca_der })
    }

    /// Reads a PEM or DER CA certificate.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, IdentityError> {
        Self::from_der(der_of(bytes))
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, IdentityError> {
    X509Certificate::from_der(der)
        .map(|(_, cert)| cert)
        .map_err(|e| IdentityError::CertificateUnreadable(e.to_string()))
}

/// The DER of a certificate given as PEM or DER.
fn der_of(bytes: &[u8]) -> Vec<u8> {
    match x509_parser::pem::parse_x509_pem(bytes) {
        Ok((_, pem)) => pem.contents,
        Err(_) => bytes.to_vec(),
    }
}

/// The user id and name a certificate (PEM or DER) carries, for enrolment;
/// checks its issuer when `trust` is given.
pub fn certificate_holder(cert: &[u8], trust: Option<&Trust>) -> Result<(String, String), IdentityError> {
    let der = der_of(cert);
    let cert = parse(&der)?;
    if let Some(trust) = trust {
        let ca = parse(&trust.ca_der)?;
        if cert.issuer() != ca.subject() || cert.verify_signature(Some(ca.public_key())).is_err() {
            return Err(IdentityError::UntrustedIssuer);
        }
    }
    let holder = holder_of(&cert)?;
    Ok((holder.user_id, holder.common_name))
}

/// What a trusted, in-date certificate says about its holder.
pub(crate) struct Holder {
    pub user_id: String,
    pub common_name: String,
    pub serial: String,
    /// The subject public key, for checking the card's signature.
    pub public_key: CardKey,
}

/// The kinds of card key a login can prove. NHS smartcards hold RSA-2048 keys;
/// the demonstration cards hold P-256 keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CardKey {
    /// An RSA public key as PKCS#1 `RSAPublicKey` DER.
    Rsa(Vec<u8>),
    /// A P-256 public key as SEC1 bytes.
    EcP256(Vec<u8>),
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

fn card_key(spki: &SubjectPublicKeyInfo<'_>) -> Result<CardKey, IdentityError> {
    let key = spki.subject_public_key.data.to_vec();
    match spki.algorithm.algorithm.to_id_string().as_str() {
        RSA_ENCRYPTION => Ok(CardKey::Rsa(key)),
        EC_PUBLIC_KEY => Ok(CardKey::EcP256(key)),
        other => Err(IdentityError::UnsupportedKey(other.to_owned())),
    }
}

const UID: &str = "0.9.2342.19200300.100.1.1";

pub(crate) fn check(cert_der: &[u8], trust: &Trust, now: OffsetDateTime) -> Result<Holder, IdentityError> {
    let cert = parse(cert_der)?;
    let ca = parse(&trust.ca_der)?;
    let moment = ASN1Time::from_timestamp(now.unix_timestamp())
        .map_err(|e| IdentityError::CertificateUnreadable(e.to_string()))?;
    let validity = cert.validity();
    if moment < validity.not_before {
        return Err(IdentityError::CertificateNotYetValid(validity.not_before.to_string()));
    }
    if moment > validity.not_after {
        return Err(IdentityError::CertificateExpired(validity.not_after.to_string()));
    }
    if cert.issuer() != ca.subject() || cert.verify_signature(Some(ca.public_key())).is_err() {
        return Err(IdentityError::UntrustedIssuer);
    }
    holder_of(&cert)
}

fn holder_of(cert: &X509Certificate<'_>) -> Result<Holder, IdentityError> {
    let uid = Oid::from(&[0, 9, 2342, 19200300, 100, 1, 1]).map_err(|_| IdentityError::NoUserId)?;
    debug_assert_eq!(uid.to_id_string(), UID);
    let user_id = cert
        .subject()
        .iter_by_oid(&uid)
        .next()
        .and_then(|attribute| attribute.as_str().ok())
        .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(IdentityError::NoUserId)?
        .to_owned();
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok(Holder {
        user_id,
        common_name,
        serial: cert.raw_serial_as_string(),
        public_key: card_key(cert.public_key())?,
    })
}
