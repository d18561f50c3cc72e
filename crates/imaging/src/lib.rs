//! A patient's imaging studies and how they are opened. Pure: no I/O.
//!
//! - `studies`: a QIDO-RS answer (DICOM JSON) read tolerantly, a missing or
//!   empty attribute being no error, and checked to hold only the patient asked
//!   about, a guard against a misconfigured PACS.
//! - `launch`: the URL each kind of viewer is opened with (IHE Invoke Image
//!   Display, Weasis, OHIF), and the command that closes it on lock.

mod dicom_json;
mod launch;
mod studies;

pub use launch::{Launch, LaunchError, LaunchTarget, NHS_NUMBER_OID, PatientIdentifier, Viewer, ViewerKind};
pub use studies::{ImagingError, Study, StudyPage, read_studies, read_studies_up_to, sort_newest_first};
