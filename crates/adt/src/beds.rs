//! Beds and wards: each bed's state from HL7 table 0116, and a ward's
//! occupancy against the thresholds a bed manager watches (85% and 92%).

use std::collections::BTreeMap;

/// A bed's state (HL7 table 0116). There is no "reserved" in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BedState {
    /// `U` unoccupied: free for the next patient.
    Free,
    /// `O` occupied.
    Occupied,
    /// `C` closed.
    Closed,
    /// `H` housekeeping: being cleaned, as every bed is after a discharge.
    Housekeeping,
    /// `K` contaminated.
    Contaminated,
    /// `I` isolated.
    Isolated,
}

impl BedState {
    pub fn code(self) -> char {
        match self {
            Self::Free => 'U',
            Self::Occupied => 'O',
            Self::Closed => 'C',
            Self::Housekeeping => 'H',
            Self::Contaminated => 'K',
            Self::Isolated => 'I',
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code.trim() {
            "U" => Self::Free,
            "O" => Self::Occupied,
            "C" => Self::Closed,
            "H" => Self::Housekeeping,
            "K" => Self::Contaminated,
            "I" => Self::Isolated,
            _ => return None,
        })
    }

    pub fn words(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Occupied => "occupied",
            Self::Closed => "closed",
            Self::Housekeeping => "being cleaned",
            Self::Contaminated => "contaminated",
            Self::Isolated => "isolated",
        }
    }
}

/// What a bed manager may do to a bed by hand (manage_beds); occupancy comes only from the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BedMark {
    Close,
    Reopen,
    Clean,
    StartCleaning,
}

/// The state after a bed manager's mark, or why it is refused: an occupied
/// bed is never marked free or closed by hand (the patient must move first).
pub fn mark(state: BedState, action: BedMark) -> Result<BedState, String> {
    match (state, action) {
        (BedState::Occupied, _) => Err("the bed is occupied; move or discharge the patient first".into()),
        (BedState::Closed, BedMark::Reopen) => Ok(BedState::Free),
        (BedState::Closed, _) => Err("the bed is closed; reopen it first".into()),
        (_, BedMark::Close) => Ok(BedState::Closed),
        (BedState::Housekeeping | BedState::Contaminated, BedMark::Clean) => Ok(BedState::Free),
        (BedState::Free, BedMark::StartCleaning) => Ok(BedState::Housekeeping),
        (state, action) => Err(format!("a bed {} cannot be marked {action:?}", state.words())),
    }
}

/// How full a ward is, against the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressure {
    /// Below 85%.
    Safe,
    /// 85% to below 92%.
    High,
    /// 92% or more.
    Critical,
}

/// A ward's occupancy: occupied beds over beds open (closed beds are not
/// available, so not counted), as a whole percentage rounded down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    pub occupied: usize,
    pub open: usize,
    pub percent: u32,
    pub pressure: Pressure,
}

pub const HIGH_PERCENT: u32 = 85;
pub const CRITICAL_PERCENT: u32 = 92;

pub fn occupancy(beds: &BTreeMap<String, BedState>) -> Occupancy {
    let open = beds.values().filter(|s| **s != BedState::Closed).count();
    let occupied = beds.values().filter(|s| **s == BedState::Occupied).count();
    let percent = (occupied * 100).checked_div(open).map_or(0, |p| u32::try_from(p).unwrap_or(100));
    let pressure = match percent {
        p if p >= CRITICAL_PERCENT => Pressure::Critical,
        p if p >= HIGH_PERCENT => Pressure::High,
        _ => Pressure::Safe,
    };
    Occupancy { occupied, open, percent, pressure }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ward(occupied: usize, free: usize, closed: usize) -> BTreeMap<String, BedState> {
        let states = std::iter::repeat_n(BedState::Occupied, occupied)
            .chain(std::iter::repeat_n(BedState::Free, free))
            .chain(std::iter::repeat_n(BedState::Closed, closed));
        states.enumerate().map(|(i, s)| (format!("bed {i}"), s)).collect()
    }

    #[test]
    fn occupancy_counts_open_beds_and_names_its_pressure_at_the_thresholds() {
        assert_eq!(occupancy(&ward(84, 16, 0)).pressure, Pressure::Safe);
        assert_eq!(occupancy(&ward(85, 15, 0)).pressure, Pressure::High, "85% is high");
        assert_eq!(occupancy(&ward(91, 9, 0)).pressure, Pressure::High);
        assert_eq!(occupancy(&ward(92, 8, 0)).pressure, Pressure::Critical, "92% is critical");
        let with_closed = occupancy(&ward(17, 3, 5));
        assert_eq!((with_closed.open, with_closed.percent), (20, 85), "closed beds are not open");
        assert_eq!(occupancy(&BTreeMap::new()).percent, 0);
    }

    #[test]
    fn codes_read_back_and_an_occupied_bed_is_never_marked_by_hand() {
        for state in [
            BedState::Free,
            BedState::Occupied,
            BedState::Closed,
            BedState::Housekeeping,
            BedState::Contaminated,
            BedState::Isolated,
        ] {
            assert_eq!(BedState::from_code(&state.code().to_string()), Some(state));
        }
        assert!(mark(BedState::Occupied, BedMark::Close).is_err());
        assert_eq!(mark(BedState::Housekeeping, BedMark::Clean), Ok(BedState::Free));
        assert_eq!(mark(BedState::Free, BedMark::Close), Ok(BedState::Closed));
        assert_eq!(mark(BedState::Closed, BedMark::Reopen), Ok(BedState::Free));
        assert!(mark(BedState::Closed, BedMark::Clean).is_err());
    }
}
