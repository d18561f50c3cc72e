//! Listing a patient's 200 studies from Orthanc on loopback, through the whole
//! of `services::imaging::studies` (the gate, the patient read, QIDO-RS paged
//! a hundred at a time, the tolerant reading and the wrong-patient check, the
//! audit entry naming every study), beside what Orthanc itself takes to answer
//! one QIDO-RS request for all 200. Figures go in docs/PERFORMANCE.md.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use services::{Acting, Context};
use session::{JobRole, Moment, Permission, StaffUser, UserId, Workstation};
use store::{Store, StoreKey};
use test_services::{ORTHANC_PASSWORD, ORTHANC_USER, Orthanc, SyntheticStudy};

fn token(permission: Permission) -> Acting {
    let mut workstation = Workstation::new(Duration::from_secs(3600));
    let now = Moment::new(Instant::now(), SystemTime::now());
    let user = StaffUser {
        user_id: UserId::parse("555000000001").expect("user id"),
        display_name: "BENCH, Ben (Dr)".into(),
        job_title: "Consultant".into(),
        role: JobRole { code: "R8000".into(), name: "R8000".into() },
    };
    workstation.sign_in(user, BTreeSet::from([permission]), now).expect("signed in");
    let check = workstation.require(permission, now).expect("granted");
    Acting::from_session(&check, permission, "bench").expect("token")
}

fn listing(c: &mut Criterion) {
    let pacs = Orthanc::start().expect("Orthanc with DICOMweb (make test installs it)");
    let studies: Vec<SyntheticStudy> = (0..200)
        .map(|n| SyntheticStudy {
            patient_id: "9990000018".into(),
            patient_name: "BENCH^Ben".into(),
            issuer: Some("NHS".into()),
            study_uid: format!("1.2.826.0.1.3680043.10.7.{n}"),
            date: (NaiveDate::from_ymd_opt(2020, 1, 1).expect("date") + chrono::Duration::days(n))
                .format("%Y%m%d")
                .to_string(),
            modality: "CT".into(),
            description: "CT chest".into(),
            accession: format!("B{n}"),
            referring: "ONCOLOGY^Olive^^Dr".into(),
            instances: 1,
        })
        .collect();
    pacs.upload(&studies).expect("uploaded");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let folder = tempfile::tempdir().expect("folder");
    let credentials = folder.path().join("pacs-credentials");
    std::fs::write(&credentials, format!("{ORTHANC_USER}:{ORTHANC_PASSWORD}\n")).expect("written");
    std::fs::set_permissions(&credentials, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("mode");
    let (context, patient_id) = runtime.block_on(async {
        let store =
            Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
                .await
                .expect("store");
        let mut settings = settings::Settings::fail_safe();
        settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
        settings.pacs = Some(settings::PacsSettings {
            qido_url: pacs.dicomweb_root(),
            issuer_of_patient_id: Some("NHS".into()),
            hospital_number_issuer: None,
            timeout: Duration::from_secs(5),
            ca: None,
            credentials_file: Some(credentials.clone()),
            page_size: std::env::var("PAGE").ok().and_then(|p| p.parse().ok()).unwrap_or(100),
            viewers: Vec::new(),
            open_command: None,
            token_command: None,
        });
        let context = Context::with_store(store, settings, "bench").expect("context");
        let patient = patients::NewPatient {
            nhs_number: Some(
                patients::NhsNumber::from_nine_digits([9, 9, 9, 0, 0, 0, 0, 0, 1]).expect("valid"),
            ),
            nhs_number_failing_check: None,
            mrn: None,
            family_name: "Bench".into(),
            given_names: "Ben".into(),
            title: None,
            date_of_birth: NaiveDate::from_ymd_opt(1960, 5, 5).expect("date"),
            sex: patients::Sex::Male,
            address: None,
            postcode: None,
            gp_practice: None,
            deceased_date: None,
        };
        let viewer = token(Permission::ViewPatients);
        let id = services::patients::add(&context, &viewer, patient).await.expect("patient").id;
        services::relationships::add_to_list(&context, &viewer, id, "benchmark").await.expect("listed");
        (context, id)
    });
    let images = token(Permission::ViewImages);
    let listed =
        runtime.block_on(services::imaging::studies(&context, &images, patient_id, None)).expect("listed");
    assert_eq!(listed.studies.len(), 200);

    let mut group = c.benchmark_group("imaging");
    group.bench_function("list 200 studies (services::imaging::studies, pages of 100, audited)", |b| {
        b.iter(|| {
            runtime.block_on(services::imaging::studies(&context, &images, patient_id, None)).expect("listed")
        })
    });
    // Orthanc alone: one QIDO-RS request for all 200, the same fields, read to the end.
    let client = reqwest::Client::new();
    let url = format!(
        "{}/studies?PatientID=9990000018&IssuerOfPatientID=NHS&includefield=00081030&includefield=00100021&includefield=00201206&includefield=00201208&includefield=00080061&includefield=00080090&limit=200",
        pacs.dicomweb_root()
    );
    group.bench_function("Orthanc alone: one QIDO-RS request for 200 studies", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let body = client
                    .get(&url)
                    .basic_auth(ORTHANC_USER, Some(ORTHANC_PASSWORD))
                    .send()
                    .await
                    .expect("sent")
                    .bytes()
                    .await
                    .expect("body");
                black_box(body.len())
            })
        })
    });
    group.finish();
    runtime.block_on(context.close());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(10));
    targets = listing
}
criterion_main!(benches);
