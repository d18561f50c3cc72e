//! Finding and opening patients: `view_patients`, audited by the store against
//! the person the token names.

use patients::{NewPatient, PatientQuery, PatientRecord};
use session::Permission;
use store::PatientSummary;

use crate::{Acting, Context, ServiceError};

/// The patients a query finds, at most `limit`; the search and what it showed are audited.
pub async fn search(
    context: &Context,
    acting: &Acting,
    query: &PatientQuery,
    limit: u32,
) -> Result<Vec<PatientSummary>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    Ok(context.store().patients().search(actor, query, limit).await?)
}

/// Adds a patient to the index by hand (`cws patient add`; in a trust the PAS's
/// feed does this); refused and audited if the number is already held.
pub async fn add(
    context: &Context,
    acting: &Acting,
    patient: NewPatient,
) -> Result<PatientRecord, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    Ok(context.store().patients().add(actor, patient).await?)
}

/// One patient's record; the read is audited.
pub async fn open(context: &Context, acting: &Acting, id: i64) -> Result<PatientRecord, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let record = context.store().patients().read(actor, id).await?;
    // A record merged into another (HL7 A40) is never the one to act on: its
    // stays, results and treatment now belong to the survivor.
    if let Some(survivor) = record.merged_into {
        return Err(ServiceError::Refused {
            rule: "merged_record",
            reason: format!(
                "This record was merged into patient record {survivor} by the PAS; search again and open the surviving record."
            ),
        });
    }
    Ok(record)
}
