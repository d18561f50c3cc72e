//! Discharge summaries in the app: the patient's summary drafted on the PRSB
//! headings (saved again and again as the doctor types), sign-off with every
//! missing field at once, signing with the session's card, the signed letter,
//! amendments, and the 24-hour dashboard. The rules are the services' and the
//! domain's; these commands check the session, call one service, and shape.

use discharge::Section;
use serde::Serialize;
use services::Acting;
use session::Permission;
use tauri::State;

use super::discharge_form::{SummaryForm, is_free_text, section_key};
use crate::error::{CommandError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SectionView {
    pub key: String,
    pub title: String,
    pub required: bool,
    pub mandatory: bool,
    /// Written as free text (the others have fields of their own).
    pub free_text: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct TemplateView {
    pub name: String,
    pub specialty_code: String,
    /// In the standard's order.
    pub sections: Vec<SectionView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct MissingView {
    pub section: String,
    pub field: String,
    /// The id of the form control to take the doctor to, e.g. `discharged_at`,
    /// `medications.0.reason` or `text.clinical_summary`.
    pub target: String,
    pub reason: String,
}

/// The form control where a missing field is entered.
fn target_of(missing: &discharge::Missing) -> String {
    if is_free_text(missing.section) {
        return format!("text.{}", section_key(missing.section));
    }
    let field = missing.field.as_str();
    match field.split('.').collect::<Vec<_>>().as_slice() {
        ["diagnoses" | "procedures"] => format!("{field}.0.text"),
        [list @ ("diagnoses" | "procedures"), index] => format!("{list}.{index}.text"),
        ["medications", index] => format!("medications.{index}.name"),
        ["allergies", index] => format!("known_allergies.{index}.agent"),
        ["allergies", index, "code"] => format!("known_allergies.{index}.code"),
        _ => field.to_owned(),
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SignedView {
    pub signer: String,
    pub role: String,
    pub registration: Option<String>,
    /// UK local time, in words.
    pub signed_at: String,
    /// Why the signature no longer holds, if it does not: shown, and never sent.
    pub broken: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SendView {
    pub channel: String,
    pub recipient: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// What the practice's system answered (ITK3), in words, if it has.
    pub practice_responses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct VersionView {
    pub id: u32,
    pub version: u32,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SummaryView {
    pub id: u32,
    pub row_version: u32,
    pub version: u32,
    pub status: String,
    pub form: SummaryForm,
    pub template: TemplateView,
    pub missing: Vec<MissingView>,
    /// "Amends version 1: why", for an amendment.
    pub amends: Option<String>,
    pub signed: Option<SignedView>,
    pub sends: Vec<SendView>,
    pub versions: Vec<VersionView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SavedView {
    pub row_version: u32,
    pub missing: Vec<MissingView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LetterSectionView {
    pub title: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LetterView {
    pub title: String,
    pub trust: String,
    pub sections: Vec<LetterSectionView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DueView {
    pub patient_id: u32,
    pub patient_name: String,
    pub nhs_number: String,
    pub ward: Option<String>,
    /// UK local time, in words.
    pub discharged_at: String,
    /// Negative once overdue.
    pub minutes_left: i32,
    pub time_left: String,
    pub summary_id: Option<u32>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DayView {
    /// ISO date.
    pub day: String,
    pub discharges: u32,
    pub sent_within_24_hours: u32,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DashboardView {
    pub due: Vec<DueView>,
    pub days: Vec<DayView>,
}

fn small(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn acting(state: &AppState, permission: Permission) -> Result<(session::SessionCheck, Acting), CommandError> {
    let check = state.require(permission)?;
    let acting = Acting::from_session(&check, permission, state.workstation_name())?;
    Ok((check, acting))
}

fn template_view(template: &discharge::Template) -> TemplateView {
    TemplateView {
        name: template.name.clone(),
        specialty_code: template.specialty_code.clone(),
        sections: Section::ALL
            .into_iter()
            .filter(|s| template.shows(*s))
            .map(|s| SectionView {
                key: section_key(s),
                title: s.title().to_owned(),
                required: template.requires(s),
                mandatory: s.conformance() == discharge::Conformance::Mandatory,
                free_text: is_free_text(s),
            })
            .collect(),
    }
}

fn missing_view(missing: &[discharge::Missing]) -> Vec<MissingView> {
    missing
        .iter()
        .map(|m| MissingView {
            section: m.section.title().to_owned(),
            field: m.field.clone(),
            target: target_of(m),
            reason: m.reason.clone(),
        })
        .collect()
}

fn utc_words(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| discharge::local_time(t.to_utc()))
        .unwrap_or_else(|_| text.to_owned())
}

fn summary_view(current: services::discharge::Current) -> Result<SummaryView, CommandError> {
    let summary = &current.draft.summary;
    let template = discharge::Template::named(&summary.template).ok_or_else(|| {
        CommandError::new(ErrorCode::InvalidInput, format!("No template is called {:?}", summary.template))
    })?;
    let shown: Vec<Section> = Section::ALL.into_iter().filter(|s| template.shows(*s)).collect();
    Ok(SummaryView {
        id: small(current.draft.id),
        row_version: small(current.draft.row_version),
        version: small(current.version),
        status: current.status.clone(),
        form: SummaryForm::from_summary(summary, &shown),
        template: template_view(&template),
        missing: missing_view(&current.missing),
        amends: summary.amends.as_ref().map(|a| format!("Amends version {}: {}", a.version, a.reason)),
        signed: current.signed.map(|s| SignedView {
            signer: s.signer.name,
            role: s.signer.role,
            registration: s.signer.registration,
            signed_at: utc_words(&s.signed_at_utc),
            broken: s.broken,
        }),
        sends: current
            .sends
            .into_iter()
            .map(|r| SendView {
                channel: r.channel,
                recipient: r.recipient,
                status: r.status,
                attempts: small(r.attempts),
                last_error: r.last_error,
                practice_responses: [r.infrastructure_response, r.business_response]
                    .into_iter()
                    .flatten()
                    .collect(),
            })
            .collect(),
        versions: current
            .versions
            .into_iter()
            .map(|(id, version, status)| VersionView { id: small(id), version: small(version), status })
            .collect(),
    })
}

/// The specialty templates, each with the headings it shows.
#[tauri::command(async)]
#[specta::specta]
pub async fn discharge_templates(state: State<'_, AppState>) -> Result<Vec<TemplateView>, CommandError> {
    let check = state.require(Permission::AuthorDischarge)?;
    state.confirm(&check)?;
    Ok(discharge::Template::shipped().iter().map(template_view).collect())
}

/// The patient's latest summary (a draft to carry on, or the signed one), if any.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id = patient_id))]
pub async fn discharge_current(
    state: State<'_, AppState>,
    patient_id: u32,
) -> Result<Option<SummaryView>, CommandError> {
    let (check, acting) = acting(&state, Permission::AuthorDischarge)?;
    let current = services::discharge::current(
        state.services()?,
        &acting,
        i64::from(patient_id),
        state.cards.trust.as_ref(),
    )
    .await?;
    state.confirm(&check)?;
    current.map(summary_view).transpose()
}

/// Starts a summary from the patient's last admission, on the template named.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id = patient_id))]
pub async fn discharge_start(
    state: State<'_, AppState>,
    patient_id: u32,
    template: String,
) -> Result<u32, CommandError> {
    let (check, acting) = acting(&state, Permission::AuthorDischarge)?;
    let draft =
        services::discharge::start(state.services()?, &acting, i64::from(patient_id), &template).await?;
    state.confirm(&check)?;
    Ok(small(draft.id))
}

/// Saves the draft from the version read (autosave); the new version, and what sign-off still needs.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(id = id))]
pub async fn discharge_save(
    state: State<'_, AppState>,
    id: u32,
    row_version: u32,
    form: SummaryForm,
) -> Result<SavedView, CommandError> {
    let summary = form.to_summary()?;
    let (check, acting) = acting(&state, Permission::AuthorDischarge)?;
    let saved = services::discharge::save(
        state.services()?,
        &acting,
        i64::from(id),
        i64::from(row_version),
        &summary,
    )
    .await?;
    state.confirm(&check)?;
    let missing = discharge::Template::named(&summary.template)
        .map(|t| summary.missing_for_sign_off(&t))
        .unwrap_or_default();
    Ok(SavedView { row_version: small(saved), missing: missing_view(&missing) })
}

/// Signs the draft as read with the session's card, its PIN typed for this act.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(id = id))]
pub async fn discharge_sign(
    state: State<'_, AppState>,
    id: u32,
    row_version: u32,
    pin: String,
) -> Result<SignedView, CommandError> {
    let (check, acting) = acting(&state, Permission::SignDischarge)?;
    let signer = super::sact::session_signer(&state, pin)?;
    let signed =
        services::discharge::sign(state.services()?, &acting, i64::from(id), i64::from(row_version), &signer)
            .await?;
    state.confirm(&check)?;
    Ok(SignedView {
        signer: signed.signer.name,
        role: signed.signer.role,
        registration: signed.signer.registration,
        signed_at: utc_words(&signed.signed_at_utc),
        broken: None,
    })
}

/// Amends a signed summary: a new draft version with the reason; its id.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(id = id))]
pub async fn discharge_amend(
    state: State<'_, AppState>,
    id: u32,
    reason: String,
) -> Result<u32, CommandError> {
    let (check, acting) = acting(&state, Permission::AuthorDischarge)?;
    let draft = services::discharge::amend(state.services()?, &acting, i64::from(id), &reason).await?;
    state.confirm(&check)?;
    Ok(small(draft.id))
}

/// The signed letter as the GP receives it; refused if its signature does not hold.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(id = id))]
pub async fn discharge_letter(state: State<'_, AppState>, id: u32) -> Result<LetterView, CommandError> {
    let (check, acting) = acting(&state, Permission::AuthorDischarge)?;
    let trust = state.cards.trust.as_ref().ok_or_else(|| {
        CommandError::new(
            ErrorCode::CardsUnavailable,
            "A signed letter is checked against the card CA, and none is set up here.",
        )
    })?;
    let letter = services::discharge::letter(state.services()?, &acting, i64::from(id), trust).await?;
    state.confirm(&check)?;
    Ok(LetterView {
        title: letter.title(),
        trust: letter.trust.name.clone(),
        sections: letter
            .sections()
            .into_iter()
            .map(|s| LetterSectionView { title: s.title().to_owned(), lines: letter.lines(s) })
            .collect(),
    })
}

/// Discharges whose summary has not reached the GP, most overdue first, and 30 days of the share sent in time.
#[tauri::command(async)]
#[specta::specta]
pub async fn discharge_dashboard(state: State<'_, AppState>) -> Result<DashboardView, CommandError> {
    let (check, acting) = acting(&state, Permission::AuthorDischarge)?;
    let dashboard = services::discharge_dashboard::dashboard(state.services()?, &acting).await?;
    state.confirm(&check)?;
    Ok(DashboardView {
        due: dashboard
            .due
            .into_iter()
            .map(|d| DueView {
                patient_id: small(d.patient_id),
                patient_name: d.patient_name,
                nhs_number: d.nhs_number,
                ward: d.ward,
                discharged_at: utc_words(&d.discharged_at_utc),
                minutes_left: i32::try_from(d.minutes_left).unwrap_or(i32::MIN),
                time_left: d.time_left,
                summary_id: d.summary_id.map(small),
                state: d.state,
            })
            .collect(),
        days: dashboard
            .days
            .into_iter()
            .map(|d| DayView {
                day: d.day.to_string(),
                discharges: d.discharges,
                sent_within_24_hours: d.sent_within_24_hours,
            })
            .collect(),
    })
}
