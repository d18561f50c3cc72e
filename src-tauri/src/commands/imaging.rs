//! The Imaging page: a patient's studies from the PACS, and a viewer opened on
//! one. The gate is the service's (view_images and a legitimate relationship,
//! or break-glass with a reason); these commands only prove the session.

use serde::Serialize;
use services::Acting;
use services::imaging::{Access, BreakGlass};
use session::Permission;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct StudyView {
    pub study_uid: String,
    /// ISO date, where the PACS gave one.
    pub date: Option<String>,
    /// `HH:MM`.
    pub time: Option<String>,
    /// `CT`, `MR/PT`…
    pub modalities: String,
    pub description: Option<String>,
    pub accession_number: Option<String>,
    pub series: Option<u32>,
    pub instances: Option<u32>,
    pub referring_clinician: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct StudyListView {
    /// Newest first.
    pub studies: Vec<StudyView>,
    /// Studies listed without a UID, which cannot be opened.
    pub without_uid: u32,
    /// The PACS holds more than the list shows (over ten thousand studies).
    pub more_than_shown: bool,
    /// Why these images may be seen: `Inpatient on WARD7`, `On your patient list: …`, `Break-glass: …`.
    pub access: String,
    pub break_glass: bool,
    /// The site's viewers, by name, in its order.
    pub viewers: Vec<String>,
}

/// The tokens: view_images, and for break-glass the session's break_glass
/// token where it has one (else the view_images token, which the service
/// refuses and audits as break-glass without the permission).
fn tokens(
    state: &State<'_, AppState>,
    break_glass_reason: Option<&str>,
) -> Result<(session::SessionCheck, Acting, Option<Acting>), CommandError> {
    let check = state.require(Permission::ViewImages)?;
    let acting = Acting::from_session(&check, Permission::ViewImages, state.workstation_name())?;
    let glass = match break_glass_reason {
        None => None,
        Some(_) => Some(match state.require(Permission::BreakGlass) {
            Ok(glass_check) => {
                Acting::from_session(&glass_check, Permission::BreakGlass, state.workstation_name())?
            }
            Err(_) => acting.clone(),
        }),
    };
    Ok((check, acting, glass))
}

/// The patient's studies, newest first.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id = patient_id))]
pub async fn patient_studies(
    state: State<'_, AppState>,
    patient_id: u32,
    break_glass_reason: Option<String>,
) -> Result<StudyListView, CommandError> {
    let (check, acting, glass) = tokens(&state, break_glass_reason.as_deref())?;
    let glass = glass
        .as_ref()
        .zip(break_glass_reason.as_deref())
        .map(|(acting, reason)| BreakGlass { acting, reason });
    let context = state.services()?;
    let list = services::imaging::studies(context, &acting, i64::from(patient_id), glass).await?;
    state.confirm(&check)?;
    Ok(StudyListView {
        without_uid: u32::try_from(list.without_uid).unwrap_or(u32::MAX),
        more_than_shown: list.more_than_shown,
        break_glass: matches!(list.access, Access::BreakGlass(_)),
        access: match &list.access {
            Access::Ward(ward) => format!("Inpatient on {ward}"),
            Access::PatientList(reason) => format!("On your patient list: {reason}"),
            Access::BreakGlass(reason) => format!("Break-glass: {reason}"),
        },
        viewers: context
            .settings()
            .pacs
            .iter()
            .flat_map(|p| p.viewers.iter().map(|v| v.name.clone()))
            .collect(),
        studies: list
            .studies
            .into_iter()
            .map(|s| StudyView {
                study_uid: s.study_uid,
                date: s.date.map(|d| d.to_string()),
                time: s.time,
                modalities: s.modalities.join("/"),
                description: s.description,
                accession_number: s.accession_number,
                series: s.series,
                instances: s.instances,
                referring_clinician: s.referring_clinician,
            })
            .collect(),
    })
}

/// Opens one of the patient's studies in the named viewer; gives the viewer's name.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id = patient_id))]
pub async fn open_study(
    state: State<'_, AppState>,
    patient_id: u32,
    study_uid: String,
    viewer: String,
    break_glass_reason: Option<String>,
) -> Result<String, CommandError> {
    let (check, acting, glass) = tokens(&state, break_glass_reason.as_deref())?;
    let glass = glass
        .as_ref()
        .zip(break_glass_reason.as_deref())
        .map(|(acting, reason)| BreakGlass { acting, reason });
    let context = state.services()?;
    let launched =
        services::imaging::launch(context, &acting, i64::from(patient_id), &study_uid, &viewer, glass)
            .await?;
    state.confirm(&check)?;
    crate::viewers::open(context, &launched.url)?;
    Ok(launched.viewer)
}

/// Opens all of the patient's images in the named viewer (IID PATIENT, Weasis
/// by patient ID); gives the viewer's name.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all, fields(patient_id = patient_id))]
pub async fn open_patient_images(
    state: State<'_, AppState>,
    patient_id: u32,
    viewer: String,
    break_glass_reason: Option<String>,
) -> Result<String, CommandError> {
    let (check, acting, glass) = tokens(&state, break_glass_reason.as_deref())?;
    let glass = glass
        .as_ref()
        .zip(break_glass_reason.as_deref())
        .map(|(acting, reason)| BreakGlass { acting, reason });
    let context = state.services()?;
    let launched =
        services::imaging::launch_patient(context, &acting, i64::from(patient_id), &viewer, glass).await?;
    state.confirm(&check)?;
    crate::viewers::open(context, &launched.url)?;
    Ok(launched.viewer)
}
