//! Smart-card identity over PKCS#11. A login finds the card by its token label
//! or serial (never by slot index), reads the authentication certificate,
//! logs in with the PIN, signs a fresh random challenge with the card's key,
//! verifies the signature against the certificate, and checks the
//! certificate's dates and that the configured issuing CA signed it.
//!
//! The same card signs documents (`document`): the signature, certificate and
//! time go with the document and are checked whenever it is shown or sent.
//!
//! The user id is the 12-digit NHS user id in the certificate subject's UID
//! attribute (OID 0.9.2342.19200300.100.1.1).

mod card;
mod certificate;
mod document;
mod error;
pub mod readers;
mod signing;

pub use card::{CardInfo, CardLogin, CardReader};

pub use certificate::{CertificateHolder, Trust, certificate_holder};
pub use document::{DocumentSignature, verify_document};
pub use error::IdentityError;
pub use signing::SignatureAlgorithm;
