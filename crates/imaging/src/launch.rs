//! The URL a viewer is opened with, per kind of viewer, and the command that
//! closes it. Every value put into a URL or a Weasis command is checked first:
//! a study UID from a PACS is outside input, and a quote in it must not become
//! a second Weasis command.

use serde::{Deserialize, Serialize};
use url::Url;
use url::form_urlencoded::byte_serialize;

/// The OID of the NHS number as an assigning authority (HL7 CX, ISO form).
pub const NHS_NUMBER_OID: &str = "2.16.840.1.113883.2.1.4.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ViewerKind {
    /// IHE Invoke Image Display (RAD-106): one GET to the viewer's endpoint.
    Iid,
    /// Weasis, through its `weasis://` handler, loading over DICOMweb.
    Weasis,
    /// OHIF, at `/viewer?StudyInstanceUIDs=`.
    Ohif,
}

/// A viewer the site offers, by name (`[[pacs.viewers]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Viewer {
    pub name: String,
    pub kind: ViewerKind,
    /// The IID endpoint, or OHIF's base; unused for Weasis, which loads from the PACS's DICOMweb root.
    #[serde(default)]
    pub url: Option<String>,
    /// IID `viewerType` (default `IHE_BIR`).
    #[serde(default)]
    pub viewer_type: Option<String>,
    /// IID `diagnosticQuality` (default true).
    #[serde(default)]
    pub diagnostic_quality: Option<bool>,
    /// IID: open a study by its accession number rather than its UID.
    #[serde(default)]
    pub study_by_accession: bool,
}

/// Who the images belong to, as the viewer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientIdentifier {
    NhsNumber(String),
    /// A hospital number, with the site's assigning authority.
    Local {
        id: String,
        authority: String,
    },
}

impl PatientIdentifier {
    /// HL7 v2 CX: `9434765919^^^&2.16.840.1.113883.2.1.4.1&ISO`, or `K123^^^RXX`.
    pub fn cx(&self) -> String {
        match self {
            Self::NhsNumber(digits) => format!("{digits}^^^&{NHS_NUMBER_OID}&ISO"),
            Self::Local { id, authority } => format!("{id}^^^{authority}"),
        }
    }

    fn id(&self) -> &str {
        match self {
            Self::NhsNumber(id) | Self::Local { id, .. } => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchTarget {
    /// All of a patient's images (IID PATIENT; Weasis by patient ID).
    Patient(PatientIdentifier),
    Study {
        study_uid: String,
        accession_number: Option<String>,
    },
}

/// What opening a viewer takes: the URL for the OS handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Launch {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct LaunchError {
    pub field: &'static str,
    pub reason: String,
}

fn refuse(field: &'static str, reason: impl Into<String>) -> LaunchError {
    LaunchError { field, reason: reason.into() }
}

impl Viewer {
    /// The URL that opens `target` in this viewer. `dicomweb_root` is the PACS's
    /// DICOMweb base, from which Weasis loads; `bearer` is a short-lived token
    /// sent as a header (Weasis `-H`), never put in an IID or OHIF URL.
    pub fn launch(
        &self,
        target: &LaunchTarget,
        dicomweb_root: &str,
        bearer: Option<&str>,
    ) -> Result<Launch, LaunchError> {
        check_target(target)?;
        match self.kind {
            ViewerKind::Iid => self.iid(target),
            ViewerKind::Weasis => weasis(target, dicomweb_root, bearer),
            ViewerKind::Ohif => self.ohif(target),
        }
    }

    /// The command that closes what this viewer shows, sent on lock and when the
    /// card is pulled; none where the viewer has no such command.
    pub fn close_command(&self) -> Option<String> {
        match self.kind {
            ViewerKind::Weasis => Some(weasis_uri("$dicom:close --all")),
            ViewerKind::Iid | ViewerKind::Ohif => None,
        }
    }

    fn base(&self) -> Result<Url, LaunchError> {
        let text =
            self.url.as_deref().ok_or_else(|| refuse("url", format!("viewer {:?} has no url", self.name)))?;
        let url = Url::parse(text).map_err(|e| refuse("url", format!("viewer {:?}: {e}", self.name)))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(refuse("url", format!("viewer {:?}: an http(s) address is needed", self.name)));
        }
        Ok(url)
    }

    fn iid(&self, target: &LaunchTarget) -> Result<Launch, LaunchError> {
        let mut url = self.base()?;
        {
            let mut query = url.query_pairs_mut();
            match target {
                LaunchTarget::Patient(patient) => {
                    query.append_pair("requestType", "PATIENT").append_pair("patientID", &patient.cx());
                }
                LaunchTarget::Study { accession_number, .. } if self.study_by_accession => {
                    let accession = accession_number.as_deref().ok_or_else(|| {
                        refuse("accessionNumber", "this study has no accession number to open it by")
                    })?;
                    query.append_pair("requestType", "STUDY").append_pair("accessionNumber", accession);
                }
                LaunchTarget::Study { study_uid, .. } => {
                    query.append_pair("requestType", "STUDY").append_pair("studyUID", study_uid);
                }
            }
            query.append_pair("viewerType", self.viewer_type.as_deref().unwrap_or("IHE_BIR")).append_pair(
                "diagnosticQuality",
                if self.diagnostic_quality.unwrap_or(true) { "true" } else { "false" },
            );
        }
        Ok(Launch { url: url.into() })
    }

    fn ohif(&self, target: &LaunchTarget) -> Result<Launch, LaunchError> {
        let LaunchTarget::Study { study_uid, .. } = target else {
            return Err(refuse("study", "OHIF opens a study, not a patient's whole record: choose a study"));
        };
        let mut url = self.base()?;
        let path = format!("{}/viewer", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.query_pairs_mut().append_pair("StudyInstanceUIDs", study_uid);
        Ok(Launch { url: url.into() })
    }
}

/// `$dicom:close --all` first, so that two patients are never open side by side.
fn weasis(target: &LaunchTarget, dicomweb_root: &str, bearer: Option<&str>) -> Result<Launch, LaunchError> {
    let root = Url::parse(dicomweb_root).map_err(|e| refuse("qido_url", e.to_string()))?;
    if !matches!(root.scheme(), "https" | "http") || root.as_str().contains(['"', ' ']) {
        return Err(refuse("qido_url", "an http(s) address without quotes or spaces is needed"));
    }
    let request = match target {
        LaunchTarget::Patient(patient) => format!("patientID={}", patient.id()),
        LaunchTarget::Study { study_uid, .. } => format!("studyUID={study_uid}"),
    };
    let mut commands = format!(
        "$dicom:close --all $dicom:rs --url \"{}\" -r \"{request}\"",
        root.as_str().trim_end_matches('/')
    );
    if let Some(token) = bearer {
        if !token.chars().all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c)) {
            return Err(refuse("token", "a bearer token has only base64url characters"));
        }
        commands.push_str(&format!(" -H \"Authorization: Bearer {token}\""));
    }
    Ok(Launch { url: weasis_uri(&commands) })
}

fn weasis_uri(commands: &str) -> String {
    format!("weasis://{}", byte_serialize(commands.as_bytes()).collect::<String>())
}

/// A study UID is digits and dots (PS3.5 9.1), at most 64; a patient ID has no
/// quotes, spaces or HL7 delimiters. Anything else is refused, not escaped.
fn check_target(target: &LaunchTarget) -> Result<(), LaunchError> {
    match target {
        LaunchTarget::Study { study_uid, accession_number } => {
            let well_formed = !study_uid.is_empty()
                && study_uid.len() <= 64
                && study_uid.chars().all(|c| c.is_ascii_digit() || c == '.');
            if !well_formed {
                return Err(refuse(
                    "studyUID",
                    format!("{study_uid:?} is not a DICOM UID (digits and dots, at most 64)"),
                ));
            }
            if let Some(accession) = accession_number
                && (accession.len() > 16 || accession.contains(['"', '^', '&', '\\']))
            {
                return Err(refuse("accessionNumber", format!("{accession:?} is not an accession number")));
            }
        }
        LaunchTarget::Patient(patient) => {
            let id = patient.id();
            if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(refuse("patientID", "a patient ID has letters, digits and hyphens only"));
            }
            if let PatientIdentifier::Local { authority, .. } = patient
                && !authority.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                return Err(refuse(
                    "patientID",
                    "the assigning authority has letters, digits, dots and hyphens only",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(kind: ViewerKind, url: Option<&str>) -> Viewer {
        Viewer {
            name: "test".into(),
            kind,
            url: url.map(Into::into),
            viewer_type: None,
            diagnostic_quality: None,
            study_by_accession: false,
        }
    }

    fn study(uid: &str) -> LaunchTarget {
        LaunchTarget::Study { study_uid: uid.into(), accession_number: Some("ACC0001".into()) }
    }

    const ROOT: &str = "http://127.0.0.1:18042/dicom-web";

    #[test]
    fn iid_patient_sends_the_nhs_number_as_an_encoded_cx() {
        let iid = viewer(ViewerKind::Iid, Some("https://viewer.example.nhs.uk/IHEInvokeImageDisplay"));
        let patient = LaunchTarget::Patient(PatientIdentifier::NhsNumber("9434765919".into()));
        assert_eq!(
            iid.launch(&patient, ROOT, None).expect("url").url,
            "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=PATIENT&patientID=9434765919%5E%5E%5E%262.16.840.1.113883.2.1.4.1%26ISO&viewerType=IHE_BIR&diagnosticQuality=true"
        );
        let local =
            LaunchTarget::Patient(PatientIdentifier::Local { id: "K123".into(), authority: "RXX".into() });
        assert!(iid.launch(&local, ROOT, None).expect("url").url.contains("patientID=K123%5E%5E%5ERXX&"));
    }

    #[test]
    fn iid_study_by_uid_or_by_accession_with_the_viewer_options() {
        let mut iid = viewer(ViewerKind::Iid, Some("https://viewer.example.nhs.uk/IHEInvokeImageDisplay"));
        assert_eq!(
            iid.launch(&study("1.2.826.0.1.3680043.2.1125.1"), ROOT, None).expect("url").url,
            "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=STUDY&studyUID=1.2.826.0.1.3680043.2.1125.1&viewerType=IHE_BIR&diagnosticQuality=true"
        );
        iid.study_by_accession = true;
        iid.viewer_type = Some("VENDOR_X".into());
        iid.diagnostic_quality = Some(false);
        assert_eq!(
            iid.launch(&study("1.2.3"), ROOT, None).expect("url").url,
            "https://viewer.example.nhs.uk/IHEInvokeImageDisplay?requestType=STUDY&accessionNumber=ACC0001&viewerType=VENDOR_X&diagnosticQuality=false"
        );
        let no_accession = LaunchTarget::Study { study_uid: "1.2.3".into(), accession_number: None };
        assert_eq!(iid.launch(&no_accession, ROOT, None).map_err(|e| e.field), Err("accessionNumber"));
    }

    #[test]
    fn weasis_closes_what_is_open_first_and_loads_the_study_over_dicomweb() {
        let weasis = viewer(ViewerKind::Weasis, None);
        assert_eq!(
            weasis.launch(&study("1.2.3"), ROOT, None).expect("url").url,
            "weasis://%24dicom%3Aclose+--all+%24dicom%3Ars+--url+%22http%3A%2F%2F127.0.0.1%3A18042%2Fdicom-web%22+-r+%22studyUID%3D1.2.3%22"
        );
        let with_token = weasis.launch(&study("1.2.3"), ROOT, Some("abc.DEF-123")).expect("url").url;
        assert!(
            with_token.ends_with("+-H+%22Authorization%3A+Bearer+abc.DEF-123%22"),
            "the token goes in a header: {with_token}"
        );
        assert_eq!(weasis.close_command().as_deref(), Some("weasis://%24dicom%3Aclose+--all"));
    }

    #[test]
    fn ohif_opens_a_study_only() {
        let ohif = viewer(ViewerKind::Ohif, Some("https://ohif.example.nhs.uk/"));
        assert_eq!(
            ohif.launch(&study("1.2.3"), ROOT, Some("never-in-the-url")).expect("url").url,
            "https://ohif.example.nhs.uk/viewer?StudyInstanceUIDs=1.2.3"
        );
        let patient = LaunchTarget::Patient(PatientIdentifier::NhsNumber("9434765919".into()));
        assert_eq!(ohif.launch(&patient, ROOT, None).map_err(|e| e.field), Err("study"));
        assert_eq!(ohif.close_command(), None);
    }

    #[test]
    fn a_uid_that_could_become_a_second_command_is_refused() {
        let weasis = viewer(ViewerKind::Weasis, None);
        for bad in ["1.2.3\" $dicom:get -w \"http://evil", "", "1.2.abc", &"1".repeat(65)] {
            assert_eq!(
                weasis.launch(&study(bad), ROOT, None).map_err(|e| e.field),
                Err("studyUID"),
                "{bad:?}"
            );
        }
        let odd_patient = LaunchTarget::Patient(PatientIdentifier::NhsNumber("943\"4765919".into()));
        assert_eq!(weasis.launch(&odd_patient, ROOT, None).map_err(|e| e.field), Err("patientID"));
        assert_eq!(weasis.launch(&study("1.2.3"), ROOT, Some("a\" -x")).map_err(|e| e.field), Err("token"));
        let iid = viewer(ViewerKind::Iid, Some("file:///etc/passwd"));
        assert_eq!(iid.launch(&study("1.2.3"), ROOT, None).map_err(|e| e.field), Err("url"));
    }
}
