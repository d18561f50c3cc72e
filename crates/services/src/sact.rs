//! SACT workflows: start a course, prescribe a cycle (the engine's doses,
//! pinned), verify, release and record administration. Each takes the token
//! for its own permission, applies the `sact` crate's rules, and writes the
//! cycle from the version it read, audited in the same transaction.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use dosing::course::{CourseDoses, CourseOptions, DrugModification, MeasurementsText};
use rust_decimal::Decimal;
use sact::{
    AdministrationRecord, Course, Cycle, Intent, LifetimeDose, Override, PrescribedDrug, RegimenPin,
    ReleaseEvidence, ReleasePolicy, SactRefusal, TimedResult, VerificationScope, Verifier,
};
use session::{Permission, UserId};
use store::{AuditAction, DoseGiven, RecordRef, StoredCycle};

use crate::{Acting, Context, ServiceError};

/// Signs an act's bytes with the acting person's card (their PIN entered for
/// this act). The app and `cws` each provide one over `identity::CardReader`.
pub trait ActSigner: Sync {
    fn sign(&self, bytes: &[u8]) -> Result<identity::DocumentSignature, ServiceError>;
}

/// Checks every signature on a cycle against the trusted CA, naming the first
/// act whose signature does not hold (a changed record, or an untrusted card).
pub fn verify_signatures(cycle: &Cycle, trust: &identity::Trust) -> Result<(), ServiceError> {
    for earlier in &cycle.earlier_versions {
        verify_version_signatures(&cycle.as_earlier_version(earlier), trust)?;
    }
    verify_version_signatures(cycle, trust)
}

/// The signatures made on one prescription version, each against what it covers.
fn verify_version_signatures(cycle: &Cycle, trust: &identity::Trust) -> Result<(), ServiceError> {
    for signed in &cycle.signatures {
        let refused = |why: String| ServiceError::Refused {
            rule: "signature",
            reason: format!("the signature of \"{}\" does not hold: {why}", signed.act),
        };
        let algorithm = match signed.algorithm.as_str() {
            "rsa-pkcs1-sha256" => identity::SignatureAlgorithm::RsaPkcs1Sha256,
            "ecdsa-p256-sha256" => identity::SignatureAlgorithm::EcdsaP256Sha256,
            other => return Err(refused(format!("unknown scheme {other}"))),
        };
        let signed_at = time::OffsetDateTime::from_unix_timestamp(signed.signed_at.timestamp())
            .map_err(|e| refused(e.to_string()))?;
        let signature = identity::DocumentSignature {
            algorithm,
            signature: signed.signature.clone(),
            certificate: signed.certificate_der.clone(),
            signed_at,
            user_id: signed.signer.as_str().to_owned(),
        };
        identity::verify_document(&cycle.signing_bytes(&signed.act), &signature, trust)
            .map_err(|e| refused(e.to_string()))?;
    }
    Ok(())
}

/// A person acting, with the card that signs for them.
#[derive(Clone, Copy)]
pub struct Signing<'a> {
    pub acting: &'a Acting,
    pub card: &'a dyn ActSigner,
}

/// Signs `act` on the cycle as it now stands, with `signer`, which must be the card of `actor`.
fn sign_act(
    cycle: &mut Cycle,
    act: &str,
    signer: &dyn ActSigner,
    actor: &store::Actor,
) -> Result<(), ServiceError> {
    let bytes = cycle.signing_bytes(act);
    let signature = signer.sign(&bytes)?;
    let signer_id = UserId::parse(&signature.user_id).ok_or(ServiceError::Invalid {
        field: "card",
        reason: "the signing card carries no NHS user id".into(),
    })?;
    let signed_at = chrono::DateTime::<chrono::Utc>::from_timestamp(
        signature.signed_at.unix_timestamp(),
        signature.signed_at.nanosecond(),
    )
    .unwrap_or_else(chrono::Utc::now);
    let algorithm = match signature.algorithm {
        identity::SignatureAlgorithm::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
        identity::SignatureAlgorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
    };
    let signed = sact::SignedAct {
        act: act.to_owned(),
        signer: signer_id,
        signed_at,
        algorithm: algorithm.to_owned(),
        signature: signature.signature,
        certificate_der: signature.certificate,
    };
    cycle.add_signature(signed, &user_id(actor)?)?;
    Ok(())
}

impl From<SactRefusal> for ServiceError {
    fn from(refusal: SactRefusal) -> Self {
        Self::Refused { rule: refusal.rule, reason: refusal.message }
    }
}

impl From<dosing::DoseError> for ServiceError {
    fn from(error: dosing::DoseError) -> Self {
        Self::Invalid { field: "dose", reason: error.to_string() }
    }
}

/// What a course starts from.
#[derive(Debug, Clone)]
pub struct NewCourse {
    pub patient_id: i64,
    pub regimen_code: String,
    /// The version to pin; the library's current one where none is given.
    pub regimen_version: Option<String>,
    pub intent: Intent,
    pub line: u32,
    pub planned_cycles: u32,
    pub start_date: NaiveDate,
}

/// Starts a course under the prescriber's name, pinned to the regimen version,
/// its content hash, and the site policy and banding tables in force.
pub async fn start_course(context: &Context, acting: &Acting, new: &NewCourse) -> Result<i64, ServiceError> {
    let actor = acting.requires(Permission::PrescribeSact)?;
    let regimen =
        crate::regimens::version(context, &new.regimen_code, new.regimen_version.as_deref()).await?;
    // The file's own status says whether its author has withdrawn a version;
    // whether this site may prescribe it is the local approval, in the store.
    if regimen.status == regimens::RegimenStatus::Withdrawn
        || !crate::regimens::approval_state(context, &regimen).await?.approved
    {
        return Err(SactRefusal::new(
            "regimen_not_approved",
            format!(
                "{} v{} is not approved here (a consultant and a pharmacist approve each version), so it may be calculated but not prescribed",
                regimen.code, regimen.version
            ),
        )
        .into());
    }
    let pin = RegimenPin {
        code: regimen.code.clone(),
        version: regimen.version.clone(),
        content_sha256: regimen.content_sha256.clone(),
        policy_version: context.site_policy().version.clone(),
        banding_version: context.site_policy().banding_version(),
    };
    let consultant = user_id(actor)?;
    let course = Course::new(
        new.patient_id,
        pin,
        new.intent,
        new.line,
        consultant,
        new.planned_cycles,
        new.start_date,
    )?;
    let mut tx = context.store().begin().await?;
    let id = tx.sact().insert_course(&course).await?;
    let records = [RecordRef::Course(id), RecordRef::Patient(new.patient_id)];
    tx.audit(actor, AuditAction::SactCourseStart, Some(new.patient_id), &records, "ok").await?;
    tx.commit().await?;
    Ok(id)
}

/// What a cycle is prescribed from: the measurements as typed, each dated by the caller.
#[derive(Debug, Clone)]
pub struct NewCycle {
    pub course_id: i64,
    pub number: u32,
    pub treatment_date: NaiveDate,
    pub measurements: MeasurementsText,
    /// The day the measurements were taken.
    pub measured_on: NaiveDate,
    pub modifications: Vec<DrugModification>,
    /// The prescriber's answer to measurements older than the site allows.
    pub stale_measurements_reason: Option<String>,
}

/// A prescribed cycle and the engine's doses, with every derivation.
#[derive(Debug, Clone)]
pub struct PrescribedCycle {
    pub cycle_id: i64,
    pub doses: CourseDoses,
}

/// Prescribes a cycle: the engine calculates from the pinned regimen version
/// (refused if the library's content no longer matches the pin), the lifetime
/// doses already given (never typed), and the measurements; a block stops it.
pub async fn prescribe(
    context: &Context,
    acting: &Acting,
    signer: &dyn ActSigner,
    new: &NewCycle,
) -> Result<PrescribedCycle, ServiceError> {
    let actor = acting.requires(Permission::PrescribeSact)?;
    let store = context.store();
    let course = store.sact().course(actor, new.course_id).await?;
    course.check_cycle_number(new.number)?;
    let prescription = calculate(context, actor, &course, new).await?;
    let mut cycle = Cycle::prescribe(new.number, new.treatment_date, user_id(actor)?, prescription.drugs)?;
    cycle.bsa_m2 = prescription.bsa_m2;
    cycle.measurements = prescription.measurements;
    cycle.calculation = prescription.calculation;
    cycle.modifications = prescription.modifications;
    sign_act(&mut cycle, "prescribed v1", signer, actor)?;
    let mut tx = store.begin().await?;
    let cycle_id = tx.sact().insert_cycle(new.course_id, &cycle).await?;
    let records = [RecordRef::Cycle(cycle_id), RecordRef::Course(new.course_id)];
    tx.audit(actor, AuditAction::SactPrescribe, Some(course.patient_id), &records, "ok").await?;
    tx.commit().await?;
    Ok(PrescribedCycle { cycle_id, doses: prescription.doses })
}

/// The doses a cycle would be prescribed at, every one with its derivation and
/// the warnings, calculated exactly as `prescribe` will (the pinned version,
/// the lifetime doses given, the measurements' age answered), without writing
/// or signing anything: what the prescriber reads before signing.
pub async fn preview(
    context: &Context,
    acting: &Acting,
    new: &NewCycle,
) -> Result<CourseDoses, ServiceError> {
    let actor = acting.requires(Permission::PrescribeSact)?;
    let course = context.store().sact().course(actor, new.course_id).await?;
    course.check_cycle_number(new.number)?;
    Ok(calculate(context, actor, &course, new).await?.doses)
}

/// A prescription as the engine calculates it, with everything kept beside it.
struct Calculated {
    doses: CourseDoses,
    drugs: Vec<PrescribedDrug>,
    bsa_m2: Option<Decimal>,
    measurements: Option<sact::RecordedMeasurements>,
    calculation: Option<serde_json::Value>,
    modifications: Vec<DrugModification>,
}

/// The engine's doses for a cycle of `course`: from the pinned regimen version
/// (refused if the library's content no longer matches the pin), the lifetime
/// doses already given (never typed), and the measurements, answered if stale.
/// A block stops it.
async fn calculate(
    context: &Context,
    actor: &store::Actor,
    course: &Course,
    new: &NewCycle,
) -> Result<Calculated, ServiceError> {
    let regimen = &pinned_regimen(context, &course.regimen).await?;
    let stale_because = answer_measurement_age(context, new)?;
    let measurements = new.measurements.parse()?;
    let totals = context.store().sact().lifetime_totals(actor, course.patient_id).await?;
    let options = CourseOptions {
        modifications: new.modifications.clone(),
        results: BTreeMap::new(),
        prior_cumulative: prior_lifetime_doses(context, regimen, &totals),
    };
    // The course was started only on a version this site approved, and the pin
    // proves it is that version: the engine is told so, not the file's draft status.
    let mut plan = regimen.plan();
    plan.status = dosing::course::PlanStatus::Approved;
    let doses = dosing::course::calculate_course(&plan, &measurements, &options, context.site_policy())?;
    if let Some(block) = doses.warnings.iter().find(|w| w.severity == dosing::checks::Severity::Block) {
        return Err(ServiceError::Refused { rule: "prescribing_blocked", reason: block.message.clone() });
    }
    let calculation = serde_json::to_value(&doses)
        .map_err(|e| ServiceError::Invalid { field: "dose", reason: e.to_string() })?;
    Ok(Calculated {
        drugs: prescribed_lines(regimen, &doses),
        bsa_m2: Some(doses.bsa_m2.value()),
        measurements: Some(sact::RecordedMeasurements {
            entered: new.measurements.clone(),
            taken_on: new.measured_on,
            stale_because,
        }),
        calculation: Some(calculation),
        modifications: new.modifications.clone(),
        doses,
    })
}

/// The prescriber's new version of a cycle not yet given: recalculated from new
/// measurements or modifications, with the reason; it goes back to verification
/// and the version it replaces is kept with its signatures (prescribe_sact).
pub async fn amend(
    context: &Context,
    acting: &Acting,
    signer: &dyn ActSigner,
    cycle_id: i64,
    new: &NewCycle,
    reason: &str,
) -> Result<PrescribedCycle, ServiceError> {
    let actor = acting.requires(Permission::PrescribeSact)?;
    let store = context.store();
    let stored = store.sact().cycle(actor, cycle_id).await?;
    let course = store.sact().course(actor, stored.course_id).await?;
    let new = NewCycle {
        course_id: stored.course_id,
        number: stored.cycle.number,
        treatment_date: stored.cycle.treatment_date,
        ..new.clone()
    };
    let prescription = calculate(context, actor, &course, &new).await?;
    let amendment = sact::Amendment {
        drugs: prescription.drugs,
        bsa_m2: prescription.bsa_m2,
        measurements: prescription.measurements,
        calculation: prescription.calculation,
        modifications: prescription.modifications,
        reason: reason.to_owned(),
    };
    let prescriber = user_id(actor)?;
    let amended = change_cycle(context, actor, signer, cycle_id, "prescribed", |cycle| {
        cycle.amend(&prescriber, amendment)
    })
    .await?;
    Ok(PrescribedCycle { cycle_id: amended.id, doses: prescription.doses })
}

/// Measurements older than the site allows are refused unless the prescriber
/// gives a reason, which the cycle keeps; a reason for fresh ones is not kept.
fn answer_measurement_age(context: &Context, new: &NewCycle) -> Result<Option<String>, ServiceError> {
    let max_days = context.site_policy().measurement_max_age_days;
    let age = sact::measurement_age(new.measured_on, new.treatment_date, max_days)?;
    if !age.stale {
        return Ok(None);
    }
    match new.stale_measurements_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => Ok(Some(reason.to_owned())),
        None => Err(ServiceError::Refused {
            rule: "stale_measurements",
            reason: format!(
                "the measurements were taken {} days before the treatment day, more than the site's {max_days}; measure again, or give the reason to go on",
                age.days
            ),
        }),
    }
}

/// The pharmacist's verification, refused to the prescriber and outside the verifier's scope.
pub async fn verify(
    context: &Context,
    acting: &Acting,
    signer: &dyn ActSigner,
    verifier_role: &str,
    scope: &VerificationScope,
    cycle_id: i64,
) -> Result<StoredCycle, ServiceError> {
    let actor = acting.requires(Permission::VerifySact)?;
    let verifier = Verifier { user_id: user_id(actor)?, role_code: verifier_role.to_owned() };
    change_cycle(context, actor, signer, cycle_id, "verified", |cycle| cycle.verify(&verifier, scope)).await
}

/// Puts a cycle off to a later date, with a coded reason (prescribe_sact).
pub async fn defer(
    context: &Context,
    acting: &Acting,
    signer: &dyn ActSigner,
    cycle_id: i64,
    reason: sact::DeferralReason,
    until: NaiveDate,
) -> Result<StoredCycle, ServiceError> {
    let actor = acting.requires(Permission::PrescribeSact)?;
    change_cycle(context, actor, signer, cycle_id, "deferred", |cycle| cycle.defer(reason, until)).await
}

/// Cancels a cycle not yet given, with the reason (prescribe_sact).
pub async fn cancel(
    context: &Context,
    acting: &Acting,
    signer: &dyn ActSigner,
    cycle_id: i64,
    reason: &str,
) -> Result<StoredCycle, ServiceError> {
    let actor = acting.requires(Permission::PrescribeSact)?;
    change_cycle(context, actor, signer, cycle_id, "cancelled", |cycle| cycle.cancel(reason)).await
}

/// What the releaser knows at release: results with their times, and today's weight.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    pub cycle_id: i64,
    pub results: BTreeMap<String, TimedResult>,
    pub current_weight_kg: Decimal,
    pub dosing_weight_kg: Decimal,
    pub overrides: Vec<Override>,
}

/// What release would find now, without releasing: each block, and each
/// warning that needs a reason (release_sact). The screen asks for the reasons.
pub async fn release_checks(
    context: &Context,
    acting: &Acting,
    request: &ReleaseRequest,
) -> Result<Vec<sact::ReleaseFinding>, ServiceError> {
    let actor = acting.requires(Permission::ReleaseSact)?;
    let (_, evidence) = release_evidence(context, actor, request).await?;
    Ok(sact::release_findings(&evidence, &release_policy(context), context.now())?)
}

/// Release for preparation, once the checks pass or each warning has a reason.
/// Lifetime totals come from the doses recorded as given.
pub async fn release(
    context: &Context,
    acting: &Acting,
    signer: &dyn ActSigner,
    request: &ReleaseRequest,
) -> Result<StoredCycle, ServiceError> {
    let actor = acting.requires(Permission::ReleaseSact)?;
    let (_, evidence) = release_evidence(context, actor, request).await?;
    let policy = release_policy(context);
    let releaser = user_id(actor)?;
    let now = context.now();
    change_cycle(context, actor, signer, request.cycle_id, "released", |cycle| {
        cycle.release(&releaser, &evidence, &policy, &request.overrides, now)
    })
    .await
}

async fn release_evidence(
    context: &Context,
    actor: &store::Actor,
    request: &ReleaseRequest,
) -> Result<(StoredCycle, ReleaseEvidence), ServiceError> {
    let store = context.store();
    let stored = store.sact().cycle(actor, request.cycle_id).await?;
    let course = store.sact().course(actor, stored.course_id).await?;
    let regimen = pinned_regimen(context, &course.regimen).await?;
    let totals = store.sact().lifetime_totals(actor, stored.patient_id).await?;
    let lifetime = lifetime_doses(context, &stored.cycle, &totals);
    // A result not typed is taken from the laboratory's feed, the latest usable one in the window.
    let mut results = request.results.clone();
    let untyped: Vec<String> = regimen
        .pre_treatment_limits
        .iter()
        .map(|l| l.test.clone())
        .filter(|test| !results.contains_key(test))
        .collect();
    for found in
        laboratory_values(context, actor, stored.patient_id, stored.cycle.treatment_date, &untyped).await?
    {
        let source = sact::ResultSource::Laboratory { laboratory: found.laboratory.clone() };
        results
            .insert(found.test.clone(), TimedResult { value: found.value, taken_at: found.taken_at, source });
    }
    let evidence = ReleaseEvidence {
        treatment_date: stored.cycle.treatment_date,
        limits: regimen.pre_treatment_limits.clone(),
        results,
        current_weight: dosing::units::Kilograms::new(request.current_weight_kg),
        dosing_weight: dosing::units::Kilograms::new(request.dosing_weight_kg),
        lifetime,
    };
    Ok((stored, evidence))
}

/// A laboratory result the release checks may use, with where and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaboratoryValue {
    pub test: String,
    pub value: Decimal,
    pub taken_at: chrono::DateTime<chrono::Utc>,
    pub laboratory: String,
}

/// For each of `tests`, the latest result the laboratory sent for the check,
/// final and in the expected units, taken within the release window before the
/// treatment day; a test with none is simply absent (release will say so).
pub(crate) async fn laboratory_values(
    context: &Context,
    actor: &store::Actor,
    patient_id: i64,
    treatment_date: NaiveDate,
    tests: &[String],
) -> Result<Vec<LaboratoryValue>, ServiceError> {
    let day_begins =
        treatment_date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_else(|| context.now());
    let since = (day_begins - release_policy(context).results_window)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut values = Vec::new();
    for test in tests {
        let Some(kept) =
            context.store().lab_results().latest_for_check(actor, patient_id, test, &since).await?
        else {
            continue;
        };
        let unreadable =
            || ServiceError::Invalid { field: "result", reason: format!("result {} is unreadable", kept.id) };
        values.push(LaboratoryValue {
            test: test.clone(),
            value: kept.result.value.parse().map_err(|_| unreadable())?,
            taken_at: chrono::DateTime::parse_from_rfc3339(&kept.result.observed_at_utc)
                .map_err(|_| unreadable())?
                .with_timezone(&chrono::Utc),
            laboratory: kept.result.laboratory.clone(),
        });
    }
    Ok(values)
}

/// The laboratory's results release would use for a cycle, to show before
/// anything is typed (release_sact).
pub async fn release_laboratory_values(
    context: &Context,
    acting: &Acting,
    cycle_id: i64,
) -> Result<Vec<LaboratoryValue>, ServiceError> {
    let actor = acting.requires(Permission::ReleaseSact)?;
    let store = context.store();
    let stored = store.sact().cycle(actor, cycle_id).await?;
    let course = store.sact().course(actor, stored.course_id).await?;
    let regimen = pinned_regimen(context, &course.regimen).await?;
    let tests: Vec<String> = regimen.pre_treatment_limits.iter().map(|l| l.test.clone()).collect();
    laboratory_values(context, actor, stored.patient_id, stored.cycle.treatment_date, &tests).await
}

fn release_policy(context: &Context) -> ReleasePolicy {
    ReleasePolicy {
        weight_change_percent: context.site_policy().weight_change_recalculation_percent,
        lifetime_warn_percent: context.site_policy().cumulative_warning_percent,
        ..ReleasePolicy::default()
    }
}

/// One drug given, witnessed; the dose is recorded for lifetime totals in the same transaction.
pub async fn administer(
    context: &Context,
    giver: Signing<'_>,
    witness: Signing<'_>,
    cycle_id: i64,
    record: AdministrationRecord,
    site: &str,
) -> Result<StoredCycle, ServiceError> {
    let actor = giver.acting.requires(Permission::AdministerSact)?;
    let witness_actor = witness.acting.requires(Permission::AdministerSact)?;
    if record.administered_by.as_str() != actor.user || record.witness.as_str() != witness_actor.user {
        return Err(ServiceError::Invalid {
            field: "administration",
            reason: "the record must name the card holders who gave and witnessed it".into(),
        });
    }
    let store = context.store();
    let stored = store.sact().cycle(actor, cycle_id).await?;
    let mut cycle = stored.cycle.clone();
    cycle.administer(record.clone())?;
    let line = format!("{} {}", record.drug, record.day);
    sign_act(&mut cycle, &format!("given {line}"), giver.card, actor)?;
    sign_act(&mut cycle, &format!("witnessed {line}"), witness.card, witness_actor)?;
    let given = cycle.administrations.last().expect("administer added one");
    let dose = DoseGiven {
        patient_id: stored.patient_id,
        cycle_id: Some(cycle_id),
        drug: record.drug.clone(),
        dose: record.dose_given,
        unit: given.unit.symbol().to_owned(),
        dose_per_m2: cycle.dose_per_m2(record.dose_given),
        given_at: record.started,
        site: site.to_owned(),
    };
    let mut tx = store.begin().await?;
    let version = tx.sact().update_cycle(cycle_id, stored.row_version, &cycle).await?;
    tx.sact().record_dose_given(&dose).await?;
    let records = [RecordRef::Cycle(cycle_id), RecordRef::User(witness_actor.user.clone())];
    let outcome = format!("ok: {} {} given, witnessed", record.drug, record.day);
    tx.audit(actor, AuditAction::SactDoseGiven, Some(stored.patient_id), &records, &outcome).await?;
    tx.commit().await?;
    Ok(StoredCycle { row_version: version, cycle, ..stored })
}

/// Each drug's lifetime total for a patient, from the doses recorded as given (for the cumulative-dose chart).
pub async fn lifetime_totals(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<BTreeMap<String, store::LifetimeTotal>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    Ok(context.store().sact().lifetime_totals(actor, patient_id).await?)
}

/// One cycle as stored, with its signatures (view_patients).
pub async fn cycle(context: &Context, acting: &Acting, cycle_id: i64) -> Result<StoredCycle, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    Ok(context.store().sact().cycle(actor, cycle_id).await?)
}

/// Cycles awaiting verification, oldest first (the pharmacist's queue).
pub async fn verification_queue(
    context: &Context,
    acting: &Acting,
    limit: u32,
) -> Result<Vec<StoredCycle>, ServiceError> {
    let actor = acting.requires(Permission::VerifySact)?;
    Ok(context.store().sact().cycles_in_state(actor, "prescribed", limit).await?)
}

/// Reads a cycle, applies `act`, and writes it from the version read, audited.
async fn change_cycle(
    context: &Context,
    actor: &store::Actor,
    signer: &dyn ActSigner,
    cycle_id: i64,
    what: &str,
    act: impl FnOnce(&mut Cycle) -> Result<(), SactRefusal>,
) -> Result<StoredCycle, ServiceError> {
    let store = context.store();
    let stored = store.sact().cycle(actor, cycle_id).await?;
    let mut cycle = stored.cycle.clone();
    if let Err(refusal) = act(&mut cycle) {
        let outcome = format!("refused: {}", refusal.rule);
        store
            .audit()
            .record(actor, AuditAction::SactCycleUpdate, &[RecordRef::Cycle(cycle_id)], &outcome)
            .await?;
        return Err(refusal.into());
    }
    let act = format!("{what} v{}", cycle.prescription_version);
    sign_act(&mut cycle, &act, signer, actor)?;
    let mut tx = store.begin().await?;
    let version = tx.sact().update_cycle(cycle_id, stored.row_version, &cycle).await?;
    let outcome = format!("ok: {what}");
    tx.audit(
        actor,
        AuditAction::SactCycleUpdate,
        Some(stored.patient_id),
        &[RecordRef::Cycle(cycle_id)],
        &outcome,
    )
    .await?;
    tx.commit().await?;
    Ok(StoredCycle { row_version: version, cycle, ..stored })
}

/// The regimen version a course is pinned to, refused where this workstation
/// does not hold that exact content (a library that has moved on).
pub(crate) async fn pinned_regimen(
    context: &Context,
    pin: &RegimenPin,
) -> Result<regimens::Regimen, ServiceError> {
    let stale = |held: Option<&regimens::Regimen>| ServiceError::Refused {
        rule: "stale_regimen_version",
        reason: format!(
            "this course is pinned to {} v{} ({}…), but this workstation holds {}; prescribe from the pinned version, or start a course on the current one",
            pin.code,
            pin.version,
            &pin.content_sha256[..12.min(pin.content_sha256.len())],
            held.map(|r| format!(
                "v{} ({}…)",
                r.version,
                &r.content_sha256[..12.min(r.content_sha256.len())]
            ))
            .unwrap_or_else(|| "no such version".into())
        ),
    };
    let regimen = match crate::regimens::version(context, &pin.code, Some(&pin.version)).await {
        Ok(regimen) => regimen,
        Err(ServiceError::Invalid { .. }) => return Err(stale(context.regimens().find(&pin.code).ok())),
        Err(other) => return Err(other),
    };
    if regimen.content_sha256 != pin.content_sha256 {
        return Err(stale(Some(&regimen)));
    }
    Ok(regimen)
}

/// The engine's doses as the cycle's lines, with each drug's route from the regimen.
fn prescribed_lines(regimen: &regimens::Regimen, doses: &CourseDoses) -> Vec<PrescribedDrug> {
    doses
        .drugs
        .iter()
        .map(|line| PrescribedDrug {
            drug: line.dose.drug.clone(),
            day: line.day.clone(),
            dose: line.dose.final_dose,
            unit: line.dose.unit,
            route: regimen
                .drugs
                .iter()
                .find(|d| d.drug == line.dose.drug)
                .map(|d| d.route.describe().to_owned())
                .unwrap_or_default(),
        })
        .collect()
}

/// Each lifetime-limited drug of the regimen, with what was recorded as given
/// before (zero where nothing was): counted from the record, never typed.
fn prior_lifetime_doses(
    context: &Context,
    regimen: &regimens::Regimen,
    totals: &BTreeMap<String, store::LifetimeTotal>,
) -> BTreeMap<String, Decimal> {
    regimen
        .drugs
        .iter()
        .filter_map(|drug| {
            let limit = context.site_policy().drug(&drug.drug, "drug").ok()?.lifetime_limit?;
            let given = totals.get(&drug.drug).copied().unwrap_or_default();
            let prior = match limit {
                dosing::policy::LifetimeLimit::MgPerM2(_) => given.per_m2,
                dosing::policy::LifetimeLimit::TotalIu(_) => given.total,
            };
            Some((drug.drug.clone(), prior))
        })
        .collect()
}

/// Each lifetime-limited drug in the cycle: what was given before and what this cycle adds, per m² or in total.
fn lifetime_doses(
    context: &Context,
    cycle: &Cycle,
    totals: &BTreeMap<String, store::LifetimeTotal>,
) -> Vec<LifetimeDose> {
    let mut doses = Vec::new();
    for line in &cycle.drugs {
        let Some(limit) = context.site_policy().drug(&line.drug, "drug").ok().and_then(|p| p.lifetime_limit)
        else {
            continue;
        };
        let before = totals.get(&line.drug).copied().unwrap_or_default();
        let (given_before, this_cycle) = match limit {
            dosing::policy::LifetimeLimit::MgPerM2(_) => {
                (before.per_m2, cycle.dose_per_m2(line.dose).unwrap_or(line.dose))
            }
            dosing::policy::LifetimeLimit::TotalIu(_) => (before.total, line.dose),
        };
        doses.push(LifetimeDose { drug: line.drug.clone(), limit, given_before, this_cycle });
    }
    doses
}

fn user_id(actor: &store::Actor) -> Result<UserId, ServiceError> {
    UserId::parse(&actor.user).ok_or(ServiceError::Invalid {
        field: "user",
        reason: "a clinical act needs a person proven by a card, not an account".into(),
    })
}
