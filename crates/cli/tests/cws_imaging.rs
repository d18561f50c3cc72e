//! `cws imaging studies|launch` and `cws audit break-glass` on a demonstration
//! store, against a private Orthanc PACS: the same gate as the app, proved with
//! the demonstration cards (SoftHSM2).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use test_services::{KeyringSession, ORTHANC_PASSWORD, ORTHANC_USER, Orthanc, SyntheticStudy};

struct Site {
    keyring: KeyringSession,
    folder: tempfile::TempDir,
}

const NURSE: (&str, &str) = ("DEMO-NURSE", "3333");
const PRESCRIBER: (&str, &str) = ("DEMO-PRESCRIBER", "1111");

impl Site {
    fn new(pacs: &Orthanc) -> Self {
        let site = Self { keyring: KeyringSession::start(), folder: tempfile::tempdir().expect("folder") };
        let credentials = site.folder.path().join("pacs-credentials");
        std::fs::write(&credentials, format!("{ORTHANC_USER}:{ORTHANC_PASSWORD}\n")).expect("written");
        std::fs::set_permissions(&credentials, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("mode");
        // Card acts trust only a settings file owned by root (as the tests run).
        let settings = format!(
            "[cards]\npkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\nissuing_ca = {:?}\n\n\
             [pacs]\nqido_url = {:?}\nissuer_of_patient_id = \"NHS\"\ncredentials_file = {:?}\n\n\
             [[pacs.viewers]]\nname = \"iid\"\nkind = \"iid\"\nurl = \"https://viewer.example.nhs.uk/IHEInvokeImageDisplay\"\n\n\
             [[pacs.viewers]]\nname = \"weasis\"\nkind = \"weasis\"\n",
            site.cards().join("demo-ca.pem").to_string_lossy(),
            pacs.dicomweb_root(),
            credentials.to_string_lossy(),
        );
        std::fs::write(site.folder.path().join("workstation.toml"), settings).expect("settings");
        site.ok(&["store", "init", "--demo"]);
        site.ok(&["card", "demo-init", "--folder", &site.cards().to_string_lossy()]);
        // Demonstration patients: 999 000 0018, 999 000 0026, 999 000 0034.
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

    /// An act with a demonstration card (its PIN on standard input), whatever its outcome.
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
}

fn study(patient: &str, uid: &str, date: &str) -> SyntheticStudy {
    SyntheticStudy {
        patient_id: patient.into(),
        patient_name: "FICTIONAL^Ivo".into(),
        issuer: Some("NHS".into()),
        study_uid: uid.into(),
        date: date.into(),
        modality: "MR".into(),
        description: "MR head".into(),
        accession: format!("ACC{}", &uid[uid.len() - 2..]),
        referring: "ONCOLOGY^Olive^^Dr".into(),
        instances: 1,
    }
}

fn said(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_card_holder_sees_only_patients_they_care_for_or_breaks_glass_with_a_reason() {
    let Some(pacs) = Orthanc::start_or_skip("cws imaging: the gate") else { return };
    pacs.upload(&[
        study("9990000018", "1.2.826.0.1.3680043.10.5.11", "20261001"),
        study("9990000018", "1.2.826.0.1.3680043.10.5.12", "20261120"),
        study("9990000026", "1.2.826.0.1.3680043.10.5.21", "20260101"),
    ])
    .expect("uploaded");
    let site = Site::new(&pacs);

    let refused = site.with_card(NURSE, &["imaging", "studies", "--patient", "9990000018"]);
    assert!(!refused.status.success());
    assert!(said(&refused).contains("no legitimate relationship"), "{}", said(&refused));
    let no_glass = site.with_card(
        NURSE,
        &[
            "imaging",
            "studies",
            "--patient",
            "9990000018",
            "--break-glass-reason",
            "patient deteriorating on the ward",
        ],
    );
    assert!(said(&no_glass).contains("does not allow break-glass"), "{}", said(&no_glass));

    let added =
        site.with_card(NURSE, &["patient-list", "add", "9990000018", "--reason", "chemotherapy day unit"]);
    assert!(added.status.success(), "{}", said(&added));
    let listed = site.with_card(NURSE, &["imaging", "studies", "--patient", "9990000018", "--json"]);
    assert!(listed.status.success(), "{}", said(&listed));
    let list: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let uids: Vec<&str> =
        list["studies"].as_array().expect("studies").iter().filter_map(|s| s["study_uid"].as_str()).collect();
    assert_eq!(
        uids,
        ["1.2.826.0.1.3680043.10.5.12", "1.2.826.0.1.3680043.10.5.11"],
        "newest first, only theirs"
    );

    let url = site.with_card(
        NURSE,
        &["imaging", "launch", "--study", "1.2.826.0.1.3680043.10.5.12", "--template", "iid", "--print-url"],
    );
    assert!(url.status.success(), "{}", said(&url));
    assert_eq!(
        String::from_utf8_lossy(&url.stdout).trim(),
        "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=STUDY&studyUID=1.2.826.0.1.3680043.10.5.12&viewerType=IHE_BIR&diagnosticQuality=true"
    );
    let not_theirs = site.with_card(
        NURSE,
        &["imaging", "launch", "--study", "1.2.826.0.1.3680043.10.5.21", "--template", "iid", "--print-url"],
    );
    assert!(!not_theirs.status.success() && said(&not_theirs).contains("no legitimate relationship"));

    let reason = "seen in ED overnight, scan needed for handover";
    let glass = site.with_card(
        PRESCRIBER,
        &["imaging", "studies", "--patient", "9990000026", "--break-glass-reason", reason, "--json"],
    );
    assert!(glass.status.success(), "{}", said(&glass));
    let today = chrono_today();
    let uses: serde_json::Value =
        serde_json::from_str(&site.ok(&["audit", "break-glass", "--from", &today, "--to", &today, "--json"]))
            .expect("JSON");
    let uses = uses.as_array().expect("uses");
    assert_eq!(uses.len(), 1, "{uses:?}");
    assert_eq!(uses[0]["actor"], "555000000001");
    assert!(uses[0]["outcome"].as_str().is_some_and(|o| o.contains(reason) && o.contains("110127")));
    let text = site.ok(&["audit", "break-glass", "--from", &today, "--to", &today]);
    assert!(
        text.contains(reason) && text.contains("patient record") && !text.contains("9990000026"),
        "record ids, not names or NHS numbers: {text}"
    );
    assert!(site.ok(&["audit", "verify"]).contains("intact"));
}

fn chrono_today() -> String {
    let output = Command::new("date").args(["-u", "+%Y-%m-%d"]).output().expect("date");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
