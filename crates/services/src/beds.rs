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
    /// The ward's name for people, where the site's layout gives one.
    pub ward_name: Option<String>,
    /// The day the occupant is expected home (PV2-9), where the PAS has said.
    pub expected_discharge: Option<chrono::NaiveDate>,
}

fn place(location: &Location) -> (String, String, String) {
    (location.ward.clone(), location.room.clone(), location.bed.clone())
}

/// Every bed, ward by ward, bay by bay.
pub async fn board(context: &Context, acting: &Acting) -> Result<Vec<BoardBed>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let store = context.store();
    let mut claims: BTreeMap<(String, String, String), Vec<store::AdmittedPlace>> = BTreeMap::new();
    for admitted in store.stays().admitted_places().await? {
        claims.entry(place(&admitted.location)).or_default().push(admitted);
    }
    // The site's layout first, in its order, each bed free until the feed or a
    // bed manager has said otherwise; then any bed the feed named that the
    // layout does not have, as the feed named it.
    let mut held: BTreeMap<(String, String, String), store::BedRow> =
        store.stays().beds().await?.into_iter().map(|bed| (place(&bed.location), bed)).collect();
    let layout = &context.settings().ward_layout;
    let names: BTreeMap<&str, &str> =
        layout.iter().filter_map(|w| w.name.as_deref().map(|n| (w.code.as_str(), n))).collect();
    let mut beds: Vec<(Location, BedState, Option<i64>)> = Vec::new();
    for ward in layout {
        for bay in &ward.bays {
            for code in bay.bed_codes() {
                let location = Location {
                    ward: ward.code.clone(),
                    room: bay.code.clone(),
                    bed: code,
                    facility: String::new(),
                };
                match held.remove(&place(&location)) {
                    Some(row) => beds.push((location, row.state, row.patient_id)),
                    None => beds.push((location, BedState::Free, None)),
                }
            }
        }
    }
    let in_layout = |ward: &str| layout.iter().any(|w| w.code == ward);
    let mut unplanned: Vec<store::BedRow> = held.into_values().collect();
    // Beds the layout lacks on a ward it has go with that ward; wards it lacks, after.
    unplanned.sort_by_key(|bed| (!in_layout(&bed.location.ward), place(&bed.location)));
    for bed in unplanned {
        let at = beds.iter().rposition(|(l, ..)| l.ward == bed.location.ward).map_or(beds.len(), |i| i + 1);
        beds.insert(at, (bed.location, bed.state, bed.patient_id));
    }
    let mut board = Vec::new();
    for (location, state, patient_id) in beds {
        let patient = match patient_id {
            Some(id) => Some(store.patients().read(actor, id).await?),
            None => None,
        };
        let mut also_claimed_by = Vec::new();
        let mut expected_discharge = None;
        for claim in claims.get(&place(&location)).into_iter().flatten() {
            if Some(claim.patient_id) == patient_id {
                expected_discharge = claim.expected_discharge;
            } else {
                also_claimed_by.push(store.patients().read(actor, claim.patient_id).await?);
            }
        }
        let ward_name = names.get(location.ward.as_str()).map(|n| (*n).to_owned());
        board.push(BoardBed { location, state, patient, also_claimed_by, ward_name, expected_discharge });
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
    let in_layout = context.settings().ward_layout.iter().any(|ward| {
        ward.code == location.ward
            && ward
                .bays
                .iter()
                .any(|bay| bay.code == location.room && bay.bed_codes().contains(&location.bed))
    });
    // A bed of the site's layout that nothing has touched yet is free.
    let (state, occupant) = match tx.stays().bed_for_update(location).await? {
        Some(found) => found,
        None if in_layout => (BedState::Free, None),
        None => {
            return Err(ServiceError::Invalid {
                field: "bed",
                reason: format!("there is no bed {named} on the board"),
            });
        }
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
