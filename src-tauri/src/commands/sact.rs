//! SACT acts from the app: the patient's record, prescribing the next cycle,
//! the pharmacist's queue and verification, release, and the nurses' list with
//! the witnessed administration. Each act is signed with the card of the person
//! acting, its PIN typed for that act; the witness proves their own card at the
//! same workstation without ending the session.

use std::collections::BTreeMap;

use chrono::{DateTime, Local, NaiveDate, NaiveTime, TimeZone, Utc};
use dosing::course::{DrugModification, MeasurementsText};
use dosing::pipeline::Modification;
use rust_decimal::Decimal;
use sact::{AdministrationRecord, Override, TimedResult};
use serde::{Deserialize, Serialize};
use services::Acting;
use services::sact::{NewCycle, ReleaseRequest, Signing};
use session::Permission;
use store::AuditAction;
use tauri::State;
use zeroize::Zeroizing;

use super::sact_views::{
    ChemotherapyView, DueCycleView, FindingView, QueueEntryView, chemotherapy_view, due_view, queue_view,
};
use crate::cards::CardActSigner;
use crate::error::{CommandError, ErrorCode};
use crate::state::AppState;

/// How many cycles the verification queue shows at once, oldest first.
const QUEUE_LIMIT: u32 = 200;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ActDone {
    pub cycle_id: u32,
    pub state: String,
}

fn invalid(field: &str, message: impl Into<String>) -> CommandError {
    CommandError { code: ErrorCode::InvalidInput, message: message.into(), field: Some(field.into()) }
}

fn date(text: &str, field: &str) -> Result<NaiveDate, CommandError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| invalid(field, "Enter a full date."))
}

fn decimal(text: &str, field: &str) -> Result<Decimal, CommandError> {
    text.trim().parse().map_err(|_| invalid(field, "Enter a number."))
}

/// A time today on this workstation's clock, `HH:MM`, as UTC.
fn time_today(text: &str, field: &str) -> Result<DateTime<Utc>, CommandError> {
    let time = NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| invalid(field, "Enter the time as HH:MM, for example 09:30."))?;
    let local = Local::now().date_naive().and_time(time);
    Local
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| invalid(field, "That time does not exist today on this clock."))
}

fn id(value: u32) -> i64 {
    i64::from(value)
}

/// The session's card and a signer for it, with the PIN typed for this act.
pub(crate) fn session_signer<'a>(
    state: &'a AppState,
    pin: String,
) -> Result<CardActSigner<'a>, CommandError> {
    let trust = state.cards.trust.as_ref().ok_or_else(|| {
        CommandError::new(
            ErrorCode::CardsUnavailable,
            "A clinical act is signed with your smart card, and cards are not set up on this workstation.",
        )
    })?;
    let serial = state
        .workstation
        .lock()
        .map_err(|e| CommandError::internal(&e))?
        .card_serial()
        .map(str::to_owned)
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::CardsUnavailable,
                "A clinical act is signed with a smart card: sign in with your card to do this.",
            )
        })?;
    Ok(CardActSigner { cards: &state.cards, trust, serial, pin: Zeroizing::new(pin) })
}

fn acting(state: &AppState, permission: Permission) -> Result<(session::SessionCheck, Acting), CommandError> {
    let check = state.require(permission)?;
    let acting = Acting::from_session(&check, permission, state.workstation_name())?;
    Ok((check, acting))
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id))]
pub async fn sact_patient_record(
    state: State<'_, AppState>,
    patient_id: u32,
) -> Result<ChemotherapyView, CommandError> {
    let (check, acting) = acting(&state, Permission::ViewPatients)?;
    let record =
        services::sact_lists::chemotherapy_record(state.services()?, &acting, id(patient_id)).await?;
    state.confirm(&check)?;
    Ok(chemotherapy_view(&record))
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ModificationRequest {
    pub drug: String,
    pub percent: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct PrescribeRequest {
    pub course_id: u32,
    pub cycle_number: u32,
    pub treatment_date: String,
    pub measurements: MeasurementsText,
    /// The day the measurements were taken.
    pub measured_on: String,
    pub modifications: Vec<ModificationRequest>,
    /// The answer to measurements older than the site allows.
    pub stale_measurements_reason: Option<String>,
    pub pin: String,
}

fn new_cycle(request: PrescribeRequest) -> Result<(NewCycle, String), CommandError> {
    let modifications = request
        .modifications
        .iter()
        .map(|m| {
            let field = format!("modification.{}", m.drug);
            let percent = decimal(&m.percent, &field)?;
            let modification = Modification::validated(percent, &m.reason, &field)?;
            Ok(DrugModification { drug: m.drug.clone(), modification })
        })
        .collect::<Result<Vec<_>, CommandError>>()?;
    let new = NewCycle {
        course_id: id(request.course_id),
        number: request.cycle_number,
        treatment_date: date(&request.treatment_date, "treatment_date")?,
        measurements: request.measurements,
        measured_on: date(&request.measured_on, "measured_on")?,
        modifications,
        stale_measurements_reason: request.stale_measurements_reason,
    };
    Ok((new, request.pin))
}

/// The doses the cycle would be prescribed at, with derivations and warnings:
/// read before signing. Nothing is written; a PIN sent with it is not used.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_preview(
    state: State<'_, AppState>,
    request: PrescribeRequest,
) -> Result<dosing::course::CourseDoses, CommandError> {
    let (new, _) = new_cycle(request)?;
    let (check, acting) = acting(&state, Permission::PrescribeSact)?;
    let doses = services::sact::preview(state.services()?, &acting, &new).await?;
    state.confirm(&check)?;
    Ok(doses)
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_prescribe(
    state: State<'_, AppState>,
    request: PrescribeRequest,
) -> Result<ActDone, CommandError> {
    let (new, pin) = new_cycle(request)?;
    let (check, acting) = acting(&state, Permission::PrescribeSact)?;
    let signer = session_signer(&state, pin)?;
    let prescribed = services::sact::prescribe(state.services()?, &acting, &signer, &new).await?;
    state.confirm(&check)?;
    Ok(ActDone {
        cycle_id: u32::try_from(prescribed.cycle_id).unwrap_or(u32::MAX),
        state: "prescribed".into(),
    })
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_verification_queue(
    state: State<'_, AppState>,
) -> Result<Vec<QueueEntryView>, CommandError> {
    let (check, acting) = acting(&state, Permission::VerifySact)?;
    let (entries, staff) =
        services::sact_lists::verification_queue(state.services()?, &acting, QUEUE_LIMIT).await?;
    state.confirm(&check)?;
    Ok(queue_view(&entries, &staff))
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_release_queue(state: State<'_, AppState>) -> Result<Vec<QueueEntryView>, CommandError> {
    let (check, acting) = acting(&state, Permission::ReleaseSact)?;
    let (entries, staff) =
        services::sact_lists::release_queue(state.services()?, &acting, QUEUE_LIMIT).await?;
    state.confirm(&check)?;
    Ok(queue_view(&entries, &staff))
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn sact_verify(
    state: State<'_, AppState>,
    cycle_id: u32,
    pin: String,
) -> Result<ActDone, CommandError> {
    let (check, acting) = acting(&state, Permission::VerifySact)?;
    let role = check.user.role.code.clone();
    let signer = session_signer(&state, pin)?;
    let context = state.services()?;
    let scope = context.settings().verification_scope.clone();
    let stored = services::sact::verify(context, &acting, &signer, &role, &scope, id(cycle_id)).await?;
    state.confirm(&check)?;
    Ok(ActDone { cycle_id, state: stored.cycle.state.name().into() })
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ResultEntry {
    /// The regimen's test name, e.g. `neutrophils`.
    pub test: String,
    pub value: String,
    /// When the sample was taken, `YYYY-MM-DDTHH:MM` on this workstation's clock.
    pub taken_at: String,
    /// Why it was typed rather than taken from the laboratory's feed (results
    /// not given here are taken from the feed).
    pub typed_reason: String,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct OverrideEntry {
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ReleaseEntry {
    pub cycle_id: u32,
    pub results: Vec<ResultEntry>,
    pub weight_kg: String,
    pub dosing_weight_kg: String,
    pub overrides: Vec<OverrideEntry>,
}

fn release_request(entry: &ReleaseEntry) -> Result<ReleaseRequest, CommandError> {
    let mut results = BTreeMap::new();
    for result in &entry.results {
        let field = format!("result.{}", result.test);
        let value = decimal(&result.value, &field)?;
        let taken = chrono::NaiveDateTime::parse_from_str(result.taken_at.trim(), "%Y-%m-%dT%H:%M")
            .map_err(|_| invalid(&field, "Enter when the sample was taken, date and time."))?;
        let taken_at = Local
            .from_local_datetime(&taken)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| invalid(&field, "That time does not exist on this clock."))?;
        let source = sact::ResultSource::Typed { reason: result.typed_reason.trim().to_owned() };
        results.insert(result.test.clone(), TimedResult { value, taken_at, source });
    }
    Ok(ReleaseRequest {
        cycle_id: id(entry.cycle_id),
        results,
        current_weight_kg: decimal(&entry.weight_kg, "weight_kg")?,
        dosing_weight_kg: decimal(&entry.dosing_weight_kg, "dosing_weight_kg")?,
        overrides: entry
            .overrides
            .iter()
            .map(|o| Override { code: o.code.clone(), reason: o.reason.clone() })
            .collect(),
    })
}

/// What release would find, before anyone signs: the screen asks for a reason per warning.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_release_checks(
    state: State<'_, AppState>,
    entry: ReleaseEntry,
) -> Result<Vec<FindingView>, CommandError> {
    let request = release_request(&entry)?;
    let (check, acting) = acting(&state, Permission::ReleaseSact)?;
    let findings = services::sact::release_checks(state.services()?, &acting, &request).await?;
    state.confirm(&check)?;
    Ok(findings
        .into_iter()
        .map(|f| FindingView {
            code: f.code,
            blocks: f.blocks,
            message: f.message,
            overridden_because: f.overridden_because,
        })
        .collect())
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_release(
    state: State<'_, AppState>,
    entry: ReleaseEntry,
    pin: String,
) -> Result<ActDone, CommandError> {
    let request = release_request(&entry)?;
    let (check, acting) = acting(&state, Permission::ReleaseSact)?;
    let signer = session_signer(&state, pin)?;
    let stored = services::sact::release(state.services()?, &acting, &signer, &request).await?;
    state.confirm(&check)?;
    Ok(ActDone { cycle_id: entry.cycle_id, state: stored.cycle.state.name().into() })
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_treatment_list(state: State<'_, AppState>) -> Result<Vec<DueCycleView>, CommandError> {
    let (check, acting) = acting(&state, Permission::AdministerSact)?;
    let today = Local::now().date_naive();
    let (due, staff) = services::sact_lists::treatment_list(state.services()?, &acting, today).await?;
    state.confirm(&check)?;
    Ok(due_view(&due, &staff))
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct AdministrationEntry {
    pub cycle_id: u32,
    pub drug: String,
    pub day: String,
    pub dose_given: String,
    /// HH:MM today.
    pub started: String,
    pub stopped: Option<String>,
    pub batch: String,
    /// YYYY-MM-DD
    pub expiry: String,
    pub pin: String,
    /// The second checker's card, in a reader at this workstation, and their PIN.
    pub witness_serial: String,
    pub witness_pin: String,
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn sact_administer(
    state: State<'_, AppState>,
    entry: AdministrationEntry,
) -> Result<ActDone, CommandError> {
    let started = time_today(&entry.started, "started")?;
    let stopped = entry.stopped.as_deref().filter(|t| !t.trim().is_empty()).map(|t| time_today(t, "stopped"));
    let stopped = stopped.transpose()?;
    let dose_given = decimal(&entry.dose_given, "dose_given")?;
    let expiry = date(&entry.expiry, "expiry")?;
    let (check, nurse) = acting(&state, Permission::AdministerSact)?;
    let context = state.services()?;
    let witness_signer = CardActSigner {
        cards: &state.cards,
        trust: state.cards.trust.as_ref().ok_or_else(|| invalid("witness", "Cards are not set up here."))?,
        serial: entry.witness_serial.clone(),
        pin: Zeroizing::new(entry.witness_pin),
    };
    let witness = crate::cards::prove_witness(&state, &witness_signer, AuditAction::SactDoseGiven).await?;
    let record = AdministrationRecord {
        drug: entry.drug,
        day: entry.day,
        dose_given,
        started,
        stopped,
        batch: entry.batch,
        expiry,
        administered_by: check.user.user_id.clone(),
        witness: session::UserId::parse(&witness.actor().user)
            .ok_or_else(|| invalid("witness", "The witness card carries no NHS user id."))?,
    };
    let signer = session_signer(&state, entry.pin)?;
    let giver = Signing { acting: &nurse, card: &signer };
    let second = Signing { acting: &witness, card: &witness_signer };
    let site = context.settings().site_ods_code.clone().unwrap_or_else(|| "site-ods-code-not-set".into());
    let stored =
        services::sact::administer(context, giver, second, id(entry.cycle_id), record, &site).await?;
    state.confirm(&check)?;
    Ok(ActDone { cycle_id: entry.cycle_id, state: stored.cycle.state.name().into() })
}

/// Puts a cycle not yet given off to a later date, with a coded reason (prescribe_sact).
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn sact_defer(
    state: State<'_, AppState>,
    cycle_id: u32,
    reason: String,
    until: String,
    pin: String,
) -> Result<ActDone, CommandError> {
    let reason = sact::DeferralReason::parse(&reason).map_err(|r| invalid("reason", r.message))?;
    let until = date(&until, "until")?;
    let (check, acting) = acting(&state, Permission::PrescribeSact)?;
    let signer = session_signer(&state, pin)?;
    let stored =
        services::sact::defer(state.services()?, &acting, &signer, id(cycle_id), reason, until).await?;
    state.confirm(&check)?;
    Ok(ActDone { cycle_id, state: stored.cycle.state.name().into() })
}

/// Cancels a cycle not yet given, saying why (prescribe_sact).
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn sact_cancel(
    state: State<'_, AppState>,
    cycle_id: u32,
    reason: String,
    pin: String,
) -> Result<ActDone, CommandError> {
    let (check, acting) = acting(&state, Permission::PrescribeSact)?;
    let signer = session_signer(&state, pin)?;
    let stored = services::sact::cancel(state.services()?, &acting, &signer, id(cycle_id), &reason).await?;
    state.confirm(&check)?;
    Ok(ActDone { cycle_id, state: stored.cycle.state.name().into() })
}

/// A laboratory result release would use, as the form shows it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LabValueView {
    pub test: String,
    pub value: String,
    /// When the sample was taken, `YYYY-MM-DDTHH:MM` on this workstation's clock.
    pub taken_at: String,
    pub laboratory: String,
}

/// The laboratory's latest usable results for a cycle's release checks, to prefill the form.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn sact_release_lab_values(
    state: State<'_, AppState>,
    cycle_id: u32,
) -> Result<Vec<LabValueView>, CommandError> {
    let (check, acting) = acting(&state, Permission::ReleaseSact)?;
    let values = services::sact::release_laboratory_values(state.services()?, &acting, id(cycle_id)).await?;
    state.confirm(&check)?;
    Ok(values.iter().map(lab_value_view).collect())
}

pub(crate) fn lab_value_view(v: &services::sact::LaboratoryValue) -> LabValueView {
    LabValueView {
        test: v.test.clone(),
        value: v.value.normalize().to_string(),
        taken_at: v.taken_at.with_timezone(&Local).format("%Y-%m-%dT%H:%M").to_string(),
        laboratory: v.laboratory.clone(),
    }
}
