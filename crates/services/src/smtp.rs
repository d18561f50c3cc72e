//! Sends a discharge letter by authenticated SMTP submission, NHSmail style:
//! STARTTLS (required, never opportunistic), login as the account, From the
//! account, the signed letter attached as a PDF. The Message-ID is derived
//! from the document, so a resend after a crash is recognisably the same mail.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use settings::SmtpSettings;

/// Why a send failed, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    pub reason: String,
    /// The server refused it for good (5xx), or our settings cannot work.
    pub permanent: bool,
}

impl SendFailure {
    fn transient(reason: String) -> Self {
        Self { reason, permanent: false }
    }
}

/// One letter's mail: to whom, its subject, body and PDF, and its Message-ID.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: String,
    pub body: String,
    pub attachment_name: String,
    pub pdf: Vec<u8>,
    pub message_id: String,
}

fn password(path: &std::path::Path) -> Result<String, SendFailure> {
    use std::os::unix::fs::MetadataExt;
    let unusable = |why: String| SendFailure {
        reason: format!("The SMTP password file {}: {why}", path.display()),
        permanent: false,
    };
    let mode = std::fs::metadata(path).map_err(|e| unusable(e.to_string()))?.mode();
    if mode & 0o077 != 0 {
        return Err(unusable(format!("others may read it (mode {:o}); chmod 600 it", mode & 0o777)));
    }
    let text = std::fs::read_to_string(path).map_err(|e| unusable(e.to_string()))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// Sends the mail; the server's reply to the message, or why not.
pub async fn send(settings: &SmtpSettings, mail: Mail<'_>) -> Result<String, SendFailure> {
    let misconfigured = |reason: String| SendFailure { reason, permanent: false };
    let from: Mailbox = settings.account.parse().map_err(|e| {
        misconfigured(format!("The SMTP account {:?} is not an address: {e}", settings.account))
    })?;
    let to: Mailbox = mail.to.parse().map_err(|e| SendFailure {
        reason: format!("{:?} is not an address: {e}", mail.to),
        permanent: true,
    })?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .message_id(Some(mail.message_id))
        .multipart(
            MultiPart::mixed().singlepart(SinglePart::plain(mail.body)).singlepart(
                Attachment::new(mail.attachment_name)
                    .body(mail.pdf, ContentType::parse("application/pdf").expect("a valid content type")),
            ),
        )
        .map_err(|e| misconfigured(format!("The mail could not be made: {e}")))?;
    let mut tls = TlsParameters::builder(settings.host.clone());
    if let Some(ca) = &settings.ca {
        let pem =
            std::fs::read(ca).map_err(|e| misconfigured(format!("The SMTP CA {}: {e}", ca.display())))?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| misconfigured(format!("The SMTP CA {}: {e}", ca.display())))?;
        tls = tls.add_root_certificate(certificate);
    }
    let tls = tls.build_rustls().map_err(|e| misconfigured(format!("TLS for {}: {e}", settings.host)))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
        .port(settings.port)
        .tls(Tls::Required(tls))
        .credentials(Credentials::new(settings.account.clone(), password(&settings.password_file)?))
        .timeout(Some(settings.timeout.max(Duration::from_secs(1))))
        .build();
    match transport.send(message).await {
        Ok(response) => Ok(response.message().collect::<Vec<_>>().join(" ")),
        Err(error) => Err(SendFailure {
            permanent: error.is_permanent(),
            reason: format!(
                "The SMTP server {}:{} did not take the mail: {error}",
                settings.host, settings.port
            ),
        }),
    }
}

impl From<String> for SendFailure {
    fn from(reason: String) -> Self {
        Self::transient(reason)
    }
}
