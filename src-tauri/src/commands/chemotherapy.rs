//! The dose calculator on the Chemotherapy page.

use dosing::course::{CourseDoses, CourseOptions, MeasurementsText, calculate_course};
use regimens::RegimenStatus;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RegimenSummary {
    pub code: String,
    pub version: String,
    pub name: String,
    pub status: RegimenStatus,
    /// Whether a drug is dosed by AUC, so the form asks for renal function.
    pub needs_renal_function: bool,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct DoseCalculationRequest {
    pub regimen: String,
    pub measurements: MeasurementsText,
}

#[tauri::command]
#[specta::specta]
pub fn list_regimens(state: State<'_, AppState>) -> Result<Vec<RegimenSummary>, CommandError> {
    state.require_user()?;
    let dosing = state.dosing()?;
    Ok(dosing
        .regimens
        .all()
        .iter()
        .map(|r| RegimenSummary {
            code: r.code.clone(),
            version: r.version.clone(),
            name: r.name.clone(),
            status: r.status,
            needs_renal_function: r.needs_renal_function(),
        })
        .collect())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, fields(regimen = %request.regimen))]
pub fn calculate_regimen_doses(
    state: State<'_, AppState>,
    request: DoseCalculationRequest,
) -> Result<CourseDoses, CommandError> {
    state.require_user()?;
    let dosing = state.dosing()?;
    let regimen = dosing.regimens.find(&request.regimen)?;
    let measurements = request.measurements.parse()?;
    Ok(calculate_course(&regimen.plan(), &measurements, &CourseOptions::default(), &dosing.policy)?)
}
