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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DischargeSection {
    sender_account: Option<String>,
    smtp: Option<SmtpSection>,
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
        gp_addresses: section.gp_addresses,
        retry,
    })
}
