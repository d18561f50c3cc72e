//! A QIDO-RS study list, read tolerantly and checked to be the patient's.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use crate::dicom_json::{count, first_text, texts};

/// One study as the list shows it. Anything the PACS left out is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Study {
    pub study_uid: String,
    pub date: Option<NaiveDate>,
    /// `HH:MM`, where the PACS gave a time.
    pub time: Option<String>,
    pub modalities: Vec<String>,
    pub description: Option<String>,
    pub accession_number: Option<String>,
    pub series: Option<u32>,
    pub instances: Option<u32>,
    /// `WHITTLE, Wendy (Dr)`: CUI order.
    pub referring_clinician: Option<String>,
    /// The PatientID the study carries: always the one asked for.
    pub patient_id: String,
}

/// One page of a QIDO-RS answer: the studies, and how many had no study UID
/// (so cannot be opened), which the list says rather than hides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StudyPage {
    pub studies: Vec<Study>,
    pub without_uid: usize,
    /// The PACS held more than a client asks for at most: the list says so.
    pub more_than_shown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImagingError {
    #[error("the PACS's answer is not a DICOM JSON list of studies: {0}")]
    NotDicomJson(String),
    /// A misconfigured PACS (or a query it ignored) answering with someone else's images.
    #[error(
        "the PACS answered with a study of another patient (patient ID {found:?}); no study from this answer is shown"
    )]
    WrongPatient { found: String, study_uid: Option<String> },
    #[error(
        "the PACS answered with a study that does not say whose it is (no patient ID); no study from this answer is shown"
    )]
    Unattributed { study_uid: Option<String> },
}

const STUDY_UID: &str = "0020000D";
const STUDY_DATE: &str = "00080020";
const STUDY_TIME: &str = "00080030";
const MODALITIES: &str = "00080061";
const DESCRIPTION: &str = "00081030";
const ACCESSION: &str = "00080050";
const SERIES: &str = "00201206";
const INSTANCES: &str = "00201208";
const REFERRING: &str = "00080090";
const PATIENT_ID: &str = "00100020";
const ISSUER: &str = "00100021";

/// Reads a QIDO-RS studies answer for the patient known here by `patient_ids`
/// (their NHS number, and their hospital number where the site falls back to
/// it). An empty body (204 No Content) is no studies. One study of anyone
/// else, or of no one, refuses the whole answer: the PACS cannot be trusted for
/// the rest of it either. With `issuer`, a study naming another issuer of
/// patient IDs is another patient's too.
pub fn read_studies(
    body: &[u8],
    patient_ids: &[&str],
    issuer: Option<&str>,
) -> Result<StudyPage, ImagingError> {
    read_studies_up_to(body, patient_ids, issuer, usize::MAX).map(|(page, _)| page)
}

/// As `read_studies`, keeping the first `keep` studies and saying whether the
/// answer held more: a client asks for one more than a page, so it knows there
/// is another page without asking for an empty one. Every study is checked to be
/// the patient's, kept or not.
pub fn read_studies_up_to(
    body: &[u8],
    patient_ids: &[&str],
    issuer: Option<&str>,
    keep: usize,
) -> Result<(StudyPage, bool), ImagingError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((StudyPage::default(), false));
    }
    let answer: Value =
        serde_json::from_slice(body).map_err(|e| ImagingError::NotDicomJson(e.to_string()))?;
    let Value::Array(datasets) = answer else {
        return Err(ImagingError::NotDicomJson("it is not a JSON array".into()));
    };
    let mut page = StudyPage::default();
    for (position, dataset) in datasets.iter().enumerate() {
        let Value::Object(dataset) = dataset else {
            return Err(ImagingError::NotDicomJson("an entry is not a JSON object".into()));
        };
        let study_uid = first_text(dataset, STUDY_UID);
        let Some(patient_id) = first_text(dataset, PATIENT_ID) else {
            return Err(ImagingError::Unattributed { study_uid });
        };
        let other_issuer = match (issuer, first_text(dataset, ISSUER)) {
            (Some(expected), Some(given)) => !given.eq_ignore_ascii_case(expected),
            _ => false,
        };
        if !patient_ids.contains(&patient_id.as_str()) || other_issuer {
            return Err(ImagingError::WrongPatient { found: patient_id, study_uid });
        }
        if position >= keep {
            continue;
        }
        let Some(study_uid) = study_uid else {
            page.without_uid += 1;
            continue;
        };
        page.studies.push(Study {
            study_uid,
            date: first_text(dataset, STUDY_DATE).and_then(|d| NaiveDate::parse_from_str(&d, "%Y%m%d").ok()),
            time: first_text(dataset, STUDY_TIME).and_then(|t| hours_and_minutes(&t)),
            modalities: texts(dataset, MODALITIES),
            description: first_text(dataset, DESCRIPTION),
            accession_number: first_text(dataset, ACCESSION),
            series: count(dataset, SERIES),
            instances: count(dataset, INSTANCES),
            referring_clinician: first_text(dataset, REFERRING).map(|name| person_name(&name)),
            patient_id,
        });
    }
    Ok((page, datasets.len() > keep))
}

/// Newest first; a study without a date last.
pub fn sort_newest_first(studies: &mut [Study]) {
    studies.sort_by(|a, b| {
        (b.date, &b.time).cmp(&(a.date, &a.time)).then_with(|| a.study_uid.cmp(&b.study_uid))
    });
}

/// DICOM TM `HHMMSS.FFFFFF` (or `HHMM`) → `HH:MM`.
fn hours_and_minutes(time: &str) -> Option<String> {
    let digits = time.get(..4)?;
    let (hours, minutes) = (digits.get(..2)?.parse::<u8>().ok()?, digits.get(2..)?.parse::<u8>().ok()?);
    (hours < 24 && minutes < 60).then(|| format!("{hours:02}:{minutes:02}"))
}

/// DICOM PN `FAMILY^Given^Middle^Prefix^Suffix` → `FAMILY, Given (Prefix)`.
fn person_name(name: &str) -> String {
    let parts: Vec<&str> = name.split('^').map(str::trim).collect();
    let family = parts.first().copied().unwrap_or_default().to_uppercase();
    let given = parts.get(1).copied().unwrap_or_default();
    let prefix = parts.get(3).copied().unwrap_or_default();
    let mut shown = match (family.is_empty(), given.is_empty()) {
        (false, false) => format!("{family}, {given}"),
        (false, true) => family,
        (true, _) => given.to_owned(),
    };
    if !prefix.is_empty() {
        shown.push_str(&format!(" ({prefix})"));
    }
    shown.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn study(uid: &str, patient: &str, date: &str) -> Value {
        json!({
            "0020000D": {"vr": "UI", "Value": [uid]},
            "00100020": {"vr": "LO", "Value": [patient]},
            "00080020": {"vr": "DA", "Value": [date]},
            "00080030": {"vr": "TM", "Value": ["142233.123"]},
            "00080061": {"vr": "CS", "Value": ["CT"]},
            "00081030": {"vr": "LO", "Value": ["CT chest abdomen pelvis"]},
            "00080050": {"vr": "SH", "Value": ["ACC0001"]},
            "00201206": {"vr": "IS", "Value": [2]},
            "00201208": {"vr": "IS", "Value": [40]},
            "00080090": {"vr": "PN", "Value": [{"Alphabetic": "Whittle^Wendy^^Dr"}]},
        })
    }

    fn body(studies: &[Value]) -> Vec<u8> {
        serde_json::to_vec(studies).expect("json")
    }

    #[test]
    fn a_study_is_read_with_every_column_the_list_shows() {
        let page = read_studies(&body(&[study("1.2.3", "9990000018", "20261101")]), &["9990000018"], None)
            .expect("read");
        assert_eq!(page.without_uid, 0);
        assert_eq!(
            page.studies,
            [Study {
                study_uid: "1.2.3".into(),
                date: NaiveDate::from_ymd_opt(2026, 11, 1),
                time: Some("14:22".into()),
                modalities: vec!["CT".into()],
                description: Some("CT chest abdomen pelvis".into()),
                accession_number: Some("ACC0001".into()),
                series: Some(2),
                instances: Some(40),
                referring_clinician: Some("WHITTLE, Wendy (Dr)".into()),
                patient_id: "9990000018".into(),
            }]
        );
    }

    #[test]
    fn missing_and_empty_attributes_are_no_error() {
        let bare = json!({
            "0020000D": {"vr": "UI", "Value": ["1.2.4"]},
            "00100020": {"vr": "LO", "Value": ["9990000018"]},
            "00080020": {"vr": "DA"},
            "00080061": {"vr": "CS", "Value": []},
            "00201206": {"vr": "IS", "Value": ["not a number"]},
        });
        let page = read_studies(&body(&[bare]), &["9990000018"], None).expect("read");
        let only = &page.studies[0];
        assert_eq!(
            (only.date, only.modalities.len(), only.series, only.description.clone()),
            (None, 0, None, None)
        );
    }

    #[test]
    fn no_studies_is_an_empty_list_or_an_empty_body() {
        assert_eq!(read_studies(b"[]", &["9990000018"], None), Ok(StudyPage::default()));
        assert_eq!(read_studies(b"", &["9990000018"], None), Ok(StudyPage::default()), "204 No Content");
    }

    #[test]
    fn another_patients_study_refuses_the_whole_answer() {
        let answer =
            body(&[study("1.2.3", "9990000018", "20261101"), study("1.2.9", "9990000026", "20261102")]);
        assert_eq!(
            read_studies(&answer, &["9990000018"], None),
            Err(ImagingError::WrongPatient { found: "9990000026".into(), study_uid: Some("1.2.9".into()) })
        );
        let mut unattributed = study("1.2.5", "x", "20261101");
        unattributed.as_object_mut().map(|o| o.remove("00100020"));
        assert!(matches!(
            read_studies(&body(&[unattributed]), &["9990000018"], None),
            Err(ImagingError::Unattributed { .. })
        ));
        let mut other_issuer = study("1.2.6", "9990000018", "20261101");
        other_issuer
            .as_object_mut()
            .map(|o| o.insert("00100021".into(), json!({"vr": "LO", "Value": ["RXX-LOCAL"]})));
        assert!(matches!(
            read_studies(&body(&[other_issuer.clone()]), &["9990000018"], Some("NHS")),
            Err(ImagingError::WrongPatient { .. })
        ));
        assert!(read_studies(&body(&[other_issuer]), &["9990000018"], None).is_ok(), "no issuer configured");
    }

    #[test]
    fn a_study_without_a_uid_is_counted_not_listed() {
        let mut no_uid = study("x", "9990000018", "20261101");
        no_uid.as_object_mut().map(|o| o.remove("0020000D"));
        let page = read_studies(&body(&[no_uid]), &["9990000018"], None).expect("read");
        assert_eq!((page.studies.len(), page.without_uid), (0, 1));
    }

    #[test]
    fn what_is_not_a_list_of_studies_is_refused_with_a_reason() {
        for bad in [&b"{}"[..], b"[1]", b"<html>", b"[{\"0020000D\": 5}"] {
            assert!(matches!(read_studies(bad, &["9990000018"], None), Err(ImagingError::NotDicomJson(_))));
        }
    }

    #[test]
    fn one_more_than_a_page_says_there_is_more_and_is_still_checked() {
        let answer =
            body(&[study("1", "P", "20250101"), study("2", "P", "20250102"), study("3", "P", "20250103")]);
        let (page, more) = read_studies_up_to(&answer, &["P"], None, 2).expect("read");
        assert_eq!((page.studies.len(), more), (2, true));
        let (page, more) = read_studies_up_to(&answer, &["P"], None, 3).expect("read");
        assert_eq!((page.studies.len(), more), (3, false));
        let wrong_last = body(&[study("1", "P", "20250101"), study("2", "Q", "20250102")]);
        assert!(read_studies_up_to(&wrong_last, &["P"], None, 1).is_err(), "the extra study is checked too");
    }

    #[test]
    fn newest_first_and_undated_last() {
        let answer = body(&[
            study("1", "P", "20250101"),
            study("2", "P", "20261101"),
            json!({"0020000D": {"Value": ["3"]}, "00100020": {"Value": ["P"]}}),
        ]);
        let mut studies = read_studies(&answer, &["P"], None).expect("read").studies;
        sort_newest_first(&mut studies);
        let order: Vec<&str> = studies.iter().map(|s| s.study_uid.as_str()).collect();
        assert_eq!(order, ["2", "1", "3"]);
    }

    #[test]
    fn names_and_times_in_cui_form() {
        assert_eq!(person_name("SMITH^John"), "SMITH, John");
        assert_eq!(person_name("^^^Dr"), "(Dr)");
        assert_eq!(hours_and_minutes("0905"), Some("09:05".into()));
        assert_eq!(hours_and_minutes("2561"), None);
        assert_eq!(hours_and_minutes("9"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = read_studies(&bytes, &["9990000018"], Some("NHS"));
        }

        #[test]
        fn arbitrary_json_shapes_never_panic(
            tag in proptest::sample::select(vec![STUDY_UID, PATIENT_ID, STUDY_DATE, STUDY_TIME, SERIES, REFERRING, ISSUER]),
            value in prop_oneof![
                any::<i64>().prop_map(|n| json!(n)),
                ".{0,20}".prop_map(|s| json!(s)),
                any::<bool>().prop_map(|b| json!(b)),
                Just(json!(null)),
                Just(json!({"Alphabetic": 3})),
            ],
        ) {
            let answer = json!([{ tag: {"vr": "LO", "Value": [value.clone()]}, PATIENT_ID: {"Value": ["P"]} }, { tag: value }]);
            let _ = read_studies(&serde_json::to_vec(&answer).expect("json"), &["P"], Some("NHS"));
        }
    }
}
