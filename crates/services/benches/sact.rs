//! SACT workflows at the sizes a day brings: prescribing a 12-drug cycle
//! (the engine, a real SoftHSM2 card's signature, the store commit with its
//! audit entry), the verification queue with 10,000 cycles in the store, and
//! the printed prescription. Figures go in docs/PERFORMANCE.md.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use demo_cards::{DemoCa, SOFTHSM_MODULE, SoftHsmTokens};
use dosing::course::MeasurementsText;
use identity::{CardReader, Trust};
use sact::Intent;
use services::sact::{ActSigner, NewCourse, NewCycle};
use services::{Acting, Context, ServiceError};
use session::{JobRole, Moment, Permission, StaffUser, UserId, Workstation};
use store::{Store, StoreKey};
use zeroize::Zeroizing;

const PRESCRIBER: &str = "555000000001";

fn token(user_id: &str, role: &str, permission: Permission) -> Acting {
    let mut workstation = Workstation::new(Duration::from_secs(3600));
    let now = Moment::new(Instant::now(), SystemTime::now());
    let user = StaffUser {
        user_id: UserId::parse(user_id).expect("user id"),
        display_name: "BENCH, Ben (Dr)".into(),
        job_title: "Consultant".into(),
        role: JobRole { code: role.into(), name: role.into() },
    };
    workstation.sign_in(user, BTreeSet::from([permission]), now).expect("signed in");
    let check = workstation.require(permission, now).expect("granted");
    Acting::from_session(&check, permission, "bench").expect("token")
}

struct Card<'a> {
    reader: &'a CardReader,
    trust: &'a Trust,
}

impl ActSigner for Card<'_> {
    fn sign(&self, bytes: &[u8]) -> Result<identity::DocumentSignature, ServiceError> {
        let pin = Zeroizing::new("1234".to_owned());
        self.reader
            .sign_document("BENCH-CARD", &pin, self.trust, time::OffsetDateTime::now_utc(), bytes)
            .map_err(|e| ServiceError::Invalid { field: "card", reason: e.to_string() })
    }
}

/// R-CHOP-21 grown to twelve drugs (its own five, then seven more) as one regimen file.
fn twelve_drug_library() -> regimens::RegimenLibrary {
    let shipped = regimens::RegimenLibrary::shipped().expect("library");
    let r_chop = shipped.find("R-CHOP-21").expect("R-CHOP");
    let mut file: serde_json::Value =
        serde_json::from_str(include_str!("../../regimens/data/R-CHOP-21.json")).expect("json");
    let extra = [
        ("paclitaxel", "mg/m2", "175"),
        ("gemcitabine", "mg/m2", "1000"),
        ("carboplatin", "auc", "5"),
        ("vinblastine", "mg/m2", "6"),
        ("docetaxel", "mg/m2", "75"),
        ("epirubicin", "mg/m2", "90"),
        ("oxaliplatin", "mg/m2", "85"),
    ];
    for (drug, basis, value) in extra {
        file["drugs"].as_array_mut().expect("drugs").push(serde_json::json!({
            "drug": drug, "dose": {"basis": basis, "value": value}, "route": "iv-infusion", "days": [1],
            "diluent": "sodium chloride 0.9%", "volume_ml": "250", "rate_or_duration": "over 60 minutes"
        }));
    }
    file["code"] = "BENCH-12".into();
    let text = file.to_string();
    let library =
        regimens::RegimenLibrary::from_files([("BENCH-12.json", text.as_str())]).expect("a valid regimen");
    assert_eq!(library.find("BENCH-12").expect("bench").drugs.len(), 12, "grown from {}", r_chop.code);
    library
}

fn bench(c: &mut Criterion) {
    let cards = tempfile::tempdir().expect("folder");
    // SAFETY: set before the module loads and before any other thread starts.
    unsafe { std::env::set_var("SOFTHSM2_CONF", cards.path().join("softhsm2.conf")) };
    let tokens = SoftHsmTokens::create(cards.path()).expect("tokens");
    let ca = DemoCa::new("Bench CA").expect("CA");
    let now = time::OffsetDateTime::now_utc();
    let card = ca
        .issue(PRESCRIBER, "BENCH, Ben (Dr)", now - time::Duration::days(1), now + time::Duration::days(30))
        .expect("card");
    tokens.add_card("BENCH-CARD", "1234", &card.key_pem, &card.cert_der).expect("card");
    let reader = CardReader::open(std::path::Path::new(SOFTHSM_MODULE)).expect("module");
    let trust = Trust::from_der(ca.cert_der().to_vec()).expect("trust");
    let signer = Card { reader: &reader, trust: &trust };

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let folder = tempfile::tempdir().expect("folder");
    let (store, context) = runtime.block_on(async {
        let store =
            Store::create_with_key(&folder.path().join("bench.db"), StoreKey::generate().expect("key"))
                .await
                .expect("store");
        let context = Context::with_store(store.clone(), settings::Settings::fail_safe(), "bench")
            .expect("context")
            .with_regimens(twelve_drug_library());
        let viewer = token(PRESCRIBER, "R8000", Permission::ViewPatients);
        let patient = patients::NewPatient {
            nhs_number: Some(
                patients::NhsNumber::from_nine_digits([9, 9, 9, 0, 0, 0, 0, 0, 1]).expect("valid"),
            ),
            nhs_number_failing_check: None,
            mrn: None,
            family_name: "Benchmark".into(),
            given_names: "Bella".into(),
            title: None,
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1960, 1, 1).expect("date"),
            sex: patients::Sex::Female,
            address: None,
            postcode: None,
            gp_practice: None,
            deceased_date: None,
        };
        services::patients::add(&context, &viewer, patient).await.expect("patient");
        for (user, role) in [(PRESCRIBER, "R8000"), ("555000000002", "R8003")] {
            let approver = token(user, role, Permission::ManageRegimens);
            services::regimens::approve(&context, &approver, role, "BENCH-12", None, "bench")
                .await
                .expect("approved");
        }
        (store, context)
    });
    let prescriber = token(PRESCRIBER, "R8000", Permission::PrescribeSact);
    let course = NewCourse {
        patient_id: 1,
        regimen_code: "BENCH-12".into(),
        regimen_version: None,
        intent: Intent::Palliative,
        line: 1,
        planned_cycles: 1,
        start_date: Utc::now().date_naive(),
    };
    let measurements = MeasurementsText {
        height_cm: "172.5".into(),
        weight_kg: "81.3".into(),
        sex: Some("female".into()),
        age_years: Some("58".into()),
        creatinine_umol_l: Some("76".into()),
        ..Default::default()
    };
    let mut last_cycle = 0;
    c.bench_function("prescribe_12_drug_cycle_signed_and_committed", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    let course_id =
                        services::sact::start_course(&context, &prescriber, &course).await.expect("course");
                    let new = NewCycle {
                        course_id,
                        number: 1,
                        treatment_date: Utc::now().date_naive(),
                        measurements: measurements.clone(),
                        measured_on: Utc::now().date_naive(),
                        modifications: vec![],
                        stale_measurements_reason: None,
                    };
                    let started = Instant::now();
                    let prescribed = black_box(
                        services::sact::prescribe(&context, &prescriber, &signer, &new)
                            .await
                            .expect("prescribed"),
                    );
                    spent += started.elapsed();
                    last_cycle = prescribed.cycle_id;
                }
                spent
            })
        })
    });

    // Top the store up to 10,000 cycles awaiting verification, then time the pharmacist's queue.
    runtime.block_on(async {
        while last_cycle < 10_000 {
            let course_id =
                services::sact::start_course(&context, &prescriber, &course).await.expect("course");
            let new = NewCycle {
                course_id,
                number: 1,
                treatment_date: Utc::now().date_naive(),
                measurements: measurements.clone(),
                measured_on: Utc::now().date_naive(),
                modifications: vec![],
                stale_measurements_reason: None,
            };
            last_cycle = services::sact::prescribe(&context, &prescriber, &signer, &new)
                .await
                .expect("prescribed")
                .cycle_id;
        }
    });
    let pharmacist = token("555000000002", "R8003", Permission::VerifySact);
    c.bench_function("verification_queue_first_50_of_10000_cycles", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(services::sact::verification_queue(&context, &pharmacist, 50).await.expect("queue"))
        })
    });
    c.bench_function("pharmacy_queue_with_changes_first_50_of_10000_cycles", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                services::sact_lists::verification_queue(&context, &pharmacist, 50).await.expect("queue"),
            )
        })
    });
    let viewer = token(PRESCRIBER, "R8000", Permission::ViewPatients);
    c.bench_function("prescription_pdf_12_drugs_signatures_checked", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(
                services::sact_print::prescription_pdf(
                    &context,
                    &viewer,
                    last_cycle,
                    &trust,
                    "Bench NHS Trust",
                )
                .await
                .expect("pdf"),
            )
        })
    });
    bench_export(c, &runtime, &store, &context, last_cycle);
}

/// A year of administrations: 8,334 given 12-drug cycles (100,008 doses given)
/// over 2026, written straight to the store in batches (seeding, not measured),
/// then the year's SACT return rows, as `cws sact export` makes them.
fn bench_export(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    store: &Store,
    context: &Context,
    template: i64,
) {
    let viewer = token(PRESCRIBER, "R8000", Permission::ViewPatients);
    let actor = viewer.actor().clone();
    runtime.block_on(async {
        let prescribed = services::sact::cycle(context, &viewer, template).await.expect("template").cycle;
        let first_day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let pin = store
            .sact()
            .course(&actor, services::sact::cycle(context, &viewer, template).await.expect("t").course_id)
            .await
            .expect("course");
        let nurse = UserId::parse("555000000003").expect("id");
        let witness = UserId::parse("555000000005").expect("id");
        for batch in 0..(8_334 / 500 + 1) {
            let mut tx = store.begin().await.expect("begun");
            for index in (batch * 500)..((batch + 1) * 500).min(8_334) {
                let day = first_day + chrono::Days::new(index as u64 % 365);
                let mut cycle = prescribed.clone();
                cycle.treatment_date = day;
                cycle.state = sact::CycleState::Administered;
                cycle.administrations = cycle
                    .drugs
                    .iter()
                    .map(|line| sact::Administration {
                        record: sact::AdministrationRecord {
                            drug: line.drug.clone(),
                            day: line.day.clone(),
                            dose_given: line.dose,
                            started: day.and_hms_opt(10, 0, 0).expect("time").and_utc(),
                            stopped: None,
                            batch: "B".into(),
                            expiry: day,
                            administered_by: nurse.clone(),
                            witness: witness.clone(),
                        },
                        unit: line.unit,
                        route: line.route.clone(),
                    })
                    .collect();
                let course = tx.sact().insert_course(&pin).await.expect("course");
                tx.sact().insert_cycle(course, &cycle).await.expect("cycle");
            }
            tx.audit(&actor, store::AuditAction::SactDoseGiven, Some(1), &[], "seeded")
                .await
                .expect("audited");
            tx.commit().await.expect("committed");
        }
    });
    let pharmacy = token("555000000002", "R8003", Permission::ReleaseSact);
    let (from, to) = (
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
    );
    let mut group = c.benchmark_group("sact_return");
    group.sample_size(10);
    group.bench_function("a_years_return_100008_administrations", |b| {
        b.to_async(runtime).iter(|| async {
            let rows = services::sact_return::return_rows(context, &pharmacy, from, to).await.expect("rows");
            assert!(rows.len() >= 100_008, "{} rows", rows.len());
            let mut csv = Vec::with_capacity(32 << 20);
            black_box(sact::write_return(&rows, &mut csv).expect("written"));
            csv
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
