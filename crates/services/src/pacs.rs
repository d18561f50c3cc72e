//! The PACS's DICOMweb query service (QIDO-RS): a patient's studies, a page at
//! a time (`limit=`, `offset=`: Debian's Orthanc would otherwise send every
//! match), each failure a sentence naming the PACS rather than a spinner.
//! The credentials come from a file only this account may read.

use std::time::Duration;

use settings::PacsSettings;

/// Pages asked for at most: 100 pages of the default 100 studies. A PACS that
/// ignores `offset` would otherwise be asked for ever.
const MOST_PAGES: u32 = 100;

/// Who the PACS is asked about: an identifier and the issuer it is sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PacsPatientId {
    pub id: String,
    pub issuer: Option<String>,
}

/// Why the PACS gave no list: a sentence for the person waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PacsError {
    /// Down, slow, refused our credentials, or answered with an error.
    Unavailable(String),
    /// Answered with a study of someone else, or of no one.
    WrongPatient(String),
}

pub(crate) struct Pacs {
    client: reqwest::Client,
    root: String,
    host: String,
    timeout: Duration,
    page_size: u32,
    credentials: Option<Credentials>,
}

impl Pacs {
    pub(crate) fn new(settings: &PacsSettings) -> Result<Self, PacsError> {
        // sqlx installs ring too; whichever comes first, the provider is the same.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder =
            reqwest::Client::builder().timeout(settings.timeout).connect_timeout(settings.timeout);
        if let Some(ca) = &settings.ca {
            let pem = std::fs::read(ca).map_err(|e| {
                PacsError::Unavailable(format!("The PACS's CA {} cannot be read: {e}", ca.display()))
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                PacsError::Unavailable(format!("The PACS's CA {} is not PEM certificates: {e}", ca.display()))
            })?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder
            .build()
            .map_err(|e| PacsError::Unavailable(format!("The PACS client could not be set up: {e}")))?;
        let host = reqwest::Url::parse(&settings.qido_url)
            .ok()
            .and_then(|url| {
                url.host_str().map(|h| match url.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_owned(),
                })
            })
            .unwrap_or_else(|| settings.qido_url.clone());
        Ok(Self {
            client,
            root: settings.qido_url.clone(),
            host,
            timeout: settings.timeout,
            page_size: settings.page_size,
            credentials: settings.credentials_file.as_deref().map(credentials).transpose()?,
        })
    }

    /// Every study the PACS holds for the patient, each identifier in turn, a
    /// page at a time. The whole answer is refused if any study is another
    /// patient's (`imaging::read_studies`).
    pub(crate) async fn studies(
        &self,
        ids: &[PacsPatientId],
        known_as: &[&str],
    ) -> Result<imaging::StudyPage, PacsError> {
        let mut all = imaging::StudyPage::default();
        for patient in ids {
            let mut seen_here = std::collections::HashSet::new();
            let (mut offset, mut pages, mut more) = (0, 0, true);
            while more {
                if pages == MOST_PAGES {
                    all.more_than_shown = true;
                    break;
                }
                pages += 1;
                let (page, more_after) = self.page(patient, offset, known_as).await?;
                if page.studies.first().is_some_and(|first| seen_here.contains(&first.study_uid)) {
                    // A PACS that ignores offset sends the first page again.
                    return Err(PacsError::Unavailable(format!(
                        "The PACS at {} sends the same studies for every page (it ignores offset=); ask its administrators",
                        self.host
                    )));
                }
                all.without_uid += page.without_uid;
                for study in page.studies {
                    seen_here.insert(study.study_uid.clone());
                    // A study the PACS lists under both the NHS number and the hospital number is shown once.
                    if !all.studies.iter().any(|kept| kept.study_uid == study.study_uid) {
                        all.studies.push(study);
                    }
                }
                more = more_after;
                offset += self.page_size;
            }
        }
        imaging::sort_newest_first(&mut all.studies);
        Ok(all)
    }

    /// Whose a study is, as the PACS says: its PatientID and issuer, if it holds the study.
    pub(crate) async fn owner_of_study(&self, study_uid: &str) -> Result<Option<PacsPatientId>, PacsError> {
        let query = [("StudyInstanceUID", study_uid), ("includefield", "00100021"), ("limit", "2")];
        let body = self.get_studies(&query).await?;
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let first = answer.as_array().and_then(|all| all.first()).and_then(serde_json::Value::as_object);
        let text = |tag: &str| {
            first
                .and_then(|d| d.get(tag))
                .and_then(|a| a.get("Value"))
                .and_then(|v| v.get(0))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        Ok(text("00100020").map(|id| PacsPatientId { id, issuer: text("00100021") }))
    }

    async fn page(
        &self,
        patient: &PacsPatientId,
        offset: u32,
        known_as: &[&str],
    ) -> Result<(imaging::StudyPage, bool), PacsError> {
        let mut query: Vec<(&str, String)> = vec![("PatientID", patient.id.clone())];
        if let Some(issuer) = &patient.issuer {
            query.push(("IssuerOfPatientID", issuer.clone()));
        }
        // One includefield each: Orthanc 1.10's plugin reads no comma-separated list.
        for tag in ["00081030", "00100021", "00201206", "00201208", "00080061", "00080090"] {
            query.push(("includefield", tag.into()));
        }
        // One more than a page: whether there is another page, without asking for an empty one.
        query.push(("limit", (self.page_size + 1).to_string()));
        query.push(("offset", offset.to_string()));
        let body = self.get_studies(&query).await?;
        let keep = self.page_size as usize;
        imaging::read_studies_up_to(&body, known_as, patient.issuer.as_deref(), keep).map_err(|error| {
            match error {
                imaging::ImagingError::NotDicomJson(why) => PacsError::Unavailable(format!(
                    "The PACS at {} sent something that is not a study list: {why}",
                    self.host
                )),
                other => PacsError::WrongPatient(format!("The PACS at {}: {other}", self.host)),
            }
        })
    }

    /// `GET …/studies?query`: the body of a 2xx answer (empty for 204), else a sentence.
    async fn get_studies<Q: serde::Serialize + ?Sized>(&self, query: &Q) -> Result<Vec<u8>, PacsError> {
        let mut request = self
            .client
            .get(format!("{}/studies", self.root))
            .query(query)
            .header("Accept", "application/dicom+json")
            .header("Cache-Control", "no-cache");
        request = match &self.credentials {
            Some(Credentials::Basic { user, password }) => request.basic_auth(user, Some(password)),
            Some(Credentials::Bearer(token)) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.map_err(|e| self.unavailable(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(Vec::new());
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(PacsError::Unavailable(format!(
                "The PACS at {} refused this workstation's credentials (HTTP {})",
                self.host,
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(PacsError::Unavailable(format!(
                "The PACS at {} answered HTTP {}",
                self.host,
                status.as_u16()
            )));
        }
        Ok(response.bytes().await.map_err(|e| self.unavailable(&e))?.to_vec())
    }

    fn unavailable(&self, error: &reqwest::Error) -> PacsError {
        let seconds = self.timeout.as_secs();
        PacsError::Unavailable(if error.is_timeout() {
            format!("The PACS at {} did not answer in {seconds} s", self.host)
        } else if error_chain(error).to_lowercase().contains("certificate") {
            format!(
                "The PACS at {} presented a certificate this workstation does not trust; its CA goes in [pacs] ca",
                self.host
            )
        } else if error.is_connect() {
            format!("The PACS at {} could not be reached", self.host)
        } else {
            format!("The PACS at {} could not be asked: {error}", self.host)
        })
    }
}

/// An error and every error beneath it, as one line (rustls's reason is deep in the chain).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// How the PACS is told who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Credentials {
    Basic { user: String, password: String },
    Bearer(String),
}

/// The credentials in a file: `user:password` (HTTP Basic) or `Bearer <token>`.
/// Refused if anyone but this account may read it.
fn credentials(path: &std::path::Path) -> Result<Credentials, PacsError> {
    use std::os::unix::fs::MetadataExt;
    let unreadable =
        |why: String| PacsError::Unavailable(format!("The PACS credentials {}: {why}", path.display()));
    let mode = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?.mode();
    if mode & 0o077 != 0 {
        return Err(unreadable(format!(
            "others may read it (mode {:o}); chmod 600 it, as it holds a password",
            mode & 0o777
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let line = text.lines().next().unwrap_or_default().trim();
    if let Some(token) = line.strip_prefix("Bearer ") {
        return Ok(Credentials::Bearer(token.trim().to_owned()));
    }
    if let Some((user, password)) = line.split_once(':') {
        return Ok(Credentials::Basic { user: user.to_owned(), password: password.to_owned() });
    }
    Err(unreadable("the first line is neither user:password nor Bearer <token>".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credentials_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().expect("folder");
        let file = folder.path().join("pacs-credentials");
        std::fs::write(&file, "cws:secret\n").expect("written");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("mode");
        assert!(matches!(credentials(&file), Err(PacsError::Unavailable(why)) if why.contains("chmod 600")));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("mode");
        assert_eq!(
            credentials(&file),
            Ok(Credentials::Basic { user: "cws".into(), password: "secret".into() })
        );
        std::fs::write(&file, "Bearer abc.def\n").expect("written");
        assert_eq!(credentials(&file), Ok(Credentials::Bearer("abc.def".into())));
    }
}
