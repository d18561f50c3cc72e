//! `cws card` against real PKCS#11 tokens (SoftHSM2): a good login, a wrong
//! PIN, a locked PIN, an expired certificate, an untrusted issuer, and a missing user id.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use demo_cards::DemoCa;
use test_services::SoftHsm;
use time::{Duration, OffsetDateTime};

struct Cards {
    hsm: SoftHsm,
    ca: DemoCa,
    ca_file: tempfile::NamedTempFile,
}

impl Cards {
    fn new() -> Self {
        let ca = DemoCa::new("Test Trust Issuing CA").expect("CA");
        let mut ca_file = tempfile::NamedTempFile::new().expect("temp file");
        ca_file.write_all(ca.cert_pem().as_bytes()).expect("CA written");
        Self { hsm: SoftHsm::start(), ca, ca_file }
    }

    fn add(
        &self,
        label: &str,
        user_id: &str,
        valid_from: OffsetDateTime,
        valid_to: OffsetDateTime,
        issuer: &DemoCa,
    ) {
        let card = issuer.issue(user_id, "PHARMACY, Percy", valid_from, valid_to).expect("issued");
        self.hsm.add_card(label, "1234", &card.key_pem, &card.cert_der);
    }

    fn add_valid(&self, label: &str, user_id: &str) {
        let now = OffsetDateTime::now_utc();
        self.add(label, user_id, now - Duration::days(30), now + Duration::days(365), &self.ca);
    }

    fn cws(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cws"))
            .args(args)
            .envs(self.hsm.env())
            .env("CWS_CARD_CA", self.ca_file.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cws runs");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("PIN");
        child.wait_with_output().expect("cws ends")
    }

    fn login(&self, label: &str, pin: &str) -> Output {
        self.cws(&["card", "login", "--card", label, "--pin-stdin"], pin)
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_good_card_and_pin_prove_the_user() {
    let cards = Cards::new();
    cards.add_valid("PHARMACIST-CARD", "555000000002");
    let listed = cards.cws(&["card", "list"], "");
    assert!(String::from_utf8_lossy(&listed.stdout).contains("PHARMACIST-CARD"));
    let output = cards.login("PHARMACIST-CARD", "1234\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("proves user 555000000002"));
}

#[test]
fn a_wrong_pin_is_refused_and_says_what_the_card_reports() {
    let cards = Cards::new();
    cards.add_valid("NURSE-CARD", "555000000003");
    let output = cards.login("NURSE-CARD", "9999\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("the PIN is wrong"), "{}", stderr(&output));
    assert!(!stderr(&output).contains("9999"), "the PIN is never echoed");
}

#[test]
fn a_locked_pin_is_reported_plainly_even_with_the_right_pin() {
    let cards = Cards::new();
    cards.add_valid("LOCKED-CARD", "555000000003");
    cards.hsm.lock_user_pin("LOCKED-CARD");
    let output = cards.login("LOCKED-CARD", "1234\n");
    assert!(!output.status.success(), "a locked card proves no one");
    assert!(stderr(&output).contains("PIN is locked"), "{}", stderr(&output));
    assert!(stderr(&output).contains("Registration Authority"), "{}", stderr(&output));
}

#[test]
fn an_expired_certificate_is_refused() {
    let cards = Cards::new();
    let now = OffsetDateTime::now_utc();
    cards.add("OLD-CARD", "555000000004", now - Duration::days(800), now - Duration::days(1), &cards.ca);
    let output = cards.login("OLD-CARD", "1234\n");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("expired"), "{}", stderr(&output));
}

#[test]
fn a_certificate_from_an_untrusted_ca_is_refused() {
    let cards = Cards::new();
    let stranger = DemoCa::new("Somebody Else's CA").expect("CA");
    let now = OffsetDateTime::now_utc();
    cards.add("FORGED-CARD", "555000000001", now - Duration::days(1), now + Duration::days(30), &stranger);
    let output = cards.login("FORGED-CARD", "1234\n");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("not issued by the trusted authority"), "{}", stderr(&output));
}

#[test]
fn a_certificate_without_a_user_id_is_refused() {
    let cards = Cards::new();
    let now = OffsetDateTime::now_utc();
    cards.add("ODD-CARD", "not-a-user-id", now - Duration::days(1), now + Duration::days(30), &cards.ca);
    let output = cards.login("ODD-CARD", "1234\n");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("12-digit NHS user id"), "{}", stderr(&output));
}

#[test]
fn a_card_not_in_a_reader_is_named() {
    let cards = Cards::new();
    cards.add_valid("PRESENT-CARD", "555000000002");
    cards.hsm.remove_card("PRESENT-CARD");
    let output = cards.login("PRESENT-CARD", "1234\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no smart card labelled \"PRESENT-CARD\""), "{}", stderr(&output));
}

#[test]
fn a_card_whose_key_does_not_match_its_certificate_is_refused() {
    let cards = Cards::new();
    let now = OffsetDateTime::now_utc();
    let genuine = cards
        .ca
        .issue("555000000002", "PHARMACY, Percy", now - Duration::days(1), now + Duration::days(30))
        .expect("issued");
    let other = cards
        .ca
        .issue("555000000009", "Someone Else", now - Duration::days(1), now + Duration::days(30))
        .expect("issued");
    // The certificate of one card with the key of another: the challenge signature cannot verify.
    cards.hsm.add_card("MIXED-CARD", "1234", &other.key_pem, &genuine.cert_der);
    let output = cards.login("MIXED-CARD", "1234\n");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("could not prove it holds the certificate's key"),
        "{}",
        stderr(&output)
    );
}

/// An RSA-2048 card, as NHS smartcards hold, for user 555000000001.
fn rsa_card(cards: &Cards) -> demo_cards::demo_ca::IssuedCard {
    let now = OffsetDateTime::now_utc();
    let (from, to) = (now - Duration::days(1), now + Duration::days(30));
    cards.ca.issue_rsa("555000000001", "ONCOLOGY, Olive", from, to).expect("issued")
}

#[test]
fn an_rsa_card_like_an_nhs_smartcard_proves_its_user() {
    let cards = Cards::new();
    let card = rsa_card(&cards);
    cards.hsm.add_card("RSA-CARD", "1234", &card.key_pem, &card.cert_der);
    let output = cards.login("RSA-CARD", "1234\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("proves user 555000000001"));
}

#[test]
fn an_rsa_card_whose_key_does_not_match_its_certificate_is_refused() {
    let cards = Cards::new();
    let (certified, other) = (rsa_card(&cards), rsa_card(&cards));
    cards.hsm.add_card("SWAPPED-RSA-CARD", "1234", &other.key_pem, &certified.cert_der);
    let output = cards.login("SWAPPED-RSA-CARD", "1234\n");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("could not prove it holds the certificate's key"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn two_cards_with_one_label_are_told_apart_by_serial_and_never_guessed() {
    let cards = Cards::new();
    cards.add_valid("SHARED-LABEL", "555000000001");
    cards.add_valid("SHARED-LABEL", "555000000002");
    let refused = cards.login("SHARED-LABEL", "1234\n");
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("more than one smart card is labelled"));
    let listed = cards.cws(&["card", "list", "--json"], "");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    for card in listed.as_array().expect("cards") {
        let serial = card["serial"].as_str().expect("serial");
        let output = cards.login(serial, "1234\n");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
}
