//! DICOM JSON (PS3.18 F.2) attribute values, read without trusting their shape:
//! an attribute may be absent, have no `Value`, or hold a value of another type.

use serde_json::Value;

/// The first value of an attribute as text: strings as they are, numbers
/// written out, a person name's alphabetic form.
pub(crate) fn first_text(dataset: &serde_json::Map<String, Value>, tag: &str) -> Option<String> {
    texts(dataset, tag).into_iter().next()
}

/// Every value of an attribute as text, empty ones left out.
pub(crate) fn texts(dataset: &serde_json::Map<String, Value>, tag: &str) -> Vec<String> {
    let Some(values) = dataset.get(tag).and_then(|a| a.get("Value")).and_then(Value::as_array) else {
        return Vec::new();
    };
    values
        .iter()
        .filter_map(|value| match value {
            Value::String(text) => Some(text.trim().to_owned()),
            Value::Number(number) => Some(number.to_string()),
            Value::Object(name) => {
                name.get("Alphabetic").and_then(Value::as_str).map(|t| t.trim().to_owned())
            }
            _ => None,
        })
        .filter(|text| !text.is_empty())
        .collect()
}

/// An IS or US count: a JSON number, or a string of digits (IS is text in DICOM).
pub(crate) fn count(dataset: &serde_json::Map<String, Value>, tag: &str) -> Option<u32> {
    first_text(dataset, tag).and_then(|text| text.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dataset(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn values_are_read_whatever_their_json_shape() {
        let data = dataset(json!({
            "00080061": {"vr": "CS", "Value": ["CT", "", "PR"]},
            "00080090": {"vr": "PN", "Value": [{"Alphabetic": "WHITTLE^Wendy^^Dr"}]},
            "00201206": {"vr": "IS", "Value": [3]},
            "00201208": {"vr": "IS", "Value": ["12"]},
            "00081030": {"vr": "LO"},
            "00080050": {"vr": "SH", "Value": [null]},
        }));
        assert_eq!(texts(&data, "00080061"), ["CT", "PR"]);
        assert_eq!(first_text(&data, "00080090").as_deref(), Some("WHITTLE^Wendy^^Dr"));
        assert_eq!((count(&data, "00201206"), count(&data, "00201208")), (Some(3), Some(12)));
        assert_eq!(first_text(&data, "00081030"), None, "no Value");
        assert_eq!(first_text(&data, "00080050"), None, "a null value");
        assert_eq!(first_text(&data, "00100020"), None, "absent");
    }
}
