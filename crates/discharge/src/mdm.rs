//! The letter as an HL7 v2.4 document notification for the trust's clinical
//! system: MDM^T02 (new document, with its content) for a first version, and
//! MDM^T10 (replacement, naming the version it replaces in TXA-13) for an
//! amendment. The content is the letter in words, an OBX of text (TX) per
//! line, headings in the standard's order: clinical systems show text, and a
//! strict HL7 v2.4 peer (hl7apy) refuses an OBX-5 longer than 199 characters,
//! so a base64 PDF cannot travel in it.

use chrono::{DateTime, Utc};
use hl7::Encoding;
use hl7::escape::encode;

use crate::fhir::document_id;
use crate::letter::Letter;

/// Who sends and who receives, as MSH-3..6 name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_application: String,
    pub receiving_facility: String,
}

fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d%H%M%S+0000").to_string()
}

fn sex_code(sex: &str) -> &'static str {
    match sex {
        "male" => "M",
        "female" => "F",
        "other" => "O",
        _ => "U",
    }
}

/// The message, segments separated by carriage returns, ready for MLLP framing.
pub fn document_notification(letter: &Letter, route: &Route, control_id: &str, now: DateTime<Utc>) -> String {
    let e = |text: &str| encode(text, &Encoding::default());
    let patient = &letter.patient;
    let summary = &letter.summary;
    let event = if summary.amends.is_some() { "T10" } else { "T02" };
    let mut identifiers = Vec::new();
    if let Some(nhs) = &patient.nhs_number {
        identifiers.push(format!("{}^^^NHS^NH", e(nhs)));
    }
    if let Some(mrn) = &patient.hospital_number {
        identifiers.push(format!("{}^^^{}^MR", e(mrn), e(&letter.trust.ods_code)));
    }
    let signer = format!("{}^{}", e(&letter.signer.user_id), e(&letter.signer.name));
    let document = format!("{}^{}", document_id(letter), e(&letter.trust.ods_code));
    let parent = crate::fhir::replaced_ids(letter)
        .map(|(document, _)| format!("{document}^{}", e(&letter.trust.ods_code)))
        .unwrap_or_default();
    let change_reason = summary.amends.as_ref().map(|a| e(&a.reason)).unwrap_or_default();
    let signed = ts(letter.signed_at);
    let location = summary.discharge.location.as_deref().map(e).unwrap_or_default();
    let admitted = summary.admission.admitted_at.map(ts).unwrap_or_default();
    let discharged = summary.discharge.discharged_at.map(ts).unwrap_or_default();
    let segments = [
        format!(
            "MSH|^~\\&|{}|{}|{}|{}|{}||MDM^{event}^MDM_T02|{}|P|2.4|||AL|NE",
            e(&route.sending_application),
            e(&route.sending_facility),
            e(&route.receiving_application),
            e(&route.receiving_facility),
            ts(now),
            e(control_id)
        ),
        format!("EVN|{event}|{}", ts(now)),
        format!(
            "PID|1||{}||{}^{}||{}|{}",
            identifiers.join("~"),
            e(&patient.family_name.to_uppercase()),
            e(&patient.given_names),
            patient.born.format("%Y%m%d"),
            sex_code(&patient.sex)
        ),
        format!("PV1|1|I|{location}|||||||||||||||||||||||||||||||||||||||||{admitted}|{discharged}"),
        format!(
            "TXA|1|DS|TX|{signed}|{signer}|{signed}|||{signer}|||{document}|{parent}||||LA|U|AV||{change_reason}|{signer}^^^^^^^^^^^^^{signed}"
        ),
    ];
    let mut message = segments.join("\r") + "\r";
    for (index, line) in text_lines(letter).iter().enumerate() {
        message.push_str(&format!("OBX|{}|TX|18842-5^Discharge summary^LN||{}||||||F\r", index + 1, e(line)));
    }
    message
}

/// Longest OBX-5 text a strict v2.4 receiver takes.
const LONGEST_LINE: usize = 199;

/// The letter as lines of text: the title, then each heading and its lines,
/// long lines broken at spaces to fit an OBX.
fn text_lines(letter: &Letter) -> Vec<String> {
    let mut lines = vec![letter.title()];
    for section in letter.sections() {
        lines.push(format!("{}:", section.title().to_uppercase()));
        lines.extend(letter.lines(section).iter().flat_map(|line| broken(line, LONGEST_LINE - 20)));
    }
    lines
}

fn broken(line: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in line.split(' ') {
        let current = out.last_mut().expect("one line at least");
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            out.push(String::new());
        }
        let current = out.last_mut().expect("one line at least");
        if !current.is_empty() {
            current.push(' ');
        }
        current.extend(word.chars().take(width));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letter::tests::letter;

    fn route() -> Route {
        Route {
            sending_application: "CWS".into(),
            sending_facility: "RX1".into(),
            receiving_application: "EPR".into(),
            receiving_facility: "RX1".into(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-07-01T10:00:00Z").expect("time").to_utc()
    }

    #[test]
    fn a_first_version_is_a_new_document_legally_authenticated_with_its_pdf() {
        let message = document_notification(&letter(), &route(), "D41-1", now());
        let parsed = hl7::Message::parse(&message).expect("parses");
        assert_eq!(parsed.header().component(9, 2), "T02");
        let txa = parsed.segment("TXA").expect("TXA");
        assert_eq!(txa.value(2), "DS");
        assert_eq!(txa.value(12), document_id(&letter()));
        assert_eq!(txa.value(17), "LA");
        assert_eq!(txa.value(13), "");
        let text: Vec<&str> = parsed.segments("OBX").map(|obx| obx.value(5)).collect();
        assert_eq!(text[0], "Discharge summary");
        assert!(text.contains(&"Community acquired pneumonia (SNOMED CT 385093006)"), "{text:?}");
        assert!(text.iter().all(|line| line.chars().count() <= 199));
        assert_eq!(parsed.segment("PID").expect("PID").component(3, 1), "9990000018");
    }

    #[test]
    fn an_amendment_replaces_the_version_before_and_says_why() {
        let mut amended = letter();
        amended.summary_id = 42;
        amended.version = 2;
        amended.summary.amends =
            Some(crate::summary::Amendment { summary_id: 41, version: 1, reason: "Dose | corrected".into() });
        let message = document_notification(&amended, &route(), "D41-2", now());
        let parsed = hl7::Message::parse(&message).expect("parses");
        assert_eq!(parsed.header().component(9, 2), "T10");
        let txa = parsed.segment("TXA").expect("TXA");
        assert_eq!(txa.value(13), document_id(&letter()));
        assert!(message.contains("Dose \\F\\ corrected"), "the reason is escaped: {message}");
    }
}
