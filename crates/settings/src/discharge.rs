//! `[discharge]`: how signed discharge summaries leave the hospital. The
//! NHSmail account they are sent from (its password in a file, never here),
//! each GP practice's address by ODS code, who runs the sender, and the retry
//! limits.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::SettingsError;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DischargeSettings {
    /// The OS account `cws outbox run` runs as on a shared store.
    pub sender_account: Option<String>,
    pub smtp: Option<SmtpSettings>,
    pub mesh: Option<MeshSettings>,
    pub mdm: Option<MdmSettings>,
    /// Each practice's NHSmail address, by its ODS code.
    pub gp_addresses: BTreeMap<String, String>,
    pub retry: discharge::RetryPolicy,
}

/// Authenticated submission, NHSmail style: STARTTLS on 587, the login is the
/// account, and mail is sent From the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub account: String,
    /// The account's password, alone in a file of mode 600.
    pub password_file: PathBuf,
    /// A CA to trust besides the system's (a test server's certificate).
    pub ca: Option<PathBuf>,
    pub timeout: Duration,
}

/// The national store-and-forward service (MESH API): our mailbox, its
/// password and the environment's shared key (each alone in a file of mode
/// 600), and each practice's mailbox by ODS code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshSettings {
    /// The MESH API's root, e.g. https://msg.intspineservices.nhs.uk.
    pub url: String,
    pub mailbox: String,
    pub password_file: PathBuf,
    pub shared_key_file: PathBuf,
    /// Transfer of Care inpatient discharge: TOC_FHIR_IP_DISCH.
    pub workflow: String,
    pub ca: Option<PathBuf>,
    /// The organisation's MESH client certificate (PEM, with any intermediate
    /// certificates) and its private key (PEM, a file only this account may
    /// read): MESH admits a client only with both.
    pub client_certificate: Option<ClientCertificate>,
    pub timeout: Duration,
    /// The site's own mailbox for a practice, by ODS code, used before MESH's
    /// directory (the endpoint look-up) is asked.
    pub gp_mailboxes: BTreeMap<String, String>,
}

/// A TLS client certificate and its key, each a PEM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// The trust's clinical system, told of each signed summary by an HL7 v2
/// MDM^T02 (T10 for an amendment) over MLLP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdmSettings {
    /// `host:port` of the clinical system's MLLP listener.
    pub peer: String,
    pub sending_application: String,
    pub receiving_application: String,
    pub receiving_facility: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MdmSection {
    peer: Option<String>,
    sending_application: Option<String>,
    receiving_application: Option<String>,
    receiving_facility: Option<String>,
    timeout_seconds: Option<u64>,
}

fn mdm(section: Option<MdmSection>) -> Result<Option<MdmSettings>, SettingsError> {
    let bad = |reason: String| SettingsError::BadValue { setting: "discharge.mdm", reason };
    let Some(section) = section else { return Ok(None) };
    let peer = section.peer.ok_or_else(|| bad("peer is needed: the clinical system's host:port".into()))?;
    if !peer
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0))
    {
        return Err(bad(format!("peer {peer:?} is not host:port")));
    }
    let timeout_seconds = section.timeout_seconds.unwrap_or(30);
    if !(1..=300).contains(&timeout_seconds) {
        return Err(bad(format!("timeout_seconds {timeout_seconds} is outside 1 to 300")));
    }
    Ok(Some(MdmSettings {
        peer,
        sending_application: section.sending_application.unwrap_or_else(|| "CWS".into()),
        receiving_application: section.receiving_application.unwrap_or_else(|| "EPR".into()),
        receiving_facility: section.receiving_facility,
        timeout: Duration::from_secs(timeout_seconds),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeshSection {
    url: Option<String>,
    mailbox: Option<String>,
    password_file: Option<PathBuf>,
    shared_key_file: Option<PathBuf>,
    workflow: Option<String>,
    ca: Option<PathBuf>,
    client_certificate: Option<PathBuf>,
    client_key: Option<PathBuf>,
    timeout_seconds: Option<u64>,
    #[serde(default)]
    gp_mailboxes: BTreeMap<String, String>,
}

/// The workflow for inpatient and day-case discharge summaries.
const DISCHARGE_WORKFLOW: &str = "TOC_FHIR_IP_DISCH";

fn mesh(section: Option<MeshSection>) -> Result<Option<MeshSettings>, SettingsError> {
    let bad = |reason: String| SettingsError::BadValue { setting: "discharge.mesh", reason };
    let Some(section) = section else { return Ok(None) };
    let url = section.url.ok_or_else(|| bad("url is needed: the MESH API's root".into()))?;
    let url = url.trim_end_matches('/').to_owned();
    if !(url.starts_with("https://") || (url.starts_with("http://") && is_loopback(&url))) {
        return Err(bad(format!(
            "url {url:?}: MESH is reached over https (plain http only on this machine, for tests)"
        )));
    }
    let mailbox =
        section.mailbox.filter(|m| !m.trim().is_empty()).ok_or_else(|| bad("mailbox is needed".into()))?;
    let password_file = section.password_file.ok_or_else(|| bad("password_file is needed".into()))?;
    let shared_key_file = section.shared_key_file.ok_or_else(|| bad("shared_key_file is needed".into()))?;
    let timeout_seconds = section.timeout_seconds.unwrap_or(30);
    if !(1..=300).contains(&timeout_seconds) {
        return Err(bad(format!("timeout_seconds {timeout_seconds} is outside 1 to 300")));
    }
    let client_certificate = match (section.client_certificate, section.client_key) {
        (Some(certificate), Some(key)) => Some(ClientCertificate { certificate, key }),
        (None, None) if is_loopback(&url) => None,
        (None, None) => {
            return Err(bad(format!(
                "url {url:?}: MESH admits only a client with the organisation's certificate; give client_certificate and client_key"
            )));
        }
        _ => return Err(bad("client_certificate and client_key go together: give both".into())),
    };
    for (ods, recipient) in &section.gp_mailboxes {
        if !is_ods_code(ods) || recipient.trim().is_empty() {
            return Err(bad(format!(
                "gp_mailboxes: {ods:?} = {recipient:?} is not an ODS code and a mailbox"
            )));
        }
    }
    Ok(Some(MeshSettings {
        url,
        mailbox,
        password_file,
        shared_key_file,
        workflow: section.workflow.unwrap_or_else(|| DISCHARGE_WORKFLOW.to_owned()),
        ca: section.ca,
        client_certificate,
        timeout: Duration::from_secs(timeout_seconds),
        gp_mailboxes: section.gp_mailboxes,
    }))
}

/// A MESH on this machine (a test's sandbox).
fn is_loopback(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or_default();
    ["127.0.0.1", "localhost"].iter().any(|name| {
        host == *name || host.starts_with(&format!("{name}:")) || host.starts_with(&format!("{name}/"))
    })
}

fn is_ods_code(code: &str) -> bool {
    (3..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DischargeSection {
    sender_account: Option<String>,
    smtp: Option<SmtpSection>,
    mesh: Option<MeshSection>,
    mdm: Option<MdmSection>,
    #[serde(default)]
    gp_addresses: BTreeMap<String, String>,
    retry: Option<discharge::RetryPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpSection {
    host: Option<String>,
    port: Option<u16>,
    account: Option<String>,
    password_file: Option<PathBuf>,
    ca: Option<PathBuf>,
    timeout_seconds: Option<u64>,
}

/// NHSmail's submission port.
const SUBMISSION_PORT: u16 = 587;

fn looks_like_an_address(text: &str) -> bool {
    text.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !text.contains(char::is_whitespace)
}

/// `[discharge]`, checked: a complete SMTP account, addresses that look like
/// addresses under ODS codes, and retry limits that make sense.
pub(crate) fn discharge(section: Option<DischargeSection>) -> Result<DischargeSettings, SettingsError> {
    let bad = |reason: String| SettingsError::BadValue { setting: "discharge", reason };
    let Some(section) = section else { return Ok(DischargeSettings::default()) };
    let smtp = match section.smtp {
        None => None,
        Some(smtp) => {
            let host = smtp
                .host
                .filter(|h| !h.trim().is_empty())
                .ok_or_else(|| bad("smtp.host is needed".into()))?;
            let account = smtp
                .account
                .ok_or_else(|| bad("smtp.account is needed: the NHSmail address mail is sent from".into()))?;
            if !looks_like_an_address(&account) {
                return Err(bad(format!("smtp.account {account:?} is not a mail address")));
            }
            let password_file = smtp.password_file.ok_or_else(|| {
                bad("smtp.password_file is needed: the password is never in this file".into())
            })?;
            let timeout_seconds = smtp.timeout_seconds.unwrap_or(30);
            if !(1..=300).contains(&timeout_seconds) {
                return Err(bad(format!("smtp.timeout_seconds {timeout_seconds} is outside 1 to 300")));
            }
            Some(SmtpSettings {
                host,
                port: smtp.port.unwrap_or(SUBMISSION_PORT),
                account,
                password_file,
                ca: smtp.ca,
                timeout: Duration::from_secs(timeout_seconds),
            })
        }
    };
    for (ods, address) in &section.gp_addresses {
        if !(3..=6).contains(&ods.len()) || !ods.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(bad(format!(
                "gp_addresses: {ods:?} is not an ODS code (3 to 6 capital letters and digits)"
            )));
        }
        if !looks_like_an_address(address) {
            return Err(bad(format!("gp_addresses.{ods}: {address:?} is not a mail address")));
        }
        // Patient data by mail goes NHSmail to NHSmail only (encrypted end to end within it).
        if !address.to_ascii_lowercase().ends_with("@nhs.net") {
            return Err(bad(format!(
                "gp_addresses.{ods}: {address:?} is not an NHSmail address (@nhs.net): a summary is mailed only within NHSmail"
            )));
        }
    }
    let retry = section.retry.unwrap_or_default();
    if retry.first_wait_seconds < 1
        || retry.longest_wait_seconds < retry.first_wait_seconds
        || retry.give_up_after_hours < 1
    {
        return Err(bad(format!(
            "retry: the first wait ({} s) must be at least 1 s and at most the longest ({} s), and give_up_after_hours ({}) at least 1",
            retry.first_wait_seconds, retry.longest_wait_seconds, retry.give_up_after_hours
        )));
    }
    Ok(DischargeSettings {
        sender_account: section.sender_account,
        smtp,
        mesh: mesh(section.mesh)?,
        mdm: mdm(section.mdm)?,
        gp_addresses: section.gp_addresses,
        retry,
    })
}
