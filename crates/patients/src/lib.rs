//! Who a patient is: the NHS number and its rules, and the demographic record
//! the patient index holds. Pure: no I/O.

mod nhs_number;
mod query;
mod record;

pub use nhs_number::{NhsNumber, NhsNumberError, NhsNumberPolicy};
pub use query::PatientQuery;
pub use record::{GpPractice, NewPatient, PatientError, PatientRecord, Sex};
