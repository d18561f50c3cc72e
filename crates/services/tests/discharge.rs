//! Drafting a discharge summary on a real store: started from the patient's
//! admission and prefilled, saved (autosave) only from the version read, and
//! there again when the store is opened afresh, as after a crash.

mod common;

use chrono::NaiveDate;
use common::acting_as;
use services::interface::{FeedToken, receive};
use services::{Context, ServiceError};
use session::Permission;
use store::{Actor, Store, StoreKey};

const DOCTOR: &str = "555000000004";

fn settings() -> settings::Settings {
    let mut settings = settings::Settings::fail_safe();
    settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
    settings
}

#[tokio::test]
async fn a_draft_starts_from_the_admission_saves_from_the_version_read_and_survives_a_reopen() {
    let folder = tempfile::tempdir().expect("folder");
    let path = folder.path().join("store.db");
    let key = StoreKey::generate().expect("key");
    let store = Store::create_with_key(&path, key.clone()).await.expect("store");
    let context = Context::with_store(store, settings(), "ws1").expect("context");
    let patient = patients::NewPatient {
        nhs_number: Some(patients::NhsNumber::from_nine_digits([9, 9, 9, 0, 0, 0, 0, 0, 1]).expect("valid")),
        nhs_number_failing_check: None,
        mrn: Some("RXX1".into()),
        family_name: "Quillfeather".into(),
        given_names: "Ada".into(),
        title: None,
        date_of_birth: NaiveDate::from_ymd_opt(1960, 5, 5).expect("date"),
        sex: patients::Sex::Female,
        address: None,
        postcode: None,
        gp_practice: Some(patients::GpPractice { ods_code: "A81001".into(), name: None }),
        deceased_date: None,
    };
    let patient_id = services::patients::add(&context, &acting_as(DOCTOR, Permission::ViewPatients), patient)
        .await
        .expect("patient")
        .id;
    let feed = FeedToken::for_account(&context, &Actor { user: "site-it".into(), workstation: "ws1".into() })
        .expect("feed");
    for (event, id, at) in [("A01", "D1", "202611200900"), ("A03", "D2", "202611271400")] {
        let message = format!(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|{at}||ADT^{event}|{id}|P|2.4\rEVN|{event}|{at}\r\
             PID|||9990000018^^^NHS^NH||QUILLFEATHER^Ada||19600505|F\rPV1||I|WARD9^BAY1^BED2"
        );
        assert_eq!(receive(&context, &feed, &message).await.outcome.code(), "AA");
    }

    let author = acting_as(DOCTOR, Permission::AuthorDischarge);
    let refused = services::discharge::start(
        &context,
        &acting_as(DOCTOR, Permission::ViewPatients),
        patient_id,
        "General medicine",
    )
    .await;
    assert!(matches!(refused, Err(ServiceError::NotPermitted(Permission::AuthorDischarge))));
    let draft =
        services::discharge::start(&context, &author, patient_id, "General medicine").await.expect("started");
    assert_eq!(draft.summary.gp_practice.as_deref(), Some("A81001"), "prefilled from the record");
    assert_eq!(
        draft.summary.admission.admitted_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-20T09:00:00+00:00")
    );
    assert_eq!(
        draft.summary.discharge.discharged_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-27T14:00:00+00:00")
    );
    assert_eq!(draft.summary.discharge.location.as_deref(), Some("WARD9"));

    let template = discharge::Template::shipped().remove(0);
    let mut summary = draft.summary.clone();
    summary.text.insert(discharge::Section::ClinicalSummary, "Pneumonia, treated; recovered.".into());
    let saved = services::discharge::save(&context, &author, draft.id, draft.row_version, &summary)
        .await
        .expect("saved");
    assert_eq!(saved, 2);
    let stale =
        services::discharge::save(&context, &author, draft.id, draft.row_version, &draft.summary).await;
    assert!(matches!(stale, Err(ServiceError::Store(store::StoreError::Changed { .. }))), "{stale:?}");
    context.close().await;

    // As after a crash: the store opened afresh, the draft as last saved.
    let reopened =
        Context::with_store(Store::open_with_key(&path, key).await.expect("reopened"), settings(), "ws1")
            .expect("context");
    let again = services::discharge::open(&reopened, &author, draft.id).await.expect("opened");
    assert_eq!(again.row_version, 2);
    assert_eq!(
        again.summary.text.get(&discharge::Section::ClinicalSummary).map(String::as_str),
        Some("Pneumonia, treated; recovered.")
    );
    let still_needed: Vec<String> =
        again.summary.missing_for_sign_off(&template).into_iter().map(|m| m.field).collect();
    assert!(
        still_needed.contains(&"diagnoses".to_owned()) && still_needed.contains(&"allergies".to_owned()),
        "{still_needed:?}"
    );
    reopened.close().await;
}
