//! A discharge summary's content, what sign-off still needs, and the
//! canonical bytes the card signs.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::section::Section;
use crate::template::Template;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct SummaryError {
    pub field: String,
    pub reason: String,
}

impl SummaryError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// A SNOMED CT concept with the words a clinician chose (the text is always shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coded {
    pub code: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MedicationChange {
    New,
    Changed,
    Stopped,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedicationOnDischarge {
    pub name: String,
    pub dose_and_directions: String,
    pub change: MedicationChange,
    /// Why it was started, changed or stopped: required for all but unchanged.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allergy {
    pub causative_agent: Coded,
    pub reaction: Option<String>,
}

/// The allergies heading: a causative agent each, or one of the standard's two statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "allergies")]
pub enum Allergies {
    NoKnownDrugAllergies,
    InformationNotAvailable,
    Known(Vec<Allergy>),
}

impl Allergies {
    /// The words the letter prints for a statement.
    pub fn statement(&self) -> Option<&'static str> {
        match self {
            Self::NoKnownDrugAllergies => Some("No known drug allergies or adverse reactions"),
            Self::InformationNotAvailable => Some("Information not available"),
            Self::Known(_) => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionDetails {
    pub admitted_at: Option<DateTime<Utc>>,
    /// NHS Data Dictionary admission method, e.g. 21 emergency via A&E.
    pub method: Option<String>,
    pub source: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DischargeDetails {
    pub discharged_at: Option<DateTime<Utc>>,
    pub method: Option<String>,
    pub destination: Option<String>,
    pub consultant: Option<String>,
    /// NHS main specialty code.
    pub specialty: Option<String>,
    pub location: Option<String>,
}

/// One summary's content, by heading; structured where the standard codes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DischargeSummary {
    pub patient_id: i64,
    pub template: String,
    /// The registered practice's ODS code.
    pub gp_practice: Option<String>,
    pub admission: AdmissionDetails,
    pub discharge: DischargeDetails,
    pub diagnoses: Vec<Coded>,
    pub procedures: Vec<Coded>,
    pub medications: Vec<MedicationOnDischarge>,
    pub allergies: Option<Allergies>,
    /// Free text under the other headings (clinical summary, plan, advice given…).
    pub text: BTreeMap<Section, String>,
    /// SACT given this admission, from the prescribing module (oncology template).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sact: Vec<SactTreatment>,
    /// For an amendment: the version it amends and why; the GP is told it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amends: Option<Amendment>,
}

/// SACT given this admission (the oncology template): the regimen and cycle,
/// each dose as given, and when the next cycle is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SactTreatment {
    pub regimen: String,
    pub cycle: u32,
    pub planned_cycles: u32,
    pub doses: Vec<SactDose>,
    pub next_due: Option<chrono::NaiveDate>,
}

/// One anti-cancer dose as given: the exact figure and unit recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SactDose {
    pub drug: String,
    /// As recorded, e.g. `85`.
    pub dose: String,
    pub unit: String,
    pub given_at: DateTime<Utc>,
}

/// What an amended version replaces, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    /// The kept summary (its row) this version amends, and its version.
    pub summary_id: i64,
    pub version: i64,
    pub reason: String,
}

/// Something sign-off needs, named so the page can take the doctor to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub section: Section,
    pub field: String,
    pub reason: String,
}

fn missing(section: Section, field: &str, reason: &str) -> Missing {
    Missing { section, field: field.into(), reason: reason.into() }
}

fn blank(text: Option<&str>) -> bool {
    text.is_none_or(|t| t.trim().is_empty())
}

/// A SNOMED CT identifier: 6 to 18 digits.
fn is_sctid(code: &str) -> bool {
    (6..=18).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

impl DischargeSummary {
    /// A complete synthetic summary under "General medicine", for
    /// demonstrations, benchmarks and tests.
    pub fn example() -> DischargeSummary {
        let at = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 10, 0, 0).single();
        DischargeSummary {
            patient_id: 7,
            template: "General medicine".into(),
            gp_practice: Some("A81001".into()),
            admission: AdmissionDetails {
                admitted_at: at(20),
                method: Some("21".into()),
                source: Some("19".into()),
                reason: Some("Community-acquired pneumonia".into()),
            },
            discharge: DischargeDetails {
                discharged_at: at(27),
                method: Some("1".into()),
                destination: Some("19".into()),
                consultant: Some("ONCOLOGY, Olive (Dr)".into()),
                specialty: Some("300".into()),
                location: Some("WARD9".into()),
            },
            diagnoses: vec![Coded {
                code: Some("385093006".into()),
                text: "Community acquired pneumonia".into(),
            }],
            procedures: Vec::new(),
            medications: vec![MedicationOnDischarge {
                name: "Amoxicillin 500 mg capsules".into(),
                dose_and_directions: "500 mg three times a day for 2 more days".into(),
                change: MedicationChange::New,
                reason: Some("Completes the course for pneumonia".into()),
            }],
            allergies: Some(Allergies::NoKnownDrugAllergies),
            text: BTreeMap::from([
                (Section::ClinicalSummary, "Treated with antibiotics; recovered well.".into()),
                (Section::PlanAndRequestedActions, "GP: please repeat chest X-ray in 6 weeks.".into()),
                (Section::InformationAndAdviceGiven, "Advised to return if breathless.".into()),
            ]),
            sact: Vec::new(),
            amends: None,
        }
    }

    /// Everything sign-off still needs under `template`, in heading order, all at
    /// once. The person completing the record comes from the signer's card.
    pub fn missing_for_sign_off(&self, template: &Template) -> Vec<Missing> {
        let mut all = Vec::new();
        for section in Section::ALL.into_iter().filter(|s| template.requires(*s)) {
            match section {
                Section::PatientDemographics | Section::PersonCompletingRecord => {}
                Section::GpPractice => {
                    if blank(self.gp_practice.as_deref()) {
                        all.push(missing(section, "gp_practice", "the patient's registered GP practice"));
                    }
                }
                Section::AdmissionDetails => {
                    if self.admission.admitted_at.is_none() {
                        all.push(missing(section, "admitted_at", "when the patient was admitted"));
                    }
                    if blank(self.admission.reason.as_deref()) {
                        all.push(missing(section, "admission_reason", "why the patient was admitted"));
                    }
                }
                Section::DischargeDetails => {
                    let d = &self.discharge;
                    for (value, field, reason) in [
                        (d.discharged_at.map(|_| "set"), "discharged_at", "when the patient went home"),
                        (d.method.as_deref(), "discharge_method", "the discharge method"),
                        (d.destination.as_deref(), "discharge_destination", "where the patient went"),
                        (d.consultant.as_deref(), "discharging_consultant", "the discharging consultant"),
                        (d.specialty.as_deref(), "discharge_specialty", "the specialty"),
                    ] {
                        if blank(value) {
                            all.push(missing(section, field, reason));
                        }
                    }
                }
                Section::Diagnoses => {
                    if self.diagnoses.is_empty() {
                        all.push(missing(section, "diagnoses", "at least one diagnosis"));
                    }
                    all.extend(coded_problems(section, "diagnoses", &self.diagnoses));
                }
                Section::Procedures => {
                    if self.procedures.is_empty() {
                        all.push(missing(section, "procedures", "the procedures done, or 'None'"));
                    }
                    all.extend(coded_problems(section, "procedures", &self.procedures));
                }
                Section::MedicationsAndMedicalDevices => {
                    for (index, medicine) in self.medications.iter().enumerate() {
                        if blank(Some(&medicine.name)) || blank(Some(&medicine.dose_and_directions)) {
                            all.push(missing(
                                section,
                                &format!("medications.{index}"),
                                "the name, dose and directions",
                            ));
                        }
                        if medicine.change != MedicationChange::Unchanged && blank(medicine.reason.as_deref())
                        {
                            all.push(missing(
                                section,
                                &format!("medications.{index}.reason"),
                                "why it was started, changed or stopped",
                            ));
                        }
                    }
                }
                Section::AllergiesAndAdverseReactions => match &self.allergies {
                    None => all.push(missing(
                        section,
                        "allergies",
                        "each causative agent, or 'No known drug allergies or adverse reactions'",
                    )),
                    Some(Allergies::Known(list)) if list.is_empty() => {
                        all.push(missing(section, "allergies", "at least one causative agent"))
                    }
                    Some(Allergies::Known(list)) => {
                        let agents: Vec<Coded> = list.iter().map(|a| a.causative_agent.clone()).collect();
                        all.extend(coded_problems(section, "allergies", &agents));
                    }
                    Some(_) => {}
                },
                other => {
                    if blank(self.text.get(&other).map(String::as_str)) {
                        all.push(missing(other, other_field(other), "this heading is required"));
                    }
                }
            }
        }
        all
    }

    /// The bytes a card signs: the summary as JSON, fields in declared order and
    /// headings in the standard's order, so the same content always gives the
    /// same bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn other_field(section: Section) -> &'static str {
    match section {
        Section::ClinicalSummary => "clinical_summary",
        Section::PlanAndRequestedActions => "plan",
        Section::InformationAndAdviceGiven => "information_given",
        _ => "text",
    }
}

/// Each entry has words, and a code (where given) that is a SNOMED CT identifier.
fn coded_problems(section: Section, field: &str, entries: &[Coded]) -> Vec<Missing> {
    let mut problems = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if blank(Some(&entry.text)) {
            problems.push(missing(section, &format!("{field}.{index}"), "the words for this entry"));
        }
        if let Some(code) = &entry.code
            && !is_sctid(code)
        {
            problems.push(missing(
                section,
                &format!("{field}.{index}.code"),
                "a SNOMED CT code has 6 to 18 digits",
            ));
        }
    }
    problems
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn template(name: &str) -> Template {
        Template::shipped().into_iter().find(|t| t.name == name).expect("shipped")
    }

    pub(crate) fn complete() -> DischargeSummary {
        DischargeSummary::example()
    }

    fn fields(missing: &[Missing]) -> Vec<String> {
        missing.iter().map(|m| m.field.clone()).collect()
    }

    #[test]
    fn a_complete_summary_needs_nothing_more() {
        assert_eq!(complete().missing_for_sign_off(&template("General medicine")), []);
    }

    #[test]
    fn every_missing_field_is_listed_at_once_in_heading_order() {
        let mut summary = complete();
        summary.gp_practice = None;
        summary.allergies = None;
        summary.diagnoses.clear();
        summary.text.remove(&Section::ClinicalSummary);
        summary.medications[0].reason = None;
        summary.discharge.destination = Some("  ".into());
        assert_eq!(
            fields(&summary.missing_for_sign_off(&template("General medicine"))),
            [
                "gp_practice",
                "discharge_destination",
                "clinical_summary",
                "diagnoses",
                "medications.0.reason",
                "allergies"
            ]
        );
    }

    #[test]
    fn allergies_need_an_agent_or_a_statement_and_codes_must_be_snomed() {
        let mut summary = complete();
        summary.allergies = Some(Allergies::Known(Vec::new()));
        assert_eq!(fields(&summary.missing_for_sign_off(&template("General medicine"))), ["allergies"]);
        summary.allergies = Some(Allergies::Known(vec![Allergy {
            causative_agent: Coded { code: Some("penicillin".into()), text: "Penicillin".into() },
            reaction: Some("Rash".into()),
        }]));
        assert_eq!(
            fields(&summary.missing_for_sign_off(&template("General medicine"))),
            ["allergies.0.code"]
        );
        assert_eq!(
            Allergies::NoKnownDrugAllergies.statement(),
            Some("No known drug allergies or adverse reactions")
        );
    }

    #[test]
    fn an_unchanged_medicine_needs_no_reason_and_surgery_needs_its_procedures() {
        let mut summary = complete();
        summary.medications[0].change = MedicationChange::Unchanged;
        summary.medications[0].reason = None;
        assert_eq!(summary.missing_for_sign_off(&template("General medicine")), []);
        assert_eq!(fields(&summary.missing_for_sign_off(&template("General surgery"))), ["procedures"]);
    }

    #[test]
    fn the_same_content_gives_the_same_bytes_and_any_change_other_bytes() {
        let summary = complete();
        assert_eq!(summary.canonical_bytes(), complete().canonical_bytes());
        let mut edited = complete();
        edited.medications[0].dose_and_directions = "5000 mg three times a day".into();
        assert_ne!(edited.canonical_bytes(), summary.canonical_bytes());
        let back: DischargeSummary = serde_json::from_slice(&summary.canonical_bytes()).expect("reads back");
        assert_eq!(back, summary);
    }
}
