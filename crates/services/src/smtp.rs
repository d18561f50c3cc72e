//! Sends a discharge letter by authenticated SMTP submission, NHSmail style:
//! STARTTLS (required, never opportunistic), login as the account, From the
//! account, the signed letter attached as a PDF, over one connection for a
//! whole pass over the outbox. The Message-ID is derived
//! from the document, so a resend after a crash is recognisably the same mail.

use std::time::Duration;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
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

/// A connection to the submission server, kept open across a pass over the
/// outbox, so each mail does not pay for TLS and login again. It is lettre's
/// SMTP client on a socket of our own with Nagle's algorithm off: lettre writes
/// the end of the message apart from the message, and with Nagle on every mail
/// waited for the server's delayed acknowledgement (about 40 ms).
pub struct Mailer {
    settings: SmtpSettings,
    tls: TlsParameters,
    credentials: Credentials,
    from: Mailbox,
    connection: Option<AsyncSmtpConnection>,
}

fn unsent(server: &str, error: &lettre::transport::smtp::Error) -> SendFailure {
    SendFailure {
        permanent: error.is_permanent(),
        reason: format!("The SMTP server {server} did not take the mail: {error}"),
    }
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Self, SendFailure> {
        let misconfigured = |reason: String| SendFailure { reason, permanent: false };
        let from: Mailbox = settings.account.parse().map_err(|e| {
            misconfigured(format!("The SMTP account {:?} is not an address: {e}", settings.account))
        })?;
        let mut tls = TlsParameters::builder(settings.host.clone());
        if let Some(ca) = &settings.ca {
            let pem =
                std::fs::read(ca).map_err(|e| misconfigured(format!("The SMTP CA {}: {e}", ca.display())))?;
            let certificate = Certificate::from_pem(&pem)
                .map_err(|e| misconfigured(format!("The SMTP CA {}: {e}", ca.display())))?;
            tls = tls.add_root_certificate(certificate);
        }
        let tls = tls.build_rustls().map_err(|e| misconfigured(format!("TLS for {}: {e}", settings.host)))?;
        Ok(Self {
            settings: settings.clone(),
            tls,
            credentials: Credentials::new(settings.account.clone(), password(&settings.password_file)?),
            from,
            connection: None,
        })
    }

    fn server(&self) -> String {
        format!("{}:{}", self.settings.host, self.settings.port)
    }

    /// Connects, insists on STARTTLS (never sends in clear) and logs in.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendFailure> {
        let server = self.server();
        let refused = |why: String| SendFailure::from(format!("The SMTP server {server} {why}"));
        let stream = tokio::net::TcpStream::connect((self.settings.host.as_str(), self.settings.port))
            .await
            .map_err(|e| refused(format!("did not answer: {e}")))?;
        stream.set_nodelay(true).map_err(|e| refused(e.to_string()))?;
        let hello = ClientId::default();
        let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
            .await
            .map_err(|e| unsent(&server, &e))?;
        if !connection.can_starttls() {
            connection.abort().await;
            return Err(refused("does not offer STARTTLS: nothing is sent in clear".into()));
        }
        connection.starttls(self.tls.clone(), &hello).await.map_err(|e| unsent(&server, &e))?;
        connection
            .auth(&[Mechanism::Plain, Mechanism::Login], &self.credentials)
            .await
            .map_err(|e| unsent(&server, &e))?;
        Ok(connection)
    }

    /// Sends the mail; the server's reply to the message, or why not.
    pub async fn send(&mut self, mail: Mail<'_>) -> Result<String, SendFailure> {
        let to: Mailbox = mail.to.parse().map_err(|e| SendFailure {
            reason: format!("{:?} is not an address: {e}", mail.to),
            permanent: true,
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(mail.message_id))
            .multipart(
                MultiPart::mixed().singlepart(SinglePart::plain(mail.body)).singlepart(
                    Attachment::new(mail.attachment_name)
                        .body(mail.pdf, ContentType::parse("application/pdf").expect("a valid content type")),
                ),
            )
            .map_err(|e| SendFailure {
                reason: format!("The mail could not be made: {e}"),
                permanent: false,
            })?;
        let server = self.server();
        let limit = self.settings.timeout.max(Duration::from_secs(1));
        let exchange = async {
            let mut connection = match self.connection.take() {
                Some(open) if !open.has_broken() => open,
                _ => self.connect().await?,
            };
            let sent = connection.send(message.envelope(), &message.formatted()).await;
            match sent {
                Ok(response) => {
                    self.connection = Some(connection);
                    Ok(response.message().collect::<Vec<_>>().join(" "))
                }
                Err(error) => Err(unsent(&server, &error)),
            }
        };
        tokio::time::timeout(limit, exchange).await.map_err(|_| {
            SendFailure::from(format!("The SMTP server {server} did not answer in {} s", limit.as_secs()))
        })?
    }
}

impl From<String> for SendFailure {
    fn from(reason: String) -> Self {
        Self::transient(reason)
    }
}
