//! Finding and opening patients. Both need `view_patients`, are audited by the
//! store against the signed-in user, and are refused if the session changed
//! while the store answered.

use chrono::NaiveDate;
use patients::PatientQuery;
use patients::PatientRecord;
use serde::Serialize;
use services::Acting;
use session::Permission;
use store::PatientSummary;
use tauri::State;

use crate::error::{CommandError, ErrorCode};
use crate::state::AppState;

/// How many results a search shows; a narrower search finds the rest.
const SEARCH_LIMIT: u32 = 50;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PatientSummaryView {
    pub id: u32,
    /// Ten digits, the UI shows them 3-3-4; none for a patient kept by hospital number.
    pub nhs_number: Option<String>,
    /// For a patient without a valid NHS number, the warning shown beside their name.
    pub nhs_number_flag: Option<String>,
    /// `SMITH, John (Mr)`.
    pub display_name: String,
    /// ISO date, `1945-07-14`.
    pub date_of_birth: String,
    /// Spelled in full.
    pub sex: String,
    pub deceased: bool,
    /// Merged into another record by the PAS (A40): shown, never opened.
    pub merged: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PatientView {
    pub id: u32,
    /// Ten digits, the UI shows them 3-3-4; none for a patient kept by hospital number.
    pub nhs_number: Option<String>,
    /// For a patient without a valid NHS number, the warning shown beside their name.
    pub nhs_number_flag: Option<String>,
    pub display_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub deceased_date: Option<String>,
    pub mrn: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    /// The registered practice's ODS code; the UI shows it with the name.
    pub gp_practice_code: Option<String>,
    pub gp_practice_name: Option<String>,
}

fn view_id(id: i64) -> Result<u32, CommandError> {
    u32::try_from(id)
        .map_err(|_| CommandError::internal(&format!("patient id {id} is beyond the UI's range")))
}

fn summary_view(p: PatientSummary) -> Result<PatientSummaryView, CommandError> {
    Ok(PatientSummaryView {
        merged: p.merged_into.is_some(),
        id: view_id(p.id)?,
        nhs_number: p.nhs_number.map(|n| n.digits()),
        nhs_number_flag: p.nhs_number_flag,
        display_name: p.display_name,
        date_of_birth: p.date_of_birth.to_string(),
        sex: p.sex.display().to_owned(),
        deceased: p.deceased,
    })
}

fn patient_view(record: PatientRecord) -> Result<PatientView, CommandError> {
    let d = &record.details;
    Ok(PatientView {
        id: view_id(record.id)?,
        nhs_number: d.nhs_number.map(|n| n.digits()),
        nhs_number_flag: d.nhs_number_flag(),
        display_name: d.display_name(),
        date_of_birth: d.date_of_birth.to_string(),
        sex: d.sex.display().to_owned(),
        deceased_date: d.deceased_date.map(|date| date.to_string()),
        mrn: d.mrn.clone(),
        address: d.address.clone(),
        postcode: d.postcode.clone(),
        gp_practice_code: d.gp_practice.as_ref().map(|g| g.ods_code.clone()),
        gp_practice_name: d.gp_practice.as_ref().and_then(|g| g.name.clone()),
    })
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn search_patients(
    state: State<'_, AppState>,
    query: String,
    date_of_birth: Option<String>,
) -> Result<Vec<PatientSummaryView>, CommandError> {
    let check = state.require(Permission::ViewPatients)?;
    let acting = Acting::from_session(&check, Permission::ViewPatients, state.workstation_name())?;
    let born = date_of_birth
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| CommandError {
                code: ErrorCode::InvalidPatientQuery,
                message: "Enter the date of birth as a full date.".into(),
                field: Some("date_of_birth".into()),
            })
        })
        .transpose()?;
    let query = PatientQuery::parse(&query, born, state.nhs_number_policy())?;
    let found = services::patients::search(state.services()?, &acting, &query, SEARCH_LIMIT).await?;
    state.confirm(&check)?;
    found.into_iter().map(summary_view).collect()
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id = id))]
pub async fn open_patient(state: State<'_, AppState>, id: u32) -> Result<PatientView, CommandError> {
    let check = state.require(Permission::ViewPatients)?;
    let acting = Acting::from_session(&check, Permission::ViewPatients, state.workstation_name())?;
    let record = services::patients::open(state.services()?, &acting, i64::from(id)).await?;
    state.confirm(&check)?;
    patient_view(record)
}
