//! The demographic record the patient index holds, and the rules a new record
//! must keep before it is stored.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::NhsNumber;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    pub fn parse(text: &str) -> Result<Self, PatientError> {
        match text {
            "female" => Ok(Self::Female),
            "male" => Ok(Self::Male),
            "other" => Ok(Self::Other),
            "unknown" => Ok(Self::Unknown),
            other => {
                Err(PatientError::new("sex", format!("{other:?} is not female, male, other or unknown")))
            }
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }

    /// Spelled in full, as the CUI asks.
    pub fn display(self) -> &'static str {
        match self {
            Self::Female => "Female",
            Self::Male => "Male",
            Self::Other => "Other",
            Self::Unknown => "Not known",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpPractice {
    pub ods_code: String,
    pub name: Option<String>,
}

/// A record as entered, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPatient {
    /// The NHS number, where a valid one is known. A patient the PAS sent with
    /// a number that fails its check is kept by hospital number instead, and
    /// flagged until the number is corrected.
    pub nhs_number: Option<NhsNumber>,
    /// The number received that failed the NHS number check: shown so that it
    /// can be corrected at source, never used to find or match the patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number_failing_check: Option<String>,
    pub mrn: Option<String>,
    pub family_name: String,
    pub given_names: String,
    pub title: Option<String>,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub gp_practice: Option<GpPractice>,
    pub deceased_date: Option<NaiveDate>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRecord {
    pub id: i64,
    #[serde(flatten)]
    pub details: NewPatient,
    /// The record this one was merged into (HL7 A40): kept for what it shows,
    /// never to be acted on; its records now belong to the survivor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PatientError {
    pub field: String,
    pub reason: String,
}

impl PatientError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// CUI input limits (NID-0001…0013).
const FAMILY_NAME_MAX: usize = 40;
const GIVEN_NAMES_MAX: usize = 135;
const TITLE_MAX: usize = 35;

impl NewPatient {
    /// Checks the record against today's date (passed in: this crate reads no clock)
    /// and tidies it: trimmed text, a postcode in `SW1A 1AA` form.
    pub fn validated(mut self, today: NaiveDate) -> Result<Self, PatientError> {
        self.family_name = required_text(&self.family_name, "family_name", FAMILY_NAME_MAX)?;
        self.given_names = required_text(&self.given_names, "given_names", GIVEN_NAMES_MAX)?;
        self.title = optional_text(self.title.as_deref(), "title", TITLE_MAX)?;
        self.address = optional_text(self.address.as_deref(), "address", 200)?;
        self.mrn = optional_text(self.mrn.as_deref(), "mrn", 20)?;
        if let Some(mrn) = &self.mrn
            && !mrn.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(PatientError::new("mrn", "a hospital number has letters and digits only"));
        }
        self.nhs_number_failing_check =
            optional_text(self.nhs_number_failing_check.as_deref(), "nhs_number_failing_check", 20)?;
        match (&self.nhs_number, &self.mrn, &self.nhs_number_failing_check) {
            (None, None, _) => {
                return Err(PatientError::new(
                    "nhs_number",
                    "a patient without a valid NHS number must be kept by hospital number (mrn)",
                ));
            }
            (Some(_), _, Some(_)) => {
                return Err(PatientError::new(
                    "nhs_number_failing_check",
                    "a patient with a valid NHS number has no failing one to show",
                ));
            }
            _ => {}
        }
        if self.date_of_birth > today {
            return Err(PatientError::new("date_of_birth", "the date of birth is in the future"));
        }
        if let Some(died) = self.deceased_date
            && (died < self.date_of_birth || died > today)
        {
            return Err(PatientError::new(
                "deceased_date",
                "the date of death must lie between birth and today",
            ));
        }
        self.postcode = self.postcode.as_deref().map(normalise_postcode).transpose()?.flatten();
        if let Some(practice) = &mut self.gp_practice {
            practice.ods_code = practice.ods_code.trim().to_uppercase();
            let code = &practice.ods_code;
            if !(3..=6).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(PatientError::new(
                    "gp_practice",
                    "an ODS code has 3 to 6 letters and digits, e.g. A81001",
                ));
            }
        }
        Ok(self)
    }
}

impl NewPatient {
    /// The NHS number as staff should read it: `943 476 5919`, or, for a
    /// patient kept by hospital number, why there is none.
    pub fn nhs_number_display(&self) -> String {
        match (&self.nhs_number, &self.nhs_number_failing_check) {
            (Some(number), _) => number.to_string(),
            (None, Some(received)) => {
                format!("NOT VALID (received {received}, which fails the NHS number check)")
            }
            (None, None) => "NOT KNOWN".to_owned(),
        }
    }

    /// The number staff find this patient by: the NHS number, or for a patient
    /// kept by hospital number, that number with the NHS number's flag.
    pub fn identifiers_display(&self) -> String {
        match (&self.nhs_number, &self.mrn) {
            (Some(number), _) => number.to_string(),
            (None, Some(mrn)) => format!("hospital no. {mrn}, NHS number {}", self.nhs_number_display()),
            (None, None) => format!("NHS number {}", self.nhs_number_display()),
        }
    }

    /// For a patient without a valid NHS number, the warning every screen and
    /// printout shows beside their name; none for a patient with one.
    pub fn nhs_number_flag(&self) -> Option<String> {
        if self.nhs_number.is_some() {
            return None;
        }
        let kept_by = self.mrn.as_deref().map(|mrn| format!(": hospital no. {mrn}")).unwrap_or_default();
        Some(match &self.nhs_number_failing_check {
            Some(received) => {
                format!("No valid NHS number (received {received}, which fails the check){kept_by}")
            }
            None => format!("No NHS number{kept_by}"),
        })
    }

    /// `SMITH, John (Mr)`: CUI order and case.
    pub fn display_name(&self) -> String {
        let name = format!("{}, {}", self.family_name.to_uppercase(), self.given_names);
        match &self.title {
            Some(title) => format!("{name} ({title})"),
            None => name,
        }
    }
}

fn required_text(text: &str, field: &str, max: usize) -> Result<String, PatientError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(PatientError::new(field, "must be given"));
    }
    if trimmed.chars().count() > max {
        return Err(PatientError::new(field, format!("is longer than {max} characters")));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(text: Option<&str>, field: &str, max: usize) -> Result<Option<String>, PatientError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => required_text(value, field, max).map(Some),
    }
}

/// `sw1a1aa` → `SW1A 1AA`: outward code, a space, and the three-character inward code.
fn normalise_postcode(text: &str) -> Result<Option<String>, PatientError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    if compact.is_empty() {
        return Ok(None);
    }
    let well_formed = (5..=7).contains(&compact.len())
        && compact.chars().all(|c| c.is_ascii_alphanumeric())
        && compact.starts_with(|c: char| c.is_ascii_alphabetic())
        && compact[compact.len() - 3..].starts_with(|c: char| c.is_ascii_digit());
    if !well_formed {
        return Err(PatientError::new("postcode", format!("{text:?} is not a UK postcode such as SW1A 1AA")));
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    Ok(Some(format!("{outward} {inward}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NhsNumberPolicy;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid date")
    }

    fn patient() -> NewPatient {
        NewPatient {
            nhs_number: Some(NhsNumber::parse("9434765919", NhsNumberPolicy::default()).expect("valid")),
            nhs_number_failing_check: None,
            mrn: Some("RX000001".into()),
            family_name: " Smith ".into(),
            given_names: "John".into(),
            title: Some("Mr".into()),
            date_of_birth: NaiveDate::from_ymd_opt(1945, 7, 14).expect("valid date"),
            sex: Sex::Male,
            address: None,
            postcode: Some("sw1a1aa".into()),
            gp_practice: Some(GpPractice { ods_code: "a81001".into(), name: None }),
            deceased_date: None,
        }
    }

    #[test]
    fn a_record_is_tidied_on_validation() {
        let record = patient().validated(today()).expect("valid");
        assert_eq!(record.family_name, "Smith");
        assert_eq!(record.postcode.as_deref(), Some("SW1A 1AA"));
        assert_eq!(record.gp_practice.map(|p| p.ods_code), Some("A81001".into()));
        assert_eq!(patient().validated(today()).map(|r| r.display_name()), Ok("SMITH, John (Mr)".into()));
    }

    #[test]
    fn a_future_birth_date_is_refused() {
        let mut record = patient();
        record.date_of_birth = NaiveDate::from_ymd_opt(2027, 1, 1).expect("valid date");
        assert_eq!(record.validated(today()).map_err(|e| e.field), Err("date_of_birth".into()));
    }

    #[test]
    fn a_death_before_birth_is_refused() {
        let mut record = patient();
        record.deceased_date = NaiveDate::from_ymd_opt(1940, 1, 1);
        assert_eq!(record.validated(today()).map_err(|e| e.field), Err("deceased_date".into()));
    }

    #[test]
    fn names_are_required_and_limited() {
        let mut record = patient();
        record.family_name = "  ".into();
        assert_eq!(record.validated(today()).map_err(|e| e.field), Err("family_name".into()));
        let mut record = patient();
        record.family_name = "X".repeat(41);
        assert_eq!(record.validated(today()).map_err(|e| e.field), Err("family_name".into()));
    }

    #[test]
    fn a_malformed_postcode_is_refused() {
        let mut record = patient();
        record.postcode = Some("12345".into());
        assert_eq!(record.validated(today()).map_err(|e| e.field), Err("postcode".into()));
    }

    #[test]
    fn a_patient_without_a_valid_nhs_number_is_kept_by_hospital_number_and_says_so() {
        let mut record = patient();
        record.nhs_number = None;
        record.nhs_number_failing_check = Some("9990000019".into());
        let kept = record.clone().validated(today()).expect("kept by hospital number");
        assert_eq!(
            kept.nhs_number_display(),
            "NOT VALID (received 9990000019, which fails the NHS number check)"
        );
        record.mrn = None;
        assert_eq!(
            record.validated(today()).map_err(|e| e.field),
            Err("nhs_number".into()),
            "no number at all"
        );
        let mut both = patient();
        both.nhs_number_failing_check = Some("9990000019".into());
        assert_eq!(both.validated(today()).map_err(|e| e.field), Err("nhs_number_failing_check".into()));
        assert_eq!(patient().nhs_number_display(), "943 476 5919");
        assert_eq!(
            kept.identifiers_display(),
            "hospital no. RX000001, NHS number NOT VALID (received 9990000019, which fails the NHS number check)"
        );
    }

    #[test]
    fn sex_is_spelled_in_full() {
        assert_eq!(Sex::parse("unknown").map(Sex::display), Ok("Not known"));
        assert!(Sex::parse("M").is_err());
    }
}
