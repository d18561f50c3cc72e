//! Signing a discharge summary with a real card (SoftHSM2): refused with every
//! missing field while incomplete, refused with another person's card, signed
//! and locked once complete; a summary changed after signing says so.

mod common;

use chrono::NaiveDate;
use common::{Card, acting_as};
use demo_cards::{DemoCa, SOFTHSM_MODULE, SoftHsmTokens};
use identity::{CardReader, Trust};
use services::{Context, ServiceError};
use session::Permission;
use sqlx::ConnectOptions;
use store::{Store, StoreKey};

const DOCTOR: &str = "555000000004";
const OTHER: &str = "555000000001";

#[tokio::test]
async fn a_summary_is_signed_only_when_complete_by_the_authors_own_card_and_a_change_after_is_caught() {
    let cards_folder = tempfile::tempdir().expect("folder");
    // SAFETY: this binary's only test sets it before the module or any other thread starts.
    unsafe { std::env::set_var("SOFTHSM2_CONF", cards_folder.path().join("softhsm2.conf")) };
    let tokens = SoftHsmTokens::create(cards_folder.path()).expect("tokens");
    let ca = DemoCa::new("Test Trust Issuing CA").expect("CA");
    let now = time::OffsetDateTime::now_utc();
    for (label, user) in [("DOCTOR", DOCTOR), ("OTHER", OTHER)] {
        let card = ca
            .issue(user, "TESTER, Tess (Ms)", now - time::Duration::days(1), now + time::Duration::days(30))
            .expect("card");
        tokens.add_card(label, "1234", &card.key_pem, &card.cert_der).expect("card written");
    }
    let reader = CardReader::open(std::path::Path::new(SOFTHSM_MODULE)).expect("module");
    let trust = Trust::from_der(ca.cert_der().to_vec()).expect("trust");

    let folder = tempfile::tempdir().expect("folder");
    let key = StoreKey::generate().expect("key");
    let store = Store::create_with_key(&folder.path().join("store.db"), key.clone()).await.expect("store");
    let mut settings = settings::Settings::fail_safe();
    settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
    let context = Context::with_store(store, settings, "ws1").expect("context");
    let admin = acting_as("555000000090", Permission::ManageUsers);
    let doctor = store::EnrolledUser {
        user_id: DOCTOR.into(),
        display_name: "WARD, Walter (Dr)".into(),
        job_title: "Ward doctor".into(),
        professional_body: Some("GMC".into()),
        registration_number: Some("7000004".into()),
        roles: vec![store::EnrolledRole {
            code: "R8000".into(),
            name: "Clinical Practitioner Access Role".into(),
        }],
        disabled: false,
        card_key_sha256: Some("ab".repeat(32)),
    };
    services::users::enrol(&context, &admin, &doctor).await.expect("enrolled");
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

    let author = acting_as(DOCTOR, Permission::AuthorDischarge);
    let signer = acting_as(DOCTOR, Permission::SignDischarge);
    let draft =
        services::discharge::start(&context, &author, patient_id, "General medicine").await.expect("draft");
    let card = Card { reader: &reader, label: "DOCTOR", trust: &trust };
    let incomplete = services::discharge::sign(&context, &signer, draft.id, draft.row_version, &card).await;
    let Err(ServiceError::Refused { rule: "discharge_incomplete", reason }) = incomplete else {
        panic!("an incomplete summary is not signed: {incomplete:?}")
    };
    assert!(
        reason.contains("at least one diagnosis") && reason.contains("No known drug allergies"),
        "every missing field at once: {reason}"
    );

    let mut summary = draft.summary.clone();
    let at = |d: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, d, 10, 0, 0).single();
    summary.admission.admitted_at = at(20);
    summary.admission.reason = Some("Breathless, fever".into());
    summary.discharge = discharge::DischargeDetails {
        discharged_at: at(27),
        method: Some("1".into()),
        destination: Some("19".into()),
        consultant: Some("WARD, Walter (Dr)".into()),
        specialty: Some("300".into()),
        location: Some("WARD9".into()),
    };
    summary.diagnoses = vec![discharge::Coded {
        code: Some("385093006".into()),
        text: "Community acquired pneumonia".into(),
    }];
    summary.allergies = Some(discharge::Allergies::NoKnownDrugAllergies);
    for (section, text) in [
        (discharge::Section::ClinicalSummary, "Treated with antibiotics."),
        (discharge::Section::PlanAndRequestedActions, "GP: chest X-ray in 6 weeks."),
        (discharge::Section::InformationAndAdviceGiven, "Return if breathless."),
    ] {
        summary.text.insert(section, text.into());
    }
    let read_at = services::discharge::save(&context, &author, draft.id, draft.row_version, &summary)
        .await
        .expect("saved");

    let someone_elses = Card { reader: &reader, label: "OTHER", trust: &trust };
    let refused = services::discharge::sign(&context, &signer, draft.id, read_at, &someone_elses).await;
    assert!(
        matches!(refused, Err(ServiceError::Refused { rule: "card_of_the_session_user", .. })),
        "{refused:?}"
    );

    let signed =
        services::discharge::sign(&context, &signer, draft.id, read_at, &card).await.expect("signed");
    assert_eq!(signed.signer.registration.as_deref(), Some("GMC 7000004"));
    let locked = services::discharge::save(&context, &author, draft.id, read_at + 1, &summary).await;
    assert!(
        matches!(locked, Err(ServiceError::Store(store::StoreError::Changed { .. }))),
        "signed is locked: {locked:?}"
    );

    let read = services::discharge::read_signed(&context, &author, draft.id, &trust).await.expect("read");
    assert_eq!(read.broken, None, "the signature holds over the content as kept");
    assert_eq!(read.summary, summary);

    // An amendment is a new version with its reason; the signed one is kept as it was.
    let short = services::discharge::amend(&context, &author, draft.id, "typo").await;
    assert!(matches!(short, Err(ServiceError::Invalid { field: "amendment_reason", .. })));
    let amended =
        services::discharge::amend(&context, &author, draft.id, "Discharge medication dose corrected")
            .await
            .expect("amended");
    assert_eq!(
        amended.summary.amends,
        Some(discharge::Amendment { version: 1, reason: "Discharge medication dose corrected".into() })
    );
    let again =
        services::discharge::amend(&context, &author, draft.id, "A second amendment of version 1").await;
    assert!(matches!(again, Err(ServiceError::Refused { rule: "amend_the_latest", .. })), "{again:?}");
    assert_eq!(
        services::discharge::versions(&context, &author, patient_id).await.expect("versions"),
        [(draft.id, 1, "signed".to_owned()), (amended.id, 2, "draft".to_owned())]
    );

    // Someone with the store's key edits the signed content past the application: the check says so.
    context.close().await;
    let recovery = key.recovery_text().replace('-', "");
    let mut raw = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(folder.path().join("store.db"))
        .pragma("key", format!("\"x'{recovery}'\""))
        .connect()
        .await
        .expect("raw connection");
    let tampered = serde_json::to_string(&discharge::DischargeSummary {
        diagnoses: vec![discharge::Coded { code: None, text: "Nothing of note".into() }],
        ..summary.clone()
    })
    .expect("json");
    sqlx::query("UPDATE discharge_summaries SET content = ? WHERE id = ?")
        .bind(tampered)
        .bind(draft.id)
        .execute(&mut raw)
        .await
        .expect("edited");
    sqlx::Connection::close(raw).await.expect("closed");
    let mut settings = settings::Settings::fail_safe();
    settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
    let reopened = Context::with_store(
        Store::open_with_key(&folder.path().join("store.db"), key).await.expect("reopened"),
        settings,
        "ws1",
    )
    .expect("context");
    let read = services::discharge::read_signed(&reopened, &author, draft.id, &trust).await.expect("read");
    assert!(
        read.broken.as_deref().is_some_and(|why| why.contains("changed since it was signed")),
        "{:?}",
        read.broken
    );
    reopened.close().await;
}
