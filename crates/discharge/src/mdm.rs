//! The letter as an HL7 v2.4 document notification for the trust's clinical
//! system: MDM^T02 (new document, with its content) for a first version, and
//! MDM^T10 (replacement, naming the version it replaces in TXA-13) for an
//! amendment. The content is the signed PDF in OBX-5, base64.

use base64::Engine;
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
pub fn document_notification(
    letter: &Letter,
    pdf: &[u8],
    route: &Route,
    control_id: &str,
    now: DateTime<Utc>,
) -> String {
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
    let parent = summary
        .amends
        .as_ref()
        .map(|a| {
            format!(
                "{}^{}",
                document_id(&Letter { version: a.version, ..letter.clone() }),
                e(&letter.trust.ods_code)
            )
        })
        .unwrap_or_default();
    let change_reason = summary.amends.as_ref().map(|a| e(&a.reason)).unwrap_or_default();
    let signed = ts(letter.signed_at);
    let location = summary.discharge.location.as_deref().map(e).unwrap_or_default();
    let admitted = summary.admission.admitted_at.map(ts).unwrap_or_default();
    let discharged = summary.discharge.discharged_at.map(ts).unwrap_or_default();
    let content = base64::engine::general_purpose::STANDARD.encode(pdf);
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
            "TXA|1|DS|AP|{signed}|{signer}|{signed}|||{signer}|||{document}|{parent}||||LA|U|AV||{change_reason}|{signer}^^^^^^^^^^^^^{signed}"
        ),
        format!("OBX|1|ED|18842-5^Discharge summary^LN||^AP^PDF^Base64^{content}||||||F"),
    ];
    segments.join("\r") + "\r"
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
        let message = document_notification(&letter(), b"%PDF-1.7", &route(), "D41-1", now());
        let parsed = hl7::Message::parse(&message).expect("parses");
        assert_eq!(parsed.header().component(9, 2), "T02");
        let txa = parsed.segment("TXA").expect("TXA");
        assert_eq!(txa.value(2), "DS");
        assert_eq!(txa.value(12), document_id(&letter()));
        assert_eq!(txa.value(17), "LA");
        assert_eq!(txa.value(13), "");
        let obx = parsed.segment("OBX").expect("OBX");
        assert_eq!(obx.component(5, 5), "JVBERi0xLjc=");
        assert_eq!(parsed.segment("PID").expect("PID").component(3, 1), "9990000018");
    }

    #[test]
    fn an_amendment_replaces_the_version_before_and_says_why() {
        let mut amended = letter();
        amended.version = 2;
        amended.summary.amends =
            Some(crate::summary::Amendment { version: 1, reason: "Dose | corrected".into() });
        let message = document_notification(&amended, b"%PDF", &route(), "D41-2", now());
        let parsed = hl7::Message::parse(&message).expect("parses");
        assert_eq!(parsed.header().component(9, 2), "T10");
        let txa = parsed.segment("TXA").expect("TXA");
        assert_eq!(txa.value(13), document_id(&letter()));
        assert!(message.contains("Dose \\F\\ corrected"), "the reason is escaped: {message}");
    }
}
