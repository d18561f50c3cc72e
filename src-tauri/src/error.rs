//! The one error type every command returns to the UI.
//!
//! It serialises to `{"code": …, "message": …}`. The code is stable so the UI
//! can react to it; the message is written for a person. Internal details are
//! logged by id, never sent, and patient data never appears in either.

use serde::Serialize;
use session::SessionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum ErrorCode {
    #[serde(rename = "session.not_signed_in")]
    NotSignedIn,
    #[serde(rename = "session.already_signed_in")]
    AlreadySignedIn,
    #[serde(rename = "session.locked")]
    SessionLocked,
    #[serde(rename = "session.not_permitted")]
    NotPermitted,
    #[serde(rename = "sign_in.unknown_user")]
    UnknownUser,
    #[serde(rename = "card.pin_refused")]
    PinRefused,
    #[serde(rename = "card.not_found")]
    CardNotFound,
    #[serde(rename = "card.refused")]
    CardRefused,
    #[serde(rename = "card.unavailable")]
    CardsUnavailable,
    #[serde(rename = "settings.invalid")]
    SettingsInvalid,
    #[serde(rename = "dose.invalid_input")]
    InvalidDoseInput,
    #[serde(rename = "dose.unavailable")]
    DosingUnavailable,
    #[serde(rename = "store.unavailable")]
    StoreUnavailable,
    /// A service beyond the store (the PACS) did not answer; the message names it and says how.
    #[serde(rename = "service.unavailable")]
    ServiceUnavailable,
    #[serde(rename = "patient.invalid_query")]
    InvalidPatientQuery,
    #[serde(rename = "patient.not_found")]
    PatientNotFound,
    #[serde(rename = "input.invalid")]
    InvalidInput,
    /// A clinical rule refused the act (self-verification, a block, a missing reason); `field` names the rule.
    #[serde(rename = "clinical.refused")]
    ClinicalRefusal,
    /// Someone else changed the record since it was read; read it again.
    #[serde(rename = "record.changed")]
    ChangedElsewhere,
    #[serde(rename = "internal")]
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    /// The input at fault, where one is, so the UI can take the user to it.
    pub field: Option<String>,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }

    /// For faults the user cannot fix: the detail goes to the log, the user
    /// gets a plain sentence.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(%detail, "command failed");
        Self::new(
            ErrorCode::Internal,
            "Something went wrong in the workstation. Try again, and call the IT service desk if it happens again.",
        )
    }
}

impl From<SessionError> for CommandError {
    fn from(error: SessionError) -> Self {
        let code = match error {
            SessionError::NotSignedIn => ErrorCode::NotSignedIn,
            SessionError::AlreadySignedIn => ErrorCode::AlreadySignedIn,
            SessionError::Locked => ErrorCode::SessionLocked,
            SessionError::NotPermitted(_) => ErrorCode::NotPermitted,
        };
        Self::new(code, error.to_string())
    }
}

impl From<dosing::DoseError> for CommandError {
    fn from(error: dosing::DoseError) -> Self {
        Self { code: ErrorCode::InvalidDoseInput, message: error.reason, field: Some(error.field) }
    }
}

impl From<patients::PatientError> for CommandError {
    fn from(error: patients::PatientError) -> Self {
        Self { code: ErrorCode::InvalidPatientQuery, message: error.reason, field: Some(error.field) }
    }
}

impl From<services::ServiceError> for CommandError {
    fn from(error: services::ServiceError) -> Self {
        match error {
            services::ServiceError::Store(error) => error.into(),
            services::ServiceError::NotPermitted(permission) => {
                session::SessionError::NotPermitted(permission).into()
            }
            services::ServiceError::Invalid { field: "pin", reason } => {
                Self { code: ErrorCode::PinRefused, message: reason, field: Some("pin".into()) }
            }
            services::ServiceError::Invalid { field, reason } => {
                Self { code: ErrorCode::InvalidInput, message: reason, field: Some(field.into()) }
            }
            services::ServiceError::Regimens(problem) => Self::new(ErrorCode::DosingUnavailable, problem),
            services::ServiceError::Unavailable { service, reason } => {
                Self { code: ErrorCode::ServiceUnavailable, message: reason, field: Some(service.into()) }
            }
            services::ServiceError::Refused { rule, reason } => {
                Self { code: ErrorCode::ClinicalRefusal, message: reason, field: Some(rule.into()) }
            }
        }
    }
}

impl From<store::StoreError> for CommandError {
    fn from(error: store::StoreError) -> Self {
        use store::StoreError as E;
        match error {
            E::Invalid { field, reason } => {
                Self { code: ErrorCode::InvalidPatientQuery, message: reason, field: Some(field) }
            }
            E::NoSuchPatient(_) => Self::new(ErrorCode::PatientNotFound, "That patient is not in the index."),
            E::Database(detail) => Self::internal(&detail),
            changed @ E::Changed { .. } => Self::new(ErrorCode::ChangedElsewhere, changed.to_string()),
            // The other store errors name the store and the fix, and no patient data.
            other => Self::new(ErrorCode::StoreUnavailable, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_code_and_message() {
        let json = serde_json::to_value(CommandError::from(SessionError::NotSignedIn)).expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({
                "code": "session.not_signed_in",
                "message": "Nobody is signed in at this workstation. Sign in to continue.",
                "field": null
            })
        );
    }

    #[test]
    fn dose_refusals_carry_the_field() {
        let error = CommandError::from(dosing::DoseError::new("height_cm", "1700 cm is outside 30–250 cm"));
        assert_eq!(error.code, ErrorCode::InvalidDoseInput);
        assert_eq!(error.field.as_deref(), Some("height_cm"));
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let error = CommandError::internal(&"sqlite: disk I/O error at page 7");
        assert_eq!(error.code, ErrorCode::Internal);
        assert!(!error.message.contains("sqlite"), "internal detail leaked: {}", error.message);
    }
}
