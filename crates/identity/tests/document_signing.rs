//! Signing a document with a real PKCS#11 token (SoftHSM2), as discharge
//! summaries and pharmacists' verifications will: P-256 and RSA-2048 cards,
//! and every change to what was signed refused. One test, so the token
//! configuration in the environment is set before anything else runs.

use demo_cards::DemoCa;
use demo_cards::{SOFTHSM_MODULE, SoftHsmTokens};
use identity::{CardReader, IdentityError, SignatureAlgorithm, Trust, verify_document};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

#[test]
fn a_card_signs_a_document_and_any_change_to_it_is_refused() {
    let folder = tempfile::tempdir().expect("folder");
    // SAFETY: this binary's only test sets it before the module or any other thread starts.
    unsafe { std::env::set_var("SOFTHSM2_CONF", folder.path().join("softhsm2.conf")) };
    let tokens = SoftHsmTokens::create(folder.path()).expect("tokens");
    let ca = DemoCa::new("Test Trust Issuing CA").expect("CA");
    let now = OffsetDateTime::now_utc();
    let (from, to) = (now - Duration::days(1), now + Duration::days(30));
    let p256 = ca.issue("555000000001", "ONCOLOGY, Olive (Dr)", from, to).expect("card");
    tokens.add_card("P256-CARD", "1234", &p256.key_pem, &p256.cert_der).expect("card written");
    let rsa = ca.issue_rsa("555000000002", "PHARMACY, Percy (Mr)", from, to).expect("card");
    tokens.add_card("RSA-CARD", "1234", &rsa.key_pem, &rsa.cert_der).expect("card written");
    let reader = CardReader::open(std::path::Path::new(SOFTHSM_MODULE)).expect("module");
    let trust = Trust::from_der(ca.cert_der().to_vec()).expect("trust");
    let pin = Zeroizing::new("1234".to_owned());
    let document = b"Discharge summary for patient 42, canonical bytes".to_vec();
    let serial_of = |label: &str| {
        reader.cards().expect("cards").into_iter().find(|c| c.label == label).expect("present").serial
    };

    for (label, certificate, algorithm) in [
        ("P256-CARD", &p256.cert_der, SignatureAlgorithm::EcdsaP256Sha256),
        ("RSA-CARD", &rsa.cert_der, SignatureAlgorithm::RsaPkcs1Sha256),
    ] {
        let signed = reader.sign_document(&serial_of(label), &pin, &trust, now, &document).expect("signed");
        assert_eq!(signed.algorithm, algorithm);
        assert_eq!(&signed.certificate, certificate, "the signer's certificate goes with the signature");
        assert_eq!(verify_document(&document, &signed, &trust), Ok(()), "{label}");

        let mut changed = document.clone();
        changed[0] ^= 1;
        assert_eq!(verify_document(&changed, &signed, &trust), Err(IdentityError::DocumentSignatureInvalid));
        let mut forged = signed.clone();
        let last = forged.signature.len() - 1;
        forged.signature[last] ^= 1;
        assert_eq!(verify_document(&document, &forged, &trust), Err(IdentityError::DocumentSignatureInvalid));
        let mut claimed = signed.clone();
        claimed.user_id = "555000000099".into();
        assert_eq!(
            verify_document(&document, &claimed, &trust),
            Err(IdentityError::DocumentSignatureInvalid)
        );
        let elsewhere =
            Trust::from_der(DemoCa::new("Test Trust Issuing CA").expect("CA").cert_der().to_vec())
                .expect("another CA of the same name");
        assert_eq!(verify_document(&document, &signed, &elsewhere), Err(IdentityError::UntrustedIssuer));
    }

    let wrong_pin = Zeroizing::new("9999".to_owned());
    assert!(matches!(
        reader.sign_document(&serial_of("P256-CARD"), &wrong_pin, &trust, now, &document),
        Err(IdentityError::WrongPin { .. })
    ));
}
