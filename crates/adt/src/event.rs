//! One ADT message as the event it reports: its kind, the patient, where they
//! are (and were), and when it happened (EVN-2, else MSH-7), for ordering.

use chrono::{DateTime, Utc};
use hl7::Message;
use patients::NhsNumberPolicy;

use crate::fields::{
    AdtError, Header, Identifier, Location, PatientIdentity, header, identifiers, location, parse_timestamp,
    patient,
};

/// The events in scope (integration.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EventKind {
    Admit,
    Transfer,
    Discharge,
    Register,
    PreAdmit,
    Update,
    CancelAdmit,
    CancelTransfer,
    CancelDischarge,
    AddPerson,
    UpdatePerson,
    Merge,
}

impl EventKind {
    /// From MSH-9.2 (or EVN-1).
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "A01" => Self::Admit,
            "A02" => Self::Transfer,
            "A03" => Self::Discharge,
            "A04" => Self::Register,
            "A05" => Self::PreAdmit,
            "A08" => Self::Update,
            "A11" => Self::CancelAdmit,
            "A12" => Self::CancelTransfer,
            "A13" => Self::CancelDischarge,
            "A28" => Self::AddPerson,
            "A31" => Self::UpdatePerson,
            "A40" => Self::Merge,
            _ => return None,
        })
    }

    /// Whether the event concerns an encounter (PV1 is needed).
    pub fn has_visit(self) -> bool {
        !matches!(self, Self::AddPerson | Self::UpdatePerson | Self::Merge)
    }
}

/// What an ADT message reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtEvent {
    pub kind: EventKind,
    pub patient: PatientIdentity,
    /// PV1-3: where the patient is after the event (for A12, where they were before the transfer).
    pub location: Option<Location>,
    /// PV1-6: the prior location.
    pub prior_location: Option<Location>,
    /// PV1-2, e.g. `I` inpatient.
    pub patient_class: Option<String>,
    /// PV1-19.
    pub visit_number: Option<String>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub discharged_at: Option<DateTime<Utc>>,
    /// For A40: the identifiers merged into this patient (MRG-1), each of the same type as one in PID-3.
    pub merged: Vec<Identifier>,
    /// PV2-9: the day the patient is expected to go home, where the PAS knows it.
    pub expected_discharge: Option<chrono::NaiveDate>,
}

/// A message read: its header, when it happened, and the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub header: Header,
    /// EVN-2 (recorded), else MSH-7: the order events are applied in.
    pub occurred_at: DateTime<Utc>,
    pub event: AdtEvent,
}

/// Reads an ADT message into its event, refusing it (for an AE) with the field at fault.
pub fn read_event(message: &Message, policy: NhsNumberPolicy) -> Result<Received, AdtError> {
    let header = header(message)?;
    if header.message_type != "ADT" {
        return Err(AdtError::new(
            "MSH-9",
            "200",
            format!("{:?} is not an ADT message", header.message_type),
        ));
    }
    let kind = EventKind::from_code(&header.event).ok_or_else(|| {
        AdtError::new("MSH-9", "201", format!("event {:?} is not handled here", header.event))
    })?;
    let evn = message.segment("EVN");
    let recorded = match evn {
        Some(evn) => parse_timestamp(evn.value(2)).map_err(|reason| AdtError::new("EVN-2", "102", reason))?,
        None => None,
    };
    let occurred_at = recorded.or(header.sent_at).ok_or_else(|| {
        AdtError::new("EVN-2", "101", "neither EVN-2 nor MSH-7 says when the event happened")
    })?;
    let pid =
        message.segment("PID").ok_or_else(|| AdtError::new("PID", "100", "the PID segment is missing"))?;
    let patient = patient(pid, policy)?;
    let pv1 = message.segment("PV1");
    if kind.has_visit() && pv1.is_none() {
        return Err(AdtError::new("PV1", "100", "this event needs a PV1 segment"));
    }
    let time = |n: usize| match pv1 {
        Some(pv1) => {
            parse_timestamp(pv1.value(n)).map_err(|reason| AdtError::new(&format!("PV1-{n}"), "102", reason))
        }
        None => Ok(None),
    };
    let location_now = pv1.and_then(|pv1| location(pv1, 3));
    if matches!(kind, EventKind::Admit | EventKind::Transfer) && location_now.is_none() {
        return Err(AdtError::new("PV1-3", "101", "an admission or transfer names the ward"));
    }
    let merged = match kind {
        EventKind::Merge => merged_identifiers(message, &patient)?,
        _ => Vec::new(),
    };
    let expected_discharge = match message.segment("PV2") {
        Some(pv2) => parse_timestamp(pv2.value(9))
            .map_err(|reason| AdtError::new("PV2-9", "102", reason))?
            .map(|at| at.date_naive()),
        None => None,
    };
    let event = AdtEvent {
        kind,
        location: location_now,
        prior_location: pv1.and_then(|pv1| location(pv1, 6)),
        patient_class: pv1.map(|pv1| pv1.value(2).trim().to_owned()).filter(|s| !s.is_empty()),
        visit_number: pv1.map(|pv1| pv1.component(19, 1).trim().to_owned()).filter(|s| !s.is_empty()),
        admitted_at: time(44)?,
        discharged_at: time(45)?,
        merged,
        expected_discharge,
        patient,
    };
    Ok(Received { header, occurred_at, event })
}

/// MRG-1, each identifier matched to one of the same type in PID-3; a merge of
/// an identifier into itself is refused (205), as is one with nothing to merge (101).
fn merged_identifiers(message: &Message, survivor: &PatientIdentity) -> Result<Vec<Identifier>, AdtError> {
    let mut merged = Vec::new();
    for mrg in message.segments("MRG") {
        for id in identifiers(mrg, 1) {
            let same_type =
                survivor.identifiers.iter().find(|s| s.id_type == id.id_type && s.authority == id.authority);
            match same_type {
                None => {
                    return Err(AdtError::new(
                        "MRG-1",
                        "204",
                        format!(
                            "the merged identifier's type {}/{} is not in PID-3",
                            id.authority, id.id_type
                        ),
                    ));
                }
                Some(target) if target.id == id.id => {
                    return Err(AdtError::new("MRG-1", "205", "a patient cannot be merged into itself"));
                }
                Some(_) => merged.push(id),
            }
        }
    }
    if merged.is_empty() {
        return Err(AdtError::new("MRG-1", "101", "an A40 names the identifier to merge in MRG-1"));
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: NhsNumberPolicy = NhsNumberPolicy { accept_test_range: true };

    fn read(text: &str) -> Result<Received, AdtError> {
        read_event(&Message::parse(text).expect("parsed"), POLICY)
    }

    #[test]
    fn an_admission_reads_its_patient_ward_bed_and_time() {
        let received = read(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261130101500||ADT^A01^ADT_A01|MSG1|P|2.4\r\
             EVN|A01|20261130101455\r\
             PID|||9990000018^^^NHS^NH~RXX1^^^RXX^PI||OAK^Ada^^^Ms||19580303|F\r\
             PV1||I|WARD7^BAY1^BED3^RXX01||||||||||||||||V100|||||||||||||||||||||||||20261130101000",
        )
        .expect("read");
        assert_eq!((received.header.control_id.as_str(), received.event.kind), ("MSG1", EventKind::Admit));
        assert_eq!(received.occurred_at.to_rfc3339(), "2026-11-30T10:14:55+00:00", "EVN-2 orders the event");
        let bed = received.event.location.expect("PV1-3");
        assert_eq!((bed.ward.as_str(), bed.room.as_str(), bed.bed.as_str()), ("WARD7", "BAY1", "BED3"));
        assert_eq!(received.event.visit_number.as_deref(), Some("V100"));
        assert!(received.event.admitted_at.is_some());
    }

    #[test]
    fn without_evn_2_the_message_time_orders_the_event() {
        let received = read(
            "MSH|^~\\&|PAS|RXX01|||20261130090000||ADT^A08|M2|P|2.4\rPID|||RXX1^^^RXX^PI||OAK^Ada\rPV1||I|W1",
        )
        .expect("read");
        assert_eq!(received.occurred_at.to_rfc3339(), "2026-11-30T09:00:00+00:00");
    }

    #[test]
    fn a_merge_takes_mrg_1_into_the_identifier_of_the_same_type() {
        let merge = read(
            "MSH|^~\\&|PAS|RXX01|||20261130090000||ADT^A40^ADT_A39|M3|P|2.4\rEVN|A40|20261130090000\r\
             PID|||RXX1^^^RXX^PI||OAK^Ada\rMRG|RXX9^^^RXX^PI",
        )
        .expect("read");
        assert_eq!(merge.event.merged.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["RXX9"]);
        let itself = read(
            "MSH|^~\\&|PAS|RXX01|||20261130090000||ADT^A40|M4|P|2.4\rPID|||RXX1^^^RXX^PI||OAK^Ada\rMRG|RXX1^^^RXX^PI",
        )
        .expect_err("into itself");
        assert_eq!((itself.field.as_str(), itself.code), ("MRG-1", "205"));
        let other_type = read(
            "MSH|^~\\&|PAS|RXX01|||20261130090000||ADT^A40|M5|P|2.4\rPID|||RXX1^^^RXX^PI||OAK^Ada\rMRG|9990000018^^^NHS^NH",
        )
        .expect_err("no NHS number in PID-3 to merge into");
        assert_eq!(other_type.code, "204");
    }

    #[test]
    fn what_cannot_be_applied_is_refused_with_the_field_and_code() {
        let refused = |text: &str| read(text).expect_err("refused");
        let not_adt = refused("MSH|^~\\&|LAB|RXX01|||20261130090000||ORU^R01|M6|P|2.4");
        assert_eq!((not_adt.field.as_str(), not_adt.code), ("MSH-9", "200"));
        assert_eq!(refused("MSH|^~\\&|PAS|RXX01|||20261130090000||ADT^A99|M7|P|2.4").code, "201");
        let no_ward = refused(
            "MSH|^~\\&|PAS|RXX01|||20261130090000||ADT^A02|M8|P|2.4\rPID|||RXX1^^^RXX^PI||OAK^Ada\rPV1||I",
        );
        assert_eq!(no_ward.field, "PV1-3");
        let no_id = refused(
            "MSH|^~\\&|PAS|RXX01|||20261130090000||ADT^A01||P|2.4\rPID|||RXX1^^^RXX^PI||OAK\rPV1||I|W1",
        );
        assert_eq!(no_id.field, "MSH-10");
    }
}
