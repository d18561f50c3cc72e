//! The signed-in person's relationship with a patient (a current inpatient on
//! one of their wards, or on their own patient list), and their patient list.

use serde::Serialize;
use services::Acting;
use session::Permission;
use store::Relationship;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RelationshipView {
    /// `ward` or `patient_list`.
    pub kind: String,
    /// The ward, or the reason the patient was added to the list.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PatientListEntryView {
    pub patient_id: u32,
    pub display_name: String,
    /// Ten digits, the UI shows them 3-3-4; none for a patient kept by hospital number.
    pub nhs_number: Option<String>,
    /// For a patient without a valid NHS number, the warning shown beside their name.
    pub nhs_number_flag: Option<String>,
    pub reason: String,
}

fn acting(state: &State<'_, AppState>) -> Result<(session::SessionCheck, Acting), CommandError> {
    let check = state.require(Permission::ViewPatients)?;
    let acting = Acting::from_session(&check, Permission::ViewPatients, state.workstation_name())?;
    Ok((check, acting))
}

/// Whether the signed-in person has a legitimate relationship with the patient, and what it is.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id))]
pub async fn patient_relationship(
    state: State<'_, AppState>,
    patient_id: u32,
) -> Result<Option<RelationshipView>, CommandError> {
    let (check, acting) = acting(&state)?;
    let found =
        services::relationships::with_patient(state.services()?, &acting, i64::from(patient_id)).await?;
    state.confirm(&check)?;
    Ok(found.map(|relationship| match relationship {
        Relationship::Ward(ward) => RelationshipView { kind: "ward".into(), detail: ward },
        Relationship::PatientList(reason) => RelationshipView { kind: "patient_list".into(), detail: reason },
    }))
}

/// Adds the patient to the signed-in person's list, with why (audited).
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id))]
pub async fn add_to_patient_list(
    state: State<'_, AppState>,
    patient_id: u32,
    reason: String,
) -> Result<(), CommandError> {
    let (check, acting) = acting(&state)?;
    services::relationships::add_to_list(state.services()?, &acting, i64::from(patient_id), &reason).await?;
    state.confirm(&check)?;
    Ok(())
}

/// Takes the patient off the signed-in person's list (audited).
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id))]
pub async fn remove_from_patient_list(
    state: State<'_, AppState>,
    patient_id: u32,
) -> Result<(), CommandError> {
    let (check, acting) = acting(&state)?;
    services::relationships::remove_from_list(state.services()?, &acting, i64::from(patient_id)).await?;
    state.confirm(&check)?;
    Ok(())
}

/// The signed-in person's patient list, each with the reason they gave.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn my_patient_list(state: State<'_, AppState>) -> Result<Vec<PatientListEntryView>, CommandError> {
    let (check, acting) = acting(&state)?;
    let list = services::relationships::list(state.services()?, &acting).await?;
    state.confirm(&check)?;
    Ok(list
        .into_iter()
        .map(|(patient, reason)| PatientListEntryView {
            patient_id: u32::try_from(patient.id).unwrap_or(u32::MAX),
            display_name: patient.details.display_name(),
            nhs_number: patient.details.nhs_number.map(|n| n.digits()),
            nhs_number_flag: patient.details.nhs_number_flag(),
            reason,
        })
        .collect())
}
