//! The bed board: each ward drawn as its bays and beds, with its occupancy.

use serde::Serialize;
use services::Acting;
use session::Permission;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BedOccupant {
    pub patient_id: u32,
    pub display_name: String,
    pub nhs_number: String,
    pub date_of_birth: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BedView {
    pub bed: String,
    /// Table 0116: U free, O occupied, C closed, H being cleaned, K contaminated, I isolated.
    pub state: String,
    pub state_words: String,
    pub occupant: Option<BedOccupant>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BayView {
    pub name: String,
    pub beds: Vec<BedView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct WardView {
    pub name: String,
    pub occupied: u32,
    pub open: u32,
    pub percent: u32,
    /// safe (below 85%), high (85% to 91%), critical (92% and over).
    pub pressure: String,
    pub bays: Vec<BayView>,
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn bed_board(state: State<'_, AppState>) -> Result<Vec<WardView>, CommandError> {
    let check = state.require(Permission::ViewPatients)?;
    let acting = Acting::from_session(&check, Permission::ViewPatients, state.workstation_name())?;
    let board = services::beds::board(state.services()?, &acting).await?;
    state.confirm(&check)?;
    Ok(wards(&board))
}

fn wards(board: &[services::beds::BoardBed]) -> Vec<WardView> {
    let mut wards: Vec<WardView> = Vec::new();
    for bed in board {
        if wards.last().is_none_or(|w| w.name != bed.location.ward) {
            wards.push(WardView {
                name: bed.location.ward.clone(),
                occupied: 0,
                open: 0,
                percent: 0,
                pressure: String::new(),
                bays: Vec::new(),
            });
        }
        let ward = wards.last_mut().expect("just pushed");
        if ward.bays.last().is_none_or(|b| b.name != bed.location.room) {
            ward.bays.push(BayView { name: bed.location.room.clone(), beds: Vec::new() });
        }
        let occupant = bed.patient.as_ref().map(|p| BedOccupant {
            patient_id: u32::try_from(p.id).unwrap_or(u32::MAX),
            display_name: p.details.display_name(),
            nhs_number: p.details.nhs_number.digits(),
            date_of_birth: p.details.date_of_birth.to_string(),
        });
        ward.bays.last_mut().expect("just pushed").beds.push(BedView {
            bed: bed.location.bed.clone(),
            state: bed.state.code().to_string(),
            state_words: bed.state.words().to_owned(),
            occupant,
        });
    }
    for ward in &mut wards {
        let states: std::collections::BTreeMap<String, adt::BedState> = board
            .iter()
            .filter(|b| b.location.ward == ward.name)
            .map(|b| (format!("{}/{}", b.location.room, b.location.bed), b.state))
            .collect();
        let occupancy = adt::occupancy(&states);
        ward.occupied = u32::try_from(occupancy.occupied).unwrap_or(u32::MAX);
        ward.open = u32::try_from(occupancy.open).unwrap_or(u32::MAX);
        ward.percent = occupancy.percent;
        ward.pressure = match occupancy.pressure {
            adt::Pressure::Safe => "safe",
            adt::Pressure::High => "high",
            adt::Pressure::Critical => "critical",
        }
        .into();
    }
    wards
}
