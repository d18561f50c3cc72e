//! Site templates per specialty: which headings a summary shows, which of
//! them sign-off requires, and the text each starts with. The six headings
//! the standard makes mandatory are always shown and required, whatever a
//! template says.

use serde::{Deserialize, Serialize};

use crate::section::{Conformance, Section};
use crate::summary::SummaryError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRule {
    pub section: Section,
    #[serde(default)]
    pub required: bool,
    /// Text the section starts with in a new summary.
    #[serde(default)]
    pub default_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The NHS main specialty code (Data Dictionary), e.g. 300 general medicine.
    pub specialty_code: String,
    pub name: String,
    pub sections: Vec<SectionRule>,
    /// Whether the summary carries the SACT given this admission (oncology).
    #[serde(default)]
    pub includes_sact: bool,
}

fn rule(section: Section, required: bool, default_text: Option<&str>) -> SectionRule {
    SectionRule { section, required, default_text: default_text.map(Into::into) }
}

impl Template {
    /// General medicine, general surgery and oncology, as shipped; a site may replace them.
    pub fn shipped() -> Vec<Template> {
        Self::shipped_templates()
    }

    /// The shipped template of that name.
    pub fn named(name: &str) -> Option<Template> {
        Self::shipped().into_iter().find(|t| t.name == name)
    }

    fn shipped_templates() -> Vec<Template> {
        use Section::*;
        let core = |extra: Vec<SectionRule>| {
            let mut sections = vec![
                rule(PatientDemographics, true, None),
                rule(GpPractice, true, None),
                rule(AdmissionDetails, true, None),
                rule(DischargeDetails, true, None),
                rule(ClinicalSummary, true, None),
                rule(Diagnoses, true, None),
                rule(MedicationsAndMedicalDevices, true, None),
                rule(AllergiesAndAdverseReactions, true, None),
                rule(InformationAndAdviceGiven, true, None),
                rule(PlanAndRequestedActions, true, None),
                rule(PersonCompletingRecord, true, None),
                rule(DistributionList, false, None),
            ];
            sections.extend(extra);
            sections.sort_by_key(|r| r.section);
            sections
        };
        vec![
            Template {
                specialty_code: "300".into(),
                name: "General medicine".into(),
                sections: core(vec![
                    rule(InvestigationResults, false, None),
                    rule(SafetyAlerts, false, None),
                    rule(SocialContext, false, None),
                ]),
                includes_sact: false,
            },
            Template {
                specialty_code: "100".into(),
                name: "General surgery".into(),
                sections: core(vec![
                    rule(Procedures, true, None),
                    rule(InvestigationResults, false, None),
                    rule(
                        InformationAndAdviceGiven,
                        true,
                        Some("Wound care, signs of infection and when to seek help were explained."),
                    ),
                ])
                .into_iter()
                .fold(Vec::new(), keep_last_of_each),
                includes_sact: false,
            },
            Template {
                specialty_code: "370".into(),
                name: "Medical oncology".into(),
                sections: core(vec![
                    rule(InvestigationResults, true, None),
                    rule(
                        SafetyAlerts,
                        true,
                        Some(
                            "Receiving systemic anti-cancer therapy: neutropenic sepsis risk. The patient holds an alert card and the 24-hour oncology helpline number.",
                        ),
                    ),
                    rule(ParticipationInResearch, false, None),
                ]),
                includes_sact: true,
            },
        ]
    }

    /// Refuses a template that names a heading twice. (The mandatory headings
    /// need no check: `shows` and `requires` hold them whatever a template says.)
    pub fn validated(self) -> Result<Self, SummaryError> {
        let mut seen = std::collections::BTreeSet::new();
        for rule in &self.sections {
            if !seen.insert(rule.section) {
                return Err(SummaryError::new(
                    "template",
                    format!("{} is named twice", rule.section.title()),
                ));
            }
        }
        Ok(self)
    }

    pub fn shows(&self, section: Section) -> bool {
        section.conformance() == Conformance::Mandatory || self.sections.iter().any(|r| r.section == section)
    }

    pub fn requires(&self, section: Section) -> bool {
        section.conformance() == Conformance::Mandatory
            || self.sections.iter().any(|r| r.section == section && r.required)
    }

    pub fn default_text(&self, section: Section) -> Option<&str> {
        self.sections.iter().find(|r| r.section == section).and_then(|r| r.default_text.as_deref())
    }
}

/// A later rule for the same heading replaces the earlier one (a specialty's own default text).
fn keep_last_of_each(mut kept: Vec<SectionRule>, next: SectionRule) -> Vec<SectionRule> {
    kept.retain(|r| r.section != next.section);
    kept.push(next);
    kept.sort_by_key(|r| r.section);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_templates_are_valid_and_differ_by_specialty() {
        let shipped = Template::shipped();
        assert_eq!(shipped.len(), 3);
        for template in shipped.clone() {
            template.validated().expect("valid");
        }
        let surgery = &shipped[1];
        assert!(surgery.requires(Section::Procedures));
        assert!(
            surgery.default_text(Section::InformationAndAdviceGiven).is_some_and(|t| t.contains("Wound"))
        );
        let oncology = &shipped[2];
        assert!(oncology.includes_sact && oncology.requires(Section::SafetyAlerts));
        assert!(!shipped[0].shows(Section::Procedures), "general medicine hides procedures");
    }

    #[test]
    fn a_template_cannot_drop_a_mandatory_heading() {
        let mut template = Template::shipped().remove(0);
        template.sections.retain(|r| r.section != Section::Diagnoses);
        assert!(template.requires(Section::Diagnoses), "mandatory whatever the template says");
        let mut twice = Template::shipped().remove(0);
        twice.sections.push(rule(Section::Diagnoses, true, None));
        assert!(twice.validated().is_err());
    }
}
