//! The Imaging page in the real app, against a private Orthanc PACS: a patient
//! on the user's ward has their studies listed newest first and one opened
//! through the site's open command (a test opener that captures the URL); a
//! patient with no relationship asks for break-glass with a reason; signing out
//! sends the viewer its close command and clears the page.

mod support;

use std::time::{Duration, Instant};

use support::RunningApp;
use test_services::{ORTHANC_PASSWORD, ORTHANC_USER, Orthanc, SyntheticStudy};

const ENTER: &str = "\u{E007}";
const DOWN: &str = "\u{E015}";

fn study(patient: &str, uid: &str, date: &str, description: &str) -> SyntheticStudy {
    SyntheticStudy {
        patient_id: patient.into(),
        patient_name: "QUILLFEATHER^Ada".into(),
        issuer: Some("NHS".into()),
        study_uid: uid.into(),
        date: date.into(),
        modality: "CT".into(),
        description: description.into(),
        accession: format!("ACC{}", &uid[uid.len() - 3..]),
        referring: "ONCOLOGY^Olive^^Dr".into(),
        instances: 2,
    }
}

/// What the test opener has been given, a URL a line.
fn opened(file: &std::path::Path, at_least: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<String> =
            std::fs::read_to_string(file).unwrap_or_default().lines().map(str::to_owned).collect();
        if lines.len() >= at_least || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn studies_are_listed_for_a_patient_on_my_ward_opened_from_the_keyboard_and_break_glass_needs_a_reason()
{
    let Some(pacs) = Orthanc::start_or_skip("e2e imaging") else { return };
    pacs.upload(&[
        study("9990000018", "1.2.826.0.1.3680043.10.9.101", "20250301", "CT chest abdomen pelvis"),
        study("9990000018", "1.2.826.0.1.3680043.10.9.102", "20261115", "CT thorax restaging"),
        study("9990000018", "1.2.826.0.1.3680043.10.9.103", "20260610", "MR liver"),
        study("9990000026", "1.2.826.0.1.3680043.10.9.201", "20261020", "CT head"),
    ])
    .expect("uploaded");
    let folder = tempfile::tempdir().expect("folder");
    let capture = folder.path().join("opened.txt");
    let opener = folder.path().join("capture-opener");
    std::fs::write(&opener, format!("#!/bin/sh\necho \"$1\" >> {}\n", capture.display())).expect("opener");
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("mode");
    let credentials = folder.path().join("pacs-credentials");
    std::fs::write(&credentials, format!("{ORTHANC_USER}:{ORTHANC_PASSWORD}\n")).expect("written");
    std::fs::set_permissions(&credentials, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("mode");
    let settings = format!(
        "[pacs]\nqido_url = {:?}\nissuer_of_patient_id = \"NHS\"\ncredentials_file = {:?}\nopen_command = {:?}\n\n\
         [[pacs.viewers]]\nname = \"IID viewer\"\nkind = \"iid\"\nurl = \"https://viewer.example.nhs.uk/IHEInvokeImageDisplay\"\n\n\
         [[pacs.viewers]]\nname = \"Weasis\"\nkind = \"weasis\"\n",
        pacs.dicomweb_root(),
        credentials.to_string_lossy(),
        opener.to_string_lossy()
    );
    let app = RunningApp::launch_with_settings(settings).await;
    app.cws(&["user", "wards", "555000000001", "--wards", "WARD9"]);
    let (applied, _) = app.replay_adt(
        "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|202611300900||ADT^A01^ADT_A01|IMG1|P|2.4\r\
         EVN|A01|202611300900\rPID|||9990000018^^^NHS^NH||QUILLFEATHER^Ada||19310202|F\rPV1||I|WARD9^BAY1^BED2",
    );
    assert!(applied.contains("Applied 1 of 1"), "{applied}");

    app.sign_in_as_prescriber().await;
    app.alt('5').await;
    let bed = app.wait_for("button[data-bed='WARD9/BAY1/BED2'][data-state=O]").await;
    bed.send_keys(ENTER).await.expect("Enter on the bed");
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", "999 000 0018").await;
    app.alt('3').await;
    app.wait_for_text("[data-testid=imaging-access]", "Inpatient on WARD9").await;
    let first = app.wait_for("[data-testid=studies] tbody tr:first-child").await;
    assert_eq!(
        first.attr("data-study").await.expect("attribute").as_deref(),
        Some("1.2.826.0.1.3680043.10.9.102"),
        "newest first"
    );
    let rows =
        app.client.find_all(fantoccini::Locator::Css("[data-testid=studies] tbody tr")).await.expect("rows");
    assert_eq!(rows.len(), 3, "only her studies");
    app.screenshot("imaging-studies").await;

    // From the keyboard: down to the second study, Enter opens it in the first viewer.
    first.send_keys(DOWN).await.expect("down");
    assert_eq!(app.focused_attribute("data-study").await.as_deref(), Some("1.2.826.0.1.3680043.10.9.103"));
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=opened]", "opened in IID viewer").await;
    assert_eq!(
        opened(&capture, 1),
        [
            "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=STUDY&studyUID=1.2.826.0.1.3680043.10.9.103&viewerType=IHE_BIR&diagnosticQuality=true"
        ]
    );

    // All of her images at once: IID requestType=PATIENT, the NHS number as an encoded CX.
    app.wait_for("[data-testid=open-all]").await.click().await.expect("open all");
    app.wait_for_text_containing("[data-testid=opened]", "All of this patient's images opened").await;
    assert_eq!(
        opened(&capture, 2).get(1).map(String::as_str),
        Some(
            "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=PATIENT&patientID=9990000018%5E%5E%5E%262.16.840.1.113883.2.1.4.1%26ISO&viewerType=IHE_BIR&diagnosticQuality=true"
        )
    );

    // A patient with no relationship: the page asks for break-glass, the reason field focused.
    app.alt('1').await;
    let search = app.wait_for("#patient-query").await;
    search.send_keys("9990000026").await.expect("typed");
    app.press(ENTER).await;
    let result = app.wait_for("ul[aria-label='Search results'] button.result").await;
    result.send_keys(ENTER).await.expect("Enter opens");
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", "999 000 0026").await;
    app.alt('3').await;
    app.wait_for("[data-testid=imaging-gate]").await;
    assert_eq!(app.focused_attribute("data-testid").await.as_deref(), Some("break-glass-reason"));
    app.screenshot("imaging-gate").await;
    app.press("Collapsed in clinic; head CT reported elsewhere").await;
    app.wait_for("[data-testid=break-glass]").await.click().await.expect("break glass");
    app.wait_for_text_containing("[data-testid=break-glass-on]", "Collapsed in clinic").await;
    app.wait_for("[data-testid=studies] tbody tr[data-study='1.2.826.0.1.3680043.10.9.201']").await;
    app.screenshot("imaging-break-glass").await;
    let uses = app.cws(&["audit", "break-glass", "--from", "2026-01-01", "--to", "2099-12-31"]);
    assert!(uses.contains("user 555000000001") && uses.contains("Collapsed in clinic"), "{uses}");

    // Signing out sends the viewer its close command, and the page is cleared.
    app.sign_out().await;
    let sent = opened(&capture, 3);
    assert_eq!(sent.get(2).map(String::as_str), Some("weasis://%24dicom%3Aclose+--all"), "{sent:?}");
    app.quit().await;
}
