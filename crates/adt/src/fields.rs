//! The fields an ADT message is judged on: MSH (who sent it, which message),
//! PID (who the patient is), PV1-3 (where) and HL7 timestamps.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use hl7::{Message, Segment};
use patients::{NhsNumber, NhsNumberPolicy};

/// Why a message cannot be applied: the field, the reason, and the HL7 error code (table 0357).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct AdtError {
    pub field: String,
    pub reason: String,
    /// 100 segment sequence error, 101 required field missing, 102 data type error,
    /// 103 table value not found, 200 unsupported message type, 201 unsupported event,
    /// 204 unknown key identifier, 205 duplicate key identifier, 207 application internal error.
    pub code: &'static str,
}

impl AdtError {
    pub fn new(field: &str, code: &'static str, reason: impl Into<String>) -> Self {
        Self { field: field.to_owned(), reason: reason.into(), code }
    }
}

/// What MSH says of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub sending_application: String,
    pub sending_facility: String,
    pub control_id: String,
    /// MSH-9.1, e.g. `ADT`, `ORU`.
    pub message_type: String,
    /// MSH-9.2, e.g. `A01`.
    pub event: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub version: String,
}

/// MSH, with the fields a receiver needs refused by name when missing.
pub fn header(message: &Message) -> Result<Header, AdtError> {
    let msh = message.header();
    let required = |n: usize, name: &str| {
        let value = msh.value(n).trim();
        if value.is_empty() {
            Err(AdtError::new(&format!("MSH-{n}"), "101", format!("the {name} is missing")))
        } else {
            Ok(value.to_owned())
        }
    };
    Ok(Header {
        sending_application: msh.value(3).trim().to_owned(),
        sending_facility: msh.value(4).trim().to_owned(),
        control_id: required(10, "message control id")?,
        message_type: msh.component(9, 1).trim().to_owned(),
        event: msh.component(9, 2).trim().to_owned(),
        sent_at: parse_timestamp(msh.value(7)).ok().flatten(),
        version: msh.value(12).trim().to_owned(),
    })
}

/// An HL7 timestamp (`YYYY[MM[DD[HHMM[SS[.S…]]]]][+/-ZZZZ]`), as UTC. Empty
/// is `None`. A time without an offset is read as UTC, so that every message
/// of one sender orders the same way; a sender in UK local time should send
/// its offset (`+0100` in summer), or summer times read an hour late.
pub fn parse_timestamp(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (body, offset) = match text.find(['+', '-']) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let body = body.split('.').next().unwrap_or("");
    if !body.chars().all(|c| c.is_ascii_digit()) || ![4, 6, 8, 10, 12, 14].contains(&body.len()) {
        return Err(format!("{text:?} is not an HL7 timestamp (YYYYMMDDHHMMSS)"));
    }
    let padded = format!("{body:0<14}");
    let fill = |range: std::ops::Range<usize>, default: &str| {
        if body.len() >= range.end { padded[range].to_owned() } else { default.to_owned() }
    };
    let stamp = format!(
        "{}{}{}{}{}{}",
        &padded[..4],
        fill(4..6, "01"),
        fill(6..8, "01"),
        fill(8..10, "00"),
        fill(10..12, "00"),
        fill(12..14, "00")
    );
    let naive = NaiveDateTime::parse_from_str(&stamp, "%Y%m%d%H%M%S")
        .map_err(|_| format!("{text:?} is not a real date and time"))?;
    let offset = match offset {
        None => FixedOffset::east_opt(0),
        Some(zone) => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits = &zone[1..];
            if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("{text:?} has an offset that is not +HHMM or -HHMM"));
            }
            let hours: i32 = digits[..2].parse().unwrap_or(0);
            let minutes: i32 = digits[2..].parse().unwrap_or(0);
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
        }
    }
    .ok_or_else(|| format!("{text:?} has an impossible offset"))?;
    let local =
        offset.from_local_datetime(&naive).single().ok_or_else(|| format!("{text:?} is ambiguous"))?;
    Ok(Some(local.with_timezone(&Utc)))
}

/// An identifier from a CX list: the id, its assigning authority and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub id: String,
    pub authority: String,
    pub id_type: String,
}

/// The NHS number as the message gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NhsNumberReading {
    /// No repetition of PID-3 has the `NHS` assigning authority.
    Absent,
    /// A valid number (checksum and, where the site refuses it, not the test range).
    Valid(NhsNumber),
    /// Given but failing the checksum: the patient is kept by hospital number and flagged.
    Invalid(String),
}

/// Who the message is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIdentity {
    pub nhs_number: NhsNumberReading,
    /// PID-32 (table 0445, e.g. `NSTS01` verified), or a status some senders append to the type (`NH{status:01}`).
    pub nhs_number_status: Option<String>,
    /// Every identifier in PID-3, in order.
    pub identifiers: Vec<Identifier>,
    pub family_name: String,
    pub given_names: String,
    pub title: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    /// PID-8 as sent (F, M, U, O…).
    pub sex: Option<String>,
    pub died_at: Option<DateTime<Utc>>,
}

impl PatientIdentity {
    /// The hospital number: the first identifier of type `PI` (or `MR`) that is not the NHS number.
    pub fn hospital_number(&self) -> Option<&Identifier> {
        self.identifiers.iter().find(|i| i.authority != "NHS" && matches!(i.id_type.as_str(), "PI" | "MR"))
    }
}

/// A list of CX identifiers (PID-3, MRG-1).
pub fn identifiers(segment: &Segment, field: usize) -> Vec<Identifier> {
    segment
        .field(field)
        .map(|f| f.repetitions())
        .unwrap_or(&[])
        .iter()
        .filter(|r| !r.component(1).trim().is_empty())
        .map(|r| Identifier {
            id: r.component(1).trim().to_owned(),
            authority: r.component(4).trim().to_owned(),
            id_type: r.component(5).trim().to_owned(),
        })
        .collect()
}

/// PID, read and checked.
pub fn patient(pid: &Segment, policy: NhsNumberPolicy) -> Result<PatientIdentity, AdtError> {
    let identifiers = identifiers(pid, 3);
    if identifiers.is_empty() {
        return Err(AdtError::new("PID-3", "101", "the patient has no identifier"));
    }
    let nhs = identifiers.iter().find(|i| i.authority.eq_ignore_ascii_case("NHS"));
    let nhs_number = match nhs {
        None => NhsNumberReading::Absent,
        Some(given) => match NhsNumber::parse(&given.id, policy) {
            Ok(number) => NhsNumberReading::Valid(number),
            Err(_) => NhsNumberReading::Invalid(given.id.clone()),
        },
    };
    // Some senders put the status in the type code: `NH{status:01}`.
    let appended = nhs.and_then(|i| {
        i.id_type.split_once("{status:").map(|(_, rest)| format!("NSTS{}", rest.trim_end_matches('}')))
    });
    let status = Some(pid.value(32).trim().to_owned()).filter(|s| !s.is_empty()).or(appended);
    let date_of_birth = match pid.value(7).trim() {
        "" => None,
        text => Some(
            parse_timestamp(text)
                .map_err(|reason| AdtError::new("PID-7", "102", reason))?
                .map(|t| t.date_naive())
                .ok_or_else(|| AdtError::new("PID-7", "102", "the date of birth is empty"))?,
        ),
    };
    let family_name = pid.component(5, 1).trim().to_owned();
    if family_name.is_empty() {
        return Err(AdtError::new("PID-5", "101", "the patient's family name is missing"));
    }
    let given: Vec<&str> = [pid.component(5, 2), pid.component(5, 3)]
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    Ok(PatientIdentity {
        nhs_number,
        nhs_number_status: status,
        identifiers,
        family_name,
        given_names: given.join(" "),
        title: Some(pid.component(5, 5).trim().to_owned()).filter(|s| !s.is_empty()),
        date_of_birth,
        sex: Some(pid.value(8).trim().to_owned()).filter(|s| !s.is_empty()),
        died_at: parse_timestamp(pid.value(29)).map_err(|reason| AdtError::new("PID-29", "102", reason))?,
    })
}

/// A point of care: ward, room (bay) and bed, with the facility.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Location {
    pub ward: String,
    pub room: String,
    pub bed: String,
    pub facility: String,
}

/// A PL field (PV1-3, PV1-6), if it names a ward.
pub fn location(segment: &Segment, field: usize) -> Option<Location> {
    let ward = segment.component(field, 1).trim();
    (!ward.is_empty()).then(|| Location {
        ward: ward.to_owned(),
        room: segment.component(field, 2).trim().to_owned(),
        bed: segment.component(field, 3).trim().to_owned(),
        facility: segment.component(field, 4).trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        parse_timestamp(text).expect("valid").expect("present")
    }

    #[test]
    fn timestamps_of_every_precision_and_offset_are_read_as_utc() {
        assert_eq!(at("20261130101500").to_rfc3339(), "2026-11-30T10:15:00+00:00");
        assert_eq!(at("202611301015").to_rfc3339(), "2026-11-30T10:15:00+00:00");
        assert_eq!(at("20260701101500+0100").to_rfc3339(), "2026-07-01T09:15:00+00:00");
        assert_eq!(at("20261130101500.1234-0500").to_rfc3339(), "2026-11-30T15:15:00+00:00");
        assert_eq!(at("19580303").date_naive(), NaiveDate::from_ymd_opt(1958, 3, 3).expect("date"));
        assert_eq!(parse_timestamp("").expect("empty"), None);
        assert!(parse_timestamp("20261331").is_err(), "no thirteenth month");
        assert!(parse_timestamp("2026113").is_err(), "seven digits");
        assert!(parse_timestamp("20261130+1").is_err(), "a short offset");
    }

    fn pid(text: &str) -> Segment {
        hl7::Message::parse(&format!("MSH|^~\\&|PAS|RXX\r{text}")).expect("parsed").segments[1].clone()
    }

    #[test]
    fn the_nhs_number_comes_from_the_nhs_authority_and_a_bad_checksum_is_kept_apart() {
        let policy = NhsNumberPolicy { accept_test_range: true };
        let good =
            patient(&pid("PID|||RXX1^^^RXX^PI~9990000018^^^NHS^NH||OAK^Ada^May^^Ms||19580303|F"), policy)
                .expect("read");
        assert!(matches!(good.nhs_number, NhsNumberReading::Valid(ref n) if n.digits() == "9990000018"));
        assert_eq!(good.hospital_number().map(|i| i.id.as_str()), Some("RXX1"));
        assert_eq!((good.given_names.as_str(), good.title.as_deref()), ("Ada May", Some("Ms")));
        let bad = patient(&pid("PID|||9990000019^^^NHS^NH~RXX1^^^RXX^PI||OAK^Ada"), policy).expect("read");
        assert_eq!(bad.nhs_number, NhsNumberReading::Invalid("9990000019".into()), "the checksum fails");
        let appended = patient(&pid("PID|||9990000018^^^NHS^NH{status:01}||OAK^Ada"), policy).expect("read");
        assert_eq!(appended.nhs_number_status.as_deref(), Some("NSTS01"), "tolerant of the appended status");
    }

    #[test]
    fn a_patient_without_an_identifier_or_a_name_is_refused_naming_the_field() {
        let policy = NhsNumberPolicy { accept_test_range: true };
        assert_eq!(patient(&pid("PID|||||OAK^Ada"), policy).expect_err("no id").field, "PID-3");
        assert_eq!(patient(&pid("PID|||RXX1^^^RXX^PI||^Ada"), policy).expect_err("no name").field, "PID-5");
        assert_eq!(
            patient(&pid("PID|||RXX1^^^RXX^PI||OAK||1958-03-03"), policy).expect_err("bad date").field,
            "PID-7"
        );
    }
}
