//! A workstation with a doctor's SoftHSM2 card, an enrolled doctor, and a
//! patient registered with GP practice A81001: what the discharge tests sign
//! and send from. The cards are made once per test binary, which must set
//! SOFTHSM2_CONF through this alone.

use demo_cards::{DemoCa, SOFTHSM_MODULE, SoftHsmTokens};
use identity::{CardReader, Trust};
use services::Context;
use session::Permission;
use store::{Store, StoreKey};

use super::{Card, acting_as};

pub const DOCTOR: &str = "555000000004";
pub const OTHER: &str = "555000000001";

pub struct DischargeSite {
    pub store_folder: tempfile::TempDir,
    pub key: StoreKey,
    pub reader: &'static CardReader,
    pub trust: Trust,
    pub patient_id: i64,
}

/// The cards, made once per test binary: a PKCS#11 module initialises once a process.
struct Cards {
    _folder: tempfile::TempDir,
    reader: CardReader,
    ca_der: Vec<u8>,
}

static CARDS: std::sync::OnceLock<Cards> = std::sync::OnceLock::new();

fn cards() -> &'static Cards {
    CARDS.get_or_init(|| {
        let folder = tempfile::tempdir().expect("folder");
        // SAFETY: set once, under the OnceLock, before the module is loaded.
        unsafe { std::env::set_var("SOFTHSM2_CONF", folder.path().join("softhsm2.conf")) };
        let tokens = SoftHsmTokens::create(folder.path()).expect("tokens");
        let ca = DemoCa::new("Test Trust Issuing CA").expect("CA");
        let now = time::OffsetDateTime::now_utc();
        for (label, user) in [("DOCTOR", DOCTOR), ("OTHER", OTHER)] {
            let card = ca
                .issue(
                    user,
                    "TESTER, Tess (Ms)",
                    now - time::Duration::days(1),
                    now + time::Duration::days(30),
                )
                .expect("card");
            tokens.add_card(label, "1234", &card.key_pem, &card.cert_der).expect("card written");
        }
        let reader = CardReader::open(std::path::Path::new(SOFTHSM_MODULE)).expect("module");
        Cards { _folder: folder, reader, ca_der: ca.cert_der().to_vec() }
    })
}

/// QUILLFEATHER, Ada, 999 000 0018, registered with practice A81001.
pub fn registered_with_a81001() -> patients::NewPatient {
    patients::NewPatient {
        gp_practice: Some(patients::GpPractice { ods_code: "A81001".into(), name: None }),
        ..super::quillfeather_ada()
    }
}

impl DischargeSite {
    /// Cards DOCTOR and OTHER (PIN 1234), a store, the doctor enrolled and the
    /// patient added; the context runs with `settings`.
    pub async fn new(settings: settings::Settings) -> (Self, Context) {
        let cards = cards();
        let reader = &cards.reader;
        let trust = Trust::from_der(cards.ca_der.clone()).expect("trust");
        let store_folder = tempfile::tempdir().expect("folder");
        let key = StoreKey::generate().expect("key");
        let store =
            Store::create_with_key(&store_folder.path().join("store.db"), key.clone()).await.expect("store");
        let context = Context::with_store(store, settings, "ws1").expect("context");
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
        services::users::enrol(&context, &acting_as("555000000090", Permission::ManageUsers), &doctor)
            .await
            .expect("enrolled");
        let patient = registered_with_a81001();
        let patient_id =
            services::patients::add(&context, &acting_as(DOCTOR, Permission::ViewPatients), patient)
                .await
                .expect("patient")
                .id;
        (Self { store_folder, key, reader, trust, patient_id }, context)
    }

    /// An admission and a discharge from the PAS (HL7 v2 ADT), at times `YYYYMMDDHHMM`;
    /// a patient the feed does not know yet is registered by it.
    pub async fn admitted_and_discharged(
        context: &Context,
        nhs_number: &str,
        name: &str,
        admitted: &str,
        discharged: &str,
    ) {
        let feed = services::interface::FeedToken::for_account(
            context,
            &store::Actor { user: "site-it".into(), workstation: "ws1".into() },
        )
        .expect("feed");
        for (event, at) in [("A01", admitted), ("A03", discharged)] {
            let message = format!(
                "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|{at}||ADT^{event}|{nhs_number}{event}|P|2.4\rEVN|{event}|{at}\r\
                 PID|||{nhs_number}^^^NHS^NH||{name}||19600505|F\rPV1||I|WARD9^BAY1^BED2"
            );
            let reply = services::interface::receive(context, &feed, &message).await;
            assert_eq!(reply.outcome.code(), "AA", "{event}: {:?}", reply.acknowledgements);
        }
    }

    pub fn card(&self, label: &'static str) -> Card<'_> {
        Card { reader: self.reader, label, trust: &self.trust }
    }

    /// The settings a test starts from: the test range of NHS numbers, and a named trust.
    pub fn settings() -> settings::Settings {
        let mut settings = settings::Settings::fail_safe();
        settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
        settings.site_name = "Example Hospitals NHS Trust".into();
        settings.site_ods_code = Some("RX1".into());
        settings
    }

    /// A complete general-medicine summary's content for the draft.
    pub fn complete(draft: &discharge::DischargeSummary) -> discharge::DischargeSummary {
        let mut summary = draft.clone();
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
        summary
    }

    /// Drafts, completes and signs a summary with the doctor's card; its id.
    pub async fn signed_summary(&self, context: &Context) -> i64 {
        self.signed_summary_to(context, None).await
    }

    /// As `signed_summary`, with the GP practice the doctor records, where
    /// it is not the registered one (A81001).
    pub async fn signed_summary_to(&self, context: &Context, gp_practice: Option<&str>) -> i64 {
        let author = acting_as(DOCTOR, Permission::AuthorDischarge);
        let draft = services::discharge::start(context, &author, self.patient_id, "General medicine")
            .await
            .expect("draft");
        let mut content = Self::complete(&draft.summary);
        if let Some(practice) = gp_practice {
            content.gp_practice = Some(practice.to_owned());
        }
        let read_at = services::discharge::save(context, &author, draft.id, draft.row_version, &content)
            .await
            .expect("saved");
        services::discharge::sign(
            context,
            &acting_as(DOCTOR, Permission::SignDischarge),
            draft.id,
            read_at,
            &self.card("DOCTOR"),
        )
        .await
        .expect("signed");
        draft.id
    }
}
