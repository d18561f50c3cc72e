//! `cws` acts that need a person, against a real store (SQLCipher, key in
//! GNOME Keyring) and real cards (SoftHSM2): the store's owner enrols the first
//! administrator; after that, enrolling and disabling staff need a manage_users
//! card, and the store's recovery key and rekeying a manage_store card.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use demo_cards::DemoCa;
use test_services::{KeyringSession, Postgres, SoftHsm};
use time::{Duration, OffsetDateTime};

const ADMIN: &str = "555000000090";
const NURSE: &str = "555000000003";
const NEWCOMER: &str = "555000000004";

/// The account the tests run as, by its effective uid; `USER` is set to
/// `site-it` for every run and must name no one.
fn effective_account() -> String {
    let output = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

struct Site {
    keyring: KeyringSession,
    hsm: SoftHsm,
    ca: DemoCa,
    folder: tempfile::TempDir,
    /// A shared store's URL (CWS_STORE_URL), where the site uses one.
    store_url: Option<String>,
}

impl Site {
    fn new() -> Self {
        Self::with_store(None)
    }

    /// A site whose store is a shared PostgreSQL database.
    fn on_shared_store(url: String) -> Self {
        Self::with_store(Some(url))
    }

    fn with_store(store_url: Option<String>) -> Self {
        let site = Self {
            keyring: KeyringSession::start(),
            hsm: SoftHsm::start(),
            ca: DemoCa::new("Test Trust Issuing CA").expect("CA"),
            folder: tempfile::tempdir().expect("folder"),
            store_url,
        };
        std::fs::write(site.folder.path().join("ca.pem"), site.ca.cert_pem()).expect("CA written");
        site.write_settings("");
        site.cws(&["store", "init"], "").success_or_panic();
        site
    }

    /// The site's settings file: the card module and CA, then `extra`. The tests run
    /// as root, as CI does, so the file passes cws's test that root owns it.
    fn settings(&self) -> PathBuf {
        self.folder.path().join("workstation.toml")
    }

    fn write_settings(&self, extra: &str) {
        self.write_settings_with("", extra);
    }

    /// As `write_settings`, with more lines in the `[cards]` table.
    fn write_settings_with(&self, more_cards: &str, extra: &str) {
        let cards = format!(
            "[cards]\npkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\nissuing_ca = {:?}\n{more_cards}",
            self.folder.path().join("ca.pem").to_string_lossy()
        );
        std::fs::write(self.settings(), format!("{cards}{extra}")).expect("settings written");
    }

    /// Issues a card to `user_id` and returns its certificate file, for enrolment.
    fn issue_card(&self, label: &str, user_id: &str) -> PathBuf {
        let now = OffsetDateTime::now_utc();
        let card = self
            .ca
            .issue(user_id, "TESTER, Tess (Ms)", now - Duration::days(1), now + Duration::days(30))
            .expect("issued");
        self.hsm.add_card(label, "1234", &card.key_pem, &card.cert_der);
        let cert = self.folder.path().join(format!("{label}.der"));
        std::fs::write(&cert, &card.cert_der).expect("certificate written");
        cert
    }

    fn cws(&self, args: &[&str], stdin: &str) -> Output {
        self.cws_with_env(&[], args, stdin)
    }

    /// As `cws`, with more environment (which must never change whom a card act trusts).
    fn cws_with_env(&self, env: &[(&str, &Path)], args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cws"))
            .args(args)
            .envs(self.keyring.env())
            .envs(self.hsm.env())
            .env("CWS_CONFIG", self.settings())
            .env("CWS_STORE", self.folder.path().join("store.db"))
            .envs(self.store_url.iter().map(|url| ("CWS_STORE_URL", url)))
            .env("USER", "site-it")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cws runs");
        // A refusal before stdin is read (a bad argument) closes it: that is not a failure here.
        match child.stdin.take().expect("stdin").write_all(stdin.as_bytes()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.expect("stdin written"),
        }
        child.wait_with_output().expect("cws ends")
    }

    fn enrol(&self, cert: &Path, roles: &str, card: Option<(&str, &str)>) -> Output {
        let cert = cert.to_string_lossy();
        let mut args = vec!["user", "enrol", "--cert", &cert, "--roles", roles];
        let (label, pin) = card.unwrap_or(("", ""));
        if card.is_some() {
            args.extend(["--card", label, "--pin-stdin"]);
        }
        self.cws(&args, &format!("{pin}\n"))
    }

    fn enrolled(&self) -> String {
        String::from_utf8_lossy(&self.cws(&["user", "list"], "").stdout).into_owned()
    }

    fn audit(&self) -> String {
        let output = self.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"], "");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A site whose first administrator and a nurse are enrolled.
    fn with_administrator() -> Self {
        Self::new().enrolling_administrator_and_nurse()
    }

    fn enrolling_administrator_and_nurse(self) -> Self {
        let site = self;
        let admin = site.issue_card("ADMIN-CARD", ADMIN);
        site.enrol(&admin, "LOCAL-ADMIN", None).success_or_panic();
        let nurse = site.issue_card("NURSE-CARD", NURSE);
        site.enrol(&nurse, "R8001", Some(("ADMIN-CARD", "1234"))).success_or_panic();
        site
    }
}

trait Outcome {
    fn success_or_panic(&self);
    fn stderr(&self) -> String;
}

impl Outcome for Output {
    fn success_or_panic(&self) {
        assert!(self.status.success(), "{}", self.stderr());
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

#[test]
fn the_store_owner_enrols_the_first_administrator_without_a_card() {
    let site = Site::new();
    let admin = site.issue_card("ADMIN-CARD", ADMIN);
    site.enrol(&admin, "LOCAL-ADMIN", None).success_or_panic();
    assert!(site.enrolled().contains(ADMIN));
    assert!(site.audit().lines().any(|l| l.contains(&format!(",os:{},", effective_account()))
        && l.contains(",user.enrol,")
        && l.contains(&format!("user:{ADMIN}"))));
}

#[test]
fn after_the_bootstrap_enrolling_without_a_card_is_refused_and_audited() {
    let site = Site::with_administrator();
    let newcomer = site.issue_card("NEW-CARD", NEWCOMER);
    let output = site.enrol(&newcomer, "R8000", None);
    assert_eq!(output.status.code(), Some(2), "{}", output.stderr());
    assert!(output.stderr().contains("--card LABEL --pin-stdin"), "{}", output.stderr());
    assert!(!site.enrolled().contains(NEWCOMER), "nothing was enrolled");
    assert!(
        site.audit().lines().any(|l| l.contains(&format!(",os:{},", effective_account()))
            && l.contains("user.enrol")
            && l.contains("refused")),
        "the refusal is audited:\n{}",
        site.audit()
    );
}

#[test]
fn an_administrators_card_enrols_and_disables_and_is_the_audited_actor() {
    let site = Site::with_administrator();
    let newcomer = site.issue_card("NEW-CARD", NEWCOMER);
    let cert = newcomer.to_string_lossy();
    let args = ["user", "enrol", "--cert", &cert, "--roles", "R8000", "--wards", "WARD7,WARD9"];
    let enrolled = site.cws(&[&args[..], &["--card", "ADMIN-CARD", "--pin-stdin"]].concat(), "1234\n");
    let said = String::from_utf8_lossy(&enrolled.stdout).into_owned();
    enrolled.success_or_panic();
    assert!(said.contains("They work on: WARD7, WARD9."), "{said}");
    assert!(site.enrolled().contains(NEWCOMER));

    site.cws(&["user", "disable", NEWCOMER, "--card", "ADMIN-CARD", "--pin-stdin"], "1234\n")
        .success_or_panic();
    assert!(site.enrolled().lines().any(|l| l.contains(NEWCOMER) && l.contains("DISABLED")));

    let audit = site.audit();
    assert!(
        audit.lines().any(|l| l.contains(&format!(",{ADMIN},"))
            && l.contains(",user.enrol,")
            && l.contains(&format!("user:{NEWCOMER}"))),
        "{audit}"
    );
    assert!(
        audit.lines().any(|l| l.contains(&format!(",{ADMIN},")) && l.contains(",user.disable")),
        "{audit}"
    );
    assert!(
        audit.lines().any(|l| l.contains(&format!(",{ADMIN},")) && l.contains(",user.wards,")),
        "the wards given at enrolment are audited: {audit}"
    );
}

#[test]
fn a_card_without_manage_users_cannot_enrol() {
    let site = Site::with_administrator();
    let newcomer = site.issue_card("NEW-CARD", NEWCOMER);
    let output = site.enrol(&newcomer, "R8000", Some(("NURSE-CARD", "1234")));
    assert_eq!(output.status.code(), Some(2), "{}", output.stderr());
    assert!(output.stderr().contains("ManageUsers"), "the missing permission is named: {}", output.stderr());
    assert!(!site.enrolled().contains(NEWCOMER));
    assert!(site.audit().lines().any(|l| l.contains(&format!(",{NURSE},")) && l.contains("refused")));
}

#[test]
fn a_wrong_pin_enrols_no_one() {
    let site = Site::with_administrator();
    let newcomer = site.issue_card("NEW-CARD", NEWCOMER);
    let output = site.enrol(&newcomer, "R8000", Some(("ADMIN-CARD", "9999")));
    assert_eq!(output.status.code(), Some(2), "{}", output.stderr());
    assert!(output.stderr().contains("the PIN is wrong"), "{}", output.stderr());
    assert!(!site.enrolled().contains(NEWCOMER));
}

#[test]
fn demonstration_cards_are_refused_once_someone_may_manage_users() {
    let site = Site::with_administrator();
    let folder = site.folder.path().join("demo-cards");
    let output = site.cws(&["card", "demo-init", "--folder", &folder.to_string_lossy()], "");
    assert_eq!(output.status.code(), Some(2), "{}", output.stderr());
    assert!(output.stderr().contains("PINs are published"), "{}", output.stderr());
    assert!(!site.enrolled().contains("555000000001"), "no demonstration user was enrolled");
}

#[test]
fn the_sites_role_mapping_decides_who_may_enrol() {
    let site = Site::with_administrator();
    site.write_settings(
        "[roles]\nR8001 = [\"administer_sact\", \"manage_users\"]\nLOCAL-ADMIN = [\"manage_store\"]\n",
    );
    let newcomer = site.issue_card("NEW-CARD", NEWCOMER);
    let cert = newcomer.to_string_lossy();
    let enrol_with = |card: &str| {
        let args = ["user", "enrol", "--cert", &cert, "--roles", "R8000", "--card", card, "--pin-stdin"];
        site.cws(&args, "1234\n")
    };

    let by_admin = enrol_with("ADMIN-CARD");
    assert_eq!(by_admin.status.code(), Some(2), "this site's administrators manage the store only");
    assert!(by_admin.stderr().contains("ManageUsers"), "{}", by_admin.stderr());
    enrol_with("NURSE-CARD").success_or_panic();
    assert!(site.enrolled().contains(NEWCOMER), "this site's nurses may enrol staff");
}

#[test]
fn a_misspelt_site_setting_stops_cws_and_is_named() {
    let site = Site::new();
    site.write_settings("[session]\ninactivity_lock_second = 60\n");
    let output = site.cws(&["user", "list"], "");
    assert_eq!(output.status.code(), Some(2), "{}", output.stderr());
    assert!(output.stderr().contains("inactivity_lock_second"), "{}", output.stderr());
}

#[test]
fn a_card_whose_holder_is_not_enrolled_cannot_enrol_anyone() {
    let site = Site::with_administrator();
    site.issue_card("STRANGER-CARD", "555000000077");
    let newcomer = site.issue_card("NEW-CARD", NEWCOMER);
    let output = site.enrol(&newcomer, "R8000", Some(("STRANGER-CARD", "1234")));
    assert_eq!(output.status.code(), Some(2), "{}", output.stderr());
    assert!(output.stderr().contains("not enrolled at this workstation"), "{}", output.stderr());
    assert!(!site.enrolled().contains(NEWCOMER));
}

#[test]
fn after_the_bootstrap_the_recovery_key_needs_a_manage_store_card() {
    let site = Site::with_administrator();
    let without = site.cws(&["store", "recovery-key"], "");
    assert_eq!(without.status.code(), Some(2), "{:?}: {}", without.status, without.stderr());
    assert!(without.stderr().contains("--card LABEL --pin-stdin"), "{}", without.stderr());

    let nurse = site.cws(&["store", "recovery-key", "--card", "NURSE-CARD", "--pin-stdin"], "1234\n");
    assert_eq!(nurse.status.code(), Some(2), "{}", nurse.stderr());
    assert!(nurse.stderr().contains("ManageStore"), "{}", nurse.stderr());

    site.cws(&["store", "recovery-key", "--card", "ADMIN-CARD", "--pin-stdin"], "1234\n").success_or_panic();
    let audit = site.audit();
    assert!(
        audit.lines().any(|l| l.contains(&format!(",{ADMIN},"))
            && l.contains(",store.recovery_key,")
            && l.contains(",ok: shown,")),
        "the administrator is the audited actor:\n{audit}"
    );
    assert!(
        audit.lines().any(|l| l.contains(&format!(",{NURSE},"))
            && l.contains("store.recovery_key")
            && l.contains("refused")),
        "the nurse's attempt is audited:\n{audit}"
    );
}

#[test]
fn rekeying_takes_an_administrators_card_and_keeps_the_store_readable() {
    let site = Site::with_administrator();
    let refused = site.cws(&["store", "rekey"], "");
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr());
    site.cws(&["store", "rekey", "--card", "ADMIN-CARD", "--pin-stdin"], "1234\n").success_or_panic();
    assert!(site.enrolled().contains(NURSE), "the store opens with its new key");
    assert!(site.audit().lines().any(|l| l.contains(&format!(",{ADMIN},")) && l.contains("store.rekey")));
}

const SMITH: &str = r#"{"nhs_number": "943 476 5919", "family_name": "Smith", "given_name": "John",
    "date_of_birth": "1945-07-14", "sex": "male"}"#;

#[test]
fn once_a_nurse_may_view_patients_the_store_owner_cannot_without_a_card() {
    let site = Site::with_administrator();
    let refused = site.cws(&["patient", "search", "--stdin"], "smi");
    assert!(!refused.status.success());
    assert!(refused.stderr().contains("ViewPatients"), "{}", refused.stderr());
    assert!(site.audit().lines().any(|l| l.contains("patient.search") && l.contains("refused")));
}

#[test]
fn an_it_administrators_card_may_not_view_patients() {
    let site = Site::with_administrator();
    let refused =
        site.cws(&["patient", "search", "--stdin", "--card", "ADMIN-CARD", "--pin-stdin"], "1234\nsmi");
    assert!(!refused.status.success());
    assert!(refused.stderr().contains("ViewPatients"), "{}", refused.stderr());
}

#[test]
fn a_nurses_card_adds_and_finds_a_patient_given_on_standard_input() {
    let site = Site::with_administrator();
    let card = ["--card", "NURSE-CARD", "--pin-stdin"];
    let add = [&["patient", "add", "--stdin"][..], &card[..]].concat();
    site.cws(&add, &format!("1234\n{SMITH}")).success_or_panic();
    let search = [&["patient", "search", "--stdin"][..], &card[..]].concat();
    let found = site.cws(&search, "1234\nsmi\n");
    found.success_or_panic();
    assert!(String::from_utf8_lossy(&found.stdout).contains("SMITH, John"));
    let audit = site.audit();
    assert!(
        audit.lines().any(|l| l.contains(&format!(",{NURSE},")) && l.contains("patient.search.name")),
        "{audit}"
    );
}

#[test]
fn after_the_bootstrap_a_restore_needs_a_manage_store_card() {
    let site = Site::with_administrator();
    let backup = site.folder.path().join("backup.db");
    site.cws(
        &["store", "backup", &backup.to_string_lossy(), "--card", "ADMIN-CARD", "--pin-stdin"],
        "1234\n",
    )
    .success_or_panic();
    let without = site.cws(&["store", "restore", &backup.to_string_lossy()], "");
    assert_eq!(without.status.code(), Some(2), "{}", without.stderr());
    assert!(without.stderr().contains("--card LABEL --pin-stdin"), "{}", without.stderr());
    let nurse = site.cws(
        &["store", "restore", &backup.to_string_lossy(), "--card", "NURSE-CARD", "--pin-stdin"],
        "1234\n",
    );
    assert!(nurse.stderr().contains("ManageStore"), "{}", nurse.stderr());
    site.cws(
        &["store", "restore", &backup.to_string_lossy(), "--card", "ADMIN-CARD", "--pin-stdin"],
        "1234\n",
    )
    .success_or_panic();
    let audit = site.audit();
    assert!(
        audit.lines().any(|l| l.contains(&format!(",{ADMIN},")) && l.contains(",store.restore,")),
        "the administrator is the audited actor:\n{audit}"
    );
}

/// A backup carries every patient's record, so after the bootstrap it takes a
/// manage_store card, as a restore does.
#[test]
fn after_the_bootstrap_a_backup_needs_a_manage_store_card() {
    let site = Site::with_administrator();
    let backup = site.folder.path().join("backup.db");
    let without = site.cws(&["store", "backup", &backup.to_string_lossy()], "");
    assert_eq!(without.status.code(), Some(2), "{}", without.stderr());
    assert!(without.stderr().contains("--card LABEL --pin-stdin"), "{}", without.stderr());
    let nurse = site.cws(
        &["store", "backup", &backup.to_string_lossy(), "--card", "NURSE-CARD", "--pin-stdin"],
        "1234\n",
    );
    assert!(nurse.stderr().contains("ManageStore"), "{}", nurse.stderr());
    assert!(std::fs::metadata(&backup).is_err(), "no backup was written for a refused act");
}

#[test]
fn a_revoked_card_is_refused_and_the_refusal_audited() {
    let site = Site::with_administrator();
    let nurse_certificate =
        std::fs::read(site.folder.path().join("NURSE-CARD.der")).expect("the nurse's certificate");
    let now = OffsetDateTime::now_utc();
    let crl = site
        .ca
        .revocation_list(&[&nurse_certificate], now - Duration::days(1), now + Duration::days(7))
        .expect("CRL");
    let crl_file = site.folder.path().join("ca.crl");
    std::fs::write(&crl_file, crl).expect("CRL written");
    site.write_settings_with(&format!("revocation_list = {:?}\n", crl_file.to_string_lossy()), "");
    let args = ["patient", "search", "--stdin", "--card", "NURSE-CARD", "--pin-stdin"];
    let refused = site.cws(&args, "1234\nsmi\n");
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr());
    assert!(refused.stderr().contains("revoked"), "{}", refused.stderr());
    assert!(
        site.audit().lines().any(|l| l.contains("patient.search") && l.contains("revoked")),
        "{}",
        site.audit()
    );
}

/// Someone with the store's OS account makes their own CA and a card whose
/// certificate carries the administrator's user id, and points cws at them.
#[test]
fn a_ca_or_module_from_the_environment_never_guards_a_card_act() {
    let site = Site::with_administrator();
    let impostor = DemoCa::new("Test Trust Issuing CA").expect("an impostor CA of the same name");
    let now = OffsetDateTime::now_utc();
    let forged =
        impostor.issue(ADMIN, "IMPOSTOR", now - Duration::days(1), now + Duration::days(30)).expect("forged");
    site.hsm.add_card("FORGED-ADMIN", "1234", &forged.key_pem, &forged.cert_der);
    let impostor_ca = site.folder.path().join("impostor.pem");
    std::fs::write(&impostor_ca, impostor.cert_pem()).expect("written");
    let newcomer = site.issue_card("OWN-CARD", NEWCOMER);
    let cert = newcomer.to_string_lossy().into_owned();
    let args =
        ["user", "enrol", "--cert", &cert, "--roles", "R8000", "--card", "FORGED-ADMIN", "--pin-stdin"];
    let refused = site.cws_with_env(&[("CWS_CARD_CA", &impostor_ca)], &args, "1234\n");
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr());
    assert!(refused.stderr().contains("not issued by the trusted authority"), "{}", refused.stderr());
    assert!(!site.enrolled().contains(NEWCOMER));
    let with_ca_flag = site.cws(&[&args[..], &["--ca", &impostor_ca.to_string_lossy()]].concat(), "1234\n");
    assert!(!with_ca_flag.status.success(), "--ca is no option of an act that needs a person");
}

#[test]
fn a_settings_file_anyone_but_root_may_change_is_refused_for_acts_that_need_a_person() {
    let site = Site::with_administrator();
    // A mapping that grants manage_users to nobody would reopen the no-card bootstrap.
    site.write_settings("[roles]\nLOCAL-ADMIN = [\"manage_store\"]\n");
    std::fs::set_permissions(site.settings(), std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .expect("chmod");
    let cert = site.issue_card("OWN-CARD", NEWCOMER).to_string_lossy().into_owned();
    let refused = site.cws(&["user", "enrol", "--cert", &cert, "--roles", "R8000"], "");
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr());
    assert!(refused.stderr().contains("must belong to root"), "{}", refused.stderr());
    std::fs::set_permissions(site.settings(), std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    std::os::unix::fs::chown(site.settings(), Some(65534), None).expect("chown to nobody");
    let refused = site.cws(&["user", "enrol", "--cert", &cert, "--roles", "R8000"], "");
    assert!(refused.stderr().contains("belongs to uid 65534"), "{}", refused.stderr());
    assert!(!site.enrolled().contains(NEWCOMER));
}

/// A second card for the administrator's user id, even from the trusted CA, is not
/// the card that was enrolled.
#[test]
fn another_card_bearing_an_enrolled_user_id_is_refused_and_audited() {
    let site = Site::with_administrator();
    site.issue_card("SECOND-ADMIN-CARD", ADMIN);
    let cert = site.issue_card("OWN-CARD", NEWCOMER).to_string_lossy().into_owned();
    let args =
        ["user", "enrol", "--cert", &cert, "--roles", "R8000", "--card", "SECOND-ADMIN-CARD", "--pin-stdin"];
    let refused = site.cws(&args, "1234\n");
    assert_eq!(refused.status.code(), Some(2), "{}", refused.stderr());
    assert!(refused.stderr().contains("not the one enrolled"), "{}", refused.stderr());
    assert!(!site.enrolled().contains(NEWCOMER));
    assert!(
        site.audit().lines().any(|l| l.contains(&format!(",{ADMIN},")) && l.contains("not the one enrolled"))
    );
}

#[test]
fn a_nurse_adds_searches_and_shows_a_patient_and_each_act_is_theirs_in_the_audit() {
    let site = Site::with_administrator();
    fn with_card<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [args, &["--card", "NURSE-CARD", "--pin-stdin"][..]].concat()
    }
    let add = with_card(&[
        "patient",
        "add",
        "--nhs-number",
        "943 476 5919",
        "--family-name",
        "Smith",
        "--given-name",
        "John",
        "--date-of-birth",
        "1945-07-14",
        "--sex",
        "male",
        "--title",
        "Mr",
        "--postcode",
        "sw1a1aa",
        "--json",
    ]);
    let added = site.cws(&add, "1234\n");
    added.success_or_panic();
    let added: serde_json::Value = serde_json::from_slice(&added.stdout).expect("JSON");
    assert_eq!(added["postcode"], "SW1A 1AA");

    let bad_digit = with_card(&[
        "patient",
        "add",
        "--nhs-number",
        "9434765918",
        "--family-name",
        "X",
        "--given-name",
        "Y",
        "--date-of-birth",
        "1950-01-01",
        "--sex",
        "female",
    ]);
    let refused = site.cws(&bad_digit, "1234\n");
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stderr().contains("check digit"), "{}", refused.stderr());
    let unknown = site.cws(
        &with_card(&["patient", "add", "--stdin"]),
        "1234\n{\"nhs_number\": \"943 476 5919\", \"colour\": \"blue\"}",
    );
    assert!(unknown.stderr().contains("colour"), "an unknown field is named: {}", unknown.stderr());

    let found = site.cws(&with_card(&["patient", "search", "--stdin"]), "1234\nsmi\n");
    found.success_or_panic();
    let found = String::from_utf8_lossy(&found.stdout).into_owned();
    assert!(found.contains("SMITH, John (Mr)") && found.contains("NHS No. 943 476 5919"), "{found}");
    let shown = site.cws(&with_card(&["patient", "show", "1"]), "1234\n");
    shown.success_or_panic();
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout).trim(),
        "SMITH, John (Mr)  Born 14-Jul-1945  Male  NHS No. 943 476 5919"
    );

    let audit = site.audit();
    for action in [",patient.create,", ",patient.search.name,", ",patient.read,"] {
        assert!(
            audit
                .lines()
                .any(|l| l.contains(&format!(",{NURSE},")) && l.contains(action) && l.contains(",ok")),
            "{action} is the nurse's: {audit}"
        );
    }
    assert!(!audit.to_lowercase().contains("smith"), "the audit export carries ids, not names");
}

/// A valid NHS number from the 999 test range: 999, then six digits of `serial`, then the check digit.
fn test_range_nhs_number(serial: u32) -> Option<String> {
    let digits: Vec<u32> = format!("999{serial:06}").chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(format!("{}0", digits.iter().map(u32::to_string).collect::<String>())),
        10 => None,
        check => Some(format!("{}{check}", digits.iter().map(u32::to_string).collect::<String>())),
    }
}

/// Four workstations (four `cws` processes) add 500 patients each to one shared
/// PostgreSQL store at once, each patient an audited transaction. The chain must
/// not fork, skip or reorder: it verifies, holds exactly 2,000 new entries, and
/// its times (the server's clock) never go backwards along it.
#[test]
fn four_workstations_append_to_one_shared_chain_without_a_fork_or_gap() {
    let Some(server) =
        Postgres::start_or_skip("four_workstations_append_to_one_shared_chain_without_a_fork_or_gap")
    else {
        return;
    };
    let site = Site::on_shared_store(server.url()).enrolling_administrator_and_nurse();
    let entries = |site: &Site| -> i64 {
        let output = site.cws(&["audit", "verify", "--json"], "");
        let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON verdict");
        assert_eq!(verdict["verdict"], "intact", "{verdict}");
        verdict["entries"].as_i64().expect("a count")
    };
    let before = entries(&site);
    let mut numbers = (1..).filter_map(test_range_nhs_number);
    let workstations: Vec<_> = (0..4)
        .map(|workstation| {
            let mut input = String::from("1234\n");
            for n in 0..500 {
                let number = numbers.next().expect("enough numbers");
                input.push_str(&format!(
                    r#"{{"nhs_number":"{number}","family_name":"Concurrent{workstation}","given_name":"Test{n}","date_of_birth":"1970-01-01","sex":"unknown"}}"#
                ));
                input.push('\n');
            }
            // Each workstation has its own reader: four processes must not share SoftHSM2's files.
            let (reader, reader_env) = site.hsm.another_workstations_env();
            let mut child = Command::new(env!("CARGO_BIN_EXE_cws"))
                .args(["patient", "add", "--stdin", "--card", "NURSE-CARD", "--pin-stdin", "--json"])
                .envs(site.keyring.env())
                .envs(reader_env)
                .env("CWS_CONFIG", site.settings())
                .env("CWS_STORE_URL", server.url())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cws runs");
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("patients written");
            (child, reader)
        })
        .collect();
    for (child, _reader) in workstations {
        let output = child.wait_with_output().expect("cws ends");
        assert!(output.status.success(), "{}", output.stderr());
    }
    assert_eq!(entries(&site) - before, 2000, "exactly one entry for each patient added, none lost");
    let audit = site.audit();
    let times: Vec<&str> = audit.lines().skip(1).filter_map(|line| line.split(',').nth(1)).collect();
    assert!(times.len() as i64 >= before + 2000);
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "the server's clock orders the chain");
}
