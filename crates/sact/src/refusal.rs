//! Why an act was refused: a stable rule code, and a sentence for the person.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct SactRefusal {
    /// A stable code, e.g. `self_verification`, `not_released`.
    pub rule: &'static str,
    pub message: String,
}

impl SactRefusal {
    pub fn new(rule: &'static str, message: impl Into<String>) -> Self {
        Self { rule, message: message.into() }
    }
}
