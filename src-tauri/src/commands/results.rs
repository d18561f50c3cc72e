//! A patient's laboratory results, as the feed filed them.

use serde::Serialize;
use services::Acting;
use session::Permission;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LabResultView {
    /// When the sample was taken (OBX-14, else OBR-7), RFC 3339 UTC.
    pub observed_at: String,
    pub code: String,
    pub name: String,
    pub value: String,
    pub units: String,
    pub reference_range: String,
    /// The laboratory's flag (OBX-8) in words when out of range: low, high, critically low…
    pub out_of_range: Option<String>,
    /// F final, P preliminary, C corrected…
    pub status: String,
    pub laboratory: String,
    /// The chemotherapy check this result may serve, if filed for one.
    pub used_for: Option<String>,
    /// Why a result a check would use is held for review (units, not final, not a number).
    pub held_because: Option<String>,
}

/// The patient's results, newest first.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id = patient_id))]
pub async fn patient_results(
    state: State<'_, AppState>,
    patient_id: u32,
) -> Result<Vec<LabResultView>, CommandError> {
    let check = state.require(Permission::ViewPatients)?;
    let acting = Acting::from_session(&check, Permission::ViewPatients, state.workstation_name())?;
    let results = services::results::of_patient(state.services()?, &acting, i64::from(patient_id)).await?;
    state.confirm(&check)?;
    Ok(results
        .into_iter()
        .map(|kept| {
            let r = kept.result;
            LabResultView {
                out_of_range: adt::out_of_range(&r.abnormal_flag).map(str::to_owned),
                observed_at: r.observed_at_utc,
                code: r.code,
                name: r.name,
                value: r.value,
                units: r.units,
                reference_range: r.reference_range,
                status: r.status,
                laboratory: r.laboratory,
                used_for: r.used_for,
                held_because: r.held_because,
            }
        })
        .collect())
}
