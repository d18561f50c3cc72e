//! Acts from the command line that need a person, not just the OS account:
//! the card and PIN prove who is acting, and their enrolled roles must grant
//! the permission. Refusals are audited. See docs/security.md for the threat model.

use std::io::Read;
use std::path::PathBuf;

use identity::{CardReader, OPENSC_MODULE, Trust};
use session::Permission;
use store::{Actor, Store};
use zeroize::Zeroizing;

use crate::Failure;

/// The card of the person doing an act that needs one.
#[derive(clap::Args)]
pub struct CardArgs {
    /// Your card's token label or serial number.
    #[arg(long)]
    card: Option<String>,
    /// Read your card's PIN from standard input (it is never taken as an argument).
    #[arg(long)]
    pin_stdin: bool,
    /// The issuing CA to trust (PEM or DER).
    #[arg(long, env = "CWS_CARD_CA")]
    pub ca: Option<PathBuf>,
    #[arg(long, env = "CWS_PKCS11_MODULE", default_value = OPENSC_MODULE)]
    module: PathBuf,
}

impl CardArgs {
    /// The CA given, read, for checking certificates.
    pub fn trust(&self) -> Result<Option<Trust>, Failure> {
        let Some(ca) = &self.ca else { return Ok(None) };
        let bytes = std::fs::read(ca).map_err(|e| Failure::Input(format!("ca: {}: {e}", ca.display())))?;
        Ok(Some(Trust::from_pem_or_der(&bytes)?))
    }
}

/// The card holder doing `action`, once their card, PIN and `permission` are proved.
pub async fn card_holder_for(
    store: &Store,
    card: &CardArgs,
    permission: Permission,
    action: &str,
) -> Result<Actor, Failure> {
    let refuse = |actor: String, why: String| async move {
        let actor = Actor { user: actor, workstation: crate::os_actor().workstation };
        store.audit_session(&actor, action, &format!("refused: {why}")).await?;
        Ok::<Failure, Failure>(Failure::Input(why))
    };
    let Some(label) = card.card.as_deref().filter(|_| card.pin_stdin) else {
        let why = format!(
            "card: {action} needs the card of someone with {permission:?}; give --card LABEL --pin-stdin"
        );
        return Err(refuse(crate::os_actor().user, why).await?);
    };
    let trust = card
        .trust()?
        .ok_or_else(|| Failure::Input("ca: give the card issuing CA (--ca or CWS_CARD_CA)".into()))?;
    let pin = read_pin()?;
    let login =
        match CardReader::open(&card.module)?.login(label, &pin, &trust, time::OffsetDateTime::now_utc()) {
            Ok(login) => login,
            Err(error) => return Err(refuse(format!("card:{label}"), format!("card: {error}")).await?),
        };
    let permitted = match access::card_holder(store, &login.user_id).await {
        Ok(holder) => holder.require(permission),
        Err(error) => Err(error),
    };
    if let Err(error) = permitted {
        return Err(refuse(login.user_id, format!("card: {error}")).await?);
    }
    Ok(Actor { user: login.user_id, workstation: crate::os_actor().workstation })
}

/// A PIN from standard input, without its line ending, zeroed when dropped.
pub fn read_pin() -> Result<Zeroizing<String>, Failure> {
    let mut pin = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut pin).map_err(|e| Failure::Other(e.into()))?;
    Ok(Zeroizing::new(pin.trim_end_matches(['\r', '\n']).to_owned()))
}
