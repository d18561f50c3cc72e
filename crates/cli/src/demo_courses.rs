//! `cws demo courses`: puts four demonstration patients mid-course, so
//! `make run` shows the SACT screens at work. Every act goes through the same
//! services as a real one, signed with the demonstration cards (whose PINs are
//! published) and audited; only a demonstration store takes them.
//! - patient 1: R-CHOP-21 cycle 1 given three weeks ago, cycle 2 awaiting verification;
//! - patient 2: R-CHOP-21 cycle 1 released for today (on the nurses' list);
//! - patient 3: doxorubicin given at the regional cancer centre (received as a
//!   signed transfer), and AC cycle 1 awaiting verification, near the lifetime limit;
//! - patient 4: R-CHOP-21 cycle 1 given three weeks ago, cycle 2 due today and not yet prescribed.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Days, NaiveDate, Utc};
use dosing::course::MeasurementsText;
use identity::{CardReader, Trust};
use rust_decimal::Decimal;
use sact::{AdministrationRecord, Intent, TimedResult, VerificationScope};
use services::sact::{ActSigner, NewCourse, NewCycle, ReleaseRequest, Signing};
use services::{Acting, Context, ServiceError, StoreLocation};
use session::{Permission, RolePermissions};
use store::AuditAction;
use zeroize::Zeroizing;

use crate::{Failure, block_on, with_context};

/// Says so wherever an approval is shown: these are not clinical approvals.
const APPROVAL_NOTE: &str =
    "demonstration approval by the demonstration staff (cws demo courses); not a clinical approval";
const REGIONAL_CENTRE: &str = "RXX99";

/// One demonstration card, logged in afresh for each act it signs.
struct DemoCard<'r> {
    reader: &'r CardReader,
    trust: &'r Trust,
    label: &'static str,
    pin: Zeroizing<String>,
}

impl ActSigner for DemoCard<'_> {
    fn sign(&self, bytes: &[u8]) -> Result<identity::DocumentSignature, ServiceError> {
        self.reader
            .sign_document(self.label, &self.pin, self.trust, time::OffsetDateTime::now_utc(), bytes)
            .map_err(|e| ServiceError::Invalid { field: "card", reason: e.to_string() })
    }
}

/// A demonstration person: their card, and the holder it proves.
struct Person<'r> {
    card: DemoCard<'r>,
    holder: access::CardHolder,
}

impl Person<'_> {
    fn acting(&self, context: &Context, permission: Permission) -> Result<Acting, Failure> {
        Ok(services::cards::acting_for(context, &self.holder, permission)?)
    }
}

async fn person<'r>(
    context: &Context,
    reader: &'r CardReader,
    trust: &'r Trust,
    roles: &RolePermissions,
    label: &'static str,
) -> Result<Person<'r>, Failure> {
    let (_, pin, _, _) = crate::card::DEMO_CARDS
        .iter()
        .find(|(l, ..)| *l == label)
        .ok_or_else(|| Failure::Input(format!("card: {label} is not a demonstration card")))?;
    let pin = Zeroizing::new((*pin).to_owned());
    let login = reader.login(label, &pin, trust, time::OffsetDateTime::now_utc());
    let (_, holder) =
        services::cards::prove_card_holder(context, label, login, roles, None, AuditAction::SessionLogin)
            .await
            .map_err(|refusal| Failure::Input(format!("card: {label} was refused: {refusal:?}")))?;
    Ok(Person { card: DemoCard { reader, trust, label, pin }, holder })
}

/// With --json, the demonstration patients' synthetic NHS numbers (999 range) by
/// what they show, so a test or a trainer can open each.
fn report(json: bool, message: &str, added: usize, patients: serde_json::Value) -> Result<(), Failure> {
    match json {
        true => crate::output::json(&serde_json::json!({ "courses_added": added, "patients": patients }))?,
        false => println!("{message}"),
    }
    Ok(())
}

pub fn seed(cards_folder: &Path, location: StoreLocation, json: bool) -> Result<(), Failure> {
    // The cards are SoftHSM2 tokens, found through SOFTHSM2_CONF, which must name this folder's.
    let config = cards_folder.join("softhsm2.conf");
    if std::env::var_os("SOFTHSM2_CONF").map(std::path::PathBuf::from) != Some(config.clone()) {
        return Err(Failure::Input(format!(
            "cards: set SOFTHSM2_CONF={} so the demonstration cards are found",
            config.display()
        )));
    }
    let trust = Trust::from_files(&cards_folder.join("demo-ca.pem"), None)?;
    let reader = CardReader::open(Path::new(demo_cards::SOFTHSM_MODULE))?;
    block_on(with_context(&location, async |context| {
        services::demo::require_demonstration_store(context, "demonstration courses").await?;
        if services::regimens::approval_state(
            context,
            &services::regimens::version(context, "R-CHOP-21", None).await?,
        )
        .await?
        .approved
        {
            return report(json, "The demonstration courses are already there.", 0, serde_json::Value::Null);
        }
        // Only here, on a demonstration store: its consultant and pharmacist may approve regimens.
        let roles = RolePermissions::site_default()
            .granting("R8000", Permission::ManageRegimens)
            .granting("R8003", Permission::ManageRegimens);
        let consultant = person(context, &reader, &trust, &roles, "DEMO-PRESCRIBER").await?;
        let pharmacist = person(context, &reader, &trust, &roles, "DEMO-PHARMACIST").await?;
        let nurse = person(context, &reader, &trust, &roles, "DEMO-NURSE").await?;
        let second_nurse = person(context, &reader, &trust, &roles, "DEMO-SECOND-NURSE").await?;
        let seed_regimens: Vec<String> = context.regimens().all().iter().map(|r| r.code.clone()).collect();
        for code in &seed_regimens {
            for approver in [&consultant, &pharmacist] {
                let acting = approver.acting(context, Permission::ManageRegimens)?;
                let role = approver.holder.user().role.code.clone();
                services::regimens::approve(context, &acting, &role, code, None, APPROVAL_NOTE).await?;
            }
        }
        let today = Utc::now().date_naive();
        let people =
            People { consultant: &consultant, pharmacist: &pharmacist, nurse: &nurse, second: &second_nurse };
        // Patient 1: cycle 1 given three weeks ago; cycle 2 awaits verification.
        let three_weeks_ago = days_before(today, 21)?;
        let first = people.start(context, 1, "R-CHOP-21", three_weeks_ago).await?;
        let cycle = people.prescribe(context, first, 1, three_weeks_ago, "72").await?;
        people.verify_and_release(context, cycle).await?;
        people.give_every_drug(context, 1, cycle, three_weeks_ago).await?;
        people.prescribe(context, first, 2, today, "70.5").await?;
        // Patient 4: cycle 1 given three weeks ago; cycle 2 is due today and not yet prescribed.
        let fourth = people.start(context, 4, "R-CHOP-21", three_weeks_ago).await?;
        let cycle = people.prescribe(context, fourth, 1, three_weeks_ago, "77").await?;
        people.verify_and_release(context, cycle).await?;
        people.give_every_drug(context, 4, cycle, three_weeks_ago).await?;
        // Patient 2: released for today.
        let second = people.start(context, 2, "R-CHOP-21", today).await?;
        let cycle = people.prescribe(context, second, 1, today, "81").await?;
        people.verify_and_release(context, cycle).await?;
        // Patient 3: anthracycline given at the regional centre, then AC here, its
        // doxorubicin reduced to stay under the lifetime limit.
        people.receive_regional_doxorubicin(context, 3, today).await?;
        let third = people.start(context, 3, "AC", today).await?;
        let reduced = dosing::course::DrugModification {
            drug: "doxorubicin".into(),
            modification: dosing::pipeline::Modification {
                percent: Decimal::from(75),
                reason: "cumulative anthracycline near the lifetime limit (regional centre doses)".into(),
            },
        };
        people.prescribe_modified(context, third, 1, today, "64", vec![reduced]).await?;
        let viewer = consultant.acting(context, Permission::ViewPatients)?;
        let mut shown = serde_json::Map::new();
        for (id, what) in [
            (1, "awaiting_verification"),
            (2, "released_today"),
            (3, "near_lifetime_limit"),
            (4, "cycle_2_due"),
        ] {
            let record = services::patients::open(context, &viewer, id).await?;
            shown.insert(what.into(), record.details.nhs_number.map(|n| n.digits()).into());
        }
        report(
            json,
            "Approved the seed regimens (demonstration approvals, said so in each) and put four demonstration patients mid-course.",
            4,
            shown.into(),
        )
    }))
}

struct People<'a, 'r> {
    consultant: &'a Person<'r>,
    pharmacist: &'a Person<'r>,
    nurse: &'a Person<'r>,
    second: &'a Person<'r>,
}

fn days_before(day: NaiveDate, days: u64) -> Result<NaiveDate, Failure> {
    day.checked_sub_days(Days::new(days)).ok_or_else(|| Failure::Input("date: out of range".into()))
}

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, 0, 0).unwrap_or_default().and_utc()
}

impl People<'_, '_> {
    async fn start(
        &self,
        context: &Context,
        patient_id: i64,
        regimen: &str,
        start: NaiveDate,
    ) -> Result<i64, Failure> {
        let acting = self.consultant.acting(context, Permission::PrescribeSact)?;
        let new = NewCourse {
            patient_id,
            regimen_code: regimen.into(),
            regimen_version: None,
            intent: Intent::Curative,
            line: 1,
            planned_cycles: context.regimens().find(regimen)?.cycles,
            start_date: start,
        };
        Ok(services::sact::start_course(context, &acting, &new).await?)
    }

    async fn prescribe(
        &self,
        context: &Context,
        course_id: i64,
        number: u32,
        day: NaiveDate,
        weight_kg: &str,
    ) -> Result<i64, Failure> {
        self.prescribe_modified(context, course_id, number, day, weight_kg, Vec::new()).await
    }

    async fn prescribe_modified(
        &self,
        context: &Context,
        course_id: i64,
        number: u32,
        day: NaiveDate,
        weight_kg: &str,
        modifications: Vec<dosing::course::DrugModification>,
    ) -> Result<i64, Failure> {
        let acting = self.consultant.acting(context, Permission::PrescribeSact)?;
        let new = NewCycle {
            course_id,
            number,
            treatment_date: day,
            measurements: MeasurementsText {
                height_cm: "168".into(),
                weight_kg: weight_kg.into(),
                ..MeasurementsText::default()
            },
            measured_on: days_before(day, 1)?,
            modifications,
            stale_measurements_reason: None,
        };
        Ok(services::sact::prescribe(context, &acting, &self.consultant.card, &new).await?.cycle_id)
    }

    async fn verify_and_release(&self, context: &Context, cycle_id: i64) -> Result<(), Failure> {
        let verifying = self.pharmacist.acting(context, Permission::VerifySact)?;
        let role = self.pharmacist.holder.user().role.code.clone();
        let scope = VerificationScope::site_default();
        let verified =
            services::sact::verify(context, &verifying, &self.pharmacist.card, &role, &scope, cycle_id)
                .await?;
        let course = services::sact_lists::patient_courses(
            context,
            &self.pharmacist.acting(context, Permission::ViewPatients)?,
            verified.patient_id,
        )
        .await?;
        let regimen = course
            .iter()
            .find(|c| c.id == verified.course_id)
            .map(|c| c.course.regimen.code.clone())
            .unwrap_or_default();
        let day = verified.cycle.treatment_date;
        // A result in the middle of each of the regimen's limits, taken the day before.
        let results: BTreeMap<String, TimedResult> = context
            .regimens()
            .find(&regimen)?
            .pre_treatment_limits
            .iter()
            .map(|limit| {
                let value = match (limit.minimum, limit.maximum) {
                    (Some(low), Some(high)) => (low + high) / Decimal::TWO,
                    (Some(low), None) => low * Decimal::TWO,
                    (None, Some(high)) => high / Decimal::TWO,
                    (None, None) => Decimal::ONE,
                };
                (
                    limit.test.clone(),
                    TimedResult {
                        value,
                        taken_at: at(days_before(day, 1).unwrap_or(day), 10),
                        source: sact::ResultSource::Typed {
                            reason: "demonstration data (cws demo courses)".into(),
                        },
                    },
                )
            })
            .collect();
        let weight = verified
            .cycle
            .measurements
            .as_ref()
            .and_then(|m| m.entered.weight_kg.parse().ok())
            .unwrap_or(Decimal::ONE);
        let request = ReleaseRequest {
            cycle_id,
            results,
            current_weight_kg: weight,
            dosing_weight_kg: weight,
            overrides: Vec::new(),
        };
        let releasing = self.pharmacist.acting(context, Permission::ReleaseSact)?;
        services::sact::release(context, &releasing, &self.pharmacist.card, &request).await?;
        Ok(())
    }

    async fn give_every_drug(
        &self,
        context: &Context,
        patient_id: i64,
        cycle_id: i64,
        day: NaiveDate,
    ) -> Result<(), Failure> {
        let nurse = self.nurse.acting(context, Permission::AdministerSact)?;
        let second = self.second.acting(context, Permission::AdministerSact)?;
        let viewer = self.nurse.acting(context, Permission::ViewPatients)?;
        let stored = services::sact_lists::patient_courses(context, &viewer, patient_id).await?;
        let lines: Vec<sact::PrescribedDrug> = stored
            .iter()
            .flat_map(|c| &c.cycles)
            .find(|c| c.id == cycle_id)
            .map(|c| c.cycle.drugs.clone())
            .unwrap_or_default();
        let site = crate::site_settings()?.site_ods_code.clone().unwrap_or_else(|| "RXX01".into());
        for (index, line) in lines.iter().enumerate() {
            let started = at(day, 9 + u32::try_from(index).unwrap_or(0));
            let record = AdministrationRecord {
                drug: line.drug.clone(),
                day: line.day.clone(),
                dose_given: line.dose,
                started,
                stopped: Some(started + chrono::Duration::minutes(45)),
                batch: format!("DEMO-{index:03}"),
                expiry: day.checked_add_days(Days::new(180)).unwrap_or(day),
                administered_by: session::UserId::parse(&nurse.actor().user).expect("a card holder's id"),
                witness: session::UserId::parse(&second.actor().user).expect("a card holder's id"),
            };
            let giver = Signing { acting: &nurse, card: &self.nurse.card };
            let witness = Signing { acting: &second, card: &self.second.card };
            services::sact::administer(context, giver, witness, cycle_id, record, &site).await?;
        }
        Ok(())
    }

    /// Six doses of doxorubicin at 65 mg/m² (390 of 450 mg/m²) given at the
    /// regional centre, received as a transfer signed by the consultant's card.
    async fn receive_regional_doxorubicin(
        &self,
        context: &Context,
        patient_id: i64,
        today: NaiveDate,
    ) -> Result<(), Failure> {
        let viewer = self.consultant.acting(context, Permission::ViewPatients)?;
        let details = services::patients::open(context, &viewer, patient_id).await?.details;
        let bsa = Decimal::new(18, 1);
        let per_m2 = Decimal::from(65);
        let mut doses = Vec::new();
        for cycle in 0..6u64 {
            let day = days_before(today, 220 - 21 * cycle)?;
            doses.push(sact::TransferredDose {
                drug: "doxorubicin".into(),
                dose: per_m2 * bsa,
                unit: "mg".into(),
                dose_per_m2: Some(per_m2),
                given_at: at(day, 10),
                site: REGIONAL_CENTRE.into(),
            });
        }
        let pin = sact::RegimenPin {
            code: "AC".into(),
            version: "regional".into(),
            content_sha256: "0".repeat(64),
            policy_version: "regional".into(),
            banding_version: "regional".into(),
        };
        let consultant = session::UserId::parse(&viewer.actor().user).expect("a card holder's id");
        let course =
            sact::Course::new(patient_id, pin, Intent::Curative, 1, consultant, 6, days_before(today, 200)?)
                .map_err(ServiceError::from)?;
        let record = sact::TransferRecord {
            schema: sact::TRANSFER_SCHEMA.into(),
            from_site: REGIONAL_CENTRE.into(),
            patient: sact::TransferPatient {
                nhs_number: details.nhs_number.map(|n| n.digits()).unwrap_or_default(),
                family_name: details.family_name.clone(),
                given_names: details.given_names.clone(),
                date_of_birth: details.date_of_birth,
            },
            course,
            cycles: Vec::new(),
            doses_given: doses,
            sent_at: Utc::now(),
        };
        let signature = self.consultant.card.sign(&record.signing_bytes())?;
        let file = services::sact_transfer::TransferFile { record, signature };
        let bytes = serde_json::to_vec(&file).map_err(|e| Failure::Other(e.into()))?;
        let receiving = self.consultant.acting(context, Permission::PrescribeSact)?;
        services::sact_transfer::transfer_in(
            context,
            &receiving,
            &viewer,
            &bytes,
            self.consultant.card.trust,
        )
        .await?;
        Ok(())
    }
}
