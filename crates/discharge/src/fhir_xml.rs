//! FHIR STU3 resources as XML, the only wire format ITK3 allows.
//!
//! The JSON the letter is built as carries no element order, and FHIR XML
//! requires the order of each type's definition. The table below holds that
//! order for every type and element the letter and the ITK3 wrapper use (from
//! the STU3 definitions); an element outside it is refused, never written in
//! a guessed place. The tests check the order against fhir.resources.

use serde_json::{Map, Value};

/// Why a resource could not be written as FHIR XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirXmlError {
    #[error("{path}: no FHIR STU3 XML order is known for this element")]
    UnknownElement { path: String },
    #[error("{path}: a FHIR resource needs a resourceType")]
    NoResourceType { path: String },
    #[error("{path}: {reason}")]
    Shape { path: String, reason: &'static str },
}

/// What an element holds.
#[derive(Clone, Copy)]
enum Holds {
    /// A primitive: `<name value="…"/>`.
    Value,
    /// A complex type, by its name in the table.
    Type(&'static str),
    /// A whole resource, named by its resourceType (Bundle.entry.resource).
    Resource,
    /// The narrative's XHTML, written as it is.
    Xhtml,
}
use Holds::{Resource, Type, Value as Prim, Xhtml};

type Elements = &'static [(&'static str, Holds)];

/// What every STU3 domain resource begins with, before its own elements.
const DOMAIN_RESOURCE: Elements =
    &[("id", Prim), ("meta", Type("Meta")), ("text", Type("Narrative")), ("extension", Type("Extension"))];

/// The domain resources this crate writes (Bundle is a resource, not a domain resource).
fn is_domain_resource(type_name: &str) -> bool {
    matches!(
        type_name,
        "MessageHeader"
            | "Composition"
            | "Patient"
            | "Organization"
            | "Practitioner"
            | "Encounter"
            | "Condition"
            | "Procedure"
            | "MedicationStatement"
            | "AllergyIntolerance"
    )
}

/// Each type's own elements in STU3 definition order (only those this crate writes).
fn elements_of(type_name: &str) -> Option<Elements> {
    Some(match type_name {
        "Bundle" => &[
            ("id", Prim),
            ("meta", Type("Meta")),
            ("identifier", Type("Identifier")),
            ("type", Prim),
            ("entry", Type("Bundle.entry")),
        ],
        "Bundle.entry" => &[("fullUrl", Prim), ("resource", Resource)],
        "MessageHeader" => &[
            ("event", Type("Coding")),
            ("receiver", Type("Reference")),
            ("sender", Type("Reference")),
            ("timestamp", Prim),
            ("source", Type("MessageHeader.source")),
            ("focus", Type("Reference")),
        ],
        "MessageHeader.source" => &[("name", Prim), ("software", Prim), ("endpoint", Prim)],
        "Composition" => &[
            ("identifier", Type("Identifier")),
            ("status", Prim),
            ("type", Type("CodeableConcept")),
            ("subject", Type("Reference")),
            ("encounter", Type("Reference")),
            ("date", Prim),
            ("author", Type("Reference")),
            ("title", Prim),
            ("confidentiality", Prim),
            ("attester", Type("Composition.attester")),
            ("custodian", Type("Reference")),
            ("relatesTo", Type("Composition.relatesTo")),
            ("section", Type("Composition.section")),
        ],
        "Composition.attester" => &[("mode", Prim), ("time", Prim), ("party", Type("Reference"))],
        "Composition.relatesTo" => &[("code", Prim), ("targetIdentifier", Type("Identifier"))],
        "Composition.section" => &[
            ("title", Prim),
            ("code", Type("CodeableConcept")),
            ("text", Type("Narrative")),
            ("entry", Type("Reference")),
        ],
        "Patient" => &[
            ("identifier", Type("Identifier")),
            ("name", Type("HumanName")),
            ("gender", Prim),
            ("birthDate", Prim),
            ("address", Type("Address")),
            ("generalPractitioner", Type("Reference")),
        ],
        "Organization" => &[("identifier", Type("Identifier")), ("name", Prim)],
        "Practitioner" => &[("identifier", Type("Identifier")), ("name", Type("HumanName"))],
        "Encounter" => &[
            ("status", Prim),
            ("class", Type("Coding")),
            ("subject", Type("Reference")),
            ("period", Type("Period")),
            ("hospitalization", Type("Encounter.hospitalization")),
            ("serviceProvider", Type("Reference")),
        ],
        "Encounter.hospitalization" => {
            &[("admitSource", Type("CodeableConcept")), ("dischargeDisposition", Type("CodeableConcept"))]
        }
        "Condition" => &[
            ("clinicalStatus", Prim),
            ("verificationStatus", Prim),
            ("code", Type("CodeableConcept")),
            ("subject", Type("Reference")),
            ("context", Type("Reference")),
        ],
        "Procedure" => &[
            ("status", Prim),
            ("code", Type("CodeableConcept")),
            ("subject", Type("Reference")),
            ("context", Type("Reference")),
        ],
        "MedicationStatement" => &[
            ("context", Type("Reference")),
            ("status", Prim),
            ("medicationCodeableConcept", Type("CodeableConcept")),
            ("dateAsserted", Prim),
            ("subject", Type("Reference")),
            ("taken", Prim),
            ("note", Type("Annotation")),
            ("dosage", Type("Dosage")),
        ],
        "AllergyIntolerance" => &[
            ("clinicalStatus", Prim),
            ("verificationStatus", Prim),
            ("code", Type("CodeableConcept")),
            ("patient", Type("Reference")),
            ("assertedDate", Prim),
        ],
        "Meta" => &[("profile", Prim)],
        "Identifier" => &[("system", Prim), ("value", Prim)],
        "CodeableConcept" => &[("coding", Type("Coding")), ("text", Prim)],
        "Coding" => &[("system", Prim), ("code", Prim), ("display", Prim)],
        "Reference" => &[("reference", Prim), ("identifier", Type("Identifier")), ("display", Prim)],
        "HumanName" => &[("use", Prim), ("text", Prim), ("family", Prim), ("given", Prim)],
        "Address" => &[("use", Prim), ("text", Prim), ("postalCode", Prim)],
        "Period" => &[("start", Prim), ("end", Prim)],
        "Narrative" => &[("status", Prim), ("div", Xhtml)],
        "Dosage" => &[("text", Prim)],
        "Annotation" => &[("text", Prim)],
        // `url` is an attribute, written with the start tag.
        "Extension" => &[
            ("extension", Type("Extension")),
            ("valueBoolean", Prim),
            ("valueString", Prim),
            ("valueCoding", Type("Coding")),
            ("valueReference", Type("Reference")),
        ],
        _ => return None,
    })
}

/// Text for an attribute value. Line breaks and tabs become character
/// references, because a parser turns literal ones in an attribute into spaces.
fn attribute(text: &str) -> String {
    quick_xml::escape::escape(text).replace('\n', "&#10;").replace('\r', "&#13;").replace('\t', "&#9;")
}

/// A resource (with its `resourceType`) as a FHIR XML document.
pub fn to_xml(resource: &Value) -> Result<String, FhirXmlError> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_resource(resource, "", true, &mut out)?;
    Ok(out)
}

fn write_resource(resource: &Value, path: &str, root: bool, out: &mut String) -> Result<(), FhirXmlError> {
    let object = resource.as_object().ok_or_else(|| FhirXmlError::Shape {
        path: path.to_owned(),
        reason: "a resource must be an object",
    })?;
    let kind = object
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or_else(|| FhirXmlError::NoResourceType { path: path.to_owned() })?;
    let path = if path.is_empty() { kind.to_owned() } else { format!("{path}/{kind}") };
    out.push('<');
    out.push_str(kind);
    if root {
        out.push_str(" xmlns=\"http://hl7.org/fhir\"");
    }
    out.push('>');
    write_children(object, kind, &path, out)?;
    out.push_str("</");
    out.push_str(kind);
    out.push('>');
    Ok(())
}

fn write_children(
    object: &Map<String, Value>,
    type_name: &str,
    path: &str,
    out: &mut String,
) -> Result<(), FhirXmlError> {
    let own = elements_of(type_name).ok_or_else(|| FhirXmlError::UnknownElement { path: path.to_owned() })?;
    let head = if is_domain_resource(type_name) { DOMAIN_RESOURCE } else { &[] };
    let elements = || head.iter().chain(own);
    for name in object.keys() {
        let known = elements().any(|(element, _)| element == name);
        let skipped = name == "resourceType" || (type_name == "Extension" && name == "url");
        if !known && !skipped {
            return Err(FhirXmlError::UnknownElement { path: format!("{path}.{name}") });
        }
    }
    for (name, holds) in elements() {
        let Some(value) = object.get(*name) else { continue };
        let items = match value {
            Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        for item in items {
            write_element(name, *holds, item, &format!("{path}.{name}"), out)?;
        }
    }
    Ok(())
}

fn write_element(
    name: &str,
    holds: Holds,
    value: &Value,
    path: &str,
    out: &mut String,
) -> Result<(), FhirXmlError> {
    let shape = |reason| FhirXmlError::Shape { path: path.to_owned(), reason };
    match holds {
        Prim => {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Bool(flag) => flag.to_string(),
                _ => return Err(shape("a primitive must be text or true/false")),
            };
            out.push_str(&format!("<{name} value=\"{}\"/>", attribute(&text)));
        }
        Xhtml => {
            let div = value.as_str().ok_or_else(|| shape("the narrative must be XHTML text"))?;
            out.push_str(div);
        }
        Resource => {
            out.push_str(&format!("<{name}>"));
            write_resource(value, path, false, out)?;
            out.push_str(&format!("</{name}>"));
        }
        Type(type_name) => {
            let object = value.as_object().ok_or_else(|| shape("a complex element must be an object"))?;
            match object.get("url").and_then(Value::as_str) {
                Some(url) if type_name == "Extension" => {
                    out.push_str(&format!("<{name} url=\"{}\">", attribute(url)));
                }
                _ => out.push_str(&format!("<{name}>")),
            }
            write_children(object, type_name, path, out)?;
            out.push_str(&format!("</{name}>"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_are_written_in_definition_order_whatever_order_the_json_holds() {
        // serde_json keeps keys sorted: "dosage" < "status" < "subject".
        let statement = json!({
            "resourceType": "MedicationStatement",
            "subject": { "reference": "urn:uuid:p" },
            "status": "active",
            "dosage": [{ "text": "Once a day" }],
            "context": { "reference": "urn:uuid:e" },
        });
        let xml = to_xml(&statement).expect("xml");
        let at = |tag: &str| xml.find(tag).unwrap_or_else(|| panic!("{tag} in {xml}"));
        assert!(
            at("<context>") < at("<status ")
                && at("<status ") < at("<subject>")
                && at("<subject>") < at("<dosage>")
        );
        assert!(xml.contains("<MedicationStatement xmlns=\"http://hl7.org/fhir\">"), "{xml}");
    }

    #[test]
    fn an_element_outside_the_table_is_refused_naming_where_it_is() {
        let patient = json!({ "resourceType": "Patient", "maritalStatus": { "text": "Married" } });
        assert_eq!(
            to_xml(&patient),
            Err(FhirXmlError::UnknownElement { path: "Patient.maritalStatus".into() })
        );
        let odd_extension =
            json!({ "resourceType": "MessageHeader", "extension": [{ "url": "u", "valueCode": "x" }] });
        assert_eq!(
            to_xml(&odd_extension),
            Err(FhirXmlError::UnknownElement { path: "MessageHeader.extension.valueCode".into() })
        );
        let numbered = json!({ "resourceType": "Bundle", "type": 3 });
        assert!(matches!(to_xml(&numbered), Err(FhirXmlError::Shape { .. })));
        let untyped = json!({ "id": "x" });
        assert_eq!(to_xml(&untyped), Err(FhirXmlError::NoResourceType { path: String::new() }));
    }

    #[test]
    fn values_are_escaped_and_line_breaks_survive_as_character_references() {
        let annotated = json!({
            "resourceType": "MedicationStatement",
            "note": [{ "text": "Take <2> & \"stop\"\nif dizzy" }],
        });
        let xml = to_xml(&annotated).expect("xml");
        assert!(xml.contains("value=\"Take &lt;2&gt; &amp; &quot;stop&quot;&#10;if dizzy\""), "{xml}");
    }

    #[test]
    fn a_nested_resource_is_wrapped_and_an_extension_carries_its_url_as_an_attribute() {
        let bundle = json!({
            "resourceType": "Bundle",
            "type": "message",
            "entry": [{ "fullUrl": "urn:uuid:h", "resource": {
                "resourceType": "MessageHeader",
                "extension": [{ "url": "https://example.invalid/handling", "extension": [
                    { "url": "InfAckRequested", "valueBoolean": true }
                ] }],
            } }],
        });
        let xml = to_xml(&bundle).expect("xml");
        assert!(xml.contains(
            "<resource><MessageHeader><extension url=\"https://example.invalid/handling\"><extension url=\"InfAckRequested\"><valueBoolean value=\"true\"/></extension></extension></MessageHeader></resource>"
        ), "{xml}");
    }
}
