//! Legitimate relationships: whether the person acting may see a patient's
//! images and more. A patient is theirs when a current inpatient on one of
//! their wards, or on their own patient list (added with a reason, audited).

use session::Permission;
use store::{AuditAction, RecordRef, Relationship};

use crate::{Acting, Context, ServiceError};

/// The acting person's relationship with a patient, if they have one (the check PACS gates on).
pub async fn with_patient(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<Option<Relationship>, ServiceError> {
    Ok(context.store().relationships().between(&acting.actor().user, patient_id).await?)
}

/// Adds a patient to the acting person's list, with the reason (view_patients; audited).
pub async fn add_to_list(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    reason: &str,
) -> Result<(), ServiceError> {
    change_list(context, acting, patient_id, Some(reason)).await
}

/// Takes a patient off the acting person's list (view_patients; audited).
pub async fn remove_from_list(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<(), ServiceError> {
    change_list(context, acting, patient_id, None).await
}

/// Adds (with the reason) or takes off, in one audited transaction.
async fn change_list(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    adding_because: Option<&str>,
) -> Result<(), ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let mut tx = context.store().begin().await?;
    let outcome = match adding_because {
        Some(reason) => {
            tx.relationships().add_to_list(&actor.user, patient_id, reason).await?;
            format!("ok: added to the list of {}", actor.user)
        }
        None => {
            tx.relationships().remove_from_list(&actor.user, patient_id).await?;
            format!("ok: taken off the list of {}", actor.user)
        }
    };
    let records = [RecordRef::Patient(patient_id)];
    tx.audit(actor, AuditAction::PatientListChange, Some(patient_id), &records, &outcome).await?;
    tx.commit().await?;
    Ok(())
}

/// The acting person's list: each patient's record and why they were added (view_patients; each read audited).
pub async fn list(
    context: &Context,
    acting: &Acting,
) -> Result<Vec<(patients::PatientRecord, String)>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let mut shown = Vec::new();
    for (patient_id, reason) in context.store().relationships().list_of(&actor.user).await? {
        shown.push((context.store().patients().read(actor, patient_id).await?, reason));
    }
    Ok(shown)
}

/// Sets the wards a member of staff works on (manage_users; audited).
pub async fn set_wards(
    context: &Context,
    acting: &Acting,
    user_id: &str,
    wards: &[String],
) -> Result<(), ServiceError> {
    let actor = acting.requires(Permission::ManageUsers)?;
    let mut tx = context.store().begin().await?;
    tx.relationships().set_wards(user_id, wards).await?;
    let outcome = format!("ok: wards {}", wards.join(","));
    tx.audit(actor, AuditAction::UserWards, None, &[RecordRef::User(user_id.to_owned())], &outcome).await?;
    tx.commit().await?;
    Ok(())
}

/// The wards a member of staff works on (no patient data).
pub async fn wards_of(context: &Context, user_id: &str) -> Result<Vec<String>, ServiceError> {
    Ok(context.store().relationships().wards_of(user_id).await?)
}
