//! Imaging against a real PACS (Orthanc with DICOMweb, from Debian): a
//! patient's studies, only theirs, newest first and paged; a viewer opened on
//! one with each template's exact URL; the gate (view_images, a legitimate
//! relationship, or break-glass with a reason); and a PACS that is down, slow,
//! or answering with another patient's studies, each a sentence.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use chrono::NaiveDate;
use common::acting_as;
use services::imaging::{Access, BreakGlass};
use services::{Context, ServiceError};
use session::{JobRole, Moment, Permission, StaffUser, UserId, Workstation};
use store::{Store, StoreKey};
use test_services::{ORTHANC_PASSWORD, ORTHANC_USER, Orthanc, SyntheticStudy};

const DOCTOR: &str = "555000000001";

fn study(patient: &str, uid: &str, date: &str, accession: &str) -> SyntheticStudy {
    SyntheticStudy {
        patient_id: patient.into(),
        patient_name: "FICTIONAL^Ivo".into(),
        issuer: Some("NHS".into()),
        study_uid: uid.into(),
        date: date.into(),
        modality: "CT".into(),
        description: format!("CT chest {accession}"),
        accession: accession.into(),
        referring: "WHITTLE^Wendy^^Dr".into(),
        instances: 1,
    }
}

/// A store with three fictional patients (999 000 0018 with three studies,
/// 999 000 0026 with two hundred, 999 000 0034 with none) and a PACS holding them.
async fn setup(pacs: &Orthanc, qido_url: &str, page_size: u32) -> (tempfile::TempDir, Context, [i64; 3]) {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let credentials = folder.path().join("pacs-credentials");
    std::fs::write(&credentials, format!("{ORTHANC_USER}:{ORTHANC_PASSWORD}\n")).expect("written");
    std::fs::set_permissions(&credentials, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("mode");
    let mut settings = settings::Settings::fail_safe();
    settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
    let viewer = |name: &str, kind: imaging::ViewerKind, url: Option<&str>| imaging::Viewer {
        name: name.into(),
        kind,
        url: url.map(Into::into),
        viewer_type: None,
        diagnostic_quality: None,
        study_by_accession: false,
    };
    settings.pacs = Some(settings::PacsSettings {
        qido_url: qido_url.into(),
        issuer_of_patient_id: Some("NHS".into()),
        hospital_number_issuer: None,
        timeout: Duration::from_secs(2),
        ca: None,
        credentials_file: Some(credentials),
        page_size,
        viewers: vec![
            viewer(
                "iid",
                imaging::ViewerKind::Iid,
                Some("https://viewer.example.nhs.uk/IHEInvokeImageDisplay"),
            ),
            viewer("weasis", imaging::ViewerKind::Weasis, None),
            viewer("ohif", imaging::ViewerKind::Ohif, Some("https://ohif.example.nhs.uk")),
        ],
        open_command: None,
        token_command: None,
    });
    let context = Context::with_store(store, settings, "ws1").expect("context");
    let viewer_token = acting_as(DOCTOR, Permission::ViewPatients);
    let mut ids = [0; 3];
    for (slot, nine) in
        [[9, 9, 9, 0, 0, 0, 0, 0, 1], [9, 9, 9, 0, 0, 0, 0, 0, 2], [9, 9, 9, 0, 0, 0, 0, 0, 3]]
            .iter()
            .enumerate()
    {
        let patient = patients::NewPatient {
            nhs_number: Some(patients::NhsNumber::from_nine_digits(*nine).expect("valid")),
            nhs_number_failing_check: None,
            mrn: Some(format!("RXX{slot}")),
            family_name: "Fictional".into(),
            given_names: "Ivo".into(),
            title: None,
            date_of_birth: NaiveDate::from_ymd_opt(1960, 5, 5).expect("date"),
            sex: patients::Sex::Male,
            address: None,
            postcode: None,
            gp_practice: None,
            deceased_date: None,
        };
        ids[slot] = services::patients::add(&context, &viewer_token, patient).await.expect("patient").id;
    }
    let _ = pacs;
    (folder, context, ids)
}

fn load_pacs(pacs: &Orthanc) {
    let mut studies = vec![
        study("9990000018", "1.2.826.0.1.3680043.10.1.1", "20240105", "ACCA1"),
        study("9990000018", "1.2.826.0.1.3680043.10.1.2", "20261101", "ACCA2"),
        study("9990000018", "1.2.826.0.1.3680043.10.1.3", "20250630", "ACCA3"),
    ];
    for n in 0..200 {
        let day = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date") + chrono::Duration::days(n);
        studies.push(study(
            "9990000026",
            &format!("1.2.826.0.1.3680043.10.2.{n}"),
            &day.format("%Y%m%d").to_string(),
            &format!("ACCB{n}"),
        ));
    }
    pacs.upload(&studies).expect("uploaded");
}

fn uids(list: &services::imaging::StudyList) -> Vec<&str> {
    list.studies.iter().map(|s| s.study_uid.as_str()).collect()
}

#[tokio::test]
async fn the_list_holds_only_the_patients_studies_newest_first_across_pages_and_each_viewer_opens_one() {
    let Some(pacs) = Orthanc::start_or_skip("imaging: the list holds only the patient's studies") else {
        return;
    };
    load_pacs(&pacs);
    let (_folder, context, [a, b, none]) = setup(&pacs, &pacs.dicomweb_root(), 2).await;
    let images = acting_as(DOCTOR, Permission::ViewImages);
    let lister = acting_as(DOCTOR, Permission::ViewPatients);
    for id in [a, b, none] {
        services::relationships::add_to_list(&context, &lister, id, "oncology clinic follow-up")
            .await
            .expect("listed");
    }
    let list = services::imaging::studies(&context, &images, a, None).await.expect("listed");
    assert_eq!(
        uids(&list),
        ["1.2.826.0.1.3680043.10.1.2", "1.2.826.0.1.3680043.10.1.3", "1.2.826.0.1.3680043.10.1.1"],
        "newest first, across two pages of two"
    );
    assert_eq!(list.access, Access::PatientList("oncology clinic follow-up".into()));
    let newest = &list.studies[0];
    assert_eq!(
        (
            newest.date,
            newest.modalities.clone(),
            newest.accession_number.as_deref(),
            newest.series,
            newest.instances
        ),
        (NaiveDate::from_ymd_opt(2026, 11, 1), vec!["CT".to_owned()], Some("ACCA2"), Some(1), Some(1))
    );
    assert_eq!(newest.description.as_deref(), Some("CT chest ACCA2"));
    assert_eq!(newest.referring_clinician.as_deref(), Some("WHITTLE, Wendy (Dr)"));

    let many = services::imaging::studies(&context, &images, b, None).await.expect("listed");
    assert_eq!(many.studies.len(), 200, "every page of a hundred pages of two");
    assert!(many.studies.iter().all(|s| s.patient_id == "9990000026"));
    assert!(!many.more_than_shown);
    let (_small_folder, small_pages, [_, b_again, _]) = setup(&pacs, &pacs.dicomweb_root(), 1).await;
    services::relationships::add_to_list(&small_pages, &lister, b_again, "oncology clinic follow-up")
        .await
        .expect("listed");
    let cut = services::imaging::studies(&small_pages, &images, b_again, None).await.expect("listed");
    assert_eq!(
        (cut.studies.len(), cut.more_than_shown),
        (100, true),
        "a hundred pages at most, and it says so"
    );
    let empty = services::imaging::studies(&context, &images, none, None).await.expect("listed");
    assert!(empty.studies.is_empty(), "no studies is a list, not an error");

    let launch = |viewer: &'static str, uid: &'static str| {
        let (context, images) = (context.clone(), images.clone());
        async move { services::imaging::launch(&context, &images, a, uid, viewer, None).await }
    };
    assert_eq!(
        launch("iid", "1.2.826.0.1.3680043.10.1.2").await.expect("opened").url,
        "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=STUDY&studyUID=1.2.826.0.1.3680043.10.1.2&viewerType=IHE_BIR&diagnosticQuality=true"
    );
    let weasis = launch("weasis", "1.2.826.0.1.3680043.10.1.2").await.expect("opened");
    assert!(weasis.url.starts_with("weasis://%24dicom%3Aclose+--all+%24dicom%3Ars+--url"), "{}", weasis.url);
    assert_eq!(weasis.close_command.as_deref(), Some("weasis://%24dicom%3Aclose+--all"));
    assert_eq!(
        launch("ohif", "1.2.826.0.1.3680043.10.1.2").await.expect("opened").url,
        "https://ohif.example.nhs.uk/viewer?StudyInstanceUIDs=1.2.826.0.1.3680043.10.1.2"
    );
    let another_patients = launch("iid", "1.2.826.0.1.3680043.10.2.7").await;
    assert!(
        matches!(another_patients, Err(ServiceError::Refused { rule: "study_of_this_patient", .. })),
        "a study of someone else is never opened in this patient's context: {another_patients:?}"
    );
    assert_eq!(services::imaging::close_commands(&context), ["weasis://%24dicom%3Aclose+--all"]);
    let everything =
        services::imaging::launch_patient(&context, &images, a, "iid", None).await.expect("opened");
    assert_eq!(
        everything.url,
        "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=PATIENT&patientID=9990000018%5E%5E%5E%262.16.840.1.113883.2.1.4.1%26ISO&viewerType=IHE_BIR&diagnosticQuality=true",
        "all of her images, the NHS number as an encoded CX"
    );
    let ohif_everything = services::imaging::launch_patient(&context, &images, a, "ohif", None).await;
    assert!(
        matches!(ohif_everything, Err(ServiceError::Invalid { field: "study", .. })),
        "OHIF opens studies only"
    );

    let today = chrono::Utc::now();
    let trail = services::audit::entries(
        &context,
        today - chrono::Duration::hours(1),
        today + chrono::Duration::hours(1),
    )
    .await
    .expect("entries");
    let query =
        trail.iter().find(|e| e.action == "imaging.query" && e.patient_id == Some(a)).expect("audited");
    assert!(query.record_ids.contains("study:1.2.826.0.1.3680043.10.1.2"), "{}", query.record_ids);
    assert!(trail.iter().any(|e| e.action == "imaging.launch"
        && e.record_ids.contains("study:1.2.826.0.1.3680043.10.1.2")
        && e.outcome.contains("iid")));
}

#[tokio::test]
async fn the_gate_needs_view_images_and_a_relationship_or_break_glass_with_a_reason() {
    let Some(pacs) = Orthanc::start_or_skip("imaging: the gate") else { return };
    pacs.upload(&[study("9990000018", "1.2.826.0.1.3680043.10.1.1", "20240105", "ACCA1")]).expect("uploaded");
    let (_folder, context, [a, _, _]) = setup(&pacs, &pacs.dicomweb_root(), 100).await;
    let images = acting_as(DOCTOR, Permission::ViewImages);

    let without_permission =
        services::imaging::studies(&context, &acting_as(DOCTOR, Permission::ViewPatients), a, None).await;
    assert!(matches!(without_permission, Err(ServiceError::NotPermitted(Permission::ViewImages))));

    let no_relationship = services::imaging::studies(&context, &images, a, None).await;
    assert!(
        matches!(&no_relationship, Err(ServiceError::Refused { rule: "legitimate_relationship", reason }) if reason.contains("break glass")),
        "{no_relationship:?}"
    );

    let glass = acting_as(DOCTOR, Permission::BreakGlass);
    let too_short = services::imaging::studies(
        &context,
        &images,
        a,
        Some(BreakGlass { acting: &glass, reason: "urgent" }),
    )
    .await;
    assert!(matches!(too_short, Err(ServiceError::Invalid { field: "break_glass_reason", .. })));

    let not_allowed = acting_as(DOCTOR, Permission::ViewPatients);
    let refused = services::imaging::studies(
        &context,
        &images,
        a,
        Some(BreakGlass { acting: &not_allowed, reason: "collapsed in the corridor, head CT needed" }),
    )
    .await;
    assert!(
        matches!(refused, Err(ServiceError::Refused { rule: "break_glass_permission", .. })),
        "{refused:?}"
    );
    let someone_elses = acting_as("555000000002", Permission::BreakGlass);
    let borrowed = services::imaging::studies(
        &context,
        &images,
        a,
        Some(BreakGlass { acting: &someone_elses, reason: "collapsed in the corridor, head CT needed" }),
    )
    .await;
    assert!(
        matches!(borrowed, Err(ServiceError::Refused { rule: "break_glass_permission", .. })),
        "another's break-glass is not mine"
    );

    let nine = services::imaging::studies(
        &context,
        &images,
        a,
        Some(BreakGlass { acting: &glass, reason: "123456789" }),
    )
    .await;
    assert!(
        matches!(nine, Err(ServiceError::Invalid { field: "break_glass_reason", .. })),
        "nine characters are too few"
    );
    let ten = services::imaging::studies(
        &context,
        &images,
        a,
        Some(BreakGlass { acting: &glass, reason: "head wound" }),
    )
    .await;
    assert!(ten.is_ok(), "ten characters or more are a reason: {ten:?}");

    let reason = "collapsed in the corridor, head CT needed";
    let granted =
        services::imaging::studies(&context, &images, a, Some(BreakGlass { acting: &glass, reason }))
            .await
            .expect("break-glass");
    assert_eq!(granted.access, Access::BreakGlass(reason.into()));
    assert_eq!(granted.studies.len(), 1);

    let now = chrono::Utc::now();
    let uses = services::imaging::break_glass_uses(
        &context,
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    )
    .await
    .expect("uses");
    assert_eq!(uses.len(), 2, "two uses: {uses:?}");
    assert_eq!((uses[1].actor.as_str(), uses[1].patient_id), (DOCTOR, Some(a)));
    assert!(uses[1].outcome.contains("110127") && uses[1].outcome.contains(reason), "{}", uses[1].outcome);
    assert!(!uses[1].outcome.to_uppercase().contains("FICTIONAL"), "record ids, never names");
    let refusals = services::audit::entries(
        &context,
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    )
    .await
    .expect("entries")
    .into_iter()
    .filter(|e| e.action == "imaging.refused")
    .count();
    assert_eq!(refusals, 3, "each refusal audited (no relationship, no permission, another's token)");

    // A locked session cannot make a token at all.
    let mut workstation = Workstation::new(Duration::from_secs(300));
    let now = Moment::new(Instant::now(), SystemTime::now());
    let user = StaffUser {
        user_id: UserId::parse(DOCTOR).expect("id"),
        display_name: "IMAGER, Ivy (Dr)".into(),
        job_title: "Consultant".into(),
        role: JobRole { code: "R8000".into(), name: "R8000".into() },
    };
    workstation.sign_in(user, BTreeSet::from([Permission::ViewImages]), now).expect("signed in");
    workstation.lock(session::LockReason::CardRemoved);
    assert!(workstation.require(Permission::ViewImages, now).is_err(), "locked: no token, so no images");
    assert!(
        Workstation::new(Duration::from_secs(300)).require(Permission::ViewImages, now).is_err(),
        "no session"
    );
}

/// A PACS that is down, one that never answers, and one that answers with
/// another patient's studies (a misconfigured PACS, played by a loopback
/// server, as Orthanc itself always answers correctly).
#[tokio::test]
async fn a_pacs_that_is_down_slow_or_wrong_is_a_sentence_and_wrong_is_audited() {
    let Some(pacs) = Orthanc::start_or_skip("imaging: a PACS down, slow or wrong") else { return };
    let lister = acting_as(DOCTOR, Permission::ViewPatients);
    let images = acting_as(DOCTOR, Permission::ViewImages);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let down_url = format!("http://{}/dicom-web", closed.local_addr().expect("addr"));
    drop(closed);
    let (_f1, down, [a, _, _]) = setup(&pacs, &down_url, 100).await;
    services::relationships::add_to_list(&down, &lister, a, "ward round review").await.expect("listed");
    let said = services::imaging::studies(&down, &images, a, None).await.expect_err("down").to_string();
    assert!(said.starts_with("The PACS at 127.0.0.1:") && said.contains("could not be reached"), "{said}");

    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("port");
    let slow_url = format!("http://{}/dicom-web", silent.local_addr().expect("addr"));
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let (_f2, slow, [a, _, _]) = setup(&pacs, &slow_url, 100).await;
    services::relationships::add_to_list(&slow, &lister, a, "ward round review").await.expect("listed");
    let said = services::imaging::studies(&slow, &images, a, None).await.expect_err("slow").to_string();
    assert!(said.contains("did not answer in 2 s"), "{said}");

    let wrong = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("port");
    let wrong_url = format!("http://{}/dicom-web", wrong.local_addr().expect("addr"));
    let _answering = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body =
            r#"[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"00100020":{"vr":"LO","Value":["9990000026"]}}]"#;
        while let Ok((mut socket, _)) = wrong.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    let (_f3, misconfigured, [a, _, _]) = setup(&pacs, &wrong_url, 100).await;
    services::relationships::add_to_list(&misconfigured, &lister, a, "ward round review")
        .await
        .expect("listed");
    let refused = services::imaging::studies(&misconfigured, &images, a, None).await;
    assert!(
        matches!(&refused, Err(ServiceError::Refused { rule: "pacs_wrong_patient", reason }) if reason.contains("another patient")),
        "{refused:?}"
    );
    let now = chrono::Utc::now();
    let trail = services::audit::entries(
        &misconfigured,
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    )
    .await
    .expect("entries");
    assert!(trail.iter().any(|e| e.action == "imaging.refused" && e.outcome.contains("pacs_wrong_patient")));
}

/// A workstation whose site has set up no PACS says so, before any question of
/// relationship or break-glass.
#[tokio::test]
async fn without_a_pacs_the_page_says_so_plainly() {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let context = Context::with_store(store, settings::Settings::fail_safe(), "ws1").expect("context");
    let images = acting_as(DOCTOR, Permission::ViewImages);
    let said = services::imaging::studies(&context, &images, 1, None).await.expect_err("no PACS").to_string();
    assert!(said.contains("No PACS is set up"), "{said}");
}

fn jwt(expires_in: i64) -> String {
    use base64::Engine;
    let part = |json: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let exp = chrono::Utc::now().timestamp() + expires_in;
    format!("{}.{}.c2ln", part(r#"{"alg":"RS256"}"#.into()), part(format!(r#"{{"exp":{exp}}}"#)))
}

/// Where the site mints viewer tokens, a short-lived one goes to Weasis as a
/// header and nowhere else (not the audit trail); a long-lived one is refused.
/// Where the PACS knows a patient by hospital number, one without a valid NHS
/// number is found by it.
#[tokio::test]
async fn a_site_token_goes_only_in_a_header_and_lives_five_minutes_at_most_and_hospital_numbers_are_a_fallback()
 {
    let Some(pacs) = Orthanc::start_or_skip("imaging: tokens and hospital numbers") else { return };
    pacs.upload(&[
        study("9990000018", "1.2.826.0.1.3680043.10.3.1", "20261101", "ACCT1"),
        SyntheticStudy {
            issuer: Some("RXX".into()),
            ..study("RXX2", "1.2.826.0.1.3680043.10.3.2", "20261102", "ACCT2")
        },
    ])
    .expect("uploaded");
    let (folder, context, [a, _, c]) = setup(&pacs, &pacs.dicomweb_root(), 100).await;
    let lister = acting_as(DOCTOR, Permission::ViewPatients);
    let images = acting_as(DOCTOR, Permission::ViewImages);
    for id in [a, c] {
        services::relationships::add_to_list(&context, &lister, id, "oncology clinic follow-up")
            .await
            .expect("listed");
    }
    let token_command = |name: &str, token: &str| {
        let path = folder.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\nprintf '%s\\n' '{token}'\n")).expect("script");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("mode");
        path
    };
    let short = jwt(120);
    let mut settings = context.settings().clone();
    let pacs_settings = settings.pacs.as_mut().expect("pacs");
    pacs_settings.token_command = Some(token_command("short-token", &short));
    pacs_settings.hospital_number_issuer = Some("RXX".into());
    let context = context.with_settings(settings.clone());
    let uid = "1.2.826.0.1.3680043.10.3.1";
    let weasis = services::imaging::launch(&context, &images, a, uid, "weasis", None).await.expect("opened");
    assert!(weasis.url.ends_with(&format!("+-H+%22Authorization%3A+Bearer+{short}%22")), "{}", weasis.url);
    let iid = services::imaging::launch(&context, &images, a, uid, "iid", None).await.expect("opened");
    assert!(!iid.url.contains(&short), "never in an IID URL");
    let now = chrono::Utc::now();
    let trail = services::audit::entries(
        &context,
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    )
    .await
    .expect("entries");
    assert!(
        trail.iter().all(|e| !e.outcome.contains(&short) && !e.record_ids.contains(&short)),
        "never audited"
    );

    let mut long_lived = settings.clone();
    long_lived.pacs.as_mut().expect("pacs").token_command = Some(token_command("long-token", &jwt(3600)));
    let context = context.with_settings(long_lived);
    let refused = services::imaging::launch(&context, &images, a, uid, "weasis", None).await;
    assert!(
        matches!(&refused, Err(ServiceError::Unavailable { reason, .. }) if reason.contains("300 s at most")),
        "{refused:?}"
    );

    // A patient kept by hospital number (their NHS number failed its check) opens by it, with the site's issuer.
    let flagged = patients::NewPatient {
        nhs_number: None,
        nhs_number_failing_check: Some("9990000019".into()),
        mrn: Some("RXX9".into()),
        family_name: "Fictional".into(),
        given_names: "Flora".into(),
        title: None,
        date_of_birth: NaiveDate::from_ymd_opt(1970, 1, 1).expect("date"),
        sex: patients::Sex::Female,
        address: None,
        postcode: None,
        gp_practice: None,
        deceased_date: None,
    };
    let flagged =
        services::patients::add(&context, &lister, flagged).await.expect("kept by hospital number").id;
    services::relationships::add_to_list(&context, &lister, flagged, "oncology clinic follow-up")
        .await
        .expect("listed");
    let by_hospital_number =
        services::imaging::launch_patient(&context, &images, flagged, "iid", None).await.expect("opened");
    assert!(by_hospital_number.url.contains("patientID=RXX9%5E%5E%5ERXX&"), "{}", by_hospital_number.url);
    let mut no_issuer = context.settings().clone();
    no_issuer.pacs.as_mut().expect("pacs").hospital_number_issuer = Some(String::new());
    let without = context.clone().with_settings(no_issuer);
    let refused = services::imaging::launch_patient(&without, &images, flagged, "iid", None).await;
    assert!(
        matches!(refused, Err(ServiceError::Refused { rule: "pacs_identifier", .. })),
        "no issuer to name it by: {refused:?}"
    );

    // Patient c is known to the PACS by hospital number RXX2 (issuer RXX) alone.
    let by_mrn = services::imaging::studies(&context, &images, c, None).await.expect("listed");
    assert_eq!(
        by_mrn.studies.iter().map(|s| s.study_uid.as_str()).collect::<Vec<_>>(),
        ["1.2.826.0.1.3680043.10.3.2"]
    );
}

/// A PACS served over TLS with the trust's own CA: trusted when the site names
/// that CA (`[pacs] ca`), refused with a sentence when it does not.
#[tokio::test]
async fn a_pacs_over_tls_is_trusted_only_with_the_sites_ca() {
    let Some(pacs) =
        test_services::or_skip(Orthanc::start_with_tls(), "Orthanc with TLS", "imaging over TLS")
    else {
        return;
    };
    pacs.upload(&[study("9990000018", "1.2.826.0.1.3680043.10.4.1", "20261101", "ACCS1")]).expect("uploaded");
    assert!(pacs.dicomweb_root().starts_with("https://"));
    let (_folder, context, [a, _, _]) = setup(&pacs, &pacs.dicomweb_root(), 100).await;
    let lister = acting_as(DOCTOR, Permission::ViewPatients);
    let images = acting_as(DOCTOR, Permission::ViewImages);
    services::relationships::add_to_list(&context, &lister, a, "oncology clinic follow-up")
        .await
        .expect("listed");

    let untrusted = services::imaging::studies(&context, &images, a, None).await.expect_err("an unknown CA");
    assert!(
        untrusted.to_string().starts_with("The PACS at 127.0.0.1:")
            && untrusted.to_string().contains("certificate this workstation does not trust"),
        "{untrusted}"
    );

    let mut settings = context.settings().clone();
    settings.pacs.as_mut().expect("pacs").ca = pacs.ca_certificate();
    let context = context.with_settings(settings);
    let trusted = services::imaging::studies(&context, &images, a, None).await.expect("the site's CA");
    assert_eq!(trusted.studies.len(), 1);
}
