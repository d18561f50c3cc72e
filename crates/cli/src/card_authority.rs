//! Acts from the command line that need a person, not just the OS account:
//! the card and PIN prove who is acting, and their enrolled roles must grant
//! the permission. Refusals are audited. See docs/security.md for the threat model.

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use identity::{CardReader, Trust};
use session::Permission;
use settings::Settings;
use store::{Actor, AuditAction};
use zeroize::Zeroizing;

use services::{Acting, Context};

use crate::Failure;
use crate::trusted_settings::trusted_settings;

/// Which PKCS#11 module to load and which CA to trust, for commands that act
/// for no one (`cws card list|login|watch`); each defaults to the site settings
/// (or `CWS_PKCS11_MODULE`, `CWS_CARD_CA`).
#[derive(clap::Args)]
pub struct CardSource {
    /// The issuing CA to trust (PEM or DER).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The PKCS#11 module (default: OpenSC's).
    #[arg(long)]
    module: Option<PathBuf>,
}

impl CardSource {
    pub fn reader(&self, settings: &Settings) -> Result<CardReader, Failure> {
        Ok(CardReader::open(&pkcs11_module(self.module.clone(), settings))?)
    }

    /// The CA given or set, read, for checking certificates.
    pub fn trust(&self, settings: &Settings) -> Result<Option<Trust>, Failure> {
        read_trust(self.ca.as_ref().or(settings.card_ca.as_ref()), settings)
    }

    /// As `trust`, refusing when no CA is given or set.
    pub fn required_trust(&self, settings: &Settings) -> Result<Trust, Failure> {
        self.trust(settings)?.ok_or_else(|| {
            Failure::Input("ca: give the card issuing CA (--ca, the site settings or CWS_CARD_CA)".into())
        })
    }
}

/// The settings' own CA, with its revocation list, if they name one.
pub fn settings_ca(settings: &Settings) -> Result<Option<Trust>, Failure> {
    read_trust(settings.card_ca.as_ref(), settings)
}

/// The trusted settings' CA, with their revocation list; refused when none is set.
pub fn trusted_ca(settings: &Settings) -> Result<Trust, Failure> {
    settings_ca(settings)?.ok_or_else(|| {
        Failure::Input(
            "ca: this act needs a card, and the site settings (owned by root) name no card issuing CA".into(),
        )
    })
}

/// Reads a CA and the settings' revocation list for it.
fn read_trust(ca: Option<&PathBuf>, settings: &Settings) -> Result<Option<Trust>, Failure> {
    let Some(ca) = ca else { return Ok(None) };
    let trust =
        Trust::from_files(ca, settings.card_crl.as_deref()).map_err(|e| Failure::Input(e.to_string()))?;
    Ok(Some(trust))
}

/// The module given, else the site's (OpenSC's by default).
pub fn pkcs11_module(given: Option<PathBuf>, settings: &Settings) -> PathBuf {
    given.unwrap_or_else(|| settings.pkcs11_module.clone())
}

/// The card of the person doing an act that needs one. Its CA, module and the
/// role mapping come from the trusted settings alone (`trusted_settings`).
#[derive(clap::Args)]
pub struct CardArgs {
    /// Your card's serial number, or its label if no other card present has it.
    #[arg(long)]
    card: Option<String>,
    /// Read your card's PIN from standard input (it is never taken as an argument).
    #[arg(long)]
    pub pin_stdin: bool,
}

/// The permission token of the card holder doing `action`, once their card,
/// PIN and `permission` are proved against the trusted settings.
pub async fn acting_card_holder(
    context: &Context,
    card: &CardArgs,
    permission: Permission,
    action: AuditAction,
) -> Result<Acting, Failure> {
    let holder = proven_card_holder(context, card, permission, action).await?;
    services::cards::acting_for(context, &holder, permission)
        .map_err(|e| Failure::Input(format!("card: {e}")))
}

/// The card holder doing `action`, proven to hold `permission`: their PIN is
/// the first line of standard input. Refusals are audited.
pub async fn proven_card_holder(
    context: &Context,
    card: &CardArgs,
    permission: Permission,
    action: AuditAction,
) -> Result<access::CardHolder, Failure> {
    let Some(label) = card.card.as_deref().filter(|_| card.pin_stdin) else {
        let why = format!(
            "card: {} needs the card of someone with {permission:?}; give --card LABEL --pin-stdin",
            action.text()
        );
        let actor = Actor { user: crate::os_actor().user, workstation: context.workstation().to_owned() };
        let outcome = format!("refused: {why}");
        services::cards::record_session_event(context, &actor, action, &[], &outcome).await?;
        return Err(Failure::Input(why));
    };
    card_holder_by_label(context, label, 0, permission, action).await
}

/// The holder of the card `label`, whose PIN is line `pin_line` (from 0) of
/// standard input, proven to hold `permission` (a second checker's card, say).
pub async fn card_holder_by_label(
    context: &Context,
    label: &str,
    pin_line: usize,
    permission: Permission,
    action: AuditAction,
) -> Result<access::CardHolder, Failure> {
    let settings = trusted_settings()?;
    let trust = trusted_ca(settings)?;
    let pin = read_pin_line(pin_line)?;
    let login = trusted_reader()?.login(label, &pin, &trust, time::OffsetDateTime::now_utc());
    let (_, holder) =
        services::cards::prove_card_holder(context, label, login, &settings.roles, Some(permission), action)
            .await
            .map_err(|refusal| Failure::Input(format!("card: {}", refusal.reason())))?;
    Ok(holder)
}

/// The trusted settings' PKCS#11 module, loaded once for the whole run: a
/// module is initialised once per process, and several cards (an actor and a
/// second checker, a login and a signature) share it.
fn trusted_reader() -> Result<&'static CardReader, Failure> {
    static READER: OnceLock<CardReader> = OnceLock::new();
    if let Some(reader) = READER.get() {
        return Ok(reader);
    }
    let reader = CardReader::open(&trusted_settings()?.pkcs11_module)?;
    Ok(READER.get_or_init(|| reader))
}

/// Signs an act with the card `label`, its PIN on line `pin_line` of standard
/// input, after the same PIN and certificate checks as a login.
pub struct CardSigner {
    reader: &'static CardReader,
    label: String,
    pin: Zeroizing<String>,
    trust: Trust,
}

impl CardSigner {
    pub fn new(label: &str, pin_line: usize) -> Result<Self, Failure> {
        let settings = trusted_settings()?;
        Ok(Self {
            reader: trusted_reader()?,
            label: label.to_owned(),
            pin: read_pin_line(pin_line)?,
            trust: trusted_ca(settings)?,
        })
    }

    /// The signer for `--card LABEL --pin-stdin` (its PIN on the first line).
    pub fn for_card(card: &CardArgs) -> Result<Self, Failure> {
        let label = card
            .card
            .as_deref()
            .ok_or_else(|| Failure::Input("card: give --card LABEL --pin-stdin".into()))?;
        Self::new(label, 0)
    }
}

impl services::sact::ActSigner for CardSigner {
    fn sign(&self, bytes: &[u8]) -> Result<identity::DocumentSignature, services::ServiceError> {
        let now = time::OffsetDateTime::now_utc();
        self.reader
            .sign_document(&self.label, &self.pin, &self.trust, now, bytes)
            .map_err(|e| services::ServiceError::Invalid { field: "card", reason: e.to_string() })
    }
}

/// Who does an administrative `action` needing `permission`: the OS account
/// while no enabled user holds the permission (the first-run bootstrap), and
/// from then on a card holder who does.
pub async fn os_account_or_card_holder(
    context: &Context,
    card: &CardArgs,
    permission: Permission,
    action: AuditAction,
) -> Result<Acting, Failure> {
    let roles = &trusted_settings()?.roles;
    match services::cards::bootstrap_acting(context, roles, permission, &crate::os_actor()).await? {
        Some(operator) => Ok(operator),
        None => acting_card_holder(context, card, permission, action).await,
    }
}

/// Standard input, read once for the whole run and zeroed when the process ends
/// its use of it: the PIN and any patient details share it.
static STDIN: OnceLock<Zeroizing<String>> = OnceLock::new();

fn stdin_text() -> Result<&'static str, Failure> {
    if let Some(text) = STDIN.get() {
        return Ok(text.as_str());
    }
    let mut text = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::Other(e.into()))?;
    Ok(STDIN.get_or_init(|| text).as_str())
}

/// A PIN from standard input: its first line, without the line ending.
pub fn read_pin() -> Result<Zeroizing<String>, Failure> {
    read_pin_line(0)
}

/// Line `index` (from 0) of standard input, without its ending: one PIN per line
/// when several cards act together.
fn read_pin_line(index: usize) -> Result<Zeroizing<String>, Failure> {
    let line = stdin_text()?.lines().nth(index).unwrap_or_default();
    Ok(Zeroizing::new(line.trim_end_matches('\r').to_owned()))
}

/// What a command reads from standard input besides the PIN: everything after
/// the PIN's line when `pin_on_first_line`, else everything.
pub fn read_payload(pin_on_first_line: bool) -> Result<&'static str, Failure> {
    let text = stdin_text()?;
    Ok(match pin_on_first_line {
        true => text.split_once('\n').map_or("", |(_, rest)| rest),
        false => text,
    })
}
