//! The ITK3 messaging wrapper a Transfer of Care document travels in over
//! MESH, and the ITK3 responses that come back.
//!
//! - **Out.** An ITK-Message-Bundle-1 whose ITK-MessageHeader-2 carries the
//!   handling specification (both acknowledgements asked for, the primary
//!   recipient "for action", the eDischarge MessageDefinition), event
//!   `ITK003D`, the sending trust and receiving practice, and the document
//!   Bundle as its focus. XML only, as ITK3 requires.
//! - **In.** An ITK3 response names the MessageHeader it answers in
//!   `response.identifier`. Codes 10001–20013 are the infrastructure level
//!   (20013 is success); 30001–30003 the business level (30001: the patient
//!   is known at the practice). The reader is for outside input: it is
//!   bounded, and any bytes give a result or an error, never a panic.

use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::fhir::{self, document_bundle, document_id};
use crate::fhir_xml::{FhirXmlError, to_xml};
use crate::letter::Letter;

const STRUCTURE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/";
const MESSAGE_EVENTS: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2";
const RECIPIENT_TYPES: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1";
/// The eDischarge MessageDefinition instance the handling specification names.
pub const EDISCHARGE_MESSAGE_DEFINITION: &str =
    "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-eDischarge-MessageDefinition-Instance-1";
/// ITK3's response codes (OperationOutcome.issue.details).
pub const RESPONSE_CODES: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1";
const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
/// Larger than any response; a bigger message is refused unread.
pub const MOST_RESPONSE_BYTES: usize = 1 << 20;
const MOST_ELEMENTS: usize = 20_000;
const DEEPEST: usize = 64;

/// Who a message goes from and to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    /// The practice's ODS code (the receiver).
    pub practice: String,
    /// Our MESH mailbox (MessageHeader.source.endpoint).
    pub mailbox: String,
    /// Returned in every response: which send this was.
    pub sender_reference: String,
}

/// The MessageHeader id of the message that carries `letter` to `practice`:
/// the same for every attempt, so a resend is a recognisable duplicate (ITK 20007).
pub fn message_id(letter: &Letter, practice: &str) -> String {
    fhir::id(letter, &format!("itk-message/{practice}"))
}

/// The ITK3 message Bundle carrying the letter's document to one practice.
pub fn message_bundle(letter: &Letter, to: &Addressing, at: DateTime<Utc>) -> Value {
    let header_id = message_id(letter, &to.practice);
    let sender_id = fhir::id(letter, "itk-sender");
    let receiver_id = fhir::id(letter, &format!("itk-receiver/{}", to.practice));
    let handling = |key: &str, value: Value| {
        let mut extension = json!({ "url": key });
        if let Value::Object(values) = value {
            extension.as_object_mut().expect("object").extend(values);
        }
        extension
    };
    let header = json!({
        "resourceType": "MessageHeader",
        "id": header_id,
        "meta": { "profile": [format!("{STRUCTURE}ITK-MessageHeader-2")] },
        "extension": [{
            "url": format!("{STRUCTURE}Extension-ITK-MessageHandling-2"),
            "extension": [
                handling("BusAckRequested", json!({ "valueBoolean": true })),
                handling("InfAckRequested", json!({ "valueBoolean": true })),
                handling("RecipientType", json!({ "valueCoding": {
                    "system": RECIPIENT_TYPES, "code": "FA", "display": "For Action",
                } })),
                handling("MessageDefinition", json!({ "valueReference": {
                    "reference": EDISCHARGE_MESSAGE_DEFINITION,
                } })),
                handling("SenderReference", json!({ "valueString": to.sender_reference })),
            ],
        }],
        "event": { "system": MESSAGE_EVENTS, "code": "ITK003D", "display": "ITK eDischarge" },
        "receiver": { "reference": format!("urn:uuid:{receiver_id}") },
        "sender": { "reference": format!("urn:uuid:{sender_id}") },
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "source": { "endpoint": to.mailbox },
        "focus": { "reference": format!("urn:uuid:{}", document_id(letter)) },
    });
    let organisation = |id: &str, ods: &str| {
        json!({
            "fullUrl": format!("urn:uuid:{id}"),
            "resource": {
                "resourceType": "Organization",
                "id": id,
                "meta": { "profile": [format!("{STRUCTURE}CareConnect-ITK-Header-Organization-1")] },
                "identifier": [{ "system": ODS, "value": ods }],
            },
        })
    };
    let bundle_id = fhir::id(letter, &format!("itk-bundle/{}", to.practice));
    json!({
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": { "profile": [format!("{STRUCTURE}ITK-Message-Bundle-1")] },
        "identifier": { "system": "https://tools.ietf.org/html/rfc4122", "value": bundle_id },
        "type": "message",
        "entry": [
            { "fullUrl": format!("urn:uuid:{header_id}"), "resource": header },
            organisation(&sender_id, &letter.trust.ods_code),
            organisation(&receiver_id, &to.practice),
            { "fullUrl": format!("urn:uuid:{}", document_id(letter)), "resource": document_bundle(letter) },
        ],
    })
}

/// The ITK3 message as the XML that goes on the wire.
pub fn message_xml(letter: &Letter, to: &Addressing, at: DateTime<Utc>) -> Result<String, FhirXmlError> {
    to_xml(&message_bundle(letter, to, at))
}

/// Which acknowledgement a response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Level {
    /// The practice's system took the message (or refused it, with why).
    Infrastructure,
    /// The practice's clinical system says whether the patient is theirs.
    Business,
}

/// One ITK3 response, as far as the sender acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The MessageHeader id of the message it answers.
    pub answers: String,
    pub level: Level,
    /// True for 20013 (infrastructure success) and 30001 (patient known).
    pub positive: bool,
    /// The ITK3 response code, or `ok`/`fatal-error` when the response carries none.
    pub code: String,
    /// The response's own words for it, if any.
    pub display: Option<String>,
}

impl Response {
    /// A line for the outbox and the dashboard: the code and what it means.
    pub fn describe(&self) -> String {
        let level = match self.level {
            Level::Infrastructure => "ITK3 infrastructure",
            Level::Business => "ITK3 business",
        };
        match &self.display {
            Some(display) => format!("{level} response {}: {display}", self.code),
            None => format!("{level} response {}", self.code),
        }
    }
}

/// Why bytes could not be read as an ITK3 response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("not an ITK3 response: {0}")]
    NotAResponse(&'static str),
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    #[error("too large to be an ITK3 response ({0} bytes)")]
    TooLarge(usize),
}

impl ResponseError {
    /// Why, without any of the message's own text: for logs, which carry no
    /// patient data (a misdirected document could hold some).
    pub fn for_log(&self) -> String {
        match self {
            Self::NotAResponse(reason) => format!("not an ITK3 response: {reason}"),
            Self::Malformed(_) => "not well-formed XML".to_owned(),
            Self::TooLarge(bytes) => format!("too large ({bytes} bytes)"),
        }
    }
}

/// One element: its name, its `value` and `url` attributes, its children.
#[derive(Debug, Default)]
struct Element {
    name: String,
    value: Option<String>,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children_named<'e>(&'e self, name: &'e str) -> impl Iterator<Item = &'e Element> + 'e {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn value_at(&self, path: &[&str]) -> Option<&str> {
        let mut here = self;
        for step in path {
            here = here.child(step)?;
        }
        here.value.as_deref()
    }
}

fn read_tree(bytes: &[u8]) -> Result<Element, ResponseError> {
    if bytes.len() > MOST_RESPONSE_BYTES {
        return Err(ResponseError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ResponseError::Malformed("not UTF-8".into()))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<Element> = vec![Element::default()];
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| ResponseError::Malformed(e.to_string()))?;
        let (start, empty) = match &event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::End(_) => {
                let done = open
                    .pop()
                    .filter(|_| !open.is_empty())
                    .ok_or(ResponseError::NotAResponse("unbalanced"))?;
                open.last_mut().expect("a parent").children.push(done);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        count += 1;
        if count > MOST_ELEMENTS || open.len() > DEEPEST {
            return Err(ResponseError::NotAResponse("too many or too deeply nested elements"));
        }
        let mut element = Element { name: start.local_name().as_ref().to_owned(), ..Element::default() };
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| ResponseError::Malformed(e.to_string()))?;
            if attribute.key.local_name().as_ref() == "value" {
                let value = attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| ResponseError::Malformed(e.to_string()))?;
                element.value = Some(value.into_owned());
            }
        }
        if empty {
            open.last_mut().expect("a parent").children.push(element);
        } else {
            open.push(element);
        }
    }
    if open.len() != 1 {
        return Err(ResponseError::Malformed("the document ends inside an element".into()));
    }
    let mut document = open.pop().expect("the document");
    match document.children.len() {
        0 => Err(ResponseError::NotAResponse("empty")),
        1 => Ok(document.children.pop().expect("the root")),
        _ => Err(ResponseError::Malformed("more than one root element".into())),
    }
}

/// Reads an ITK3 response (an ITK-Message-Bundle-1 of event ITK008M).
pub fn read_response(bytes: &[u8]) -> Result<Response, ResponseError> {
    let bundle = read_tree(bytes)?;
    if bundle.name != "Bundle" {
        return Err(ResponseError::NotAResponse("it is not a FHIR Bundle"));
    }
    let resources: Vec<&Element> = bundle
        .children_named("entry")
        .filter_map(|entry| entry.child("resource"))
        .filter_map(|resource| resource.children.first())
        .collect();
    let header = resources
        .iter()
        .find(|r| r.name == "MessageHeader")
        .ok_or(ResponseError::NotAResponse("it has no MessageHeader"))?;
    if header.value_at(&["event", "code"]) != Some("ITK008M") {
        return Err(ResponseError::NotAResponse("its event is not ITK008M (ITK Response)"));
    }
    let response =
        header.child("response").ok_or(ResponseError::NotAResponse("it has no MessageHeader.response"))?;
    let answers = response
        .value_at(&["identifier"])
        .filter(|id| !id.is_empty())
        .ok_or(ResponseError::NotAResponse("it does not say which message it answers"))?
        .to_owned();
    let outcome =
        response.value_at(&["code"]).ok_or(ResponseError::NotAResponse("it has no response code"))?;
    let itk_code = resources
        .iter()
        .filter(|r| r.name == "OperationOutcome")
        .flat_map(|o| o.children_named("issue"))
        .filter_map(|issue| issue.child("details"))
        .flat_map(|details| details.children_named("coding"))
        .find(|coding| coding.value_at(&["system"]) == Some(RESPONSE_CODES));
    let (code, display) = match itk_code {
        Some(coding) => (
            coding.value_at(&["code"]).unwrap_or(outcome).to_owned(),
            coding.value_at(&["display"]).map(str::to_owned),
        ),
        None => (outcome.to_owned(), None),
    };
    let level = if code.starts_with('3') { Level::Business } else { Level::Infrastructure };
    let positive = outcome == "ok"
        && match level {
            Level::Infrastructure => code == "20013" || code == "ok",
            Level::Business => code == "30001",
        };
    Ok(Response { answers, level, positive, code, display })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letter::tests::letter;

    fn to() -> Addressing {
        Addressing { practice: "A81001".into(), mailbox: "X26ABC1".into(), sender_reference: "cws-7".into() }
    }

    fn at() -> DateTime<Utc> {
        "2026-11-30T10:00:00Z".parse().expect("time")
    }

    #[test]
    fn the_message_asks_for_both_acknowledgements_and_focuses_on_the_document() {
        let bundle = message_bundle(&letter(), &to(), at());
        assert_eq!(bundle["type"], "message");
        let header = &bundle["entry"][0]["resource"];
        assert_eq!(header["event"]["code"], "ITK003D");
        let keys: Vec<(&str, &Value)> = header["extension"][0]["extension"]
            .as_array()
            .expect("handling")
            .iter()
            .map(|k| (k["url"].as_str().expect("key"), k))
            .collect();
        let key = |name: &str| keys.iter().find(|(k, _)| *k == name).map(|(_, v)| *v).expect(name);
        assert_eq!(key("BusAckRequested")["valueBoolean"], true);
        assert_eq!(key("InfAckRequested")["valueBoolean"], true);
        assert_eq!(key("RecipientType")["valueCoding"]["code"], "FA");
        assert_eq!(key("MessageDefinition")["valueReference"]["reference"], EDISCHARGE_MESSAGE_DEFINITION);
        assert_eq!(key("SenderReference")["valueString"], "cws-7");
        let document = &bundle["entry"][3];
        assert_eq!(header["focus"]["reference"], document["fullUrl"]);
        assert_eq!(document["resource"]["type"], "document");
        let receiver = &bundle["entry"][2];
        assert_eq!(header["receiver"]["reference"], receiver["fullUrl"]);
        assert_eq!(receiver["resource"]["identifier"][0]["value"], "A81001");
    }

    #[test]
    fn every_attempt_at_one_practice_is_the_same_message_and_another_practice_gets_another() {
        assert_eq!(message_id(&letter(), "A81001"), message_id(&letter(), "A81001"));
        assert_ne!(message_id(&letter(), "A81001"), message_id(&letter(), "B82002"));
        let header = &message_bundle(&letter(), &to(), at())["entry"][0]["resource"];
        assert_eq!(header["id"], message_id(&letter(), "A81001"));
    }

    #[test]
    fn the_whole_message_writes_as_xml() {
        let xml = message_xml(&letter(), &to(), at()).expect("every element has an order");
        assert!(xml.contains("<Bundle xmlns=\"http://hl7.org/fhir\">"));
        assert!(xml.contains("<resource><Bundle>"), "the document rides inside");
    }

    #[test]
    fn every_structured_part_a_letter_can_carry_writes_as_xml() {
        use crate::summary::{Allergies, Allergy, Amendment, Coded};
        let mut fullest = letter();
        fullest.version = 2;
        fullest.summary.amends =
            Some(Amendment { summary_id: 41, version: 1, reason: "Corrected dose".into() });
        fullest.summary.procedures =
            vec![Coded { code: Some("80146002".into()), text: "Appendicectomy".into() }];
        fullest.summary.allergies = Some(Allergies::Known(vec![Allergy {
            causative_agent: Coded { code: None, text: "Elastoplast".into() },
            reaction: Some("Blisters".into()),
        }]));
        let xml = message_xml(&fullest, &to(), at()).expect("every element has an order");
        for part in
            ["<relatesTo>", "<Procedure>", "<AllergyIntolerance>", "<MedicationStatement>", "<Encounter>"]
        {
            assert!(xml.contains(part), "{part} written");
        }
    }

    pub(crate) fn response(answers: &str, outcome: &str, code: &str, display: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir"><id value="r1"/><type value="message"/>
<entry><fullUrl value="urn:uuid:h"/><resource><MessageHeader><id value="h"/>
<event><system value="{MESSAGE_EVENTS}"/><code value="ITK008M"/></event>
<timestamp value="2026-11-30T10:05:00+00:00"/><source><endpoint value="X26ABC2"/></source>
<response><identifier value="{answers}"/><code value="{outcome}"/><details><reference value="urn:uuid:o"/></details></response>
</MessageHeader></resource></entry>
<entry><fullUrl value="urn:uuid:o"/><resource><OperationOutcome><id value="o"/>
<issue><severity value="information"/><code value="informational"/><details><coding>
<system value="{RESPONSE_CODES}"/><code value="{code}"/><display value="{display}"/>
</coding></details></issue></OperationOutcome></resource></entry></Bundle>"#
        )
    }

    #[test]
    fn a_response_names_the_message_it_answers_and_its_level_and_outcome() {
        let ok = read_response(response("m-1", "ok", "20013", "Success").as_bytes()).expect("read");
        assert_eq!(
            ok,
            Response {
                answers: "m-1".into(),
                level: Level::Infrastructure,
                positive: true,
                code: "20013".into(),
                display: Some("Success".into()),
            }
        );
        let known =
            read_response(response("m-1", "ok", "30001", "Patient known here").as_bytes()).expect("read");
        assert_eq!((known.level, known.positive), (Level::Business, true));
        let unknown =
            read_response(response("m-1", "ok", "30002", "Patient not known here").as_bytes()).expect("read");
        assert_eq!((unknown.level, unknown.positive), (Level::Business, false));
        assert_eq!(unknown.describe(), "ITK3 business response 30002: Patient not known here");
        let refused =
            read_response(response("m-1", "fatal-error", "20009", "Payload validation failure").as_bytes())
                .expect("read");
        assert_eq!((refused.level, refused.positive), (Level::Infrastructure, false));
    }

    #[test]
    fn what_is_not_an_itk3_response_is_refused_saying_why() {
        let not_response = response("m-1", "ok", "20013", "Success").replace("ITK008M", "ITK003D");
        assert_eq!(
            read_response(not_response.as_bytes()),
            Err(ResponseError::NotAResponse("its event is not ITK008M (ITK Response)"))
        );
        let unanswered = response("", "ok", "20013", "Success");
        assert_eq!(
            read_response(unanswered.as_bytes()),
            Err(ResponseError::NotAResponse("it does not say which message it answers"))
        );
        let malformed = read_response(b"<Bundle><entry><Patient value=\"SECRET&bogus;\"/>");
        assert!(matches!(malformed, Err(ResponseError::Malformed(_))));
        assert_eq!(
            malformed.map_err(|e| e.for_log()),
            Err("not well-formed XML".to_owned()),
            "no content logged"
        );
        let two_roots = format!(
            "{0}{0}",
            response("m-1", "ok", "20013", "Success")
                .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "")
        );
        assert_eq!(
            read_response(two_roots.as_bytes()),
            Err(ResponseError::Malformed("more than one root element".into()))
        );
        assert_eq!(read_response(b""), Err(ResponseError::NotAResponse("empty")));
        assert!(matches!(
            read_response(b"{\"resourceType\":\"Bundle\"}"),
            Err(ResponseError::NotAResponse(_))
        ));
    }

    #[test]
    fn a_response_too_large_too_deep_or_of_too_many_elements_is_refused_at_the_limit_and_not_before() {
        let limits = ResponseError::NotAResponse("too many or too deeply nested elements");
        let nested = |levels: usize| format!("{}{}", "<a>".repeat(levels), "</a>".repeat(levels));
        assert_eq!(
            read_response(nested(DEEPEST).as_bytes()),
            Err(ResponseError::NotAResponse("it is not a FHIR Bundle"))
        );
        assert_eq!(read_response(nested(DEEPEST + 1).as_bytes()), Err(limits.clone()));
        let elements = |count: usize| format!("<Bundle>{}</Bundle>", "<x/>".repeat(count - 1));
        assert_eq!(
            read_response(elements(MOST_ELEMENTS).as_bytes()),
            Err(ResponseError::NotAResponse("it has no MessageHeader"))
        );
        assert_eq!(read_response(elements(MOST_ELEMENTS + 1).as_bytes()), Err(limits));
        let padded = |size: usize| {
            let mut bytes = response("m-1", "ok", "20013", "Success").into_bytes();
            bytes.resize(size, b' ');
            bytes
        };
        assert!(read_response(&padded(MOST_RESPONSE_BYTES)).is_ok(), "the limit itself is allowed");
        assert_eq!(
            read_response(&padded(MOST_RESPONSE_BYTES + 1)),
            Err(ResponseError::TooLarge(MOST_RESPONSE_BYTES + 1))
        );
    }

    #[test]
    fn an_ok_carried_by_the_header_alone_is_a_positive_infrastructure_response_and_an_error_code_never_is() {
        let header_only = response("m-1", "ok", "20013", "Success");
        let header_only = format!(
            "{}</Bundle>",
            &header_only
                [..header_only.find("<entry><fullUrl value=\"urn:uuid:o\"/>").expect("outcome entry")]
        );
        let read = read_response(header_only.as_bytes()).expect("read");
        assert_eq!((read.level, read.positive, read.code.as_str()), (Level::Infrastructure, true, "ok"));
        let contradictory =
            read_response(response("m-1", "ok", "20009", "Payload validation failure").as_bytes());
        assert_eq!(
            contradictory.map(|r| r.positive),
            Ok(false),
            "an error code with an ok header is not success"
        );
        let unknown_here =
            read_response(response("m-1", "fatal-error", "30001", "Patient known here").as_bytes());
        assert_eq!(unknown_here.map(|r| r.positive), Ok(false), "a fatal-error header is never success");
    }

    mod hostile {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_bytes_give_a_response_or_an_error_and_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let _ = read_response(&bytes);
            }

            #[test]
            fn a_response_damaged_anywhere_is_read_or_refused_without_a_panic(cut in 0usize..1200, byte in any::<u8>()) {
                let mut bytes = response("m-1", "ok", "20013", "Success").into_bytes();
                let at = cut % bytes.len();
                bytes[at] = byte;
                let _ = read_response(&bytes);
                let _ = read_response(&bytes[..at]);
            }

            #[test]
            fn any_answered_id_and_display_are_read_back_as_written(answers in "[ -~]{1,60}", display in "[ -~]{0,60}") {
                let escape = |s: &str| quick_xml::escape::escape(s).into_owned();
                let xml = response(&escape(&answers), "ok", "30001", &escape(&display));
                let read = read_response(xml.as_bytes()).expect("read");
                prop_assert_eq!(read.answers, answers);
                prop_assert_eq!(read.display, Some(display));
            }
        }
    }
}
