//! The letter as a FHIR STU3 document Bundle on the NHS Transfer of Care
//! eDischarge structure (ITK-Document-Bundle-1, CareConnect profiles): the
//! Composition (SNOMED 373942005) first, a section per PRSB heading with its
//! SNOMED code and narrative, and the coded parts as resources.
//!
//! Every id is derived from the trust, the summary and the version, so the
//! same signed version always gives the same document: a resend is
//! recognisably the same document (ITK 20008), never a new one.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::letter::Letter;
use crate::section::Section;
use crate::summary::{Allergies, Coded, MedicationChange};

const SNOMED: &str = "http://snomed.info/sct";
const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const PROFILE: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition/";
const ITK_PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/";
/// No known drug allergy (SNOMED CT).
const NO_KNOWN_DRUG_ALLERGY: &str = "409137002";

/// A stable id for one part of one version of one summary.
pub(crate) fn id(letter: &Letter, part: &str) -> String {
    let name = format!("{}/discharge/{}/{}/{part}", letter.trust.ods_code, letter.summary_id, letter.version);
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

fn reference(letter: &Letter, part: &str) -> Value {
    json!({ "reference": format!("urn:uuid:{}", id(letter, part)) })
}

/// The document's identifier: what the GP system and a tracking look-up know it by.
pub fn document_id(letter: &Letter) -> String {
    id(letter, "bundle")
}

/// For an amendment, the identifiers of the version it replaces: its
/// document's, and its Composition's.
pub fn replaced_ids(letter: &Letter) -> Option<(String, String)> {
    letter.summary.amends.as_ref().map(|amendment| {
        let replaced =
            Letter { summary_id: amendment.summary_id, version: amendment.version, ..letter.clone() };
        (document_id(&replaced), id(&replaced, "composition"))
    })
}

fn coded(entry: &Coded) -> Value {
    match &entry.code {
        Some(code) => {
            json!({ "coding": [{ "system": SNOMED, "code": code, "display": entry.text }], "text": entry.text })
        }
        None => json!({ "text": entry.text }),
    }
}

/// Text as XHTML the narrative can carry.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn narrative(lines: &[String]) -> Value {
    let items: String = lines.iter().map(|l| format!("<p>{}</p>", escaped(l))).collect();
    json!({ "status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{items}</div>") })
}

fn profiled(profile: &str) -> Value {
    json!({ "profile": [profile] })
}

/// The whole document Bundle.
pub fn document_bundle(letter: &Letter) -> Value {
    let mut resources: Vec<(String, Value)> = vec![
        ("patient".into(), patient(letter)),
        ("trust".into(), organisation(letter, "trust", &letter.trust.ods_code, Some(&letter.trust.name))),
        ("signer".into(), practitioner(letter)),
        ("encounter".into(), encounter(letter)),
    ];
    if let Some(gp) = &letter.summary.gp_practice {
        resources.push(("gp".into(), organisation(letter, "gp", gp, None)));
    }
    let mut section_entries: Vec<(Section, Vec<Value>)> = Vec::new();
    let mut add = |section: Section, part: String, resource: Value, resources: &mut Vec<(String, Value)>| {
        match section_entries.iter_mut().find(|(s, _)| *s == section) {
            Some((_, entries)) => entries.push(reference(letter, &part)),
            None => section_entries.push((section, vec![reference(letter, &part)])),
        }
        resources.push((part, resource));
    };
    for (index, diagnosis) in letter.summary.diagnoses.iter().enumerate() {
        let part = format!("condition/{index}");
        add(Section::Diagnoses, part.clone(), condition(letter, &part, diagnosis), &mut resources);
    }
    for (index, done) in letter.summary.procedures.iter().enumerate() {
        let part = format!("procedure/{index}");
        add(Section::Procedures, part.clone(), procedure(letter, &part, done), &mut resources);
    }
    for index in 0..letter.summary.medications.len() {
        let part = format!("medication/{index}");
        add(
            Section::MedicationsAndMedicalDevices,
            part.clone(),
            medication(letter, &part, index),
            &mut resources,
        );
    }
    let allergies: Vec<Coded> = match &letter.summary.allergies {
        Some(Allergies::Known(list)) => list.iter().map(|a| a.causative_agent.clone()).collect(),
        Some(Allergies::NoKnownDrugAllergies) => vec![Coded {
            code: Some(NO_KNOWN_DRUG_ALLERGY.into()),
            text: "No known drug allergies or adverse reactions".into(),
        }],
        _ => Vec::new(),
    };
    for (index, agent) in allergies.iter().enumerate() {
        let part = format!("allergy/{index}");
        add(
            Section::AllergiesAndAdverseReactions,
            part.clone(),
            allergy(letter, &part, agent),
            &mut resources,
        );
    }
    let composition = composition(letter, &section_entries);
    let mut entries = vec![
        json!({ "fullUrl": format!("urn:uuid:{}", id(letter, "composition")), "resource": composition }),
    ];
    entries.extend(resources.into_iter().map(|(part, resource)| {
        json!({ "fullUrl": format!("urn:uuid:{}", id(letter, &part)), "resource": resource })
    }));
    json!({
        "resourceType": "Bundle",
        "id": document_id(letter),
        "meta": profiled(&format!("{ITK_PROFILE}ITK-Document-Bundle-1")),
        "identifier": { "system": "https://tools.ietf.org/html/rfc4122", "value": document_id(letter) },
        "type": "document",
        "entry": entries,
    })
}

fn composition(letter: &Letter, section_entries: &[(Section, Vec<Value>)]) -> Value {
    let sections: Vec<Value> = letter
        .sections()
        .into_iter()
        .map(|section| {
            let mut value = json!({
                "title": section.title(),
                "code": { "coding": [{ "system": SNOMED, "code": section.snomed(), "display": section.title() }] },
                "text": narrative(&letter.lines(section)),
            });
            if let Some((_, entries)) = section_entries.iter().find(|(s, _)| *s == section) {
                value["entry"] = json!(entries);
            }
            value
        })
        .collect();
    let mut composition = json!({
        "resourceType": "Composition",
        "id": id(letter, "composition"),
        "meta": profiled(&format!("{PROFILE}CareConnect-ITK-EDIS-Composition-1")),
        "identifier": { "system": "https://tools.ietf.org/html/rfc4122", "value": id(letter, "composition") },
        "status": if letter.summary.amends.is_some() { "amended" } else { "final" },
        "type": { "coding": [{ "system": SNOMED, "code": "373942005", "display": "Discharge summary" }] },
        "subject": reference(letter, "patient"),
        "encounter": reference(letter, "encounter"),
        "date": letter.signed_at.to_rfc3339(),
        "author": [reference(letter, "signer")],
        "title": letter.title(),
        "confidentiality": "N",
        "attester": [{ "mode": ["legal"], "time": letter.signed_at.to_rfc3339(), "party": reference(letter, "signer") }],
        "custodian": reference(letter, "trust"),
        "section": sections,
    });
    if let Some((_, replaced_composition)) = replaced_ids(letter) {
        composition["relatesTo"] = json!([{
            "code": "replaces",
            "targetIdentifier": { "system": "https://tools.ietf.org/html/rfc4122", "value": replaced_composition },
        }]);
    }
    composition
}

fn patient(letter: &Letter) -> Value {
    let p = &letter.patient;
    let mut identifiers = Vec::new();
    if let Some(nhs) = &p.nhs_number {
        identifiers.push(json!({ "system": NHS_NUMBER, "value": nhs }));
    }
    if let Some(mrn) = &p.hospital_number {
        identifiers.push(json!({ "system": format!("https://fhir.nhs.uk/Id/local-patient-identifier/{}", letter.trust.ods_code), "value": mrn }));
    }
    let mut patient = json!({
        "resourceType": "Patient",
        "id": id(letter, "patient"),
        "meta": profiled(&format!("{PROFILE}CareConnect-Patient-1")),
        "identifier": identifiers,
        "name": [{ "use": "official", "family": p.family_name, "given": p.given_names.split_whitespace().collect::<Vec<_>>() }],
        "gender": p.sex,
        "birthDate": p.born.to_string(),
    });
    if p.address.is_some() || p.postcode.is_some() {
        let mut address = json!({ "use": "home" });
        if let Some(text) = &p.address {
            address["text"] = json!(text);
        }
        if let Some(postcode) = &p.postcode {
            address["postalCode"] = json!(postcode);
        }
        patient["address"] = json!([address]);
    }
    if letter.summary.gp_practice.is_some() {
        patient["generalPractitioner"] = json!([reference(letter, "gp")]);
    }
    patient
}

fn organisation(letter: &Letter, part: &str, ods_code: &str, name: Option<&str>) -> Value {
    let mut organisation = json!({
        "resourceType": "Organization",
        "id": id(letter, part),
        "meta": profiled(&format!("{PROFILE}CareConnect-Organization-1")),
        "identifier": [{ "system": ODS, "value": ods_code }],
    });
    if let Some(name) = name {
        organisation["name"] = json!(name);
    }
    organisation
}

fn practitioner(letter: &Letter) -> Value {
    let signer = &letter.signer;
    let mut practitioner = json!({
        "resourceType": "Practitioner",
        "id": id(letter, "signer"),
        "meta": profiled(&format!("{PROFILE}CareConnect-Practitioner-1")),
        "name": [{ "text": signer.name }],
    });
    if let Some((body, number)) = signer.registration.as_deref().and_then(|r| r.split_once(' ')) {
        practitioner["identifier"] = json!([{
            "system": format!("https://fhir.hl7.org.uk/Id/{}-number", body.to_lowercase()),
            "value": number,
        }]);
    }
    practitioner
}

fn encounter(letter: &Letter) -> Value {
    let summary = &letter.summary;
    let mut period = json!({});
    if let Some(start) = summary.admission.admitted_at {
        period["start"] = json!(start.to_rfc3339());
    }
    if let Some(end) = summary.discharge.discharged_at {
        period["end"] = json!(end.to_rfc3339());
    }
    let mut hospitalization = json!({});
    if let Some(source) = &summary.admission.source {
        hospitalization["admitSource"] = json!({ "text": source });
    }
    if let Some(destination) = &summary.discharge.destination {
        hospitalization["dischargeDisposition"] = json!({ "text": destination });
    }
    json!({
        "resourceType": "Encounter",
        "id": id(letter, "encounter"),
        "meta": profiled(&format!("{PROFILE}CareConnect-Encounter-1")),
        "status": "finished",
        "class": { "system": "http://hl7.org/fhir/v3/ActCode", "code": "IMP", "display": "inpatient encounter" },
        "subject": reference(letter, "patient"),
        "period": period,
        "hospitalization": hospitalization,
        "serviceProvider": reference(letter, "trust"),
    })
}

fn condition(letter: &Letter, part: &str, diagnosis: &Coded) -> Value {
    json!({
        "resourceType": "Condition",
        "id": id(letter, part),
        "meta": profiled(&format!("{PROFILE}CareConnect-Condition-1")),
        "clinicalStatus": "active",
        "verificationStatus": "confirmed",
        "code": coded(diagnosis),
        "subject": reference(letter, "patient"),
        "context": reference(letter, "encounter"),
    })
}

fn procedure(letter: &Letter, part: &str, done: &Coded) -> Value {
    json!({
        "resourceType": "Procedure",
        "id": id(letter, part),
        "meta": profiled(&format!("{PROFILE}CareConnect-Procedure-1")),
        "status": "completed",
        "code": coded(done),
        "subject": reference(letter, "patient"),
        "context": reference(letter, "encounter"),
    })
}

fn medication(letter: &Letter, part: &str, index: usize) -> Value {
    let medicine = &letter.summary.medications[index];
    let (status, change) = match medicine.change {
        MedicationChange::New => ("active", "New"),
        MedicationChange::Changed => ("active", "Changed"),
        MedicationChange::Unchanged => ("active", "Unchanged"),
        MedicationChange::Stopped => ("stopped", "Stopped"),
    };
    let note = match &medicine.reason {
        Some(reason) => format!("{change} this admission: {reason}"),
        None => format!("{change} this admission"),
    };
    json!({
        "resourceType": "MedicationStatement",
        "id": id(letter, part),
        "meta": profiled(&format!("{PROFILE}CareConnect-MedicationStatement-1")),
        "status": status,
        "medicationCodeableConcept": { "text": medicine.name },
        "subject": reference(letter, "patient"),
        "context": reference(letter, "encounter"),
        "dateAsserted": letter.signed_at.to_rfc3339(),
        "taken": if medicine.change == MedicationChange::Stopped { "n" } else { "y" },
        "dosage": [{ "text": medicine.dose_and_directions }],
        "note": [{ "text": note }],
    })
}

fn allergy(letter: &Letter, part: &str, agent: &Coded) -> Value {
    json!({
        "resourceType": "AllergyIntolerance",
        "id": id(letter, part),
        "meta": profiled(&format!("{PROFILE}CareConnect-AllergyIntolerance-1")),
        "clinicalStatus": "active",
        "verificationStatus": "confirmed",
        "code": coded(agent),
        "patient": reference(letter, "patient"),
        "assertedDate": letter.signed_at.to_rfc3339(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letter::tests::letter;

    fn composition_of(bundle: &Value) -> &Value {
        &bundle["entry"][0]["resource"]
    }

    #[test]
    fn the_document_starts_with_a_discharge_summary_composition_with_a_section_per_heading() {
        let bundle = document_bundle(&letter());
        assert_eq!(bundle["type"], "document");
        let composition = composition_of(&bundle);
        assert_eq!(composition["resourceType"], "Composition");
        assert_eq!(composition["type"]["coding"][0]["code"], "373942005");
        let codes: Vec<&str> = composition["section"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s["code"]["coding"][0]["code"].as_str().expect("code"))
            .collect();
        for mandatory in [
            Section::PatientDemographics,
            Section::GpPractice,
            Section::ClinicalSummary,
            Section::Diagnoses,
            Section::AllergiesAndAdverseReactions,
            Section::PersonCompletingRecord,
        ] {
            assert!(codes.contains(&mandatory.snomed()), "{mandatory:?} missing from {codes:?}");
        }
    }

    #[test]
    fn every_reference_in_the_document_resolves_to_an_entry_in_it() {
        let bundle = document_bundle(&letter());
        let text = bundle.to_string();
        let full_urls: Vec<&str> = bundle["entry"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["fullUrl"].as_str().expect("url"))
            .collect();
        for reference in
            text.split("\"reference\":\"").skip(1).map(|rest| &rest[..rest.find('"').expect("end")])
        {
            assert!(full_urls.contains(&reference), "{reference} does not resolve");
        }
    }

    #[test]
    fn the_same_version_gives_the_same_document_and_an_amendment_replaces_the_one_before() {
        assert_eq!(document_bundle(&letter()), document_bundle(&letter()));
        let mut amended = letter();
        amended.version = 2;
        amended.summary.amends =
            Some(crate::summary::Amendment { summary_id: 41, version: 1, reason: "Corrected dose".into() });
        let bundle = document_bundle(&amended);
        let composition = composition_of(&bundle);
        assert_eq!(composition["status"], "amended");
        assert_eq!(
            composition["relatesTo"][0]["targetIdentifier"]["value"],
            composition_of(&document_bundle(&letter()))["identifier"]["value"]
        );
        assert_ne!(document_id(&amended), document_id(&letter()));
    }

    #[test]
    fn narrative_text_is_escaped_as_xhtml() {
        let mut letter = letter();
        letter.summary.text.insert(Section::ClinicalSummary, "CRP <5 & falling".into());
        let bundle = document_bundle(&letter);
        assert!(bundle.to_string().contains("CRP &lt;5 &amp; falling"));
    }
}
