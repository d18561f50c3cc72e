//! The renderings as independent libraries read them: the FHIR document in
//! fhir.resources (STU3 models) and the MDM in hl7apy (strict, HL7 v2.4).

use chrono::{DateTime, Utc};
use discharge::mdm::{Route, document_notification};
use discharge::{Letter, fhir, itk};
use test_services::python_peers::{check, python_with};

fn amended() -> Letter {
    let mut letter = Letter::example();
    letter.version = 2;
    letter.summary.amends = Some(discharge::Amendment {
        summary_id: 41,
        version: 1,
        reason: "Corrected the amoxicillin course".into(),
    });
    letter
}

#[test]
fn the_fhir_document_is_valid_stu3_to_fhir_resources() {
    let Some(python) = python_with("fhir.resources", "the_fhir_document_is_valid_stu3_to_fhir_resources")
    else {
        return;
    };
    for letter in [Letter::example(), amended()] {
        let bundle = fhir::document_bundle(&letter);
        let (passed, said) = check(&python, "validate_fhir_stu3.py", bundle.to_string().as_bytes());
        assert!(passed, "{said}");
        assert!(said.starts_with("ok Composition Patient Organization Practitioner Encounter"), "{said}");
    }
}

#[test]
fn a_fhir_document_missing_a_required_element_is_refused_by_the_checker() {
    let Some(python) = python_with("fhir.resources", "a_fhir_document_missing_a_required_element_is_refused")
    else {
        return;
    };
    let mut bundle = fhir::document_bundle(&Letter::example());
    bundle["entry"][0]["resource"].as_object_mut().expect("composition").remove("status");
    let (passed, said) = check(&python, "validate_fhir_stu3.py", bundle.to_string().as_bytes());
    assert!(!passed, "the checker must catch a Composition without status: {said}");
}

#[test]
fn the_mdm_document_notification_is_valid_hl7_v2_4_to_hl7apy() {
    let Some(python) = python_with("hl7apy", "the_mdm_document_notification_is_valid_hl7_v2_4_to_hl7apy")
    else {
        return;
    };
    let route = Route {
        sending_application: "CWS".into(),
        sending_facility: "RX1".into(),
        receiving_application: "EPR".into(),
        receiving_facility: "RX1".into(),
    };
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-07-01T10:00:00Z").expect("time").to_utc();
    let mut long = Letter::example();
    long.summary
        .text
        .insert(discharge::Section::ClinicalSummary, "A long paragraph of clinical narrative. ".repeat(40));
    let messages = [
        document_notification(&long, &route, "MDM1", now),
        document_notification(&amended(), &route, "MDM2", now),
    ]
    .join("\n");
    let (passed, said) = check(&python, "validate_hl7v2.py", messages.as_bytes());
    assert!(passed, "{said}");
    assert_eq!(said.lines().filter(|l| l.starts_with("ok ")).count(), 2, "{said}");
}

fn addressing() -> itk::Addressing {
    itk::Addressing { practice: "A81001".into(), mailbox: "X26ABC1".into(), sender_reference: "cws-1".into() }
}

fn sent_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-07-01T10:00:00Z").expect("time").to_utc()
}

/// Every structured part the letter can carry, so every element the wrapper
/// can write is checked: procedures, coded and uncoded allergies, and a
/// medicine stopped with its reason over two lines.
fn fullest() -> Letter {
    let mut letter = amended();
    letter.summary.procedures = vec![
        discharge::Coded { code: Some("80146002".into()), text: "Appendicectomy".into() },
        discharge::Coded { code: None, text: "Ascitic tap".into() },
    ];
    letter.summary.allergies = Some(discharge::Allergies::Known(vec![
        discharge::Allergy {
            causative_agent: discharge::Coded { code: Some("372687004".into()), text: "Amoxicillin".into() },
            reaction: Some("Rash".into()),
        },
        discharge::Allergy {
            causative_agent: discharge::Coded { code: None, text: "Elastoplast".into() },
            reaction: None,
        },
    ]));
    letter.summary.medications.push(discharge::MedicationOnDischarge {
        name: "Ramipril".into(),
        dose_and_directions: "5 mg once a day".into(),
        change: discharge::MedicationChange::Stopped,
        reason: Some("Acute kidney injury\nRecheck U&E in a week".into()),
    });
    letter
}

#[test]
fn the_itk3_message_is_stu3_xml_in_definition_order_to_fhir_resources() {
    let Some(python) =
        python_with("lxml", "the_itk3_message_is_stu3_xml_in_definition_order_to_fhir_resources")
    else {
        return;
    };
    for letter in [Letter::example(), fullest()] {
        let xml = itk::message_xml(&letter, &addressing(), sent_at()).expect("xml");
        let (passed, said) = check(&python, "validate_itk3_xml.py", xml.as_bytes());
        assert!(passed, "{said}");
        assert_eq!(said.trim(), "ok MessageHeader Organization Organization Bundle", "{said}");
    }
}

#[test]
fn an_itk3_message_with_its_elements_out_of_order_is_refused_by_the_checker() {
    let Some(python) = python_with("lxml", "an_itk3_message_with_its_elements_out_of_order_is_refused")
    else {
        return;
    };
    let xml = itk::message_xml(&Letter::example(), &addressing(), sent_at()).expect("xml");
    // MessageHeader.event belongs before .timestamp: move it after.
    let event_start = xml.find("<event>").expect("event");
    let event_end = xml[event_start..].find("</event>").expect("end") + event_start + "</event>".len();
    let event = xml[event_start..event_end].to_owned();
    let mut swapped = xml.replacen(&event, "", 1);
    let timestamp_end = swapped.find("<timestamp ").expect("timestamp");
    let timestamp_end = swapped[timestamp_end..].find("/>").expect("end") + timestamp_end + 2;
    swapped.insert_str(timestamp_end, &event);
    let (passed, said) = check(&python, "validate_itk3_xml.py", swapped.as_bytes());
    assert!(!passed && said.contains("element order"), "the checker must catch the order: {said}");
}
