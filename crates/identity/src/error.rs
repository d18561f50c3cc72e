//! Why a card login failed, in words for the person at the workstation.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("no smart card labelled {0:?} is in a reader")]
    CardNotFound(String),
    #[error("more than one smart card is labelled {0:?}; choose the card by its serial number")]
    AmbiguousCard(String),
    #[error("the PIN is wrong; {remaining}")]
    WrongPin { remaining: &'static str },
    #[error(
        "the card's PIN is locked after too many wrong tries; ask your Registration Authority to unlock it"
    )]
    PinLocked,
    #[error("the card holds no authentication certificate")]
    CertificateMissing,
    #[error("the card's certificate cannot be read: {0}")]
    CertificateUnreadable(String),
    #[error("the card's certificate expired on {0}; ask your Registration Authority to renew the card")]
    CertificateExpired(String),
    #[error("the card's certificate is not valid until {0}")]
    CertificateNotYetValid(String),
    #[error("the card's certificate was not issued by the trusted authority")]
    UntrustedIssuer,
    #[error(
        "the card's certificate cannot be used to sign in: {0}; ask your Registration Authority for a new card"
    )]
    CertificateUnsuitable(String),
    #[error("the card's certificate has been revoked; ask your Registration Authority")]
    CertificateRevoked,
    #[error(
        "the site's certificate revocation list was due to be replaced on {0} and has not been; ask the IT service desk to update it"
    )]
    RevocationListOutOfDate(String),
    #[error("{0}")]
    TrustUnusable(String),
    #[error("the site's certificate revocation list cannot be used: {0}")]
    RevocationListUnusable(String),
    #[error("the card's certificate carries no 12-digit NHS user id")]
    NoUserId,
    #[error(
        "the document's signature does not match it: the document or its signature has been changed since it was signed"
    )]
    DocumentSignatureInvalid,
    #[error("the card could not prove it holds the certificate's key")]
    KeyProofFailed,
    #[error(
        "the card's key is of a kind this workstation cannot check (algorithm {0}); cards hold RSA or P-256 keys"
    )]
    UnsupportedKey(String),
    #[error("the smart-card software failed: {0}")]
    Pkcs11(String),
    #[error(
        "the PC/SC service (pcscd) is not running ({0}); card removal is still seen, by polling the card"
    )]
    NoReaderService(String),
}

impl IdentityError {
    /// True when the person can put it right (PIN, card), not the system.
    pub fn is_user_fixable(&self) -> bool {
        matches!(self, Self::CardNotFound(_) | Self::AmbiguousCard(_) | Self::WrongPin { .. })
    }
}

impl From<cryptoki::error::Error> for IdentityError {
    fn from(error: cryptoki::error::Error) -> Self {
        Self::Pkcs11(error.to_string())
    }
}
