//! The bed board: every bed by ward with its state and, when occupied, its
//! patient (view_patients; each patient read is audited by the store), and
//! the bed manager's marks (manage_beds: closed, reopened, being cleaned,
//! clean), each audited.

use std::collections::BTreeMap;

use adt::{BedMark, BedState, Location};
use patients::PatientRecord;
use session::Permission;
use store::AuditAction;

use crate::{Acting, Context, ServiceError};

/// One bed as the board shows it.
#[derive(Debug, Clone)]
pub struct BoardBed {
    pub location: Location,
    pub state: BedState,
    pub patient: Option<PatientRecord>,
    /// Other patients whose admission places them in this bed. Normally none:
    /// one means the feed put a second patient in a bed without moving the
    /// first, and the board must say so rather than show one of them.
    pub also_claimed_by: Vec<PatientRecord>,
}

fn place(location: &Location) -> (String, String, String) {
    (location.ward.clone(), location.room.clone(), location.bed.clone())
}

/// Every bed, ward by ward, bay by bay.
pub async fn board(context: &Context, acting: &Acting) -> Result<Vec<BoardBed>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let store = context.store();
    let mut claims: BTreeMap<(String, String, String), Vec<i64>> = BTreeMap::new();
    for (location, patient_id) in store.stays().admitted_places().await? {
        claims.entry(place(&location)).or_default().push(patient_id);
    }
    let mut board = Vec::new();
    for bed in store.stays().beds().await? {
        let patient = match bed.patient_id {
            Some(id) => Some(store.patients().read(actor, id).await?),
            None => None,
        };
        let mut also_claimed_by = Vec::new();
        for &other in claims.get(&place(&bed.location)).into_iter().flatten() {
            if Some(other) != bed.patient_id {
                also_claimed_by.push(store.patients().read(actor, other).await?);
            }
        }
        board.push(BoardBed { location: bed.location, state: bed.state, patient, also_claimed_by });
    }
    Ok(board)
}

/// A bed manager's mark on a bed (adt::mark says which are allowed: never on
/// an occupied bed). Gives the bed's new state.
pub async fn mark(
    context: &Context,
    acting: &Acting,
    location: &Location,
    action: BedMark,
) -> Result<BedState, ServiceError> {
    let actor = acting.requires(Permission::ManageBeds)?;
    let named = format!("{}/{}/{}", location.ward, location.room, location.bed);
    let mut tx = context.store().begin().await?;
    let Some((state, occupant)) = tx.stays().bed_for_update(location).await? else {
        return Err(ServiceError::Invalid {
            field: "bed",
            reason: format!("there is no bed {named} on the board"),
        });
    };
    let state = if occupant.is_some() { BedState::Occupied } else { state };
    let marked = adt::mark(state, action)
        .map_err(|reason| ServiceError::Refused { rule: "bed_mark", reason: format!("{named}: {reason}") })?;
    tx.stays().set_bed(location, marked, None).await?;
    let outcome = format!("{named}: {} -> {}", state.words(), marked.words());
    tx.audit(actor, AuditAction::BedMark, None, &[], &outcome).await?;
    tx.commit().await?;
    Ok(marked)
}

/// A stamp that changes whenever a bed does (no patient data, not audited),
/// so the app knows when to show the board again.
pub async fn changed_stamp(context: &Context) -> Result<String, ServiceError> {
    Ok(context.store().stays().beds_changed_stamp().await?)
}
