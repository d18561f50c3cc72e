//! The MESH API client for discharge documents: NHSMESH authorisation (HMAC
//! over mailbox, nonce, count, password and time with the environment's
//! shared key), a tracking look-up by our local id, the send itself, and
//! reading our inbox for the practices' ITK3 responses.
//!
//! A send is never simply repeated. The first `POST /outbox` is not retried
//! (as NHS England's own client does not), and before any later attempt the
//! sender asks MESH whether a message with this local id already arrived: a
//! connection that dropped after MESH took the message must not deliver it twice.

use hmac::{Hmac, KeyInit, Mac};
use settings::MeshSettings;
use sha2::Sha256;

use crate::smtp::SendFailure;

const MESH_V2: &str = "application/vnd.mesh.v2+json";

pub(crate) struct Mesh<'a> {
    settings: &'a MeshSettings,
    client: reqwest::Client,
    password: String,
    shared_key: String,
}

/// A message read from our inbox.
pub(crate) struct Received {
    /// The mailbox that sent it (MESH vouches for it).
    pub from: String,
    pub workflow: String,
    pub body: Vec<u8>,
}

/// One document for one recipient's mailbox.
pub(crate) struct MeshMessage<'a> {
    pub to: &'a str,
    pub subject: String,
    pub local_id: String,
    pub file_name: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// A file only this account may read (a password, a key), read whole and
/// wiped from memory when dropped; its content never reaches an error.
fn private_file(path: &std::path::Path, what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, SendFailure> {
    use std::os::unix::fs::MetadataExt;
    let unusable = |why: String| SendFailure::from(format!("The MESH {what} {}: {why}", path.display()));
    let mode = std::fs::metadata(path).map_err(|e| unusable(e.to_string()))?.mode();
    if mode & 0o077 != 0 {
        return Err(unusable(format!("others may read it (mode {:o}); chmod 600 it", mode & 0o777)));
    }
    Ok(zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| unusable(e.to_string()))?))
}

fn secret(path: &std::path::Path, what: &str) -> Result<String, SendFailure> {
    let bytes = private_file(path, &format!("{what} file"))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| SendFailure::from(format!("The MESH {what} file {}: it is not text", path.display())))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// The organisation's client certificate and key, as MESH's TLS asks for them.
fn identity(files: &settings::ClientCertificate) -> Result<reqwest::Identity, SendFailure> {
    let key = private_file(&files.key, "client key")?;
    let certificate = std::fs::read(&files.certificate).map_err(|e| {
        SendFailure::from(format!("The MESH client certificate {}: {e}", files.certificate.display()))
    })?;
    let pem = zeroize::Zeroizing::new([certificate.as_slice(), b"\n", key.as_slice()].concat());
    reqwest::Identity::from_pem(&pem).map_err(|_| {
        SendFailure::from(format!(
            "The MESH client certificate {}: it and its key are not a PEM certificate and private key",
            files.certificate.display()
        ))
    })
}

impl<'a> Mesh<'a> {
    pub(crate) fn new(settings: &'a MeshSettings) -> Result<Self, SendFailure> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder =
            reqwest::Client::builder().timeout(settings.timeout).connect_timeout(settings.timeout);
        if let Some(ca) = &settings.ca {
            let pem = std::fs::read(ca)
                .map_err(|e| SendFailure::from(format!("The MESH CA {}: {e}", ca.display())))?;
            for certificate in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| SendFailure::from(format!("The MESH CA {}: {e}", ca.display())))?
            {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if let Some(client_certificate) = &settings.client_certificate {
            builder = builder.identity(identity(client_certificate)?);
        }
        let client = builder.build().map_err(|e| SendFailure::from(format!("The MESH client: {e}")))?;
        Ok(Self {
            settings,
            client,
            password: secret(&settings.password_file, "password")?,
            shared_key: secret(&settings.shared_key_file, "shared key")?,
        })
    }

    /// `NHSMESH mailbox:nonce:count:timestamp:hmac`, fresh for each request.
    fn authorization(&self) -> String {
        let mailbox = &self.settings.mailbox;
        let nonce = uuid::Uuid::new_v4();
        let timestamp = chrono::Utc::now().format("%Y%m%d%H%M").to_string();
        let mut mac = Hmac::<Sha256>::new_from_slice(self.shared_key.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(format!("{mailbox}:{nonce}:1:{}:{timestamp}", self.password).as_bytes());
        let digest: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("NHSMESH {mailbox}:{nonce}:1:{timestamp}:{digest}")
    }

    /// A request to MESH, authorised afresh and asking for the v2 API.
    fn request(&self, method: reqwest::Method, url: impl reqwest::IntoUrl) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .header("Authorization", self.authorization())
            .header("Accept", MESH_V2)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/messageexchange/{}{path}", self.settings.url, self.settings.mailbox)
    }

    fn unreachable(&self, error: &reqwest::Error) -> SendFailure {
        SendFailure::from(format!("MESH at {} did not answer: {error}", self.settings.url))
    }

    /// The id MESH gave a message we sent with this local id, if it has one.
    pub(crate) async fn already_sent(&self, local_id: &str) -> Result<Option<String>, SendFailure> {
        let answer = self
            .request(reqwest::Method::GET, self.url(&format!("/outbox/tracking/{local_id}")))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        match answer.status().as_u16() {
            404 => Ok(None),
            200 => {
                let tracking: serde_json::Value =
                    answer.json().await.map_err(|e| SendFailure::from(format!("MESH tracking: {e}")))?;
                let id = ["messageID", "message_id"].iter().find_map(|k| tracking[*k].as_str());
                Ok(Some(id.unwrap_or(local_id).to_owned()))
            }
            status => Err(SendFailure::from(format!("MESH tracking answered HTTP {status}"))),
        }
    }

    /// Where a message we sent stands at MESH: `accepted` (waiting in the
    /// recipient's inbox), `acknowledged` (taken), `undeliverable` or `error`,
    /// with MESH's description.
    pub(crate) async fn status(&self, message_id: &str) -> Result<(String, String), SendFailure> {
        let answer = self
            .request(reqwest::Method::GET, self.url("/outbox/tracking"))
            .query(&[("messageID", message_id)])
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !answer.status().is_success() {
            return Err(SendFailure::from(format!("MESH tracking answered HTTP {}", answer.status())));
        }
        let tracking: serde_json::Value =
            answer.json().await.map_err(|e| SendFailure::from(format!("MESH tracking: {e}")))?;
        let text =
            |keys: &[&str]| keys.iter().find_map(|k| tracking[*k].as_str()).unwrap_or_default().to_owned();
        Ok((
            text(&["status"]).to_lowercase(),
            text(&["status_description", "statusDescription", "failure_diagnostic", "failureDiagnostic"]),
        ))
    }

    /// Sends one message; the id MESH gave it.
    pub(crate) async fn send(&self, message: MeshMessage<'_>) -> Result<String, SendFailure> {
        let answer = self
            .request(reqwest::Method::POST, self.url("/outbox"))
            .header("Content-Type", message.content_type)
            .header("mex-From", &self.settings.mailbox)
            .header("mex-To", message.to)
            .header("mex-WorkflowID", &self.settings.workflow)
            .header("mex-Subject", message.subject)
            .header("mex-LocalID", &message.local_id)
            .header("mex-FileName", message.file_name)
            .body(message.body)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        if status.is_success() {
            let id = ["message_id", "messageID"].iter().find_map(|k| body[*k].as_str());
            return id
                .map(str::to_owned)
                .ok_or_else(|| SendFailure::from(format!("MESH took the message but gave no id: {body}")));
        }
        let permanent = status.is_client_error() && status.as_u16() != 429 && status.as_u16() != 403;
        Err(SendFailure { reason: format!("MESH refused the message (HTTP {status}): {body}"), permanent })
    }

    /// The ids of messages in our inbox sent on `workflow`, oldest first (at most 500).
    pub(crate) async fn inbox(&self, workflow: &str) -> Result<Vec<String>, SendFailure> {
        let answer = self
            .request(reqwest::Method::GET, self.url("/inbox"))
            .query(&[("workflow_filter", workflow), ("max_results", "500")])
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !answer.status().is_success() {
            return Err(SendFailure::from(format!("MESH inbox answered HTTP {}", answer.status())));
        }
        let listed: serde_json::Value =
            answer.json().await.map_err(|e| SendFailure::from(format!("MESH inbox: {e}")))?;
        Ok(listed["messages"]
            .as_array()
            .map(|ids| ids.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    /// One inbox message: who sent it, on which workflow, and its body (at most `most_bytes`).
    pub(crate) async fn download(
        &self,
        message_id: &str,
        most_bytes: usize,
    ) -> Result<Received, SendFailure> {
        let answer = self
            .request(reqwest::Method::GET, self.url(&format!("/inbox/{message_id}")))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !answer.status().is_success() {
            return Err(SendFailure::from(format!("MESH inbox message answered HTTP {}", answer.status())));
        }
        let header = |name: &str| {
            answer.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        };
        let (workflow, from) = (header("mex-workflowid"), header("mex-from"));
        if answer.content_length().is_some_and(|length| length > most_bytes as u64) {
            return Err(SendFailure::from(format!("MESH message {message_id} is larger than expected")));
        }
        let body = answer.bytes().await.map_err(|e| self.unreachable(&e))?.to_vec();
        Ok(Received { from, workflow, body })
    }

    /// Takes a message out of our inbox: it has been read and recorded.
    pub(crate) async fn acknowledge(&self, message_id: &str) -> Result<(), SendFailure> {
        let answer = self
            .request(reqwest::Method::PUT, self.url(&format!("/inbox/{message_id}/status/acknowledged")))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !answer.status().is_success() {
            return Err(SendFailure::from(format!("MESH acknowledgement answered HTTP {}", answer.status())));
        }
        Ok(())
    }

    /// The mailbox MESH's endpoint look-up gives for the organisation `ods_code`
    /// on `workflow`. None found waits for the directory; several are refused
    /// for good, so a person chooses rather than the sender guessing.
    pub(crate) async fn mailbox_of(&self, ods_code: &str, workflow: &str) -> Result<String, SendFailure> {
        let mut url = reqwest::Url::parse(&self.settings.url)
            .map_err(|e| SendFailure::from(format!("The MESH address {}: {e}", self.settings.url)))?;
        url.path_segments_mut()
            .map_err(|()| SendFailure::from(format!("The MESH address {} takes no path", self.settings.url)))?
            .pop_if_empty()
            .extend(["messageexchange", "endpointlookup", ods_code, workflow]);
        let answer =
            self.request(reqwest::Method::GET, url).send().await.map_err(|e| self.unreachable(&e))?;
        if !answer.status().is_success() {
            return Err(SendFailure::from(format!(
                "MESH endpoint look-up answered HTTP {}",
                answer.status()
            )));
        }
        let found: serde_json::Value =
            answer.json().await.map_err(|e| SendFailure::from(format!("MESH endpoint look-up: {e}")))?;
        let mailboxes: Vec<&str> = found["results"]
            .as_array()
            .map(|results| {
                results
                    .iter()
                    .filter_map(|r| r["mailbox_id"].as_str().or_else(|| r["address"].as_str()))
                    .collect()
            })
            .unwrap_or_default();
        match mailboxes.as_slice() {
            [one] => Ok((*one).to_owned()),
            [] => Err(SendFailure::from(format!(
                "MESH's directory has no mailbox for GP practice {ods_code} on workflow {workflow}; the row waits until it has, or name one in [discharge.mesh] gp_mailboxes"
            ))),
            several => Err(SendFailure {
                reason: format!(
                    "MESH's directory has {} mailboxes for GP practice {ods_code} on workflow {workflow} ({}); name the right one in [discharge.mesh] gp_mailboxes",
                    several.len(),
                    several.join(", ")
                ),
                permanent: true,
            }),
        }
    }
}
