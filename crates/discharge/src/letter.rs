//! A signed summary as it leaves the hospital: the content with the patient,
//! the trust and the signer it needs to stand alone, and each heading in
//! words. The PDF, the FHIR document and the MDM^T02 are all made from this,
//! so they cannot disagree.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};

use crate::codes::CodeList;
use crate::section::Section;
use crate::summary::{Allergies, DischargeSummary, MedicationChange};
use crate::template::Template;

/// The patient as the letter names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterPatient {
    pub family_name: String,
    pub given_names: String,
    /// Ten digits, where the patient has a verified one.
    pub nhs_number: Option<String>,
    pub hospital_number: Option<String>,
    pub born: NaiveDate,
    /// `male`, `female`, `other` or `unknown` (FHIR administrative gender).
    pub sex: String,
    pub address: Option<String>,
    pub postcode: Option<String>,
}

impl LetterPatient {
    /// `SURNAME, Given`, as the patient banner shows a name.
    pub fn banner_name(&self) -> String {
        format!("{}, {}", self.family_name.to_uppercase(), self.given_names)
    }

    /// The NHS number spaced 3-3-4, or what stands in for it.
    pub fn nhs_number_display(&self) -> String {
        match &self.nhs_number {
            Some(n) if n.len() == 10 => format!("{} {} {}", &n[..3], &n[3..6], &n[6..]),
            Some(n) => n.clone(),
            None => "no verified NHS number".into(),
        }
    }
}

/// An organisation by its ODS code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub ods_code: String,
    pub name: String,
}

/// The person completing the record, from their enrolment and card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterSigner {
    pub user_id: String,
    pub name: String,
    pub role: String,
    pub registration: Option<String>,
}

/// One signed version of a summary, ready to render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub summary_id: i64,
    pub version: i64,
    pub summary: DischargeSummary,
    pub template: Template,
    pub patient: LetterPatient,
    pub trust: Organisation,
    pub signer: LetterSigner,
    pub signed_at: DateTime<Utc>,
}

/// A time as people in England read it: local time, day first, month in words.
pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&London).format("%d-%b-%Y %H:%M").to_string()
}

/// A date, day first with the month in words.
pub fn date(on: NaiveDate) -> String {
    on.format("%d-%b-%Y").to_string()
}

fn labelled(label: &str, value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(|v| format!("{label}: {v}"))
}

fn described(label: &str, list: CodeList, code: Option<&str>) -> Option<String> {
    labelled(label, code.map(|c| list.describe(c)).as_deref())
}

impl Letter {
    /// A complete, synthetic signed letter (999-range NHS number, fictional
    /// names) for demonstrations, benchmarks and tests of the renderings.
    pub fn example() -> Letter {
        Letter {
            summary_id: 41,
            version: 1,
            summary: DischargeSummary::example(),
            template: Template::named("General medicine").expect("shipped"),
            patient: LetterPatient {
                family_name: "Testpatient".into(),
                given_names: "Ada".into(),
                nhs_number: Some("9990000018".into()),
                hospital_number: Some("RX1000001".into()),
                born: NaiveDate::from_ymd_opt(1950, 3, 1).expect("date"),
                sex: "female".into(),
                address: Some("1 Fictional Row, Testtown".into()),
                postcode: Some("ZZ99 3ZZ".into()),
            },
            trust: Organisation { ods_code: "RX1".into(), name: "Example Hospitals NHS Trust".into() },
            signer: LetterSigner {
                user_id: "R7000".into(),
                name: "Dr Olive Oncology".into(),
                role: "Consultant".into(),
                registration: Some("GMC 7000004".into()),
            },
            signed_at: DateTime::parse_from_rfc3339("2026-07-01T09:30:00Z").expect("time").to_utc(),
        }
    }

    /// The letter's title: an amendment says so first, so no reader misses it.
    pub fn title(&self) -> String {
        match &self.summary.amends {
            Some(amendment) => {
                format!("AMENDED discharge summary v{} (replaces v{})", self.version, amendment.version)
            }
            None => "Discharge summary".into(),
        }
    }

    /// The headings this letter carries, in the standard's order: those the
    /// template shows, and any other the author filled in.
    pub fn sections(&self) -> Vec<Section> {
        Section::ALL
            .into_iter()
            .filter(|s| self.template.shows(*s) || self.summary.text.contains_key(s))
            .collect()
    }

    /// One heading in words, a line each; an empty heading says so rather than vanishing.
    pub fn lines(&self, section: Section) -> Vec<String> {
        let summary = &self.summary;
        let patient = &self.patient;
        let mut lines: Vec<String> = match section {
            Section::PatientDemographics => [
                Some(format!("Name: {}", patient.banner_name())),
                Some(format!("NHS number: {}", patient.nhs_number_display())),
                labelled("Hospital number", patient.hospital_number.as_deref()),
                Some(format!("Born: {}", date(patient.born))),
                Some(format!("Sex: {}", patient.sex)),
                labelled("Address", patient.address.as_deref()),
                labelled("Postcode", patient.postcode.as_deref()),
            ]
            .into_iter()
            .flatten()
            .collect(),
            Section::GpPractice => {
                labelled("Practice (ODS code)", summary.gp_practice.as_deref()).into_iter().collect()
            }
            Section::AdmissionDetails => {
                let a = &summary.admission;
                [
                    a.admitted_at.map(|t| format!("Admitted: {}", local_time(t))),
                    labelled("Reason for admission", a.reason.as_deref()),
                    described("Admission method", CodeList::AdmissionMethod, a.method.as_deref()),
                    described("Source of admission", CodeList::AdmissionSource, a.source.as_deref()),
                ]
                .into_iter()
                .flatten()
                .collect()
            }
            Section::DischargeDetails => {
                let d = &summary.discharge;
                [
                    d.discharged_at.map(|t| format!("Discharged: {}", local_time(t))),
                    labelled("Discharging consultant", d.consultant.as_deref()),
                    described("Specialty", CodeList::Specialty, d.specialty.as_deref()),
                    labelled("Discharged from", d.location.as_deref()),
                    described("Discharge method", CodeList::DischargeMethod, d.method.as_deref()),
                    described(
                        "Discharge destination",
                        CodeList::DischargeDestination,
                        d.destination.as_deref(),
                    ),
                ]
                .into_iter()
                .flatten()
                .collect()
            }
            Section::Diagnoses => summary.diagnoses.iter().map(coded_line).collect(),
            Section::Procedures => summary.procedures.iter().map(coded_line).collect(),
            Section::MedicationsAndMedicalDevices => sact_lines(&summary.sact)
                .into_iter()
                .chain(summary.medications.iter().map(|m| {
                    let change = match m.change {
                        MedicationChange::New => "NEW",
                        MedicationChange::Changed => "CHANGED",
                        MedicationChange::Stopped => "STOPPED",
                        MedicationChange::Unchanged => "Unchanged",
                    };
                    match m.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                        Some(reason) => {
                            format!("{change}: {}, {}. Reason: {reason}", m.name, m.dose_and_directions)
                        }
                        None => format!("{change}: {}, {}", m.name, m.dose_and_directions),
                    }
                }))
                .collect(),
            Section::AllergiesAndAdverseReactions => match &summary.allergies {
                Some(Allergies::Known(list)) => list
                    .iter()
                    .map(|a| match &a.reaction {
                        Some(reaction) => {
                            format!("{} - reaction: {reaction}", coded_line(&a.causative_agent))
                        }
                        None => coded_line(&a.causative_agent),
                    })
                    .collect(),
                Some(statement) => statement.statement().map(String::from).into_iter().collect(),
                None => Vec::new(),
            },
            Section::PersonCompletingRecord => [
                Some(format!("{}, {}", self.signer.name, self.signer.role)),
                self.signer.registration.clone(),
                Some(format!("Signed with their smart card: {}", local_time(self.signed_at))),
                Some(format!("{} ({})", self.trust.name, self.trust.ods_code)),
            ]
            .into_iter()
            .flatten()
            .collect(),
            Section::DistributionList => {
                labelled("GP practice", summary.gp_practice.as_deref()).into_iter().collect()
            }
            _ => Vec::new(),
        };
        if let Some(text) = summary.text.get(&section).map(|t| t.trim()).filter(|t| !t.is_empty()) {
            lines.extend(text.lines().map(String::from));
        }
        if let (Section::ClinicalSummary, Some(amendment)) = (section, &summary.amends) {
            lines.insert(0, format!("Amended from version {}: {}", amendment.version, amendment.reason));
        }
        if lines.is_empty() {
            lines.push("None recorded".into());
        }
        lines
    }
}

/// The SACT given this admission, a line per cycle, each dose exactly as recorded.
fn sact_lines(treatments: &[crate::summary::SactTreatment]) -> Vec<String> {
    treatments
        .iter()
        .map(|t| {
            let doses: Vec<String> = t
                .doses
                .iter()
                .map(|d| format!("{} {} {} on {}", d.drug, d.dose, d.unit, local_time(d.given_at)))
                .collect();
            let next = t.next_due.map(|d| format!(" Next cycle due {}.", date(d))).unwrap_or_default();
            format!(
                "SACT this admission: {} cycle {} of {}: {}.{next}",
                t.regimen,
                t.cycle,
                t.planned_cycles,
                doses.join("; ")
            )
        })
        .collect()
}

fn coded_line(entry: &crate::summary::Coded) -> String {
    match &entry.code {
        Some(code) => format!("{} (SNOMED CT {code})", entry.text),
        None => entry.text.clone(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn letter() -> Letter {
        Letter::example()
    }

    #[test]
    fn sact_given_this_admission_is_listed_first_with_each_dose_as_recorded_and_the_next_due_date() {
        let mut letter = letter();
        letter.summary.sact = vec![crate::summary::SactTreatment {
            regimen: "R-CHOP-21".into(),
            cycle: 2,
            planned_cycles: 6,
            doses: vec![crate::summary::SactDose {
                drug: "doxorubicin".into(),
                dose: "85".into(),
                unit: "mg".into(),
                given_at: DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").expect("time").to_utc(),
            }],
            next_due: NaiveDate::from_ymd_opt(2026, 12, 15),
        }];
        assert_eq!(
            letter.lines(Section::MedicationsAndMedicalDevices)[0],
            "SACT this admission: R-CHOP-21 cycle 2 of 6: doxorubicin 85 mg on 24-Nov-2026 10:00. Next cycle due 15-Dec-2026."
        );
    }

    #[test]
    fn times_are_printed_in_uk_local_time() {
        // 09:30 UTC in July is 10:30 British Summer Time.
        assert_eq!(local_time(letter().signed_at), "01-Jul-2026 10:30");
    }

    #[test]
    fn an_amendment_says_so_in_its_title_and_first_line_of_the_clinical_summary() {
        let mut amended = letter();
        amended.version = 2;
        amended.summary.amends = Some(crate::summary::Amendment {
            summary_id: 41,
            version: 1,
            reason: "Wrong dose of amoxicillin".into(),
        });
        assert!(amended.title().starts_with("AMENDED"), "{}", amended.title());
        assert_eq!(
            amended.lines(Section::ClinicalSummary)[0],
            "Amended from version 1: Wrong dose of amoxicillin"
        );
        assert_eq!(letter().title(), "Discharge summary");
    }

    #[test]
    fn each_heading_reads_as_words_and_an_empty_one_says_none_recorded() {
        let letter = letter();
        assert!(letter.lines(Section::PatientDemographics).contains(&"NHS number: 999 000 0018".to_owned()));
        assert_eq!(
            letter.lines(Section::MedicationsAndMedicalDevices),
            [
                "NEW: Amoxicillin 500 mg capsules, 500 mg three times a day for 2 more days. Reason: Completes the course for pneumonia"
            ]
        );
        assert_eq!(
            letter.lines(Section::AllergiesAndAdverseReactions),
            ["No known drug allergies or adverse reactions"]
        );
        assert_eq!(letter.lines(Section::Procedures), ["None recorded"]);
        assert_eq!(letter.sections().first(), Some(&Section::PatientDemographics));
    }
}
