//! The bed board: every bed by ward with its state and, when occupied, its
//! patient (view_patients; each patient read is audited by the store).

use adt::{BedState, Location};
use patients::PatientRecord;
use session::Permission;

use crate::{Acting, Context, ServiceError};

/// One bed as the board shows it.
#[derive(Debug, Clone)]
pub struct BoardBed {
    pub location: Location,
    pub state: BedState,
    pub patient: Option<PatientRecord>,
}

/// Every bed, ward by ward, bay by bay.
pub async fn board(context: &Context, acting: &Acting) -> Result<Vec<BoardBed>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let store = context.store();
    let mut board = Vec::new();
    for bed in store.stays().beds().await? {
        let patient = match bed.patient_id {
            Some(id) => Some(store.patients().read(actor, id).await?),
            None => None,
        };
        board.push(BoardBed { location: bed.location, state: bed.state, patient });
    }
    Ok(board)
}

/// A stamp that changes whenever a bed does (no patient data, not audited),
/// so the app knows when to show the board again.
pub async fn changed_stamp(context: &Context) -> Result<String, ServiceError> {
    Ok(context.store().stays().beds_changed_stamp().await?)
}
