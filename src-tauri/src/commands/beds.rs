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
    /// Ten digits, the UI shows them 3-3-4; none for a patient kept by hospital number.
    pub nhs_number: Option<String>,
    /// For a patient without a valid NHS number, the warning shown beside their name.
    pub nhs_number_flag: Option<String>,
    pub date_of_birth: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BedView {
    pub bed: String,
    /// Table 0116: U free, O occupied, C closed, H being cleaned, K contaminated, I isolated.
    pub state: String,
    pub state_words: String,
    pub occupant: Option<BedOccupant>,
    /// The day the occupant is expected home, ISO, where the PAS has said.
    pub expected_discharge: Option<String>,
    /// Others whose admission places them in this bed: shown as a conflict to resolve.
    pub also_claimed_by: Vec<BedOccupant>,
    /// The marks a bed manager may make on this bed now (`clean`, `cleaning`,
    /// `close`, `reopen`), as adt::mark allows: offered, and checked again on acting.
    pub marks: Vec<String>,
}

const MARKS: [(adt::BedMark, &str); 4] = [
    (adt::BedMark::Clean, "clean"),
    (adt::BedMark::StartCleaning, "cleaning"),
    (adt::BedMark::Close, "close"),
    (adt::BedMark::Reopen, "reopen"),
];

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BayView {
    pub name: String,
    pub beds: Vec<BedView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct WardView {
    /// The ward's code, as the PAS sends it.
    pub name: String,
    /// Its name for people, where the site's layout gives one.
    pub title: Option<String>,
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

fn occupant(p: &patients::PatientRecord) -> BedOccupant {
    BedOccupant {
        patient_id: u32::try_from(p.id).unwrap_or(u32::MAX),
        display_name: p.details.display_name(),
        nhs_number: p.details.nhs_number.map(|n| n.digits()),
        nhs_number_flag: p.details.nhs_number_flag(),
        date_of_birth: p.details.date_of_birth.to_string(),
    }
}

/// A bed manager's mark on a bed (manage_beds): `clean`, `cleaning`, `close`
/// or `reopen`, on the bed the board names WARD/BAY/BED. Gives the new state's words.
#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn mark_bed(
    state: State<'_, AppState>,
    bed: String,
    action: String,
) -> Result<String, CommandError> {
    let location = bed_location(&bed)?;
    let Some(&(action, _)) = MARKS.iter().find(|(_, name)| *name == action) else {
        return Err(invalid("action", format!("{action:?} is not clean, cleaning, close or reopen")));
    };
    let check = state.require(Permission::ManageBeds)?;
    let acting = Acting::from_session(&check, Permission::ManageBeds, state.workstation_name())?;
    let now = services::beds::mark(state.services()?, &acting, &location, action).await?;
    state.confirm(&check)?;
    Ok(now.words().to_owned())
}

fn invalid(field: &str, message: String) -> CommandError {
    CommandError { code: crate::error::ErrorCode::InvalidInput, message, field: Some(field.into()) }
}

fn bed_location(named: &str) -> Result<adt::Location, CommandError> {
    match named.split('/').collect::<Vec<_>>().as_slice() {
        [ward, room, bed] if !ward.is_empty() && !bed.is_empty() => Ok(adt::Location {
            ward: (*ward).to_owned(),
            room: (*room).to_owned(),
            bed: (*bed).to_owned(),
            facility: String::new(),
        }),
        _ => Err(invalid("bed", format!("{named:?} is not WARD/BAY/BED"))),
    }
}

fn wards(board: &[services::beds::BoardBed]) -> Vec<WardView> {
    let mut wards: Vec<WardView> = Vec::new();
    for bed in board {
        if wards.last().is_none_or(|w| w.name != bed.location.ward) {
            wards.push(WardView {
                name: bed.location.ward.clone(),
                title: bed.ward_name.clone(),
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
        let holder = bed.patient.as_ref().map(occupant);
        ward.bays.last_mut().expect("just pushed").beds.push(BedView {
            bed: bed.location.bed.clone(),
            state: bed.state.code().to_string(),
            state_words: bed.state.words().to_owned(),
            occupant: holder,
            expected_discharge: bed.expected_discharge.map(|d| d.to_string()),
            also_claimed_by: bed.also_claimed_by.iter().map(occupant).collect(),
            marks: MARKS
                .iter()
                .filter(|(mark, _)| bed.patient.is_none() && adt::mark(bed.state, *mark).is_ok())
                .map(|(_, name)| (*name).to_owned())
                .collect(),
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
