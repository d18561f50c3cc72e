//! A local certificate authority for demonstration and test cards: it issues
//! card certificates carrying the NHS user id in the UID attribute, for new
//! P-256 keys or for keys made elsewhere (RSA, as on NHS smartcards).

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::DemoCardError;

const UID_OID: [u64; 7] = [0, 9, 2342, 19200300, 100, 1, 1];

pub struct DemoCa {
    issuer: Issuer<'static, KeyPair>,
    cert_der: Vec<u8>,
    cert_pem: String,
}

/// How a test card's certificate is made: a good card has the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardProfile {
    /// A certificate authority's certificate (CA:true) rather than a person's.
    pub is_ca: bool,
    /// Key usage allows digitalSignature, as a card's authentication key must.
    pub digital_signature: bool,
}

impl Default for CardProfile {
    fn default() -> Self {
        Self { is_ca: false, digital_signature: true }
    }
}

/// A card's key (PKCS#8 PEM, for `softhsm2-util --import`) and its certificate.
pub struct IssuedCard {
    pub key_pem: Zeroizing<String>,
    pub cert_der: Vec<u8>,
}

fn failed(error: rcgen::Error) -> DemoCardError {
    DemoCardError(format!("the demonstration CA failed: {error}"))
}

impl DemoCa {
    pub fn new(name: &str) -> Result<Self, DemoCardError> {
        let key = KeyPair::generate().map_err(failed)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).map_err(failed)?;
        let cert_der = cert.der().to_vec();
        let cert_pem = cert.pem();
        Ok(Self { issuer: Issuer::new(params, key), cert_der, cert_pem })
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Issues a card for `user_id`, with a new P-256 key, valid from `not_before` to `not_after`.
    pub fn issue(
        &self,
        user_id: &str,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCard, DemoCardError> {
        self.issue_with(user_id, common_name, not_before, not_after, CardProfile::default())
    }

    /// As `issue`, with a certificate made to `profile` (for tests of unsuitable cards).
    pub fn issue_with(
        &self,
        user_id: &str,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        profile: CardProfile,
    ) -> Result<IssuedCard, DemoCardError> {
        let key = KeyPair::generate().map_err(failed)?;
        self.certify(key, user_id, common_name, (not_before, not_after), profile)
    }

    /// The CA's key as PKCS#8 PEM, for tests that sign with other tools (OpenSSL, for SHA-1).
    pub fn key_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(self.issuer.key().serialize_pem())
    }

    /// A certificate revocation list (DER) signed by this CA, revoking the certificates given.
    pub fn revocation_list(
        &self,
        revoked_certificates: &[&[u8]],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, DemoCardError> {
        let revoked_certs = revoked_certificates
            .iter()
            .map(|der| {
                let (_, cert) =
                    x509_parser::parse_x509_certificate(der).map_err(|e| DemoCardError(e.to_string()))?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(cert.raw_serial()),
                    revocation_time: this_update,
                    reason_code: None,
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, DemoCardError>>()?;
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from(1),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer).map_err(failed)?.der().to_vec())
    }

    /// As `issue`, with a new RSA-2048 key like those on NHS smartcards, made by
    /// OpenSSL's command line (rcgen's backend cannot make RSA keys).
    pub fn issue_rsa(
        &self,
        user_id: &str,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCard, DemoCardError> {
        let output = std::process::Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            .output()
            .map_err(|e| DemoCardError(format!("openssl (package openssl): {e}")))?;
        if !output.status.success() {
            return Err(DemoCardError(format!(
                "openssl could not make an RSA key: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let key_pem = Zeroizing::new(
            String::from_utf8(output.stdout).map_err(|_| DemoCardError("openssl wrote no PEM".into()))?,
        );
        self.issue_for_key(&key_pem, user_id, common_name, not_before, not_after)
    }

    /// As `issue`, for a key made elsewhere (PKCS#8 PEM).
    fn issue_for_key(
        &self,
        key_pem: &str,
        user_id: &str,
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<IssuedCard, DemoCardError> {
        let key = KeyPair::from_pem(key_pem).map_err(failed)?;
        self.certify(key, user_id, common_name, (not_before, not_after), CardProfile::default())
    }

    fn certify(
        &self,
        key: KeyPair,
        user_id: &str,
        common_name: &str,
        (not_before, not_after): (OffsetDateTime, OffsetDateTime),
        profile: CardProfile,
    ) -> Result<IssuedCard, DemoCardError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.distinguished_name.push(DnType::CustomDnType(UID_OID.to_vec()), user_id);
        params.not_before = not_before;
        params.not_after = not_after;
        params.key_usages = match profile.digital_signature {
            true => vec![KeyUsagePurpose::DigitalSignature],
            false => vec![KeyUsagePurpose::KeyEncipherment],
        };
        if profile.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let cert = params.signed_by(&key, &self.issuer).map_err(failed)?;
        Ok(IssuedCard { key_pem: Zeroizing::new(key.serialize_pem()), cert_der: cert.der().to_vec() })
    }
}
