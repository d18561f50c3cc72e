//! ADT events (admissions, transfers, discharges, their cancellations, person
//! updates and merges) read from HL7 v2 messages into typed values. Pure: the
//! store and the listener act on what this crate returns.
//!
//! Each reading names the field at fault when it refuses, as an HL7 error
//! code (table 0357) and a sentence, for the AE acknowledgement.

mod beds;
mod encounter;
mod event;
mod fields;
mod results;

pub use beds::{BedMark, BedState, CRITICAL_PERCENT, HIGH_PERCENT, Occupancy, Pressure, mark, occupancy};
pub use encounter::{Applied, Stay, StayState, Step};
pub use event::{AdtEvent, EventKind, Received, read_event};
pub use fields::{
    AdtError, Header, Identifier, Location, NhsNumberReading, PatientIdentity, header, identifiers, location,
    parse_timestamp, patient,
};
pub use results::{
    Filing, LabResult, ResultsReport, TestMapping, file_for_checks, out_of_range, read_results,
};
