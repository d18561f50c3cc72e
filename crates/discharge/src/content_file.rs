//! The JSON a script or test gives `cws discharge draft --content FILE.json`:
//! any of the summary's parts, laid over the draft prefilled from the store.
//! Unknown keys are refused, so a misspelt heading is never silently dropped.
//! The shape is documented in docs/discharge-content.md.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::section::Section;
use crate::summary::{
    AdmissionDetails, Allergies, Coded, DischargeDetails, DischargeSummary, MedicationOnDischarge,
    SummaryError,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentFile {
    pub gp_practice: Option<String>,
    pub admission: Option<AdmissionDetails>,
    pub discharge: Option<DischargeDetails>,
    pub diagnoses: Option<Vec<Coded>>,
    pub procedures: Option<Vec<Coded>>,
    pub medications: Option<Vec<MedicationOnDischarge>>,
    pub allergies: Option<Allergies>,
    /// Free text by heading, e.g. `"clinical_summary": "…"`.
    #[serde(default)]
    pub text: BTreeMap<Section, String>,
}

impl ContentFile {
    /// Reads the file's JSON; a fault names where it is.
    pub fn parse(json: &str) -> Result<Self, SummaryError> {
        serde_json::from_str(json)
            .map_err(|e| SummaryError::new("content", format!("the content file is not valid: {e}")))
    }

    /// The draft with this content over it: a part given replaces the draft's,
    /// and within the admission and discharge details each field given does.
    pub fn apply_to(self, mut summary: DischargeSummary) -> DischargeSummary {
        if let Some(gp) = self.gp_practice {
            summary.gp_practice = Some(gp);
        }
        if let Some(a) = self.admission {
            let kept = &mut summary.admission;
            kept.admitted_at = a.admitted_at.or(kept.admitted_at);
            kept.method = a.method.or(kept.method.take());
            kept.source = a.source.or(kept.source.take());
            kept.reason = a.reason.or(kept.reason.take());
        }
        if let Some(d) = self.discharge {
            let kept = &mut summary.discharge;
            kept.discharged_at = d.discharged_at.or(kept.discharged_at);
            kept.method = d.method.or(kept.method.take());
            kept.destination = d.destination.or(kept.destination.take());
            kept.consultant = d.consultant.or(kept.consultant.take());
            kept.specialty = d.specialty.or(kept.specialty.take());
            kept.location = d.location.or(kept.location.take());
        }
        if let Some(diagnoses) = self.diagnoses {
            summary.diagnoses = diagnoses;
        }
        if let Some(procedures) = self.procedures {
            summary.procedures = procedures;
        }
        if let Some(medications) = self.medications {
            summary.medications = medications;
        }
        if let Some(allergies) = self.allergies {
            summary.allergies = Some(allergies);
        }
        summary.text.extend(self.text);
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_is_laid_over_the_draft_part_by_part() {
        let mut draft = DischargeSummary::example();
        draft.diagnoses.clear();
        let content = ContentFile::parse(
            r#"{
                "admission": { "reason": "Fall at home" },
                "diagnoses": [{ "code": "125605004", "text": "Fracture of bone" }],
                "allergies": { "kind": "no_known_drug_allergies" },
                "text": { "clinical_summary": "Fixed and mobilising." }
            }"#,
        )
        .expect("valid");
        let summary = content.apply_to(draft.clone());
        assert_eq!(summary.admission.reason.as_deref(), Some("Fall at home"));
        assert_eq!(summary.admission.admitted_at, draft.admission.admitted_at, "fields not given are kept");
        assert_eq!(summary.diagnoses[0].code.as_deref(), Some("125605004"));
        assert_eq!(summary.text[&Section::ClinicalSummary], "Fixed and mobilising.");
        assert_eq!(
            summary.text[&Section::PlanAndRequestedActions],
            draft.text[&Section::PlanAndRequestedActions]
        );
    }

    #[test]
    fn the_documented_example_is_read_as_documented() {
        let doc = include_str!("../../../docs/discharge-content.md");
        let json = doc.split("```json").nth(1).and_then(|rest| rest.split("```").next()).expect("an example");
        let summary =
            ContentFile::parse(json).expect("the example is valid").apply_to(DischargeSummary::example());
        assert_eq!(summary.diagnoses[0].code.as_deref(), Some("385093006"));
        assert_eq!(summary.allergies, Some(Allergies::NoKnownDrugAllergies));
        let template = crate::Template::named("General medicine").expect("template");
        assert_eq!(summary.missing_for_sign_off(&template), [], "the example is complete");
    }

    #[test]
    fn a_misspelt_key_is_refused_and_named() {
        let error = ContentFile::parse(r#"{ "diagnosis": [] }"#).expect_err("refused");
        assert!(error.to_string().contains("diagnosis"), "{error}");
        let field = ContentFile::parse(r#"{ "admission": { "reasn": "x" } }"#).expect_err("refused");
        assert!(field.to_string().contains("reasn"), "{field}");
        let heading = ContentFile::parse(r#"{ "text": { "clinical_sumary": "x" } }"#).expect_err("refused");
        assert!(heading.to_string().contains("clinical_sumary"), "{heading}");
    }
}
