//! A SACT cycle from the command line with real cards (SoftHSM2): a regimen
//! approved by two people, a course, a cycle prescribed by a pharmacist
//! prescriber whose own verification is refused, verified by another, held
//! back by a stale result, released with a recorded reason for a low count,
//! and every drug given with a second checker's card.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use chrono::{TimeDelta, Utc};
use demo_cards::DemoCa;
use test_services::{KeyringSession, SoftHsm};
use time::OffsetDateTime;

const ADMIN: &str = "555000000090";
const CONSULTANT: &str = "555000000001";
const PHARMACIST_PRESCRIBER: &str = "555000000002";
const PHARMACIST: &str = "555000000006";
const NURSE: &str = "555000000003";
const SECOND_NURSE: &str = "555000000004";
const PIN: &str = "1234";

/// This site lets its pharmacists prescribe as well as verify, and lets its
/// consultants and pharmacists approve regimens.
const ROLES: &str = r#"
[roles]
LOCAL-ADMIN = ["manage_users", "manage_store"]
R8000 = ["view_patients", "prescribe_sact", "manage_regimens"]
R8003 = ["view_patients", "prescribe_sact", "verify_sact", "release_sact", "manage_regimens"]
R8001 = ["view_patients", "administer_sact"]
R1290 = ["view_patients", "verify_sact"]

[sact.verification]
all_drugs = ["R8003"]
named_drugs = { "R1290" = ["capecitabine"] }
"#;
const TECHNICIAN: &str = "555000000007";

struct Site {
    keyring: KeyringSession,
    hsm: SoftHsm,
    ca: DemoCa,
    folder: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let site = Self {
            keyring: KeyringSession::start(),
            hsm: SoftHsm::start(),
            ca: DemoCa::new("Test Trust Issuing CA").expect("CA"),
            folder: tempfile::tempdir().expect("folder"),
        };
        std::fs::write(site.folder.path().join("ca.pem"), site.ca.cert_pem()).expect("CA");
        let settings = format!(
            "[cards]\npkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\nissuing_ca = {:?}\n{ROLES}",
            site.folder.path().join("ca.pem").to_string_lossy()
        );
        std::fs::write(site.settings(), settings).expect("settings");
        site.ok(&["store", "init"], "");
        site.enrol("ADMIN", ADMIN, "LOCAL-ADMIN", None);
        for (label, user, role) in [
            ("CONSULTANT", CONSULTANT, "R8000"),
            ("PHARM-PRESCRIBER", PHARMACIST_PRESCRIBER, "R8003"),
            ("PHARMACIST", PHARMACIST, "R8003"),
            ("NURSE", NURSE, "R8001"),
            ("SECOND-NURSE", SECOND_NURSE, "R8001"),
            ("TECHNICIAN", TECHNICIAN, "R1290"),
        ] {
            site.enrol(label, user, role, Some("ADMIN"));
        }
        site
    }

    fn settings(&self) -> PathBuf {
        self.folder.path().join("workstation.toml")
    }

    fn enrol(&self, label: &str, user_id: &str, role: &str, by: Option<&str>) {
        let now = OffsetDateTime::now_utc();
        let card = self
            .ca
            .issue(
                user_id,
                "TESTER, Tess (Ms)",
                now - time::Duration::days(1),
                now + time::Duration::days(30),
            )
            .expect("issued");
        self.hsm.add_card(label, PIN, &card.key_pem, &card.cert_der);
        let cert = self.folder.path().join(format!("{label}.der"));
        std::fs::write(&cert, &card.cert_der).expect("certificate");
        let cert = cert.to_string_lossy().into_owned();
        let mut args = vec!["user", "enrol", "--cert", &cert, "--roles", role];
        if let Some(admin) = by {
            args.extend(["--card", admin, "--pin-stdin"]);
        }
        self.ok(&args, &format!("{PIN}\n"));
    }

    fn cws(&self, args: &[&str], stdin: &str) -> Output {
        self.cws_at("store.db", args, stdin)
    }

    /// As `cws`, on another store of the same keyring and cards: another site.
    fn cws_at(&self, store: &str, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cws"))
            .args(args)
            .envs(self.keyring.env())
            .envs(self.hsm.env())
            .env("CWS_CONFIG", self.settings())
            .env("CWS_STORE", self.folder.path().join(store))
            // Everything logged, so the check below reads all cws could ever log.
            .env("RUST_LOG", "trace")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cws runs");
        match child.stdin.take().expect("stdin").write_all(stdin.as_bytes()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.expect("stdin"),
        }
        let output = child.wait_with_output().expect("cws ends");
        // Standard output carries what was asked for; the log (stderr) never a patient's details.
        let log = String::from_utf8_lossy(&output.stderr);
        for detail in ["Quillfeather", "QUILLFEATHER", "9990000026", "999 000 0026", "1958-03-03"] {
            assert!(!log.contains(detail), "{args:?} logged a patient's {detail:?}:\n{log}");
        }
        output
    }

    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let output = self.cws(args, stdin);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// An act with a card whose PIN is the first line of standard input.
    fn as_card(&self, label: &str, args: &[&str]) -> Output {
        let mut with_card = args.to_vec();
        with_card.extend(["--card", label, "--pin-stdin", "--json"]);
        self.cws(&with_card, &format!("{PIN}\n{PIN}\n"))
    }

    fn json(&self, label: &str, args: &[&str]) -> serde_json::Value {
        let output = self.as_card(label, args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("JSON")
    }
}

fn refused(output: &Output, rule_words: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(rule_words), "{stderr}");
}

#[test]
fn a_cycle_goes_from_approval_to_the_last_drug_given_with_each_persons_card() {
    let site = Site::new();
    let today = Utc::now().date_naive();
    let tomorrow = (today + TimeDelta::days(1)).to_string();

    let patient = r#"{"nhs_number":"9990000026","family_name":"Quillfeather","given_name":"Ada","date_of_birth":"1958-03-03","sex":"female"}"#;
    let added = site.cws(
        &["patient", "add", "--stdin", "--card", "CONSULTANT", "--pin-stdin"],
        &format!("{PIN}\n{patient}\n"),
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));

    let unapproved = site.as_card(
        "CONSULTANT",
        &[
            "sact",
            "start-course",
            "--patient",
            "9990000026",
            "--regimen",
            "R-CHOP-21",
            "--intent",
            "curative",
            "--cycles",
            "6",
            "--start-date",
            &today.to_string(),
        ],
    );
    refused(&unapproved, "is not approved here");
    let half = site
        .json("CONSULTANT", &["regimen", "approve", "R-CHOP-21", "--note", "checked against the protocol"]);
    assert_eq!(half["approved"], false);
    let nurse_approval = site.as_card("NURSE", &["regimen", "approve", "R-CHOP-21"]);
    refused(&nurse_approval, "ManageRegimens");
    let whole = site.json("PHARM-PRESCRIBER", &["regimen", "approve", "R-CHOP-21"]);
    assert_eq!(whole["approved"], true);

    let course = site.json(
        "CONSULTANT",
        &[
            "sact",
            "start-course",
            "--patient",
            "9990000026",
            "--regimen",
            "R-CHOP-21",
            "--intent",
            "curative",
            "--cycles",
            "6",
            "--start-date",
            &today.to_string(),
        ],
    );
    let course_id = course["course_id"].as_i64().expect("a course id").to_string();
    let prescribed = site.json(
        "PHARM-PRESCRIBER",
        &[
            "sact",
            "prescribe",
            "--course",
            &course_id,
            "--cycle",
            "1",
            "--treatment-date",
            &tomorrow,
            "--height-cm",
            "165",
            "--weight-kg",
            "62",
        ],
    );
    assert_eq!(prescribed["state"], "prescribed");
    let cycle_id = prescribed["cycle_id"].as_i64().expect("a cycle id").to_string();
    let drugs = prescribed["drugs"].as_array().expect("drugs").clone();
    assert_eq!(drugs.len(), 5, "R-CHOP's five lines");

    refused(
        &site.as_card("PHARM-PRESCRIBER", &["sact", "verify", &cycle_id]),
        "may not verify their own prescription",
    );
    // A pharmacy technician verifies only the drugs the site names for their role.
    refused(
        &site.as_card("TECHNICIAN", &["sact", "verify", &cycle_id]),
        "outside the drugs role R1290 may verify here",
    );
    let queue = site.json("PHARMACIST", &["sact", "queue"]);
    assert_eq!(queue.as_array().map(Vec::len), Some(1), "still awaiting verification: {queue}");
    let verified = site.json("PHARMACIST", &["sact", "verify", &cycle_id]);
    assert_eq!(verified["state"], "verified");
    let worksheet = site.folder.path().join("worksheet.pdf");
    let worksheet_args = ["sact", "worksheet", cycle_id.as_str(), "--output", &worksheet.to_string_lossy()];
    refused(&site.as_card("PHARMACIST", &worksheet_args), "only for a released cycle");
    assert!(!worksheet.exists(), "nothing is written for an unreleased cycle");

    let stale = (Utc::now() - TimeDelta::days(4)).to_rfc3339();
    let fresh = (Utc::now() - TimeDelta::hours(3)).to_rfc3339();
    let release = |neutrophils: &str, taken: &str, extra: &[&str]| {
        let results = [format!("neutrophils={neutrophils}@{taken}"), format!("platelets=210@{taken}")];
        let mut args = vec![
            "sact",
            "release",
            cycle_id.as_str(),
            "--weight-kg",
            "62",
            "--dosing-weight-kg",
            "62",
            "--result",
            results[0].as_str(),
            "--result",
            results[1].as_str(),
            "--typed-reason",
            "results phoned through by the laboratory",
        ];
        args.extend_from_slice(extra);
        site.as_card("PHARMACIST", &args)
    };
    refused(&release("2.5", &stale, &[]), "take a new sample");
    refused(&release("0.8", &fresh, &[]), "result_outside_limit:neutrophils");
    let overridden = release(
        "0.8",
        &fresh,
        &["--override", "result_outside_limit:neutrophils=GCSF given; consultant agreed"],
    );
    assert!(overridden.status.success(), "{}", String::from_utf8_lossy(&overridden.stderr));

    let shown = site.json("PHARMACIST", &["sact", "show", &cycle_id]);
    assert_eq!(shown["state"], "released");
    assert!(shown["cycle"]["drugs"][0]["dose"].is_string(), "decimals as strings: {shown}");
    let printed = site.as_card("PHARMACIST", &worksheet_args);
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    let text = Command::new("pdftotext").arg(&worksheet).arg("-").output().expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "NHS No. 999 000 0026",
        "preparation worksheet",
        "doxorubicin:",
        "intravenous bolus",
        "sodium chloride 0.9% to a final volume of",
        "Prepared by:",
        "Checked by:",
        "To dispense",
        "prednisolone:",
        "Released for preparation by TESTER, Tess (Ms)",
        "Page 1 of",
    ] {
        assert!(text.contains(expected), "{expected:?} not on the worksheet:\n{text}");
    }
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target").join("printed");
    std::fs::create_dir_all(&folder).expect("folder");
    let png = Command::new("pdftoppm")
        .args(["-png", "-r", "70"])
        .arg(&worksheet)
        .arg(folder.join("sact-worksheet"))
        .status();
    assert!(png.expect("pdftoppm").success());

    let started = Utc::now().to_rfc3339();
    let expiry = (today + TimeDelta::days(60)).to_string();
    let mut last = serde_json::Value::Null;
    for line in &drugs {
        let drug = line["drug"].as_str().expect("drug");
        let day = line["day"].as_str().expect("day");
        let dose = line["final_dose"].as_str().expect("a decimal as a string");
        let args = [
            "sact",
            "administer",
            cycle_id.as_str(),
            "--drug",
            drug,
            "--day",
            day,
            "--dose-given",
            dose,
            "--started",
            started.as_str(),
            "--batch",
            "B2026-7",
            "--expiry",
            expiry.as_str(),
            "--witness-card",
            "SECOND-NURSE",
        ];
        if line == &drugs[0] {
            let alone = [
                "sact",
                "administer",
                cycle_id.as_str(),
                "--drug",
                drug,
                "--day",
                day,
                "--dose-given",
                dose,
                "--started",
                started.as_str(),
                "--batch",
                "B2026-7",
                "--expiry",
                expiry.as_str(),
                "--witness-card",
                "NURSE",
            ];
            refused(&site.as_card("NURSE", &alone), "second checker must be another person");
        }
        let given = site.json("NURSE", &args);
        assert!(given["state"].as_str().is_some_and(|s| s.contains("administered")), "{given}");
        last = given;
    }
    let cycle: sact::Cycle = serde_json::from_value(last["cycle"].clone()).expect("the cycle as JSON");
    let acts: Vec<(&str, &str)> =
        cycle.signatures.iter().map(|s| (s.act.as_str(), s.signer.as_str())).take(5).collect();
    let first_line =
        format!("{} {}", drugs[0]["drug"].as_str().expect("drug"), drugs[0]["day"].as_str().expect("day"));
    assert_eq!(
        acts,
        [
            ("prescribed v1", PHARMACIST_PRESCRIBER),
            ("verified v1", PHARMACIST),
            ("released v1", PHARMACIST),
            (format!("given {first_line}").as_str(), NURSE),
            (format!("witnessed {first_line}").as_str(), SECOND_NURSE),
        ],
        "each act signed by its own actor's card"
    );
    assert_eq!(cycle.signatures.len(), 3 + 2 * drugs.len());
    let trust = identity::Trust::from_der(site.ca.cert_der().to_vec()).expect("trust");
    services::sact::verify_signatures(&cycle, &trust).expect("every signature holds");
    let mut tampered = cycle.clone();
    tampered.drugs[1].dose += rust_decimal::Decimal::ONE;
    let broken = services::sact::verify_signatures(&tampered, &trust).expect_err("a changed dose");
    assert!(broken.to_string().contains("prescribed v1"), "{broken}");
    let again = site.as_card(
        "NURSE",
        &[
            "sact",
            "administer",
            cycle_id.as_str(),
            "--drug",
            "doxorubicin",
            "--day",
            "D1",
            "--dose-given",
            "1",
            "--started",
            started.as_str(),
            "--batch",
            "B",
            "--expiry",
            expiry.as_str(),
            "--witness-card",
            "SECOND-NURSE",
        ],
    );
    refused(&again, "only a released cycle is given");
    let pdf = site.folder.path().join("cycle.pdf");
    let printed =
        site.as_card("CONSULTANT", &["sact", "print", &cycle_id, "--output", &pdf.to_string_lossy()]);
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output().expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "NHS No. 999 000 0026",
        "R-CHOP-21 version",
        "Cycle 1 of 6",
        "doxorubicin, day 1",
        "Page 1 of",
        "Computer generated",
    ] {
        assert!(text.contains(expected), "{expected:?} not printed:\n{text}");
    }
    assert!(text.contains("prednisolone, days 1 to 5"), "no abbreviations:\n{text}");
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target").join("printed");
    std::fs::create_dir_all(&folder).expect("folder");
    let png = Command::new("pdftoppm")
        .args(["-png", "-r", "70"])
        .arg(&pdf)
        .arg(folder.join("sact-prescription"))
        .status();
    assert!(png.expect("pdftoppm").success());
    let csv = site.folder.path().join("sact-return.csv");
    let exported = site.as_card(
        "PHARMACIST",
        &[
            "sact",
            "export",
            "--from",
            &today.to_string(),
            "--to",
            &today.to_string(),
            "--output",
            &csv.to_string_lossy(),
        ],
    );
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let written = std::fs::read_to_string(&csv).expect("the return");
    assert_eq!(written.lines().count(), 1 + drugs.len(), "one row per dose given:\n{written}");
    assert!(written.lines().next().is_some_and(|header| header.contains("31 Drug Name")));
    assert!(written.contains("9990000026") && written.contains("R-CHOP-21"), "{written}");
    let audit = site.ok(&["audit", "verify"], "");
    assert!(audit.contains("intact"), "{audit}");
}

/// A second site: its own store, the consultant and the pharmacist prescriber
/// enrolled by its OS account (no one there manages users), and the patient.
fn second_site(site: &Site, store: &str, date_of_birth: &str) {
    let ok = |args: &[&str], stdin: &str| {
        let output = site.cws_at(store, args, stdin);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    ok(&["store", "init"], "");
    for (label, role) in [("CONSULTANT", "R8000"), ("PHARM-PRESCRIBER", "R8003")] {
        let cert = site.folder.path().join(format!("{label}.der")).to_string_lossy().into_owned();
        ok(&["user", "enrol", "--cert", &cert, "--roles", role], "");
    }
    let patient = format!(
        r#"{{"nhs_number":"9990000026","family_name":"Quillfeather","given_name":"Ada","date_of_birth":"{date_of_birth}","sex":"female"}}"#
    );
    ok(&["patient", "add", "--stdin", "--card", "CONSULTANT", "--pin-stdin"], &format!("{PIN}\n{patient}\n"));
}

#[test]
fn a_course_moves_to_another_site_with_its_doses_and_only_onto_the_same_patient() {
    let site = Site::new();
    let today = Utc::now().date_naive();
    let patient = r#"{"nhs_number":"9990000026","family_name":"Quillfeather","given_name":"Ada","date_of_birth":"1958-03-03","sex":"female"}"#;
    site.ok(
        &["patient", "add", "--stdin", "--card", "CONSULTANT", "--pin-stdin"],
        &format!("{PIN}\n{patient}\n"),
    );
    site.json("CONSULTANT", &["regimen", "approve", "R-CHOP-21"]);
    site.json("PHARM-PRESCRIBER", &["regimen", "approve", "R-CHOP-21"]);
    let start = today.to_string();
    let course = site.json(
        "CONSULTANT",
        &[
            "sact",
            "start-course",
            "--patient",
            "9990000026",
            "--regimen",
            "R-CHOP-21",
            "--intent",
            "curative",
            "--cycles",
            "6",
            "--start-date",
            &start,
        ],
    );
    let course_id = course["course_id"].as_i64().expect("course").to_string();
    let prescribed = site.json(
        "PHARM-PRESCRIBER",
        &[
            "sact",
            "prescribe",
            "--course",
            &course_id,
            "--cycle",
            "1",
            "--treatment-date",
            &start,
            "--height-cm",
            "165",
            "--weight-kg",
            "62",
        ],
    );
    let cycle_id = prescribed["cycle_id"].as_i64().expect("cycle").to_string();
    site.json("PHARMACIST", &["sact", "verify", &cycle_id]);
    let taken = (Utc::now() - TimeDelta::hours(3)).to_rfc3339();
    let (n, p) = (format!("neutrophils=2.5@{taken}"), format!("platelets=210@{taken}"));
    site.json(
        "PHARMACIST",
        &[
            "sact",
            "release",
            &cycle_id,
            "--weight-kg",
            "62",
            "--dosing-weight-kg",
            "62",
            "--result",
            &n,
            "--result",
            &p,
            "--typed-reason",
            "point-of-care counts on the day unit",
        ],
    );
    let started = Utc::now().to_rfc3339();
    let expiry = (today + TimeDelta::days(30)).to_string();
    site.json(
        "NURSE",
        &[
            "sact",
            "administer",
            &cycle_id,
            "--drug",
            "doxorubicin",
            "--day",
            "D1",
            "--dose-given",
            "50",
            "--started",
            &started,
            "--batch",
            "B1",
            "--expiry",
            &expiry,
            "--witness-card",
            "SECOND-NURSE",
        ],
    );

    let cycle_two = site.json(
        "PHARM-PRESCRIBER",
        &[
            "sact",
            "prescribe",
            "--course",
            &course_id,
            "--cycle",
            "2",
            "--treatment-date",
            &start,
            "--height-cm",
            "165",
            "--weight-kg",
            "62",
        ],
    );
    let cycle_two = cycle_two["cycle_id"].as_i64().expect("cycle").to_string();
    let later = (today + TimeDelta::days(7)).to_string();
    let unknown = site
        .as_card("PHARM-PRESCRIBER", &["sact", "defer", &cycle_two, "--reason", "busy", "--until", &later]);
    refused(&unknown, "blood_counts_not_recovered");
    let deferred = site.json(
        "PHARM-PRESCRIBER",
        &["sact", "defer", &cycle_two, "--reason", "blood_counts_not_recovered", "--until", &later],
    );
    assert_eq!(deferred["state"], "deferred");
    let cancelled =
        site.json("PHARM-PRESCRIBER", &["sact", "cancel", &cycle_two, "--reason", "disease progression"]);
    assert_eq!(cancelled["state"], "cancelled");
    refused(&site.as_card("PHARMACIST", &["sact", "verify", &cycle_two]), "must be prescribed to verify");

    let file = site.folder.path().join("course.transfer.json");
    let sent = site
        .as_card("CONSULTANT", &["sact", "transfer-out", &course_id, "--output", &file.to_string_lossy()]);
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));

    second_site(&site, "centre.db", "1958-03-03");
    let receive = |store: &str, path: &std::path::Path| {
        let mut args = vec!["sact", "transfer-in"];
        let path = path.to_string_lossy().into_owned();
        args.push(&path);
        args.extend(["--card", "PHARM-PRESCRIBER", "--pin-stdin", "--json"]);
        site.cws_at(store, &args, &format!("{PIN}\n"))
    };
    let received = receive("centre.db", &file);
    assert!(received.status.success(), "{}", String::from_utf8_lossy(&received.stderr));
    let received: serde_json::Value = serde_json::from_slice(&received.stdout).expect("JSON");
    assert_eq!(received["doses_added"], 1);
    let again: serde_json::Value = serde_json::from_slice(&receive("centre.db", &file).stdout).expect("JSON");
    assert_eq!(again["doses_added"], 0, "a record received twice adds nothing twice");
    let totals = site.cws_at(
        "centre.db",
        &["sact", "totals", "--patient", "9990000026", "--card", "CONSULTANT", "--pin-stdin", "--json"],
        &format!("{PIN}\n"),
    );
    let totals: serde_json::Value = serde_json::from_slice(&totals.stdout).expect("JSON");
    assert_eq!(
        totals["doxorubicin"]["total"], "50",
        "the dose given at the first site counts at the centre: {totals}"
    );

    second_site(&site, "other.db", "1958-03-04");
    let refused = receive("other.db", &file);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("date of birth differs"));

    let text = std::fs::read_to_string(&file).expect("file");
    let tampered = site.folder.path().join("tampered.json");
    std::fs::write(&tampered, text.replacen("\"dose\": \"50\"", "\"dose\": \"5\"", 1)).expect("written");
    assert_ne!(std::fs::read(&tampered).expect("read"), text.as_bytes(), "the dose was changed");
    let forged = receive("centre.db", &tampered);
    assert_eq!(forged.status.code(), Some(2), "{}", String::from_utf8_lossy(&forged.stderr));
    assert!(String::from_utf8_lossy(&forged.stderr).contains("signature does not hold"));
}

/// The cancer centre sends a new version of a regimen: it arrives as a draft,
/// is prescribed only once a consultant and a pharmacist here approve that
/// exact version, and every version stays available by its number.
#[test]
fn a_regimen_version_from_the_cancer_centre_arrives_as_a_draft_awaiting_approval() {
    let site = Site::new();
    let exported = site.ok(&["regimen", "export", "R-CHOP-21"], "");
    let shipped = regimens::RegimenLibrary::shipped().expect("library");
    let current = shipped.find("R-CHOP-21").expect("shipped");
    let hash = hex_sha256(exported.as_bytes());
    assert_eq!(hash, current.content_sha256, "exported exactly as held, so the hash is unchanged");

    let file = site.folder.path().join("R-CHOP-21-from-centre.json");
    let newer =
        exported.replacen(&format!("\"version\": \"{}\"", current.version), "\"version\": \"1.1.0\"", 1);
    assert_ne!(newer, exported, "the version was changed");
    std::fs::write(&file, &newer).expect("written");
    let import =
        ["regimen", "import", file.to_str().expect("path"), "--from", "RXX99 regional cancer centre"];
    refused(&site.as_card("NURSE", &import), "ManageRegimens permission");
    let broken = site.folder.path().join("broken.json");
    std::fs::write(&broken, newer.replacen("\"cycle_length_days\": 21", "\"cycle_length_days\": 0", 1))
        .expect("written");
    let broken_import = ["regimen", "import", broken.to_str().expect("path"), "--from", "RXX99"];
    refused(&site.as_card("CONSULTANT", &broken_import), "cycle_length_days");
    let received = site.json("CONSULTANT", &import);
    assert_eq!((received["version"].as_str(), received["approved"].as_bool()), (Some("1.1.0"), Some(false)));
    refused(&site.as_card("CONSULTANT", &import), "already here");

    let patient = r#"{"nhs_number":"9990000026","family_name":"Quillfeather","given_name":"Ada","date_of_birth":"1958-03-03","sex":"female"}"#;
    site.ok(
        &["patient", "add", "--stdin", "--card", "CONSULTANT", "--pin-stdin"],
        &format!("{PIN}\n{patient}\n"),
    );
    let today = Utc::now().date_naive().to_string();
    let start = [
        "sact",
        "start-course",
        "--patient",
        "9990000026",
        "--regimen",
        "R-CHOP-21",
        "--version",
        "1.1.0",
        "--intent",
        "curative",
        "--cycles",
        "6",
        "--start-date",
        &today,
    ];
    refused(&site.as_card("CONSULTANT", &start), "not approved here");
    let approve = [
        "regimen",
        "approve",
        "R-CHOP-21",
        "--version",
        "1.1.0",
        "--note",
        "checked against the centre's protocol",
    ];
    site.json("CONSULTANT", &approve);
    site.json("PHARMACIST", &approve);
    let course = site.json("CONSULTANT", &start);
    assert!(course["course_id"].as_i64().is_some(), "{course}");
    let again = site.ok(&["regimen", "export", "R-CHOP-21", "--version", "1.1.0"], "");
    assert_eq!(again, newer, "the received version is kept exactly as received");
    refused(
        &site.as_card(
            "CONSULTANT",
            &[
                "sact",
                "start-course",
                "--patient",
                "9990000026",
                "--regimen",
                "R-CHOP-21",
                "--version",
                "9.9",
                "--intent",
                "curative",
                "--cycles",
                "6",
                "--start-date",
                &today,
            ],
        ),
        "9.9 is not here",
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
