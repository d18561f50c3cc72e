//! Proving a card holder, for the app's sign-in and for `cws` acts, and
//! recording what happens to sessions. One flow (`access::prove_card_holder`),
//! reached only from here, so both callers audit alike.

use access::{AuditAs, CardHolder, CardRefusal};
use identity::{CardLogin, IdentityError};
use session::{Permission, RolePermissions};
use store::{Actor, AuditAction, RecordRef};

use crate::{Acting, Context, ServiceError};

/// The enrolled, enabled holder of `card` (a serial or label), from the card
/// login's result, holding `permission` where one is needed. A refusal is
/// audited as `action` before it is returned.
pub async fn prove_card_holder(
    context: &Context,
    card: &str,
    login: Result<CardLogin, IdentityError>,
    mapping: &RolePermissions,
    permission: Option<Permission>,
    action: AuditAction,
) -> Result<(CardLogin, CardHolder), CardRefusal> {
    let audit = AuditAs { action, workstation: context.workstation() };
    access::prove_card_holder(context.store(), card, login, mapping, permission, audit).await
}

/// The token for an act by a proven card holder.
pub fn acting_for(
    context: &Context,
    holder: &CardHolder,
    permission: Permission,
) -> Result<Acting, ServiceError> {
    Acting::from_card_holder(holder, permission, context.workstation())
}

/// The first-run bootstrap: while no enabled user holds `permission`, the OS
/// account that runs the store (`operator`) may do what it allows; the token
/// names that account. `None` once someone holds it: from then on, a card.
pub async fn bootstrap_acting(
    context: &Context,
    mapping: &RolePermissions,
    permission: Permission,
    operator: &Actor,
) -> Result<Option<Acting>, ServiceError> {
    let held = anyone_may(context, mapping, permission).await?;
    Ok((!held).then(|| Acting::bootstrap(operator.clone(), permission)))
}

/// Whether any enabled user holds `permission` under `mapping`.
pub async fn anyone_may(
    context: &Context,
    mapping: &RolePermissions,
    permission: Permission,
) -> Result<bool, ServiceError> {
    access::anyone_may(context.store(), mapping, permission).await.map_err(|error| match error {
        access::AccessError::Store(error) => ServiceError::Store(error),
        other => ServiceError::Invalid { field: "users", reason: other.to_string() },
    })
}

/// Records a session event (sign-in, lock, unlock, sign-out, a refused act)
/// against the person it concerns, with the records it touches.
pub async fn record_session_event(
    context: &Context,
    actor: &Actor,
    action: AuditAction,
    records: &[RecordRef],
    outcome: &str,
) -> Result<(), ServiceError> {
    Ok(context.store().audit().record(actor, action, records, outcome).await?)
}
