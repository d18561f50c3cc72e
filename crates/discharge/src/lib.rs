//! Discharge summaries on the PRSB eDischarge Summary headings (v2.1), pure:
//! the 22 sections with their SNOMED CT section codes and conformance, the
//! structured parts (diagnoses, medications on discharge, allergies, the
//! admission and discharge details), site templates per specialty, the list
//! of what sign-off still needs, and the canonical bytes a card signs.

mod codes;
mod content_file;
mod deadline;
pub mod fhir;
pub mod fhir_xml;
pub mod itk;
mod letter;
pub mod mdm;
mod retry;
mod section;
mod summary;
mod template;
mod uk_time;

pub use codes::CodeList;
pub use content_file::ContentFile;
pub use deadline::{DayShare, daily_share, deadline, minutes_left, summary_state, time_left_words};
pub use letter::{Letter, LetterPatient, LetterSigner, Organisation, date, local_time};
pub use retry::{AfterFailure, RetryPolicy, SEND_WITHIN_HOURS};
pub use section::{Conformance, Section};
pub use summary::{
    AdmissionDetails, Allergies, Allergy, Amendment, Coded, DischargeDetails, DischargeSummary,
    MedicationChange, MedicationOnDischarge, Missing, SactDose, SactTreatment, SummaryError,
};
pub use template::{SectionRule, Template};
pub use uk_time::{form_time, parse_form_time};
