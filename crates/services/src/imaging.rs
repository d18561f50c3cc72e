//! Imaging: a patient's studies from the PACS, and a viewer opened on one.
//! The gate is here, in Rust: `view_images` and a legitimate relationship (an
//! inpatient on one of the user's wards, or on their patient list), or else
//! break-glass by a user with `break_glass`, who gives a reason. Every query,
//! launch, break-glass and refusal is audited: the user, the patient, the study
//! UIDs, the viewer, and the reason where break-glass applied.

use serde::Serialize;
use session::Permission;
use store::{AuditAction, AuditEntry, RecordRef, Relationship};

use crate::pacs::{PacsError, PacsPatientId};
use crate::{Acting, Context, ServiceError};

/// Fewest characters a break-glass reason may have: a reason, not a keystroke.
const SHORTEST_REASON: usize = 10;

/// A user's emergency access: their token proving `break_glass`, and why.
#[derive(Debug, Clone, Copy)]
pub struct BreakGlass<'a> {
    pub acting: &'a Acting,
    pub reason: &'a str,
}

/// Why the images may be seen, as the page says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Access {
    Ward(String),
    PatientList(String),
    BreakGlass(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudyList {
    /// Newest first.
    pub studies: Vec<imaging::Study>,
    /// Studies the PACS listed without a study UID: counted, cannot be opened.
    pub without_uid: usize,
    /// More studies than are asked for at most (a hundred pages): the page says so.
    pub more_than_shown: bool,
    pub access: Access,
}

/// A viewer opened: the URL for the OS handler, and the command that closes it on lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Launched {
    pub url: String,
    pub viewer: String,
    pub close_command: Option<String>,
}

/// The patient's studies, newest first (view_images, and a relationship or break-glass).
pub async fn studies(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    break_glass: Option<BreakGlass<'_>>,
) -> Result<StudyList, ServiceError> {
    // No PACS, no question of access: say so before asking anyone to break glass.
    pacs_settings(context)?;
    let access = gate(context, acting, patient_id, break_glass).await?;
    let (page, pacs) = list(context, acting, patient_id).await?;
    let mut records = vec![RecordRef::Patient(patient_id)];
    records.extend(page.studies.iter().map(|s| RecordRef::Study(s.study_uid.clone())));
    let outcome = format!("ok: {} studies from {pacs}{}", page.studies.len(), access_note(&access));
    context
        .store()
        .audit()
        .record_for_patient(acting.actor(), AuditAction::ImagingQuery, patient_id, &records, &outcome)
        .await?;
    Ok(StudyList {
        studies: page.studies,
        without_uid: page.without_uid,
        more_than_shown: page.more_than_shown,
        access,
    })
}

/// Opens one of the patient's studies in the named viewer. The study is
/// confirmed to be this patient's by asking the PACS again, so a UID from
/// elsewhere never opens another person's images.
pub async fn launch(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    study_uid: &str,
    viewer_name: &str,
    break_glass: Option<BreakGlass<'_>>,
) -> Result<Launched, ServiceError> {
    let settings = pacs_settings(context)?;
    let viewer = find_viewer(settings, viewer_name)?;
    let access = gate(context, acting, patient_id, break_glass).await?;
    let (page, _) = list(context, acting, patient_id).await?;
    let Some(study) = page.studies.iter().find(|s| s.study_uid == study_uid) else {
        return Err(ServiceError::Refused {
            rule: "study_of_this_patient",
            reason: format!("the PACS lists no study {study_uid} for this patient"),
        });
    };
    let target = imaging::LaunchTarget::Study {
        study_uid: study.study_uid.clone(),
        accession_number: study.accession_number.clone(),
    };
    // A token only where the site mints them, and only in a header: Weasis's.
    let token = match (&settings.token_command, viewer.kind) {
        (Some(command), imaging::ViewerKind::Weasis) => {
            Some(crate::viewer_token::mint(command, &study.study_uid, context.now()).await?)
        }
        _ => None,
    };
    let launch = viewer
        .launch(&target, &settings.qido_url, token.as_deref())
        .map_err(|e| ServiceError::Invalid { field: e.field, reason: e.reason })?;
    let outcome = format!("ok: opened in {}{}", viewer.name, access_note(&access));
    context
        .store()
        .audit()
        .record_for_patient(
            acting.actor(),
            AuditAction::ImagingLaunch,
            patient_id,
            &[RecordRef::Patient(patient_id), RecordRef::Study(study.study_uid.clone())],
            &outcome,
        )
        .await?;
    Ok(Launched { url: launch.url, viewer: viewer.name.clone(), close_command: viewer.close_command() })
}

/// Opens all of the patient's images in the named viewer (IID
/// `requestType=PATIENT`, Weasis by patient ID; OHIF opens studies only), the
/// patient named by NHS number as an HL7 CX, or by hospital number where the
/// site's PACS knows patients by it.
pub async fn launch_patient(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    viewer_name: &str,
    break_glass: Option<BreakGlass<'_>>,
) -> Result<Launched, ServiceError> {
    let settings = pacs_settings(context)?;
    let viewer = find_viewer(settings, viewer_name)?;
    let access = gate(context, acting, patient_id, break_glass).await?;
    let patient = context.store().patients().read(acting.actor(), patient_id).await?.details;
    let identifier = match (patient.nhs_number, &settings.hospital_number_issuer, patient.mrn) {
        (Some(number), _, _) => imaging::PatientIdentifier::NhsNumber(number.digits()),
        (None, Some(issuer), Some(mrn)) if !issuer.is_empty() => {
            imaging::PatientIdentifier::Local { id: mrn, authority: issuer.clone() }
        }
        _ => {
            return Err(ServiceError::Refused {
                rule: "pacs_identifier",
                reason: "This patient has no valid NHS number, and the PACS is not set up to find patients by hospital number".into(),
            });
        }
    };
    let launch = viewer
        .launch(&imaging::LaunchTarget::Patient(identifier), &settings.qido_url, None)
        .map_err(|e| ServiceError::Invalid { field: e.field, reason: e.reason })?;
    let outcome = format!("ok: all images opened in {}{}", viewer.name, access_note(&access));
    context
        .store()
        .audit()
        .record_for_patient(
            acting.actor(),
            AuditAction::ImagingLaunch,
            patient_id,
            &[RecordRef::Patient(patient_id)],
            &outcome,
        )
        .await?;
    Ok(Launched { url: launch.url, viewer: viewer.name.clone(), close_command: viewer.close_command() })
}

fn find_viewer<'s>(
    settings: &'s settings::PacsSettings,
    viewer_name: &str,
) -> Result<&'s imaging::Viewer, ServiceError> {
    settings.viewers.iter().find(|v| v.name == viewer_name).ok_or_else(|| ServiceError::Invalid {
        field: "viewer",
        reason: format!(
            "no viewer is called {viewer_name:?}; this site offers {}",
            settings.viewers.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// Opens a study known by its UID alone (`cws imaging launch --study`): the
/// PACS says whose it is, that person is found here by NHS number (or hospital
/// number, where the site looks patients up by it), and the launch is gated and
/// confirmed as `launch` does.
pub async fn launch_study(
    context: &Context,
    acting: &Acting,
    study_uid: &str,
    viewer_name: &str,
    break_glass: Option<BreakGlass<'_>>,
) -> Result<(i64, Launched), ServiceError> {
    let actor = acting.requires(Permission::ViewImages)?;
    let settings = pacs_settings(context)?;
    let pacs = context.pacs(settings).map_err(unavailable)?;
    let not_found = || ServiceError::Refused {
        rule: "study_of_a_known_patient",
        reason: format!("the PACS holds no study {study_uid} of a patient known here"),
    };
    let owner = pacs.owner_of_study(study_uid).await.map_err(unavailable)?.ok_or_else(not_found)?;
    let by_nhs_number = owner.issuer.as_deref().is_none_or(|issuer| {
        settings.issuer_of_patient_id.as_deref().is_none_or(|nhs| nhs.eq_ignore_ascii_case(issuer))
    });
    let query = match patients::NhsNumber::parse(&owner.id, context.settings().nhs_numbers) {
        Ok(number) if by_nhs_number => patients::PatientQuery::NhsNumber(number),
        _ if settings.hospital_number_issuer.is_some() => patients::PatientQuery::Mrn(owner.id.clone()),
        _ => return Err(not_found()),
    };
    let found = context.store().patients().search(actor, &query, 2).await?;
    let [patient] = found.as_slice() else { return Err(not_found()) };
    let launched = launch(context, acting, patient.id, study_uid, viewer_name, break_glass).await?;
    Ok((patient.id, launched))
}

/// Gives a viewer URL to the site's open command, if it names one; else says
/// the caller should hand it to the OS handler (the app's opener, `xdg-open`).
pub fn open_with_site_command(context: &Context, url: &str) -> Result<bool, ServiceError> {
    let Some(command) = context.settings().pacs.as_ref().and_then(|p| p.open_command.as_ref()) else {
        return Ok(false);
    };
    let status =
        std::process::Command::new(command).arg(url).status().map_err(|e| ServiceError::Unavailable {
            service: "viewer",
            reason: format!("the viewer could not be opened with {}: {e}", command.display()),
        })?;
    if !status.success() {
        return Err(ServiceError::Unavailable {
            service: "viewer",
            reason: format!("{} could not open the viewer ({status})", command.display()),
        });
    }
    Ok(true)
}

/// The commands that close every configured viewer that has one: sent when the
/// session locks or the card is pulled.
pub fn close_commands(context: &Context) -> Vec<String> {
    context
        .settings()
        .pacs
        .as_ref()
        .map(|p| p.viewers.iter().filter_map(imaging::Viewer::close_command).collect())
        .unwrap_or_default()
}

/// Each break-glass between `from` and `to`, for the Privacy Officer's review.
/// The entries carry record ids, never names.
pub async fn break_glass_uses(
    context: &Context,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<AuditEntry>, ServiceError> {
    let entries = context.store().audit().entries(from, to).await?;
    Ok(entries.into_iter().filter(|e| e.action == AuditAction::ImagingBreakGlass.text()).collect())
}

/// The gate: view_images, then a relationship, else break-glass with a reason
/// by a user holding break_glass. A refusal says why and is audited.
async fn gate(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    break_glass: Option<BreakGlass<'_>>,
) -> Result<Access, ServiceError> {
    let actor = acting.requires(Permission::ViewImages)?;
    match context.store().relationships().between(&actor.user, patient_id).await? {
        Some(Relationship::Ward(ward)) => return Ok(Access::Ward(ward)),
        Some(Relationship::PatientList(reason)) => return Ok(Access::PatientList(reason)),
        None => {}
    }
    let refuse = async |rule: &'static str, reason: String| -> Result<Access, ServiceError> {
        context
            .store()
            .audit()
            .record_for_patient(
                actor,
                AuditAction::ImagingRefused,
                patient_id,
                &[RecordRef::Patient(patient_id)],
                &format!("refused: {rule}"),
            )
            .await?;
        Err(ServiceError::Refused { rule, reason })
    };
    let Some(glass) = break_glass else {
        return refuse(
            "legitimate_relationship",
            "You have no legitimate relationship with this patient: they are not an inpatient on your wards or on your patient list. In an emergency, break glass and give the reason.".into(),
        )
        .await;
    };
    if glass.acting.actor() != actor || glass.acting.requires(Permission::BreakGlass).is_err() {
        return refuse(
            "break_glass_permission",
            "You have no legitimate relationship with this patient, and your role does not allow break-glass access. Add them to your patient list with a reason, or ask a colleague who cares for them.".into(),
        )
        .await;
    }
    let reason = glass.reason.trim();
    if reason.chars().count() < SHORTEST_REASON {
        return Err(ServiceError::Invalid {
            field: "break_glass_reason",
            reason: format!(
                "say why, in at least {SHORTEST_REASON} characters: the Privacy Officer reviews every use"
            ),
        });
    }
    // DICOM PS3.15 A.5: 110113 Security Alert, 110127 Emergency Override Started; purpose of use BTG.
    let outcome = format!("ok: DCM 110113/110127 emergency override (BTG); reason: {reason}");
    context
        .store()
        .audit()
        .record_for_patient(
            actor,
            AuditAction::ImagingBreakGlass,
            patient_id,
            &[RecordRef::Patient(patient_id)],
            &outcome,
        )
        .await?;
    Ok(Access::BreakGlass(reason.to_owned()))
}

fn access_note(access: &Access) -> String {
    match access {
        Access::Ward(ward) => format!(" (inpatient on {ward})"),
        Access::PatientList(_) => " (on the user's patient list)".into(),
        Access::BreakGlass(_) => " (break-glass)".into(),
    }
}

fn pacs_settings(context: &Context) -> Result<&settings::PacsSettings, ServiceError> {
    context.settings().pacs.as_ref().ok_or_else(|| ServiceError::Unavailable {
        service: "pacs",
        reason: "No PACS is set up for this workstation ([pacs] in the site's settings)".into(),
    })
}

/// The patient's studies from the PACS, by NHS number (with the site's issuer),
/// and by hospital number where the site says the PACS knows patients by it.
/// A PACS answering with another patient's studies is refused and audited.
async fn list(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<(imaging::StudyPage, String), ServiceError> {
    let settings = pacs_settings(context)?;
    let patient = context.store().patients().read(acting.actor(), patient_id).await?.details;
    let mut ids = Vec::new();
    if let Some(number) = patient.nhs_number {
        ids.push(PacsPatientId { id: number.digits(), issuer: settings.issuer_of_patient_id.clone() });
    }
    if let (Some(issuer), Some(mrn)) = (&settings.hospital_number_issuer, &patient.mrn) {
        ids.push(PacsPatientId { id: mrn.clone(), issuer: (!issuer.is_empty()).then(|| issuer.clone()) });
    }
    if ids.is_empty() {
        return Err(ServiceError::Refused {
            rule: "pacs_identifier",
            reason: "This patient has no valid NHS number, and the PACS is not set up to find patients by hospital number".into(),
        });
    }
    let known_as: Vec<String> = ids.iter().map(|i| i.id.clone()).collect();
    let known_as: Vec<&str> = known_as.iter().map(String::as_str).collect();
    let pacs = context.pacs(settings).map_err(unavailable)?;
    match pacs.studies(&ids, &known_as).await {
        Ok(page) => Ok((page, settings.qido_url.clone())),
        Err(PacsError::WrongPatient(reason)) => {
            tracing::warn!(patient_id, "the PACS answered with another patient's studies; refused");
            context
                .store()
                .audit()
                .record_for_patient(
                    acting.actor(),
                    AuditAction::ImagingRefused,
                    patient_id,
                    &[RecordRef::Patient(patient_id)],
                    "refused: pacs_wrong_patient",
                )
                .await?;
            Err(ServiceError::Refused { rule: "pacs_wrong_patient", reason })
        }
        Err(error) => Err(unavailable(error)),
    }
}

fn unavailable(error: PacsError) -> ServiceError {
    let (PacsError::Unavailable(reason) | PacsError::WrongPatient(reason)) = error;
    ServiceError::Unavailable { service: "pacs", reason }
}
