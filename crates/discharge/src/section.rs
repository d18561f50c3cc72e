//! The PRSB eDischarge headings as the NHS Transfer of Care FHIR document
//! carries them: each with its SNOMED CT section code and whether the standard
//! makes it mandatory, required (where known) or optional.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Conformance {
    /// Always present; sign-off refuses a summary without it.
    Mandatory,
    /// Present where the information exists.
    Required,
    Optional,
}

/// The 22 headings, in the order a summary shows them (the PRSB standard's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    PatientDemographics,
    GpPractice,
    ReferrerDetails,
    AdmissionDetails,
    DischargeDetails,
    PatientAndCarerConcerns,
    ClinicalSummary,
    Diagnoses,
    Procedures,
    MedicationsAndMedicalDevices,
    AllergiesAndAdverseReactions,
    AssessmentScales,
    InvestigationResults,
    SafetyAlerts,
    LegalInformation,
    SocialContext,
    IndividualRequirements,
    InformationAndAdviceGiven,
    ParticipationInResearch,
    PlanAndRequestedActions,
    PersonCompletingRecord,
    DistributionList,
}

impl Section {
    pub const ALL: [Section; 22] = [
        Self::PatientDemographics,
        Self::GpPractice,
        Self::ReferrerDetails,
        Self::AdmissionDetails,
        Self::DischargeDetails,
        Self::PatientAndCarerConcerns,
        Self::ClinicalSummary,
        Self::Diagnoses,
        Self::Procedures,
        Self::MedicationsAndMedicalDevices,
        Self::AllergiesAndAdverseReactions,
        Self::AssessmentScales,
        Self::InvestigationResults,
        Self::SafetyAlerts,
        Self::LegalInformation,
        Self::SocialContext,
        Self::IndividualRequirements,
        Self::InformationAndAdviceGiven,
        Self::ParticipationInResearch,
        Self::PlanAndRequestedActions,
        Self::PersonCompletingRecord,
        Self::DistributionList,
    ];

    /// The heading as a reader sees it.
    pub const fn title(self) -> &'static str {
        match self {
            Self::PatientDemographics => "Patient demographics",
            Self::GpPractice => "GP practice",
            Self::ReferrerDetails => "Referrer details",
            Self::AdmissionDetails => "Admission details",
            Self::DischargeDetails => "Discharge details",
            Self::PatientAndCarerConcerns => "Patient and carer concerns, expectations and wishes",
            Self::ClinicalSummary => "Clinical summary",
            Self::Diagnoses => "Diagnoses",
            Self::Procedures => "Procedures",
            Self::MedicationsAndMedicalDevices => "Medications and medical devices",
            Self::AllergiesAndAdverseReactions => "Allergies and adverse reactions",
            Self::AssessmentScales => "Assessment scales",
            Self::InvestigationResults => "Investigation results",
            Self::SafetyAlerts => "Safety alerts",
            Self::LegalInformation => "Legal information",
            Self::SocialContext => "Social context",
            Self::IndividualRequirements => "Individual requirements",
            Self::InformationAndAdviceGiven => "Information and advice given",
            Self::ParticipationInResearch => "Participation in research",
            Self::PlanAndRequestedActions => "Plan and requested actions",
            Self::PersonCompletingRecord => "Person completing record",
            Self::DistributionList => "Distribution list",
        }
    }

    /// The SNOMED CT code of the section in the Transfer of Care Composition.
    pub const fn snomed(self) -> &'static str {
        match self {
            Self::PatientDemographics => "886731000000109",
            Self::GpPractice => "886711000000101",
            Self::ReferrerDetails => "1052891000000108",
            Self::AdmissionDetails => "886781000000108",
            Self::DischargeDetails => "886811000000106",
            Self::PatientAndCarerConcerns => "1052941000000107",
            Self::ClinicalSummary => "887181000000106",
            Self::Diagnoses => "887161000000102",
            Self::Procedures => "887171000000109",
            Self::MedicationsAndMedicalDevices => "933361000000108",
            Self::AllergiesAndAdverseReactions => "886921000000105",
            Self::AssessmentScales => "887141000000103",
            Self::InvestigationResults => "1082101000000102",
            Self::SafetyAlerts => "886931000000107",
            Self::LegalInformation => "886961000000102",
            Self::SocialContext => "887051000000101",
            Self::IndividualRequirements => "1078911000000106",
            Self::InformationAndAdviceGiven => "1052951000000105",
            Self::ParticipationInResearch => "886751000000102",
            Self::PlanAndRequestedActions => "887201000000105",
            Self::PersonCompletingRecord => "887231000000104",
            Self::DistributionList => "887261000000109",
        }
    }

    /// The standard's conformance: six headings are mandatory in every summary.
    pub const fn conformance(self) -> Conformance {
        match self {
            Self::PatientDemographics
            | Self::GpPractice
            | Self::ClinicalSummary
            | Self::Diagnoses
            | Self::AllergiesAndAdverseReactions
            | Self::PersonCompletingRecord => Conformance::Mandatory,
            Self::AssessmentScales
            | Self::InvestigationResults
            | Self::MedicationsAndMedicalDevices
            | Self::ParticipationInResearch
            | Self::Procedures
            | Self::SocialContext => Conformance::Optional,
            _ => Conformance::Required,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_two_headings_six_mandatory_each_with_its_own_code() {
        let mandatory: Vec<&str> = Section::ALL
            .iter()
            .filter(|s| s.conformance() == Conformance::Mandatory)
            .map(|s| s.title())
            .collect();
        assert_eq!(
            mandatory,
            [
                "Patient demographics",
                "GP practice",
                "Clinical summary",
                "Diagnoses",
                "Allergies and adverse reactions",
                "Person completing record"
            ]
        );
        let codes: std::collections::BTreeSet<&str> = Section::ALL.iter().map(|s| s.snomed()).collect();
        assert_eq!(codes.len(), 22, "no code twice");
        let mut sorted = Section::ALL;
        sorted.sort();
        assert_eq!(sorted, Section::ALL, "ALL is in the order summaries show");
    }
}
