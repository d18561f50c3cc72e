//! `cws discharge` and `cws outbox` end to end on a demonstration store: a
//! summary drafted from a content file over the patient's last admission (fed
//! as HL7 v2 ADT), signed with the ward doctor's demonstration card, sent by
//! `cws outbox run` to a real SMTP server (aiosmtpd, STARTTLS), printed and
//! rendered as FHIR; and a sender killed in the middle of a send delivers the
//! summary exactly once when it runs again.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use test_services::{KeyringSession, SMTP_ACCOUNT, SmtpServer};

const WARD_DOCTOR: (&str, &str) = ("DEMO-WARD-DOCTOR", "4444");

struct Site {
    keyring: KeyringSession,
    folder: tempfile::TempDir,
}

impl Site {
    fn new(smtp: &SmtpServer, timeout_seconds: u64) -> Self {
        let site = Self { keyring: KeyringSession::start(), folder: tempfile::tempdir().expect("folder") };
        // Card acts trust only a settings file owned by root (as the tests run).
        let settings = format!(
            "[site]\nname = \"Example Hospitals NHS Trust\"\nods_code = \"RX1\"\n\n\
             [cards]\npkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\nissuing_ca = {:?}\n\n\
             [patients]\nnhs_number_test_range = \"accept\"\n\n\
             [discharge]\ngp_addresses = {{ Y99999 = \"gp.y99999@nhs.net\" }}\nretry = {{ first_wait_seconds = 1, longest_wait_seconds = 2, give_up_after_hours = 120 }}\n\n\
             [discharge.smtp]\nhost = \"127.0.0.1\"\nport = {}\naccount = {SMTP_ACCOUNT:?}\npassword_file = {:?}\nca = {:?}\ntimeout_seconds = {timeout_seconds}\n",
            site.cards().join("demo-ca.pem").to_string_lossy(),
            smtp.port(),
            smtp.password_file().to_string_lossy(),
            smtp.ca_certificate().to_string_lossy(),
        );
        std::fs::write(site.folder.path().join("workstation.toml"), settings).expect("settings");
        site.ok(&["store", "init", "--demo"]);
        site.ok(&["card", "demo-init", "--folder", &site.cards().to_string_lossy()]);
        // Demonstration patients: 999 000 0018, 999 000 0026, 999 000 0034, registered with Y99999.
        site.ok(&["demo", "seed", "--patients", "3"]);
        site
    }

    fn cards(&self) -> PathBuf {
        self.folder.path().join("cards")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cws"));
        command
            .args(args)
            .envs(self.keyring.env())
            .env("CWS_STORE", self.folder.path().join("store.db"))
            .env("CWS_CONFIG", self.folder.path().join("workstation.toml"))
            .env("SOFTHSM2_CONF", self.cards().join("softhsm2.conf"));
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.command(args).output().expect("cws runs");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn with_card(&self, (label, pin): (&str, &str), args: &[&str]) -> Output {
        let mut with_card = args.to_vec();
        with_card.extend(["--card", label, "--pin-stdin"]);
        let mut child = self
            .command(&with_card)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cws runs");
        child.stdin.take().expect("stdin").write_all(format!("{pin}\n").as_bytes()).expect("PIN");
        child.wait_with_output().expect("cws ends")
    }

    fn card_ok(&self, args: &[&str]) -> String {
        let output = self.with_card(WARD_DOCTOR, args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The patient admitted and discharged by the PAS (applied as the listener would).
    fn admitted_and_discharged(&self, nhs_number: &str, admitted: &str, discharged: &str) {
        let file = self.folder.path().join(format!("adt-{nhs_number}.hl7"));
        let messages: String = [("A01", admitted), ("A03", discharged)]
            .iter()
            .map(|(event, at)| {
                format!(
                    "MSH|^~\\&|PAS|RX1|CWS|RX1|{at}||ADT^{event}|{nhs_number}{event}|P|2.4\rEVN|{event}|{at}\rPID|||{nhs_number}^^^NHS^NH||TESTPATIENT^Someone||19600505|F\rPV1||I|WARD9^BAY1^BED2\r\n"
                )
            })
            .collect();
        std::fs::write(&file, messages).expect("written");
        self.ok(&["adt", "replay", &file.to_string_lossy()]);
    }

    /// A signed summary for the patient, from the documented content shape; its id.
    fn signed_summary(&self, nhs_number: &str) -> String {
        let content = self.folder.path().join("content.json");
        std::fs::write(
            &content,
            r#"{
  "admission": { "method": "21", "source": "19", "reason": "Breathless, fever" },
  "discharge": { "method": "1", "destination": "19", "consultant": "WARD, Walter (Dr)" },
  "diagnoses": [{ "code": "385093006", "text": "Community acquired pneumonia" }],
  "medications": [{ "name": "Amoxicillin 500 mg capsules", "dose_and_directions": "500 mg three times a day for 2 days", "change": "new", "reason": "Completes the course" }],
  "allergies": { "kind": "no_known_drug_allergies" },
  "text": {
    "clinical_summary": "Treated with antibiotics; recovered well.",
    "plan_and_requested_actions": "GP: please repeat the chest X-ray in 6 weeks.",
    "information_and_advice_given": "Return if breathless."
  }
}"#,
        )
        .expect("content");
        let id = self
            .card_ok(&[
                "discharge",
                "draft",
                "--patient",
                nhs_number,
                "--template",
                "General medicine",
                "--content",
                &content.to_string_lossy(),
            ])
            .trim()
            .to_owned();
        let signed = self.card_ok(&["discharge", "sign", &id]);
        assert!(signed.contains("queued to 1 recipient(s)"), "{signed}");
        id
    }
}

fn pdf_text(pdf: &std::path::Path) -> String {
    let output = Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_summary_is_drafted_signed_and_sent_once_then_printed_and_rendered_as_fhir() {
    let test = "a_summary_is_drafted_signed_and_sent_once_then_printed_and_rendered_as_fhir";
    let Some(smtp) = SmtpServer::start_or_skip(test) else { return };
    let site = Site::new(&smtp, 10);
    site.admitted_and_discharged("9990000018", "202611200900", "202611271400");

    let content_typo = site.folder.path().join("typo.json");
    std::fs::write(&content_typo, r#"{ "diagnosis": [] }"#).expect("written");
    let refused = site.with_card(
        WARD_DOCTOR,
        &[
            "discharge",
            "draft",
            "--patient",
            "9990000018",
            "--template",
            "General medicine",
            "--content",
            &content_typo.to_string_lossy(),
        ],
    );
    assert_eq!(refused.status.code(), Some(2), "a misspelt key is refused before anything is kept");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("diagnosis"));

    let id = site.signed_summary("9990000018");
    let due: serde_json::Value =
        serde_json::from_str(&site.card_ok(&["discharge", "list", "--due", "--json"])).expect("json");
    assert_eq!(due["due"][0]["state"], "Signed; sending", "{due}");

    let sent = site.ok(&["outbox", "run", "--once"]);
    assert!(sent.contains("Delivered 1"), "{sent}");
    site.ok(&["outbox", "run", "--once"]);
    assert_eq!(smtp.messages().len(), 1, "sent once");
    let rows: serde_json::Value =
        serde_json::from_str(&site.ok(&["outbox", "list", "--json"])).expect("json");
    assert_eq!(
        (rows[0]["status"].as_str(), rows[0]["recipient"].as_str()),
        (Some("delivered"), Some("Y99999"))
    );
    let listed = site.card_ok(&["discharge", "list", "--due"]);
    assert!(listed.contains("Every discharge's summary has reached the GP"), "{listed}");

    let printed = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target").join("printed");
    std::fs::create_dir_all(&printed).expect("folder");
    let pdf = printed.join("cws-discharge-letter.pdf");
    site.card_ok(&["discharge", "print", &id, "--output", &pdf.to_string_lossy()]);
    let text = pdf_text(&pdf);
    for expected in [
        "NHS No. 999 000 0018",
        "Community acquired pneumonia (SNOMED CT 385093006)",
        "GMC 7000004",
        "Example Hospitals NHS Trust",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    let png = Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&pdf)
        .arg(printed.join("cws-discharge-letter"))
        .status();
    assert!(png.is_ok_and(|s| s.success()), "pdftoppm renders the letter for a person to look at");

    let fhir: serde_json::Value =
        serde_json::from_str(&site.card_ok(&["discharge", "fhir", &id])).expect("json");
    assert_eq!(fhir["entry"][0]["resource"]["type"]["coding"][0]["code"], "373942005");
    if let Some(python) = test_services::python_peers::python_with("fhir.resources", test) {
        let (passed, said) =
            test_services::python_peers::check(&python, "validate_fhir_stu3.py", fhir.to_string().as_bytes());
        assert!(passed, "{said}");
    }
    let shown = site.card_ok(&["discharge", "show", &id]);
    assert!(shown.contains("signed by") && shown.contains("Send by smtp to Y99999: delivered"), "{shown}");
}

#[test]
fn a_sender_killed_in_the_middle_of_a_send_delivers_exactly_once_when_it_runs_again() {
    let test = "a_sender_killed_in_the_middle_of_a_send_delivers_exactly_once_when_it_runs_again";
    let Some(mut smtp) = SmtpServer::prepare_or_skip(test) else { return };
    let site = Site::new(&smtp, 2);
    site.admitted_and_discharged("9990000026", "202611210900", "202611281000");
    site.signed_summary("9990000026");

    // A server that takes the connection and then says nothing: the sender is mid-send.
    let silent = TcpListener::bind(("127.0.0.1", smtp.port())).expect("the server's port");
    let mut sender =
        site.command(&["outbox", "run"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("sender");
    let (connection, _) = silent.accept().expect("the sender connects");
    sender.kill().expect("killed mid-send");
    sender.wait().expect("ended");
    drop((connection, silent));
    let rows: serde_json::Value =
        serde_json::from_str(&site.ok(&["outbox", "list", "--json"])).expect("json");
    assert_eq!(rows[0]["status"], "sending", "claimed, and perhaps sent: {rows}");

    smtp.up().expect("the real server on the same port");
    // The dead sender's claim lapses after twice the 2 s send time-out; then it is due again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while smtp.messages().is_empty() && std::time::Instant::now() < deadline {
        site.ok(&["outbox", "run", "--once"]);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    site.ok(&["outbox", "run", "--once"]);
    assert_eq!(smtp.messages().len(), 1, "delivered exactly once");
    let rows: serde_json::Value =
        serde_json::from_str(&site.ok(&["outbox", "list", "--json"])).expect("json");
    assert_eq!((rows[0]["status"].as_str(), rows[0]["attempts"].as_i64()), (Some("delivered"), Some(2)));
}
