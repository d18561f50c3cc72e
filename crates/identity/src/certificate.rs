//! The card's certificate: its dates, its issuer (by name and by the CA's
//! signature), its fitness for signing in (not a CA, digitalSignature allowed, no
//! SHA-1, no RSA below 2048 bits), whether the site's CRL revokes it, and its user id.

use std::path::Path;

use ::time::OffsetDateTime;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::IdentityError;

/// The issuing CA a site trusts, as DER, and the revocation list it publishes, if the site names one.
#[derive(Debug, Clone)]
pub struct Trust {
    ca_der: Vec<u8>,
    crl_der: Option<Vec<u8>>,
}

impl Trust {
    pub fn from_der(ca_der: Vec<u8>) -> Result<Self, IdentityError> {
        parse(&ca_der)?;
        Ok(Self { ca_der, crl_der: None })
    }

    /// Reads a PEM or DER CA certificate.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, IdentityError> {
        Self::from_der(der_of(bytes))
    }

    /// The site's trust from its files: the issuing CA's certificate and, where the
    /// site names one, its revocation list (each PEM or DER). The one place both the
    /// app and `cws` read them.
    pub fn from_files(ca: &Path, revocation_list: Option<&Path>) -> Result<Self, IdentityError> {
        let read = |what: &str, path: &Path| {
            std::fs::read(path).map_err(|e| {
                IdentityError::TrustUnusable(format!("the {what} {} cannot be read: {e}", path.display()))
            })
        };
        let trust = Self::from_pem_or_der(&read("card CA", ca)?).map_err(|e| {
            IdentityError::TrustUnusable(format!("the card CA {} is not usable: {e}", ca.display()))
        })?;
        let Some(crl) = revocation_list else { return Ok(trust) };
        trust.with_revocation_list(&read("card revocation list", crl)?).map_err(|e| {
            IdentityError::TrustUnusable(format!(
                "the card revocation list {} is not usable: {e}",
                crl.display()
            ))
        })
    }

    /// Adds the CA's certificate revocation list (PEM or DER). It must be issued
    /// and signed by the trusted CA; its dates are checked at each login.
    pub fn with_revocation_list(mut self, bytes: &[u8]) -> Result<Self, IdentityError> {
        let der = match x509_parser::pem::parse_x509_pem(bytes) {
            Ok((_, pem)) => pem.contents,
            Err(_) => bytes.to_vec(),
        };
        let crl = parse_crl(&der)?;
        let ca = parse(&self.ca_der)?;
        if crl.issuer() != ca.subject() || crl.verify_signature(ca.public_key()).is_err() {
            return Err(IdentityError::RevocationListUnusable(
                "it was not issued by the trusted authority".into(),
            ));
        }
        self.crl_der = Some(der);
        Ok(self)
    }
}

fn parse_crl(der: &[u8]) -> Result<CertificateRevocationList<'_>, IdentityError> {
    CertificateRevocationList::from_der(der)
        .map(|(_, crl)| crl)
        .map_err(|e| IdentityError::RevocationListUnusable(e.to_string()))
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

/// Who a certificate names, for enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateHolder {
    pub user_id: String,
    pub common_name: String,
    /// What enrolment binds the user to (see `key_fingerprint`).
    pub key_sha256: String,
}

/// The user id, name and key fingerprint a certificate (PEM or DER) carries, for
/// enrolment; checks its issuer and fitness when `trust` is given.
pub fn certificate_holder(cert: &[u8], trust: Option<&Trust>) -> Result<CertificateHolder, IdentityError> {
    let der = der_of(cert);
    let cert = parse(&der)?;
    if let Some(trust) = trust {
        fit_for_signing_in(&cert)?;
        issued_by(&cert, &parse(&trust.ca_der)?)?;
    }
    let holder = holder_of(&cert)?;
    Ok(CertificateHolder {
        user_id: holder.user_id,
        common_name: holder.common_name,
        key_sha256: holder.key_sha256,
    })
}

/// The fingerprint enrolment binds a user to: SHA-256 of the certificate's
/// SubjectPublicKeyInfo, as hex. It names the key on the card, so a different
/// card carrying the same user id has another.
fn key_fingerprint(cert: &X509Certificate<'_>) -> String {
    hex_sha256(cert.public_key().raw)
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a trusted, in-date certificate says about its holder.
pub(crate) struct Holder {
    pub user_id: String,
    pub common_name: String,
    pub serial: String,
    /// `key_fingerprint` of the certificate.
    pub key_sha256: String,
    /// The certificate itself, DER.
    pub certificate_der: Vec<u8>,
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
    // Fitness first: a SHA-1 signature cannot even be checked, and saying why helps.
    fit_for_signing_in(&cert)?;
    issued_by(&cert, &ca)?;
    if let Some(crl_der) = &trust.crl_der {
        not_revoked(&cert, &parse_crl(crl_der)?, moment)?;
    }
    holder_of(&cert)
}

/// The trusted CA's name is on the certificate and its key signed it. The name
/// alone proves nothing: anyone can make a CA of that name.
fn issued_by(cert: &X509Certificate<'_>, ca: &X509Certificate<'_>) -> Result<(), IdentityError> {
    if cert.issuer() != ca.subject() || cert.verify_signature(Some(ca.public_key())).is_err() {
        return Err(IdentityError::UntrustedIssuer);
    }
    Ok(())
}

const SHA1_SIGNATURES: [&str; 3] = [
    "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
    "1.2.840.10045.4.1",    // ecdsa-with-SHA1
    "1.2.840.10040.4.3",    // dsa-with-sha1
];
const MINIMUM_RSA_BITS: usize = 2048;

/// A card certificate is an end entity whose key may sign, with a signature and key
/// strong enough to trust.
fn fit_for_signing_in(cert: &X509Certificate<'_>) -> Result<(), IdentityError> {
    let unsuitable = |why: &str| Err(IdentityError::CertificateUnsuitable(why.to_owned()));
    if cert.is_ca() {
        return unsuitable("it is a certificate authority's certificate, not a person's");
    }
    match cert.key_usage() {
        Ok(Some(usage)) if usage.value.digital_signature() => {}
        Ok(_) => return unsuitable("its key usage does not allow digital signatures"),
        Err(_) => return unsuitable("its key usage cannot be read"),
    }
    if SHA1_SIGNATURES.contains(&cert.signature_algorithm.algorithm.to_id_string().as_str()) {
        return unsuitable("it is signed with SHA-1, which is no longer safe");
    }
    if let Ok(PublicKey::RSA(rsa)) = cert.public_key().parsed()
        && rsa.key_size() < MINIMUM_RSA_BITS
    {
        return unsuitable(&format!(
            "its RSA key has {} bits, fewer than {MINIMUM_RSA_BITS}",
            rsa.key_size()
        ));
    }
    Ok(())
}

/// The site's CRL is in date and does not list the certificate. An out-of-date
/// list refuses every card: a revoked card must never pass because the list went stale.
fn not_revoked(
    cert: &X509Certificate<'_>,
    crl: &CertificateRevocationList<'_>,
    moment: ASN1Time,
) -> Result<(), IdentityError> {
    match crl.next_update() {
        Some(due) if moment > due => return Err(IdentityError::RevocationListOutOfDate(due.to_string())),
        Some(_) => {}
        None => {
            return Err(IdentityError::RevocationListUnusable("it gives no date for its replacement".into()));
        }
    }
    if crl.iter_revoked_certificates().any(|revoked| revoked.raw_serial() == cert.raw_serial()) {
        return Err(IdentityError::CertificateRevoked);
    }
    Ok(())
}

fn holder_of(cert: &X509Certificate<'_>) -> Result<Holder, IdentityError> {
    let uid = Oid::from(&[0, 9, 2342, 19200300, 100, 1, 1]).map_err(|_| IdentityError::NoUserId)?;
    debug_assert_eq!(uid.to_id_string(), UID);
    let user_id = cert
        .subject()
        .iter_by_oid(&uid)
        .next()
        .and_then(|attribute| attribute.as_str().ok())
        .and_then(session::UserId::parse)
        .ok_or(IdentityError::NoUserId)?
        .as_str()
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
        key_sha256: key_fingerprint(cert),
        certificate_der: cert.as_ref().to_vec(),
        public_key: card_key(cert.public_key())?,
    })
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use ::time::Duration;

    use super::*;
    use demo_cards::{CardProfile, DemoCa};

    const CA_NAME: &str = "Test Trust Issuing CA";
    const USER: &str = "555000000001";

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn trust(ca: &DemoCa) -> Trust {
        Trust::from_der(ca.cert_der().to_vec()).expect("the CA parses")
    }

    fn card(ca: &DemoCa, profile: CardProfile) -> Vec<u8> {
        ca.issue_with(
            USER,
            "TESTER, Pat (Dr)",
            now() - Duration::days(1),
            now() + Duration::days(30),
            profile,
        )
        .expect("issued")
        .cert_der
    }

    fn refusal(cert: &[u8], trust: &Trust) -> IdentityError {
        check(cert, trust, now()).err().expect("refused")
    }

    #[test]
    fn a_good_card_certificate_is_accepted() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let holder = check(&card(&ca, CardProfile::default()), &trust(&ca), now()).expect("accepted");
        assert_eq!(holder.user_id, USER);
    }

    #[test]
    fn an_impostor_ca_with_the_trusted_name_is_refused() {
        let trusted = DemoCa::new(CA_NAME).expect("CA");
        let impostor = DemoCa::new(CA_NAME).expect("a second CA of the same name");
        let forged = card(&impostor, CardProfile::default());
        assert_eq!(refusal(&forged, &trust(&trusted)), IdentityError::UntrustedIssuer);
    }

    #[test]
    fn a_certificate_not_valid_for_two_more_days_is_refused() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let early = ca
            .issue(USER, "TESTER, Pat (Dr)", now() + Duration::days(2), now() + Duration::days(30))
            .expect("issued")
            .cert_der;
        assert!(matches!(refusal(&early, &trust(&ca)), IdentityError::CertificateNotYetValid(_)));
    }

    #[test]
    fn a_ca_certificate_is_not_a_card() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let cert = card(&ca, CardProfile { is_ca: true, ..CardProfile::default() });
        assert!(
            matches!(refusal(&cert, &trust(&ca)), IdentityError::CertificateUnsuitable(why) if why.contains("certificate authority"))
        );
    }

    #[test]
    fn a_certificate_that_may_not_sign_is_refused() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let cert = card(&ca, CardProfile { digital_signature: false, ..CardProfile::default() });
        assert!(
            matches!(refusal(&cert, &trust(&ca)), IdentityError::CertificateUnsuitable(why) if why.contains("digital signatures"))
        );
    }

    /// A card certificate made by OpenSSL, signed by the demonstration CA.
    fn openssl_card(ca: &DemoCa, key_algorithm: &[&str], digest: &str) -> Vec<u8> {
        let folder = tempfile::tempdir().expect("temp");
        let path = |name: &str| folder.path().join(name).to_string_lossy().into_owned();
        std::fs::write(path("ca.key"), ca.key_pem().as_bytes()).expect("CA key");
        std::fs::write(path("ca.pem"), ca.cert_pem()).expect("CA cert");
        std::fs::write(path("ext.cnf"), "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n")
            .expect("extensions");
        let run = |args: &[&str]| {
            let output = Command::new("openssl").args(args).output().expect("openssl runs");
            assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        };
        run(&[&["genpkey"][..], key_algorithm, &["-out", &path("card.key")]].concat());
        let subject = format!("/CN=TESTER, Pat (Dr)/UID={USER}");
        run(&["req", "-new", "-key", &path("card.key"), "-subj", &subject, "-out", &path("card.csr")]);
        run(&[
            "x509",
            "-req",
            "-in",
            &path("card.csr"),
            "-CA",
            &path("ca.pem"),
            "-CAkey",
            &path("ca.key"),
            "-CAcreateserial",
            digest,
            "-days",
            "30",
            "-extfile",
            &path("ext.cnf"),
            "-outform",
            "DER",
            "-out",
            &path("card.der"),
        ]);
        std::fs::read(path("card.der")).expect("card certificate")
    }

    #[test]
    fn a_certificate_signed_with_sha1_is_refused() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let cert = openssl_card(&ca, &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "-sha1");
        assert!(
            matches!(refusal(&cert, &trust(&ca)), IdentityError::CertificateUnsuitable(why) if why.contains("SHA-1"))
        );
        let sound =
            openssl_card(&ca, &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "-sha256");
        assert!(check(&sound, &trust(&ca), now()).is_ok(), "the same card signed with SHA-256 is accepted");
    }

    #[test]
    fn an_rsa_key_below_2048_bits_is_refused() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let cert = openssl_card(&ca, &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], "-sha256");
        assert!(
            matches!(refusal(&cert, &trust(&ca)), IdentityError::CertificateUnsuitable(why) if why.contains("1024 bits"))
        );
    }

    fn with_list(ca: &DemoCa, revoked: &[&[u8]], next_update: OffsetDateTime) -> Trust {
        let crl = ca.revocation_list(revoked, now() - Duration::days(1), next_update).expect("CRL");
        trust(ca).with_revocation_list(&crl).expect("the CA's own list")
    }

    #[test]
    fn a_revoked_card_is_refused_and_others_pass() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let (revoked, other) = (card(&ca, CardProfile::default()), card(&ca, CardProfile::default()));
        let trust = with_list(&ca, &[&revoked], now() + Duration::days(7));
        assert_eq!(refusal(&revoked, &trust), IdentityError::CertificateRevoked);
        assert!(check(&other, &trust, now()).is_ok());
    }

    #[test]
    fn an_out_of_date_revocation_list_refuses_every_card() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let trust = with_list(&ca, &[], now() - Duration::hours(1));
        let cert = card(&ca, CardProfile::default());
        assert!(matches!(refusal(&cert, &trust), IdentityError::RevocationListOutOfDate(_)));
    }

    #[test]
    fn a_revocation_list_from_another_ca_is_not_used() {
        let ca = DemoCa::new(CA_NAME).expect("CA");
        let impostor = DemoCa::new(CA_NAME).expect("a second CA of the same name");
        let crl = impostor.revocation_list(&[], now(), now() + Duration::days(7)).expect("CRL");
        assert!(matches!(
            trust(&ca).with_revocation_list(&crl),
            Err(IdentityError::RevocationListUnusable(_))
        ));
    }
}
