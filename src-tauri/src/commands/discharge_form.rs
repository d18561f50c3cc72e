//! The discharge summary as the page's form holds it (plain strings, UK local
//! times), and the two ways between it and the domain's summary. A field that
//! cannot be read is refused by name, and nothing is saved.

use discharge::{
    AdmissionDetails, Allergies, Allergy, Coded, DischargeDetails, DischargeSummary, MedicationChange,
    MedicationOnDischarge, Section,
};
use serde::{Deserialize, Serialize};

use crate::error::{CommandError, ErrorCode};

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct CodedForm {
    /// SNOMED CT concept id, or empty.
    pub code: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct MedicationForm {
    pub name: String,
    pub dose_and_directions: String,
    /// `new`, `changed`, `stopped` or `unchanged`.
    pub change: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct AllergyForm {
    pub code: String,
    pub agent: String,
    pub reaction: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct SectionText {
    /// The heading's key, e.g. `clinical_summary`.
    pub section: String,
    pub text: String,
}

/// Everything the author edits; times are `YYYY-MM-DDTHH:MM`, UK local.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct SummaryForm {
    pub patient_id: u32,
    pub template: String,
    pub gp_practice: String,
    pub admitted_at: String,
    pub admission_method: String,
    pub admission_source: String,
    pub admission_reason: String,
    pub discharged_at: String,
    pub discharge_method: String,
    pub discharge_destination: String,
    pub consultant: String,
    pub specialty: String,
    pub location: String,
    pub diagnoses: Vec<CodedForm>,
    pub procedures: Vec<CodedForm>,
    pub medications: Vec<MedicationForm>,
    /// Empty (not yet answered), `no_known_drug_allergies`, `information_not_available` or `known`.
    pub allergies: String,
    pub known_allergies: Vec<AllergyForm>,
    pub text: Vec<SectionText>,
}

fn invalid(field: &str, message: impl Into<String>) -> CommandError {
    CommandError { code: ErrorCode::InvalidInput, message: message.into(), field: Some(field.into()) }
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

fn text_of(value: Option<&String>) -> String {
    value.cloned().unwrap_or_default()
}

/// A heading's key, as the form names it.
pub fn section_key(section: Section) -> String {
    serde_json::to_value(section).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn section_of(key: &str) -> Result<Section, CommandError> {
    serde_json::from_value(serde_json::Value::String(key.to_owned()))
        .map_err(|_| invalid("text", format!("{key:?} is not a PRSB heading")))
}

fn coded(entries: &[CodedForm]) -> Vec<Coded> {
    entries
        .iter()
        .filter(|e| !(e.code.trim().is_empty() && e.text.trim().is_empty()))
        .map(|e| Coded { code: optional(&e.code), text: e.text.trim().to_owned() })
        .collect()
}

fn coded_form(entries: &[Coded]) -> Vec<CodedForm> {
    entries.iter().map(|e| CodedForm { code: text_of(e.code.as_ref()), text: e.text.clone() }).collect()
}

fn time(field: &str, text: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, CommandError> {
    discharge::parse_form_time(field, text).map_err(|e| invalid(&e.field, e.reason))
}

impl SummaryForm {
    /// The form as the domain's summary (what it amends is the service's to keep).
    pub fn to_summary(&self) -> Result<DischargeSummary, CommandError> {
        let medications = self
            .medications
            .iter()
            .enumerate()
            .filter(|(_, m)| !(m.name.trim().is_empty() && m.dose_and_directions.trim().is_empty()))
            .map(|(index, m)| {
                let change = match m.change.as_str() {
                    "new" => MedicationChange::New,
                    "changed" => MedicationChange::Changed,
                    "stopped" => MedicationChange::Stopped,
                    "unchanged" => MedicationChange::Unchanged,
                    _ => {
                        return Err(invalid(
                            &format!("medications.{index}.change"),
                            "Choose new, changed, stopped or unchanged.",
                        ));
                    }
                };
                Ok(MedicationOnDischarge {
                    name: m.name.trim().to_owned(),
                    dose_and_directions: m.dose_and_directions.trim().to_owned(),
                    change,
                    reason: optional(&m.reason),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allergies = match self.allergies.as_str() {
            "" => None,
            "no_known_drug_allergies" => Some(Allergies::NoKnownDrugAllergies),
            "information_not_available" => Some(Allergies::InformationNotAvailable),
            "known" => Some(Allergies::Known(
                self.known_allergies
                    .iter()
                    .filter(|a| !a.agent.trim().is_empty() || !a.code.trim().is_empty())
                    .map(|a| Allergy {
                        causative_agent: Coded { code: optional(&a.code), text: a.agent.trim().to_owned() },
                        reaction: optional(&a.reaction),
                    })
                    .collect(),
            )),
            other => {
                return Err(invalid(
                    "allergies",
                    format!("{other:?} is not an answer to the allergies heading"),
                ));
            }
        };
        let mut text = std::collections::BTreeMap::new();
        for entry in &self.text {
            if let Some(words) = optional(&entry.text) {
                text.insert(section_of(&entry.section)?, words);
            }
        }
        Ok(DischargeSummary {
            patient_id: i64::from(self.patient_id),
            template: self.template.clone(),
            gp_practice: optional(&self.gp_practice),
            admission: AdmissionDetails {
                admitted_at: time("admitted_at", &self.admitted_at)?,
                method: optional(&self.admission_method),
                source: optional(&self.admission_source),
                reason: optional(&self.admission_reason),
            },
            discharge: DischargeDetails {
                discharged_at: time("discharged_at", &self.discharged_at)?,
                method: optional(&self.discharge_method),
                destination: optional(&self.discharge_destination),
                consultant: optional(&self.consultant),
                specialty: optional(&self.specialty),
                location: optional(&self.location),
            },
            diagnoses: coded(&self.diagnoses),
            procedures: coded(&self.procedures),
            medications,
            allergies,
            text,
            sact: Vec::new(),
            amends: None,
        })
    }

    /// The summary as the form shows it, with a text box for every heading the template shows.
    pub fn from_summary(summary: &DischargeSummary, shown: &[Section]) -> Self {
        let (allergies, known_allergies) = match &summary.allergies {
            None => (String::new(), Vec::new()),
            Some(Allergies::NoKnownDrugAllergies) => ("no_known_drug_allergies".into(), Vec::new()),
            Some(Allergies::InformationNotAvailable) => ("information_not_available".into(), Vec::new()),
            Some(Allergies::Known(list)) => (
                "known".into(),
                list.iter()
                    .map(|a| AllergyForm {
                        code: text_of(a.causative_agent.code.as_ref()),
                        agent: a.causative_agent.text.clone(),
                        reaction: text_of(a.reaction.as_ref()),
                    })
                    .collect(),
            ),
        };
        let (a, d) = (&summary.admission, &summary.discharge);
        Self {
            patient_id: u32::try_from(summary.patient_id).unwrap_or(u32::MAX),
            template: summary.template.clone(),
            gp_practice: text_of(summary.gp_practice.as_ref()),
            admitted_at: a.admitted_at.map(discharge::form_time).unwrap_or_default(),
            admission_method: text_of(a.method.as_ref()),
            admission_source: text_of(a.source.as_ref()),
            admission_reason: text_of(a.reason.as_ref()),
            discharged_at: d.discharged_at.map(discharge::form_time).unwrap_or_default(),
            discharge_method: text_of(d.method.as_ref()),
            discharge_destination: text_of(d.destination.as_ref()),
            consultant: text_of(d.consultant.as_ref()),
            specialty: text_of(d.specialty.as_ref()),
            location: text_of(d.location.as_ref()),
            diagnoses: coded_form(&summary.diagnoses),
            procedures: coded_form(&summary.procedures),
            medications: summary
                .medications
                .iter()
                .map(|m| MedicationForm {
                    name: m.name.clone(),
                    dose_and_directions: m.dose_and_directions.clone(),
                    change: serde_json::to_value(m.change)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    reason: text_of(m.reason.as_ref()),
                })
                .collect(),
            allergies,
            known_allergies,
            text: shown
                .iter()
                .filter(|s| is_free_text(**s))
                .map(|s| SectionText { section: section_key(*s), text: text_of(summary.text.get(s)) })
                .collect(),
        }
    }
}

/// Headings written as free text (the others have fields of their own).
pub fn is_free_text(section: Section) -> bool {
    !matches!(
        section,
        Section::PatientDemographics
            | Section::GpPractice
            | Section::AdmissionDetails
            | Section::DischargeDetails
            | Section::Diagnoses
            | Section::Procedures
            | Section::MedicationsAndMedicalDevices
            | Section::AllergiesAndAdverseReactions
            | Section::PersonCompletingRecord
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_goes_to_the_form_and_back_unchanged() {
        let summary = DischargeSummary::example();
        let template = discharge::Template::named(&summary.template).expect("template");
        let shown: Vec<Section> = Section::ALL.into_iter().filter(|s| template.shows(*s)).collect();
        let back = SummaryForm::from_summary(&summary, &shown).to_summary().expect("reads back");
        assert_eq!(back, summary);
    }

    #[test]
    fn a_time_that_cannot_be_read_is_refused_by_its_field() {
        let mut form = SummaryForm::from_summary(&DischargeSummary::example(), &[]);
        form.discharged_at = "yesterday".into();
        let error = form.to_summary().expect_err("refused");
        assert_eq!(error.field.as_deref(), Some("discharged_at"));
    }
}
