//! The one refusal type: every refusal names the field at fault and why.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DoseError {
    /// The input or data field at fault, as the caller named it (e.g. `height_cm`).
    pub field: String,
    /// What is wrong and what to do, in words a pharmacist would use.
    pub reason: String,
}

impl DoseError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}
