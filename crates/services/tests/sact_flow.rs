//! A cycle of R-CHOP-21 through the services on a real store, each act signed
//! with its actor's card (SoftHSM2): approved by two people, prescribed from
//! the engine's doses, refused to its own prescriber, verified, released
//! against results, and given drug by drug with a witness; the doses given
//! count towards lifetime totals. One test, so the token configuration in the
//! environment is set before any other thread runs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use chrono::{TimeDelta, Utc};
use common::Card;
use demo_cards::{DemoCa, SOFTHSM_MODULE, SoftHsmTokens};
use dosing::course::MeasurementsText;
use identity::{CardReader, Trust};
use rust_decimal::Decimal;
use sact::{AdministrationRecord, CycleState, Intent, TimedResult, VerificationScope};
use services::sact::{NewCourse, NewCycle, ReleaseRequest};
use services::{Acting, Context, ServiceError};
use session::{JobRole, Moment, Permission, StaffUser, UserId, Workstation};
use store::{Store, StoreKey};

/// A token for `user_id` in `role`, holding `permission` (and nothing else is proven).
fn token(user_id: &str, role: &str, permissions: &[Permission], permission: Permission) -> Acting {
    let mut workstation = Workstation::new(Duration::from_secs(300));
    let now = Moment::new(Instant::now(), SystemTime::now());
    let user = StaffUser {
        user_id: UserId::parse(user_id).expect("twelve digits"),
        display_name: "TESTER, Tess (Ms)".into(),
        job_title: "Tester".into(),
        role: JobRole { code: role.into(), name: role.into() },
    };
    workstation.sign_in(user, permissions.iter().copied().collect::<BTreeSet<_>>(), now).expect("signed in");
    let check = workstation.require(permission, now).expect("granted");
    Acting::from_session(&check, permission, "ws1").expect("a token")
}

const PRESCRIBER: &str = "555000000001";
const PHARMACIST: &str = "555000000002";
const NURSE: &str = "555000000003";
const WITNESS: &str = "555000000004";

async fn context_with_a_patient() -> (tempfile::TempDir, Context) {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let context = Context::with_store(store, settings::Settings::fail_safe(), "ws1").expect("context");
    let viewer = token(NURSE, "R8001", &[Permission::ViewPatients], Permission::ViewPatients);
    let patient = patients::NewPatient { mrn: None, ..common::quillfeather_ada() };
    services::patients::add(&context, &viewer, patient).await.expect("patient");
    (folder, context)
}

fn new_course() -> NewCourse {
    NewCourse {
        patient_id: 1,
        regimen_code: "R-CHOP-21".into(),
        regimen_version: None,
        intent: Intent::Curative,
        line: 1,
        planned_cycles: 6,
        start_date: Utc::now().date_naive(),
    }
}

async fn approve_r_chop(context: &Context) {
    let consultant = token(PRESCRIBER, "R8000", &[Permission::ManageRegimens], Permission::ManageRegimens);
    let pharmacist = token(PHARMACIST, "R8003", &[Permission::ManageRegimens], Permission::ManageRegimens);
    let first = services::regimens::approve(context, &consultant, "R8000", "R-CHOP-21", None, "test")
        .await
        .expect("one");
    assert!(!first.approved, "one approval is not enough");
    let twice = services::regimens::approve(context, &consultant, "R8000", "R-CHOP-21", None, "test").await;
    assert!(matches!(twice, Err(ServiceError::Refused { rule: "approval_twice", .. })), "{twice:?}");
    let second = services::regimens::approve(context, &pharmacist, "R8003", "R-CHOP-21", None, "test")
        .await
        .expect("two");
    assert!(second.approved);
}

/// The laboratory's feed sends the patient's neutrophils (10*9/L) and platelets
/// (`platelets` is VALUE|UNITS), sampled three hours ago, filed by the site's
/// code table for NEUT and PLT in 10*9/L.
async fn laboratory_sends(context: &Context, control_id: &str, neutrophils: &str, platelets: &str) {
    let mut lab_settings = context.settings().clone();
    lab_settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
    lab_settings.lab_codes = vec![
        ("NEUT".into(), settings::LabCode { check: "neutrophils".into(), units: "10*9/L".into() }),
        ("PLT".into(), settings::LabCode { check: "platelets".into(), units: "10*9/L".into() }),
    ];
    let laboratory = context.clone().with_settings(lab_settings);
    let account = store::Actor { user: "site-it".into(), workstation: "ws1".into() };
    let feed = services::interface::FeedToken::for_account(&laboratory, &account).expect("the feed's token");
    let sampled = (Utc::now() - TimeDelta::hours(3)).format("%Y%m%d%H%M%S+0000");
    let nhs_number =
        patients::NhsNumber::from_nine_digits([9, 9, 9, 0, 0, 0, 0, 0, 1]).expect("valid").digits();
    let oru = format!(
        "MSH|^~\\&|LIMS|RXX-PATH|||{sampled}||ORU^R01|{control_id}|P|2.4\rPID|||{nhs_number}^^^NHS^NH||QUILLFEATHER^Ada\r\
         OBR|1||S1|FBC|||{sampled}\rOBX|1|NM|NEUT^Neutrophils||{neutrophils}|10*9/L|||||F\rOBX|2|NM|PLT^Platelets||{platelets}|||||F"
    );
    let filed = services::interface::receive(&laboratory, &feed, &oru).await;
    assert_eq!(filed.outcome, hl7::ack::Outcome::Accepted, "{:?}", filed.acknowledgements);
}

#[tokio::test]
async fn a_cycle_goes_from_prescription_to_the_last_drug_given() {
    let cards_folder = tempfile::tempdir().expect("folder");
    // SAFETY: this binary's only test sets it before the module or any other thread starts.
    unsafe { std::env::set_var("SOFTHSM2_CONF", cards_folder.path().join("softhsm2.conf")) };
    let tokens = SoftHsmTokens::create(cards_folder.path()).expect("tokens");
    let ca = DemoCa::new("Test Trust Issuing CA").expect("CA");
    let now = time::OffsetDateTime::now_utc();
    let valid = (now - time::Duration::days(1), now + time::Duration::days(30));
    for (label, user) in
        [("PRESCRIBER", PRESCRIBER), ("PHARMACIST", PHARMACIST), ("NURSE", NURSE), ("WITNESS", WITNESS)]
    {
        let card = ca.issue(user, "TESTER, Tess (Ms)", valid.0, valid.1).expect("card");
        tokens.add_card(label, "1234", &card.key_pem, &card.cert_der).expect("card written");
    }
    let reader = CardReader::open(std::path::Path::new(SOFTHSM_MODULE)).expect("module");
    let trust = Trust::from_der(ca.cert_der().to_vec()).expect("trust");
    let card = |label: &'static str| Card { reader: &reader, label, trust: &trust };

    let (_folder, context) = context_with_a_patient().await;
    let early = token(PRESCRIBER, "R8000", &[Permission::PrescribeSact], Permission::PrescribeSact);
    let refused = services::sact::start_course(&context, &early, &new_course()).await;
    assert!(
        matches!(refused, Err(ServiceError::Refused { rule: "regimen_not_approved", .. })),
        "{refused:?}"
    );
    approve_r_chop(&context).await;
    let prescriber = token(
        PRESCRIBER,
        "R8003",
        &[Permission::PrescribeSact, Permission::VerifySact],
        Permission::PrescribeSact,
    );
    let course_id = services::sact::start_course(&context, &prescriber, &new_course()).await.expect("course");
    let treatment_date = Utc::now().date_naive() + TimeDelta::days(1);
    let measurements = MeasurementsText {
        height_cm: "170".into(),
        weight_kg: "70".into(),
        sex: Some("female".into()),
        age_years: Some("66".into()),
        creatinine_umol_l: None,
        gfr_ml_min: None,
        egfr_ml_min_1_73m2: None,
        dosing_weight_kg: None,
    };
    let new_cycle = NewCycle {
        course_id,
        number: 1,
        treatment_date,
        measurements,
        measured_on: Utc::now().date_naive(),
        modifications: vec![],
        stale_measurements_reason: None,
    };
    // Measurements older than the site allows (14 days) are refused until the prescriber answers them.
    let stale = NewCycle { measured_on: treatment_date - TimeDelta::days(15), ..new_cycle.clone() };
    let refused_stale = services::sact::prescribe(&context, &prescriber, &card("PRESCRIBER"), &stale).await;
    assert!(
        matches!(refused_stale, Err(ServiceError::Refused { rule: "stale_measurements", .. })),
        "{refused_stale:?}"
    );
    let wrong_card = services::sact::prescribe(&context, &prescriber, &card("PHARMACIST"), &new_cycle).await;
    assert!(matches!(wrong_card, Err(ServiceError::Refused { rule: "signer", .. })), "{wrong_card:?}");
    let prescribed = services::sact::prescribe(&context, &prescriber, &card("PRESCRIBER"), &new_cycle)
        .await
        .expect("prescribed");
    assert_eq!(prescribed.doses.regimen, "R-CHOP-21");
    assert!(
        prescribed.doses.warnings.iter().all(|w| w.code != "regimen_not_approved"),
        "approved here, so not warned of as a draft"
    );
    assert!(
        prescribed.doses.warnings.iter().all(|w| !w.message.contains("no lifetime dose")),
        "the lifetime dose comes from the record (none yet), not from typing: {:?}",
        prescribed.doses.warnings
    );

    let scope = VerificationScope::site_default();
    let own = token(
        PRESCRIBER,
        "R8003",
        &[Permission::PrescribeSact, Permission::VerifySact],
        Permission::VerifySact,
    );
    let refused =
        services::sact::verify(&context, &own, &card("PRESCRIBER"), "R8003", &scope, prescribed.cycle_id)
            .await;
    assert!(matches!(refused, Err(ServiceError::Refused { rule: "self_verification", .. })), "{refused:?}");
    let queue = services::sact::verification_queue(&context, &own, 50).await.expect("queue");
    assert_eq!(
        queue.iter().map(|c| c.id).collect::<Vec<_>>(),
        [prescribed.cycle_id],
        "still awaiting a pharmacist"
    );

    let pharmacist = token(PHARMACIST, "R8003", &[Permission::VerifySact], Permission::VerifySact);
    services::sact::verify(&context, &pharmacist, &card("PHARMACIST"), "R8003", &scope, prescribed.cycle_id)
        .await
        .expect("verified");

    // The prescriber halves vincristine after verification: a new version, back to
    // verification, and the verified version kept whole with its signatures.
    let halved = dosing::course::DrugModification {
        drug: "vincristine".into(),
        modification: dosing::pipeline::Modification {
            percent: Decimal::from(50),
            reason: "grade 2 neuropathy".into(),
        },
    };
    let amended_cycle = NewCycle { modifications: vec![halved], ..new_cycle.clone() };
    let nobody_said_why = services::sact::amend(
        &context,
        &prescriber,
        &card("PRESCRIBER"),
        prescribed.cycle_id,
        &amended_cycle,
        " ",
    )
    .await;
    assert!(
        matches!(nobody_said_why, Err(ServiceError::Refused { rule: "reason", .. })),
        "{nobody_said_why:?}"
    );
    services::sact::amend(
        &context,
        &prescriber,
        &card("PRESCRIBER"),
        prescribed.cycle_id,
        &amended_cycle,
        "neuropathy reported at review",
    )
    .await
    .expect("amended");
    let viewer = token(PHARMACIST, "R8003", &[Permission::ViewPatients], Permission::ViewPatients);
    let amended = services::sact::cycle(&context, &viewer, prescribed.cycle_id).await.expect("read");
    assert_eq!(
        (amended.cycle.state.clone(), amended.cycle.prescription_version),
        (CycleState::Prescribed, 2)
    );
    let kept = &amended.cycle.earlier_versions[0];
    let acts: Vec<&str> = kept.signatures.iter().map(|s| s.act.as_str()).collect();
    assert_eq!(acts, ["prescribed v1", "verified v1"], "the verified version is kept with its signatures");
    let vincristine = |drugs: &[sact::PrescribedDrug]| {
        drugs.iter().find(|d| d.drug == "vincristine").map(|d| d.dose).expect("in R-CHOP")
    };
    assert!(vincristine(&amended.cycle.drugs) < vincristine(&kept.drugs), "the new version's dose is lower");
    services::sact::verify_signatures(&amended.cycle, &trust).expect("both versions' signatures hold");
    services::sact::verify(&context, &pharmacist, &card("PHARMACIST"), "R8003", &scope, prescribed.cycle_id)
        .await
        .expect("version 2 verified");
    let releaser = token(PHARMACIST, "R8003", &[Permission::ReleaseSact], Permission::ReleaseSact);

    // The laboratory's counts arrive over the feed: release uses them where none are typed.
    laboratory_sends(&context, "LABX", "3.1", "240|10*9/L").await;
    let from_lab = services::sact::release_laboratory_values(&context, &releaser, prescribed.cycle_id)
        .await
        .expect("the laboratory's values");
    let shown: Vec<(&str, String, &str)> =
        from_lab.iter().map(|v| (v.test.as_str(), v.value.to_string(), v.laboratory.as_str())).collect();
    assert_eq!(
        shown,
        [("neutrophils", "3.1".to_owned(), "RXX-PATH"), ("platelets", "240".to_owned(), "RXX-PATH")]
    );
    let nothing_typed = ReleaseRequest {
        cycle_id: prescribed.cycle_id,
        results: BTreeMap::new(),
        current_weight_kg: Decimal::from(70),
        dosing_weight_kg: Decimal::from(70),
        overrides: vec![],
    };
    let findings = services::sact::release_checks(&context, &releaser, &nothing_typed).await.expect("checks");
    assert!(
        findings.is_empty(),
        "the laboratory's results within the window satisfy the checks: {findings:?}"
    );

    let taken = Utc::now() - TimeDelta::hours(2);
    let typed = |value: i64| TimedResult {
        value: Decimal::from(value),
        taken_at: taken,
        source: sact::ResultSource::Typed { reason: "point-of-care count on the day unit".into() },
    };
    let results =
        BTreeMap::from([("neutrophils".to_owned(), typed(3)), ("platelets".to_owned(), typed(250))]);
    let release = ReleaseRequest {
        cycle_id: prescribed.cycle_id,
        results,
        current_weight_kg: Decimal::from(70),
        dosing_weight_kg: Decimal::from(70),
        overrides: vec![],
    };
    let released =
        services::sact::release(&context, &releaser, &card("PHARMACIST"), &release).await.expect("released");
    assert_eq!(released.cycle.state, CycleState::Released);

    let nurse = token(NURSE, "R8001", &[Permission::AdministerSact], Permission::AdministerSact);
    let witness = token(WITNESS, "R8001", &[Permission::AdministerSact], Permission::AdministerSact);
    let lines = released.cycle.drugs.clone();
    let mut last = released;
    for line in &lines {
        let record = AdministrationRecord {
            drug: line.drug.clone(),
            day: line.day.clone(),
            dose_given: line.dose,
            started: Utc::now(),
            stopped: None,
            batch: "B1".into(),
            expiry: Utc::now().date_naive() + TimeDelta::days(30),
            administered_by: UserId::parse(NURSE).expect("id"),
            witness: UserId::parse(WITNESS).expect("id"),
        };
        last = services::sact::administer(
            &context,
            services::sact::Signing { acting: &nurse, card: &card("NURSE") },
            services::sact::Signing { acting: &witness, card: &card("WITNESS") },
            prescribed.cycle_id,
            record,
            "RXX01",
        )
        .await
        .expect("given");
    }
    assert_eq!(last.cycle.state, CycleState::Administered);
    services::sact::verify_signatures(&last.cycle, &trust).expect("every act's signature holds");
    let kept = last.cycle.measurements.as_ref().expect("the measurements are kept");
    assert_eq!((kept.entered.weight_kg.as_str(), kept.taken_on), ("70", Utc::now().date_naive()));
    let calculation = last.cycle.calculation.as_ref().expect("the calculation is kept");
    assert_eq!(calculation["regimen"], "R-CHOP-21");
    assert!(
        calculation["drugs"][0]["steps"].as_array().is_some_and(|steps| !steps.is_empty()),
        "each dose keeps its derivation: {}",
        calculation["drugs"][0]
    );
    let doxorubicin = lines.iter().find(|l| l.drug == "doxorubicin").expect("in R-CHOP");
    let bsa = prescribed.doses.bsa_m2.value();
    let viewer = token(NURSE, "R8001", &[Permission::ViewPatients], Permission::ViewPatients);
    let totals = services::sact::lifetime_totals(&context, &viewer, 1).await.expect("totals");
    assert_eq!(totals["doxorubicin"].total, doxorubicin.dose, "counted from the dose given");
    assert_eq!(
        totals["doxorubicin"].per_m2,
        doxorubicin.dose / bsa,
        "per m² of the BSA it was calculated for"
    );
    let twice = AdministrationRecord {
        drug: doxorubicin.drug.clone(),
        day: doxorubicin.day.clone(),
        dose_given: doxorubicin.dose,
        started: Utc::now(),
        stopped: None,
        batch: "B1".into(),
        expiry: Utc::now().date_naive() + TimeDelta::days(30),
        administered_by: UserId::parse(NURSE).expect("id"),
        witness: UserId::parse(WITNESS).expect("id"),
    };
    let refused = services::sact::administer(
        &context,
        services::sact::Signing { acting: &nurse, card: &card("NURSE") },
        services::sact::Signing { acting: &witness, card: &card("WITNESS") },
        prescribed.cycle_id,
        twice,
        "RXX01",
    )
    .await;
    assert!(matches!(refused, Err(ServiceError::Refused { rule: "not_released", .. })), "{refused:?}");
    let unchanged = services::sact::lifetime_totals(&context, &viewer, 1).await.expect("totals");
    assert_eq!(unchanged["doxorubicin"].total, doxorubicin.dose, "a refused act records nothing");

    the_next_cycle_is_offered_with_the_laboratorys_latest_results().await;
}

/// "Prescribe next cycle" offers the laboratory's latest usable results within
/// the release window before the offered day, with their laboratory; a result
/// held for its units is not among them. Run from the binary's one test, which
/// sets SOFTHSM2_CONF before any other thread starts.
async fn the_next_cycle_is_offered_with_the_laboratorys_latest_results() {
    let (_folder, context) = context_with_a_patient().await;
    approve_r_chop(&context).await;
    let prescriber = token(PRESCRIBER, "R8000", &[Permission::PrescribeSact], Permission::PrescribeSact);
    services::sact::start_course(&context, &prescriber, &new_course()).await.expect("course");
    // Its platelets come in 10*6/L, not the unit the site's table names.
    laboratory_sends(&context, "LABN", "2.7", "240|10*6/L").await;
    let viewer = token(NURSE, "R8001", &[Permission::ViewPatients], Permission::ViewPatients);
    let courses = services::sact_lists::patient_courses(&context, &viewer, 1).await.expect("courses");
    let next = courses[0].next.as_ref().expect("cycle 1 offered");
    let shown: Vec<(&str, String, &str)> = next
        .latest_results
        .iter()
        .map(|v| (v.test.as_str(), v.value.to_string(), v.laboratory.as_str()))
        .collect();
    assert_eq!(
        shown,
        [("neutrophils", "2.7".to_owned(), "RXX-PATH")],
        "platelets in 10*6/L are held, not shown"
    );
}
