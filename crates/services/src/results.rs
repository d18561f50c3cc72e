//! Laboratory results as the workstation holds them (view_patients).

use session::Permission;
use store::KeptLabResult;

use crate::{Acting, Context, ServiceError};

/// A patient's results, newest first.
pub async fn of_patient(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<Vec<KeptLabResult>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    Ok(context.store().lab_results().of_patient(actor, patient_id).await?)
}
