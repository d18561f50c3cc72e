//! The permission token. Its fields are private and its only constructors take a
//! proof: a session check that required the permission, or a proven card holder
//! whose roles grant it. A function that takes `&Acting` cannot be called by code
//! that skipped the check; the compiler sees to it.

use access::CardHolder;
use session::{Permission, SessionCheck};
use store::Actor;

use crate::ServiceError;

/// A named person, proven to hold `permission`, acting at a workstation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    actor: Actor,
    permission: Permission,
}

impl Acting {
    /// From the workstation's session: the check must have been made with
    /// `Workstation::require(permission)`, not merely `require_user`.
    pub fn from_session(
        check: &SessionCheck,
        permission: Permission,
        workstation: &str,
    ) -> Result<Self, ServiceError> {
        if check.permission() != Some(permission) {
            return Err(ServiceError::NotPermitted(permission));
        }
        Ok(Self::new(check.user.user_id.as_str(), permission, workstation))
    }

    /// From a card holder proven in `cws`, whose roles grant `permission`.
    pub fn from_card_holder(
        holder: &CardHolder,
        permission: Permission,
        workstation: &str,
    ) -> Result<Self, ServiceError> {
        holder.require(permission).map_err(|_| ServiceError::NotPermitted(permission))?;
        Ok(Self::new(holder.user().user_id.as_str(), permission, workstation))
    }

    /// The OS account that runs a store in which no enabled user yet holds
    /// `permission` (checked by `cards::bootstrap_acting`, its only caller).
    pub(crate) fn bootstrap(actor: Actor, permission: Permission) -> Self {
        Self { actor, permission }
    }

    fn new(user_id: &str, permission: Permission, workstation: &str) -> Self {
        Self { actor: Actor { user: user_id.to_owned(), workstation: workstation.to_owned() }, permission }
    }

    /// Whom the audit trail names for this act.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Refuses unless this token proves `permission`.
    pub(crate) fn requires(&self, permission: Permission) -> Result<&Actor, ServiceError> {
        match self.permission == permission {
            true => Ok(&self.actor),
            false => Err(ServiceError::NotPermitted(permission)),
        }
    }
}
