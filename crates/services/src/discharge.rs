//! Discharge summaries (#19, the drafting part): a draft started from the
//! patient's latest admission, prefilled from the store, saved again and again
//! (autosave) only from the version read, and opened again after a crash.
//! Each act needs `author_discharge` and is audited with the summary's id.

use discharge::{AdmissionDetails, DischargeDetails, DischargeSummary, Template};
use session::Permission;
use store::{AuditAction, RecordRef};

use crate::{Acting, Context, ServiceError};

/// A draft as the author works on it: the content, and the row version to save from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Draft {
    pub id: i64,
    pub row_version: i64,
    pub summary: DischargeSummary,
}

fn template_named(name: &str) -> Result<Template, ServiceError> {
    Template::shipped().into_iter().find(|t| t.name == name).ok_or_else(|| ServiceError::Invalid {
        field: "template",
        reason: format!(
            "no template is called {name:?}; there are {}",
            Template::shipped().iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// Starts a draft for the patient on `template`, prefilled from the store: the
/// GP practice, and the admission and discharge details of the latest stay.
pub async fn start(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    template: &str,
) -> Result<Draft, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let template = template_named(template)?;
    let patient = context.store().patients().read(actor, patient_id).await?;
    let stay = context.store().stays().latest(actor, patient_id).await?;
    let admitted_at = stay.as_ref().and_then(|s| s.stay.steps.first().map(|step| step.at));
    let discharged = stay.as_ref().filter(|s| s.stay.state == adt::StayState::Discharged);
    let summary = DischargeSummary {
        patient_id,
        template: template.name.clone(),
        gp_practice: patient.details.gp_practice.map(|gp| gp.ods_code),
        admission: AdmissionDetails { admitted_at, ..AdmissionDetails::default() },
        discharge: DischargeDetails {
            discharged_at: discharged.map(|s| s.stay.latest),
            location: stay.as_ref().and_then(|s| s.stay.location.as_ref().map(|l| l.ward.clone())),
            specialty: Some(template.specialty_code.clone()),
            ..DischargeDetails::default()
        },
        diagnoses: Vec::new(),
        procedures: Vec::new(),
        medications: Vec::new(),
        allergies: None,
        text: discharge::Section::ALL
            .into_iter()
            .filter_map(|section| template.default_text(section).map(|text| (section, text.to_owned())))
            .collect(),
    };
    let content = serde_json::to_string(&summary)
        .map_err(|e| ServiceError::Invalid { field: "summary", reason: e.to_string() })?;
    let mut tx = context.store().begin().await?;
    let id = tx
        .discharge_summaries()
        .create_draft(patient_id, stay.map(|s| s.id), 1, &content, &actor.user)
        .await?;
    tx.audit(
        actor,
        AuditAction::DischargeDraft,
        Some(patient_id),
        &[RecordRef::DischargeSummary(id)],
        "ok: started",
    )
    .await?;
    tx.commit().await?;
    Ok(Draft { id, row_version: 1, summary })
}

/// Saves the draft from the row version the author read; gives the new one.
/// Someone else's save since, or a signed summary, is refused and nothing written.
pub async fn save(
    context: &Context,
    acting: &Acting,
    id: i64,
    read_at: i64,
    summary: &DischargeSummary,
) -> Result<i64, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let kept = context.store().discharge_summaries().get(id).await?;
    if kept.patient_id != summary.patient_id {
        return Err(ServiceError::Refused {
            rule: "summary_of_this_patient",
            reason: format!("discharge summary {id} belongs to another patient record; nothing was saved"),
        });
    }
    let content = serde_json::to_string(summary)
        .map_err(|e| ServiceError::Invalid { field: "summary", reason: e.to_string() })?;
    let mut tx = context.store().begin().await?;
    let now = tx.discharge_summaries().save_draft(id, read_at, &content, &actor.user).await?;
    tx.audit(
        actor,
        AuditAction::DischargeDraft,
        Some(kept.patient_id),
        &[RecordRef::DischargeSummary(id)],
        "ok: saved",
    )
    .await?;
    tx.commit().await?;
    Ok(now)
}

/// A summary as kept, to carry on editing or to read.
pub async fn open(context: &Context, acting: &Acting, id: i64) -> Result<Draft, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let kept = context.store().discharge_summaries().get(id).await?;
    context
        .store()
        .audit()
        .record_for_patient(
            actor,
            AuditAction::DischargeRead,
            kept.patient_id,
            &[RecordRef::DischargeSummary(id)],
            "ok",
        )
        .await?;
    let summary = serde_json::from_str(&kept.content).map_err(|e| {
        ServiceError::Store(store::StoreError::Database(format!(
            "discharge summary {id} cannot be read: {e}"
        )))
    })?;
    Ok(Draft { id, row_version: kept.row_version, summary })
}
