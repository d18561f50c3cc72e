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
    let patient = common::discharge_site::registered_with_a81001();
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

/// The oncology template carries the SACT given this admission: each dose as
/// recorded in the given window (not the dose from before it), and the next
/// cycle's date from the regimen's cycle length (R-CHOP-21: 21 days).
#[tokio::test]
async fn the_oncology_summary_carries_the_sact_given_this_admission_and_the_next_due_date() {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    // The prescribing module's records are written straight to the store, as its own workflow would.
    let sact_store = store.clone();
    let context = Context::with_store(store, settings(), "ws1").expect("context");
    let feed = FeedToken::for_account(&context, &Actor { user: "site-it".into(), workstation: "ws1".into() })
        .expect("feed");
    for (event, id, at) in [("A01", "S1", "202611200900"), ("A03", "S2", "202611271400")] {
        let message = format!(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|{at}||ADT^{event}|{id}|P|2.4\rEVN|{event}|{at}\r\
             PID|||9990000018^^^NHS^NH||QUILLFEATHER^Ada||19600505|F\rPV1||I|WARD7^BAY1^BED1"
        );
        assert_eq!(receive(&context, &feed, &message).await.outcome.code(), "AA");
    }
    let viewer = acting_as(DOCTOR, Permission::ViewPatients);
    let query = patients::PatientQuery::parse(
        "9990000018",
        None,
        patients::NhsNumberPolicy { accept_test_range: true },
    )
    .expect("query");
    let patient_id = services::patients::search(&context, &viewer, &query, 1).await.expect("found")[0].id;

    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
    let consultant = session::UserId::parse("555000000001").expect("user id");
    let pin = sact::RegimenPin {
        code: "R-CHOP-21".into(),
        version: "1.0".into(),
        content_sha256: "9f".repeat(32),
        policy_version: "site-2026-11".into(),
        banding_version: "nhse-2016".into(),
    };
    let course =
        sact::Course::new(patient_id, pin, sact::Intent::Curative, 1, consultant.clone(), 6, day(21))
            .expect("course");
    let line = sact::PrescribedDrug {
        drug: "doxorubicin".into(),
        day: "D1".into(),
        dose: "95".parse().expect("decimal"),
        unit: dosing::units::DoseUnit::Milligrams,
        route: "IV".into(),
    };
    let cycle = sact::Cycle::prescribe(1, day(22), consultant, vec![line]).expect("cycle");
    let given = |at: &str, cycle_id: Option<i64>| store::DoseGiven {
        patient_id,
        cycle_id,
        drug: "doxorubicin".into(),
        dose: "95.0".parse().expect("decimal"),
        unit: "mg".into(),
        dose_per_m2: None,
        given_at: chrono::DateTime::parse_from_rfc3339(at).expect("time").to_utc(),
        site: "RXX01".into(),
    };
    let mut tx = sact_store.begin().await.expect("begun");
    let course_id = tx.sact().insert_course(&course).await.expect("course");
    let cycle_id = tx.sact().insert_cycle(course_id, &cycle).await.expect("cycle");
    tx.sact().record_dose_given(&given("2026-11-22T10:00:00Z", Some(cycle_id))).await.expect("given");
    tx.sact().record_dose_given(&given("2026-10-01T10:00:00Z", None)).await.expect("given before");
    tx.audit(
        &Actor { user: "test".into(), workstation: "ws1".into() },
        store::AuditAction::SactDoseGiven,
        Some(patient_id),
        &[store::RecordRef::Cycle(cycle_id)],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");

    let author = acting_as(DOCTOR, Permission::AuthorDischarge);
    let draft =
        services::discharge::start(&context, &author, patient_id, "Medical oncology").await.expect("draft");
    assert_eq!(
        draft.summary.sact,
        [discharge::SactTreatment {
            regimen: "R-CHOP-21".into(),
            cycle: 1,
            planned_cycles: 6,
            doses: vec![discharge::SactDose {
                drug: "doxorubicin".into(),
                dose: "95".into(),
                unit: "mg".into(),
                given_at: chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
                    .expect("time")
                    .to_utc(),
            }],
            next_due: Some(day(22) + chrono::Days::new(21)),
        }]
    );
    // A draft is saved only as the patient it belongs to.
    let someone_else = discharge::DischargeSummary { patient_id: patient_id + 1, ..draft.summary.clone() };
    let refused =
        services::discharge::save(&context, &author, draft.id, draft.row_version, &someone_else).await;
    assert!(
        matches!(refused, Err(ServiceError::Refused { rule: "summary_of_this_patient", .. })),
        "{refused:?}"
    );
    // The page cannot change what the prescribing module recorded.
    let edited = discharge::DischargeSummary { sact: Vec::new(), ..draft.summary.clone() };
    services::discharge::save(&context, &author, draft.id, draft.row_version, &edited).await.expect("saved");
    let kept = services::discharge::open(&context, &author, draft.id).await.expect("opened");
    assert_eq!(kept.summary.sact, draft.summary.sact);
    let general =
        services::discharge::start(&context, &author, patient_id, "General medicine").await.expect("draft");
    assert!(general.summary.sact.is_empty(), "only the oncology template carries SACT");
    context.close().await;
}

/// Each discharge act needs its own permission: author_discharge to start,
/// save, open, read, list and amend; sign_discharge to sign. Another
/// permission's token is refused before anything is read or written.
#[tokio::test]
async fn every_discharge_act_is_refused_without_its_permission() {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let context = Context::with_store(store, settings(), "ws1").expect("context");
    let patient_id = services::patients::add(
        &context,
        &acting_as(DOCTOR, Permission::ViewPatients),
        common::discharge_site::registered_with_a81001(),
    )
    .await
    .expect("patient")
    .id;
    let author = acting_as(DOCTOR, Permission::AuthorDischarge);
    let draft =
        services::discharge::start(&context, &author, patient_id, "General medicine").await.expect("draft");
    let viewer = acting_as(DOCTOR, Permission::ViewPatients);
    let ca = demo_cards::DemoCa::new("Test Trust Issuing CA").expect("CA");
    let trust = Some(identity::Trust::from_der(ca.cert_der().to_vec()).expect("trust"));
    let refused = |outcome: Result<(), ServiceError>, act: &str| {
        assert!(
            matches!(outcome, Err(ServiceError::NotPermitted(Permission::AuthorDischarge))),
            "{act}: {outcome:?}"
        );
    };
    refused(
        services::discharge::start(&context, &viewer, patient_id, "General medicine").await.map(|_| ()),
        "start",
    );
    refused(
        services::discharge::save(&context, &viewer, draft.id, 1, &draft.summary).await.map(|_| ()),
        "save",
    );
    refused(services::discharge::open(&context, &viewer, draft.id).await.map(|_| ()), "open");
    refused(
        services::discharge::current(&context, &viewer, patient_id, trust.as_ref()).await.map(|_| ()),
        "current",
    );
    refused(services::discharge::sends(&context, &viewer, draft.id).await.map(|_| ()), "sends");
    refused(services::discharge::versions(&context, &viewer, patient_id).await.map(|_| ()), "versions");
    refused(
        services::discharge::amend(&context, &viewer, draft.id, "A reason long enough").await.map(|_| ()),
        "amend",
    );
    refused(services::discharge_dashboard::dashboard(&context, &viewer).await.map(|_| ()), "dashboard");
    let trust = trust.as_ref().expect("trust");
    refused(services::discharge::letter(&context, &viewer, draft.id, trust).await.map(|_| ()), "letter");
    refused(
        services::discharge::letter_pdf(&context, &viewer, draft.id, trust).await.map(|_| ()),
        "letter_pdf",
    );
    refused(
        services::discharge::letter_fhir(&context, &viewer, draft.id, trust).await.map(|_| ()),
        "letter_fhir",
    );
    refused(
        services::discharge::read_signed(&context, &viewer, draft.id, trust).await.map(|_| ()),
        "read_signed",
    );
    let signing = services::discharge::sign(&context, &author, draft.id, 1, &NoCard).await;
    assert!(
        matches!(signing, Err(ServiceError::NotPermitted(Permission::SignDischarge))),
        "signing needs sign_discharge, not author_discharge: {signing:?}"
    );
    let kept = services::discharge::open(&context, &author, draft.id).await.expect("opened");
    assert_eq!((kept.row_version, kept.summary), (1, draft.summary), "nothing was written");
    context.close().await;
}

/// A signer that must never be asked: the permission check comes first.
struct NoCard;

impl services::sact::ActSigner for NoCard {
    fn sign(&self, _: &[u8]) -> Result<identity::DocumentSignature, ServiceError> {
        panic!("the card was asked to sign before the permission was checked")
    }
}

/// The outbox is worked only by the account the site names in
/// `[discharge] sender_account`; a stand-alone workstation that names none
/// works its own; a shared store must name one.
#[tokio::test]
async fn only_the_named_sender_account_works_the_outbox_and_a_shared_store_must_name_one() {
    use services::discharge_outbox::SenderToken;
    let account = |user: &str| Actor { user: user.into(), workstation: "ws1".into() };
    let refused = |token: Result<SenderToken, ServiceError>, why: &str| {
        assert!(matches!(token, Err(ServiceError::Refused { rule: "sender_account", .. })), "{why}");
    };
    let folder = tempfile::tempdir().expect("folder");
    let local = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let stand_alone = Context::with_store(local.clone(), settings(), "ws1").expect("context");
    assert!(SenderToken::for_account(&stand_alone, &account("anyone")).is_ok(), "its own account works it");
    let mut named = settings();
    named.discharge.sender_account = Some("cws-outbox".into());
    let site = Context::with_store(local, named.clone(), "ws1").expect("context");
    refused(SenderToken::for_account(&site, &account("someone-else")), "another account is refused");
    assert!(SenderToken::for_account(&site, &account("cws-outbox")).is_ok(), "the named account works it");

    let test = "only_the_named_sender_account_works_the_outbox_and_a_shared_store_must_name_one";
    let Some(server) = test_services::Postgres::start_or_skip(test) else { return };
    let database = store::SharedDatabase::parse(&server.url()).expect("a loopback URL");
    let shared = Store::create_shared(&database).await.expect("created");
    let unnamed = Context::with_store(shared.clone(), settings(), "ws1").expect("context");
    refused(SenderToken::for_account(&unnamed, &account("anyone")), "a shared store names its sender");
    let trust = Context::with_store(shared, named, "ws1").expect("context");
    assert!(SenderToken::for_account(&trust, &account("cws-outbox")).is_ok());
    stand_alone.close().await;
}
