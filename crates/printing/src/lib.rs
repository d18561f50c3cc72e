//! Printed documents as A4 PDFs, laid out as lines of text: a banner that names
//! the patient on every page, the body flowed across pages, and "Page X of Y"
//! with the document's own footer on each. Pure: the caller gives the content
//! and gets the bytes.

mod discharge_letter;
mod layout;
mod prescription;
mod worksheet;

pub use discharge_letter::discharge_letter_pdf;
pub use layout::{Block, Document};
pub use prescription::{PrescriptionLine, PrescriptionSheet, Signer, prescription_pdf};
pub use worksheet::{PreparationWorksheet, WorksheetItem, worksheet_pdf};
