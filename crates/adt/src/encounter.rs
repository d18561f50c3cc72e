//! A patient's current stay, moved only forwards. Events are applied in the
//! order they happened (EVN-2, else MSH-7): one older than the stay's latest
//! is recorded and changes nothing. A cancellation undoes exactly the event it
//! cancels: A11 the admission, A12 the last transfer, A13 the discharge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{EventKind, Received};
use crate::fields::{AdtError, Location};

/// Where a stay stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StayState {
    /// Known to the PAS (A04 registered, A05 pre-admitted), not in a bed.
    Expected,
    Admitted,
    Discharged,
    /// The admission itself was cancelled (A11).
    Cancelled,
}

/// One event as it changed the stay, kept so a cancellation can undo it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub kind: EventKind,
    pub at: DateTime<Utc>,
    pub control_id: String,
    pub location_before: Option<Location>,
    pub state_before: StayState,
}

/// A patient's stay as the feed has told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stay {
    pub state: StayState,
    pub location: Option<Location>,
    /// The time of the latest event applied: nothing older moves the stay.
    pub latest: DateTime<Utc>,
    pub steps: Vec<Step>,
    /// The day the PAS expects the patient home (PV2-9), from the latest event that said.
    #[serde(default)]
    pub expected_discharge: Option<chrono::NaiveDate>,
}

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The stay changed.
    Moved,
    /// The event is older than the stay's latest: recorded, nothing changed.
    Stale,
    /// The event changes no stay (A08, A28, A31 update the person only).
    PersonOnly,
}

impl StayState {
    pub fn text(&self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Admitted => "admitted",
            Self::Discharged => "discharged",
            Self::Cancelled => "cancelled",
        }
    }
}

impl Stay {
    /// A stay begun by an admission, registration or pre-admission.
    pub fn begin(received: &Received) -> Result<Self, AdtError> {
        let event = &received.event;
        let state = match event.kind {
            EventKind::Admit => StayState::Admitted,
            EventKind::Register | EventKind::PreAdmit => StayState::Expected,
            other => {
                return Err(AdtError::new(
                    "MSH-9",
                    "204",
                    format!("{other:?} refers to a stay this workstation has no record of"),
                ));
            }
        };
        Ok(Self {
            state: state.clone(),
            location: event.location.clone().filter(|_| state == StayState::Admitted),
            latest: received.occurred_at,
            expected_discharge: event.expected_discharge,
            steps: vec![Step {
                kind: event.kind,
                at: received.occurred_at,
                control_id: received.header.control_id.clone(),
                location_before: None,
                state_before: StayState::Expected,
            }],
        })
    }

    /// Applies an event to this stay, forwards only.
    pub fn apply(&mut self, received: &Received) -> Result<Applied, AdtError> {
        let event = &received.event;
        // An A08 may bring a new expected discharge date for the stay; not an older one.
        if event.kind == EventKind::Update
            && self.state == StayState::Admitted
            && received.occurred_at >= self.latest
            && event.expected_discharge.is_some()
            && event.expected_discharge != self.expected_discharge
        {
            self.expected_discharge = event.expected_discharge;
            return Ok(Applied::Moved);
        }
        if matches!(
            event.kind,
            EventKind::Update | EventKind::AddPerson | EventKind::UpdatePerson | EventKind::Merge
        ) {
            return Ok(Applied::PersonOnly);
        }
        if received.occurred_at < self.latest {
            return Ok(Applied::Stale);
        }
        if event.expected_discharge.is_some() {
            self.expected_discharge = event.expected_discharge;
        }
        let before = (self.state.clone(), self.location.clone());
        let refuse = |reason: &str| Err(AdtError::new("MSH-9", "207", reason.to_owned()));
        match event.kind {
            EventKind::Admit => {
                if self.state == StayState::Admitted {
                    return refuse("the patient is already admitted");
                }
                self.state = StayState::Admitted;
                self.location = event.location.clone();
            }
            EventKind::Register | EventKind::PreAdmit => {
                if self.state == StayState::Admitted {
                    return refuse("the patient is already admitted");
                }
                self.state = StayState::Expected;
            }
            EventKind::Transfer => {
                if self.state != StayState::Admitted {
                    return refuse("only an admitted patient is transferred");
                }
                self.location = event.location.clone();
            }
            EventKind::Discharge => {
                if self.state != StayState::Admitted {
                    return refuse("only an admitted patient is discharged");
                }
                self.state = StayState::Discharged;
            }
            EventKind::CancelAdmit => {
                if self.state != StayState::Admitted
                    || self.steps.iter().any(|s| s.kind == EventKind::Transfer && !self.cancelled(s))
                {
                    return refuse("an admission is cancelled only before any transfer or discharge");
                }
                self.state = StayState::Cancelled;
                self.location = None;
            }
            EventKind::CancelTransfer => {
                let Some(transfer) = self.last_live(EventKind::Transfer) else {
                    return refuse("there is no transfer to cancel");
                };
                if self.state != StayState::Admitted {
                    return refuse("a transfer is cancelled only while the patient is admitted");
                }
                // PV1-3 shows the location before the transfer; the record of it is the same place.
                self.location = event.location.clone().or(transfer.location_before.clone());
            }
            EventKind::CancelDischarge => {
                if self.state != StayState::Discharged || self.last_live(EventKind::Discharge).is_none() {
                    return refuse("there is no discharge to cancel");
                }
                self.state = StayState::Admitted;
                // PV1-3 is where the patient is once the cancellation is processed.
                if event.location.is_some() {
                    self.location = event.location.clone();
                }
            }
            EventKind::Update | EventKind::AddPerson | EventKind::UpdatePerson | EventKind::Merge => {}
        }
        self.latest = received.occurred_at;
        self.steps.push(Step {
            kind: event.kind,
            at: received.occurred_at,
            control_id: received.header.control_id.clone(),
            location_before: before.1,
            state_before: before.0,
        });
        Ok(Applied::Moved)
    }

    /// The latest step of `kind` that no later cancellation undid.
    fn last_live(&self, kind: EventKind) -> Option<&Step> {
        self.steps.iter().rev().find(|s| s.kind == kind && !self.cancelled(s))
    }

    /// Whether a later step cancelled this one.
    fn cancelled(&self, step: &Step) -> bool {
        let cancel = match step.kind {
            EventKind::Admit => EventKind::CancelAdmit,
            EventKind::Transfer => EventKind::CancelTransfer,
            EventKind::Discharge => EventKind::CancelDischarge,
            _ => return false,
        };
        let after: Vec<&Step> =
            self.steps.iter().filter(|s| s.at >= step.at && !std::ptr::eq(*s, step)).collect();
        let cancels = after.iter().filter(|s| s.kind == cancel).count();
        let later_same = after.iter().filter(|s| s.kind == step.kind).count();
        cancels > later_same
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::read_event;

    fn received(event: &str, at: &str, location: &str, id: &str) -> Received {
        let text = format!(
            "MSH|^~\\&|PAS|RXX01|||{at}||ADT^{event}|{id}|P|2.4\rEVN|{event}|{at}\rPID|||RXX1^^^RXX^PI||OAK^Ada\rPV1||I|{location}"
        );
        let policy = patients::NhsNumberPolicy { accept_test_range: true };
        read_event(&hl7::Message::parse(&text).expect("parsed"), policy).expect("read")
    }

    fn with_expected(received: Received, day: &str) -> Received {
        let mut received = received;
        received.event.expected_discharge =
            Some(chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("day"));
        received
    }

    #[test]
    fn the_expected_discharge_comes_with_the_admission_and_a_later_a08_and_never_an_older_one() {
        let admit = with_expected(received("A01", "202611300900", "W7^B1^BED1", "M1"), "2026-12-05");
        let mut stay = Stay::begin(&admit).expect("admitted");
        assert_eq!(stay.expected_discharge.map(|d| d.to_string()).as_deref(), Some("2026-12-05"));
        let older = with_expected(received("A08", "202611300800", "W7^B1^BED1", "M2"), "2026-12-01");
        assert_eq!(
            stay.apply(&older).expect("read"),
            Applied::PersonOnly,
            "older than the stay: changes nothing"
        );
        assert_eq!(stay.expected_discharge.map(|d| d.to_string()).as_deref(), Some("2026-12-05"));
        let later = with_expected(received("A08", "202611301000", "W7^B1^BED1", "M3"), "2026-12-08");
        assert_eq!(stay.apply(&later).expect("read"), Applied::Moved);
        assert_eq!(stay.expected_discharge.map(|d| d.to_string()).as_deref(), Some("2026-12-08"));
        assert_eq!(bed(&stay), "W7/BED1", "an A08 moves no one");
        let moved = received("A02", "202611301100", "W7^B1^BED2", "M4");
        stay.apply(&moved).expect("moved");
        assert_eq!(
            stay.expected_discharge.map(|d| d.to_string()).as_deref(),
            Some("2026-12-08"),
            "kept when not said again"
        );
    }

    #[test]
    fn pv2_9_is_read_as_a_day_and_an_unreadable_one_is_refused_naming_it() {
        let policy = patients::NhsNumberPolicy { accept_test_range: true };
        let text = |pv2_9: &str| {
            format!(
                "MSH|^~\\&|PAS|RXX01|||202611300900||ADT^A01|M1|P|2.4\rEVN|A01|202611300900\rPID|||RXX1^^^RXX^PI||OAK^Ada\rPV1||I|W7^B1^BED1\rPV2|||||||||{pv2_9}"
            )
        };
        let read =
            read_event(&hl7::Message::parse(&text("20261205")).expect("parsed"), policy).expect("read");
        assert_eq!(read.event.expected_discharge.map(|d| d.to_string()).as_deref(), Some("2026-12-05"));
        let refused = read_event(&hl7::Message::parse(&text("tomorrow")).expect("parsed"), policy)
            .expect_err("refused");
        assert_eq!(refused.field, "PV2-9");
    }

    fn bed(stay: &Stay) -> String {
        stay.location.as_ref().map(|l| format!("{}/{}", l.ward, l.bed)).unwrap_or_default()
    }

    #[test]
    fn a_stay_moves_forwards_and_an_older_message_changes_nothing() {
        let mut stay = Stay::begin(&received("A01", "202611300900", "W7^B1^3", "1")).expect("admitted");
        assert_eq!(stay.apply(&received("A02", "202611301100", "W9^B2^5", "3")).expect("ok"), Applied::Moved);
        let late = received("A02", "202611301000", "W8^B1^1", "2");
        assert_eq!(stay.apply(&late).expect("ok"), Applied::Stale, "older than the stay's latest");
        assert_eq!(bed(&stay), "W9/5", "the patient is not moved backwards");
        assert_eq!(stay.apply(&received("A03", "202611301500", "W9^B2^5", "4")).expect("ok"), Applied::Moved);
        assert_eq!(stay.state, StayState::Discharged);
    }

    #[test]
    fn each_cancellation_undoes_exactly_its_event() {
        let mut stay = Stay::begin(&received("A01", "202611300900", "W7^B1^3", "1")).expect("admitted");
        stay.apply(&received("A02", "202611301000", "W9^B2^5", "2")).expect("transferred");
        stay.apply(&received("A12", "202611301010", "W7^B1^3", "3")).expect("transfer cancelled");
        assert_eq!(bed(&stay), "W7/3", "back where the transfer began");
        assert!(
            stay.apply(&received("A12", "202611301020", "W7^B1^3", "4")).is_err(),
            "no transfer left to cancel"
        );
        stay.apply(&received("A03", "202611301200", "W7^B1^3", "5")).expect("discharged");
        stay.apply(&received("A13", "202611301210", "W7^B1^3", "6")).expect("discharge cancelled");
        assert_eq!((stay.state.clone(), bed(&stay)), (StayState::Admitted, "W7/3".to_owned()));
        assert!(
            stay.apply(&received("A11", "202611301300", "W7^B1^3", "7")).is_ok(),
            "the admission, once its transfer was cancelled"
        );
        assert_eq!((stay.state.clone(), stay.location.clone()), (StayState::Cancelled, None));
    }

    #[test]
    fn impossible_moves_are_refused_not_guessed() {
        let mut stay = Stay::begin(&received("A01", "202611300900", "W7^B1^3", "1")).expect("admitted");
        assert!(stay.apply(&received("A01", "202611301000", "W7^B1^3", "2")).is_err(), "admitted twice");
        assert!(
            stay.apply(&received("A13", "202611301000", "W7^B1^3", "3")).is_err(),
            "no discharge to cancel"
        );
        stay.apply(&received("A02", "202611301000", "W9^B2^5", "4")).expect("transferred");
        assert!(
            stay.apply(&received("A11", "202611301100", "W9^B2^5", "5")).is_err(),
            "an admission after a transfer"
        );
        assert!(
            Stay::begin(&received("A02", "202611300900", "W7^B1^3", "6")).is_err(),
            "a transfer with no stay"
        );
    }
}
