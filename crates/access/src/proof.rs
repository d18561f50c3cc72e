//! The one flow that proves a card holder, for the app's sign-in and for `cws`
//! alike: the card login's result (PIN, key, certificate), then the enrolled user
//! the card's key is bound to, then, where an act needs one, a permission. Every
//! refusal is audited the same way: against the card until its certificate has
//! proven a user, then against that user, with the outcome `refused: <reason>`.

use identity::{CardLogin, IdentityError};
use session::{Permission, RolePermissions};
use store::{Actor, AuditAction, Store};

use crate::{AccessError, CardHolder, ProvenCard, card_holder};

/// Why a card did not prove a holder who may act.
#[derive(Debug)]
pub enum CardRefusal {
    /// The card itself failed: not found, wrong PIN, untrusted or unfit certificate, no key proof.
    Card { card: String, error: IdentityError },
    /// The card proved a user id, but not an enrolled, enabled holder with the permission.
    Holder { user_id: String, error: AccessError },
}

impl CardRefusal {
    /// Whom the audit trail names: the card, until a user is proven.
    pub fn audit_actor(&self) -> String {
        match self {
            Self::Card { card, .. } => format!("card:{card}"),
            Self::Holder { user_id, .. } => user_id.clone(),
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Self::Card { error, .. } => error.to_string(),
            Self::Holder { error, .. } => error.to_string(),
        }
    }
}

/// What the audit trail records a refusal under.
#[derive(Debug, Clone, Copy)]
pub struct AuditAs<'a> {
    /// The act attempted, e.g. a sign-in or an enrolment.
    pub action: AuditAction,
    pub workstation: &'a str,
}

/// Proves the holder of `card` (its serial or label) from `login`, the card
/// login's result, and checks `permission` where one is needed. A refusal is
/// audited before it is returned; an audit that fails is logged, never hidden.
pub async fn prove_card_holder(
    store: &Store,
    card: &str,
    login: Result<CardLogin, IdentityError>,
    mapping: &RolePermissions,
    permission: Option<Permission>,
    audit: AuditAs<'_>,
) -> Result<(CardLogin, CardHolder), CardRefusal> {
    let proven = match login {
        Ok(login) => holder_of(store, login, mapping, permission).await,
        Err(error) => Err(CardRefusal::Card { card: card.to_owned(), error }),
    };
    if let Err(refusal) = &proven {
        let actor = Actor { user: refusal.audit_actor(), workstation: audit.workstation.to_owned() };
        let outcome = format!("refused: {}", refusal.reason());
        if let Err(error) = store.audit().record(&actor, audit.action, &[], &outcome).await {
            tracing::error!(%error, action = audit.action.text(), "a refused card could not be audited");
        }
    }
    proven
}

async fn holder_of(
    store: &Store,
    login: CardLogin,
    mapping: &RolePermissions,
    permission: Option<Permission>,
) -> Result<(CardLogin, CardHolder), CardRefusal> {
    let refused = |error| CardRefusal::Holder { user_id: login.user_id.clone(), error };
    let card = ProvenCard { user_id: &login.user_id, key_sha256: &login.key_sha256 };
    let holder = card_holder(store, card, mapping).await.map_err(refused)?;
    if let Some(permission) = permission {
        holder.require(permission).map_err(refused)?;
    }
    Ok((login, holder))
}
