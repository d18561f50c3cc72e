//! What a search for a patient looks for, read from the text a person typed.

use chrono::NaiveDate;

use crate::{NhsNumber, NhsNumberPolicy, PatientError};

/// What a search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientQuery {
    NhsNumber(NhsNumber),
    Mrn(String),
    /// Family name beginning, any case, optionally with the date of birth.
    NamePrefix {
        prefix: String,
        date_of_birth: Option<NaiveDate>,
    },
}

impl PatientQuery {
    /// Reads search text: ten digits are an NHS number (and must be a valid
    /// one), text with a digit is a hospital number, anything else a name.
    pub fn parse(
        text: &str,
        date_of_birth: Option<NaiveDate>,
        policy: NhsNumberPolicy,
    ) -> Result<Self, PatientError> {
        let trimmed = text.trim();
        let digits_and_spaces =
            !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit() || c == ' ');
        if digits_and_spaces && trimmed.chars().filter(char::is_ascii_digit).count() == 10 {
            return NhsNumber::parse(trimmed, policy)
                .map(Self::NhsNumber)
                .map_err(|e| PatientError::new("nhs_number", e.to_string()));
        }
        if trimmed.chars().any(|c| c.is_ascii_digit()) {
            if !trimmed.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(PatientError::new("query", "a hospital number has letters and digits only"));
            }
            return Ok(Self::Mrn(trimmed.to_uppercase()));
        }
        if trimmed.chars().count() < 2 {
            return Err(PatientError::new("query", "type at least two letters of the family name"));
        }
        Ok(Self::NamePrefix { prefix: trimmed.to_uppercase(), date_of_birth })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PatientQuery, PatientError> {
        PatientQuery::parse(text, None, NhsNumberPolicy::default())
    }

    #[test]
    fn ten_digits_are_an_nhs_number_and_must_be_valid() {
        assert!(matches!(parse("943 476 5919"), Ok(PatientQuery::NhsNumber(_))));
        assert_eq!(parse("943 476 5918").map_err(|e| e.field), Err("nhs_number".into()));
    }

    #[test]
    fn text_with_a_digit_is_a_hospital_number_in_capitals() {
        assert_eq!(parse(" rx1234 "), Ok(PatientQuery::Mrn("RX1234".into())));
        assert_eq!(parse("RX-1234").map_err(|e| e.field), Err("query".into()));
    }

    #[test]
    fn a_name_search_needs_two_letters() {
        assert_eq!(parse("qu"), Ok(PatientQuery::NamePrefix { prefix: "QU".into(), date_of_birth: None }));
        assert_eq!(parse("q").map_err(|e| e.field), Err("query".into()));
    }
}
