//! Who a proven card holder is at this workstation, and what they may do: the
//! card's user id mapped to an enrolled, enabled user, whose job roles give
//! permissions through the site's role mapping. The app and `cws` both ask here.

mod proof;

pub use proof::{AuditAs, CardRefusal, prove_card_holder};

use std::collections::BTreeSet;

use session::{JobRole, Permission, RolePermissions, StaffUser, UserId};
use store::{EnrolledUser, Store, StoreError};

/// An enrolled member of staff whose card has just been proved. Only this
/// crate makes one, so holding one is proof of the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardHolder {
    user: StaffUser,
    permissions: BTreeSet<Permission>,
}

impl CardHolder {
    pub fn user(&self) -> &StaffUser {
        &self.user
    }

    /// The user and their permissions, to start a session with.
    pub fn into_parts(self) -> (StaffUser, BTreeSet<Permission>) {
        (self.user, self.permissions)
    }

    /// Refuses, naming the permission, unless the holder has it.
    pub fn require(&self, permission: Permission) -> Result<(), AccessError> {
        match self.permissions.contains(&permission) {
            true => Ok(()),
            false => {
                Err(AccessError::NotPermitted { user_id: self.user.user_id.as_str().to_owned(), permission })
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(
        "this card's holder is not enrolled at this workstation, or has been disabled; ask your IT service desk"
    )]
    NotEnrolled,
    #[error("user {user_id} does not have the {permission:?} permission; their job roles do not grant it")]
    NotPermitted { user_id: String, permission: Permission },
    #[error(
        "this card is not the one enrolled for user {0}: another card carries the same user id; ask your IT service desk"
    )]
    NotTheEnrolledCard(String),
    #[error(
        "user {0} was enrolled before cards were bound to their holder; re-enrol them with their certificate"
    )]
    CardNotBound(String),
    #[error("the enrolment of user {0} is damaged ({1}); re-enrol them")]
    DamagedEnrolment(String, &'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a card login proved: the user id its certificate carries and the fingerprint of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenCard<'a> {
    pub user_id: &'a str,
    pub key_sha256: &'a str,
}

/// The enrolled, enabled user a card proved, with their permissions under the
/// site's `mapping`. The card must be the one enrolled: a user id alone can be put
/// on any certificate by whoever runs a CA.
pub async fn card_holder(
    store: &Store,
    card: ProvenCard<'_>,
    mapping: &RolePermissions,
) -> Result<CardHolder, AccessError> {
    let enrolled = store
        .users()
        .get(card.user_id)
        .await?
        .filter(|user| !user.disabled)
        .ok_or(AccessError::NotEnrolled)?;
    match enrolled.card_key_sha256.as_deref() {
        None => return Err(AccessError::CardNotBound(enrolled.user_id)),
        Some(key) if !key.eq_ignore_ascii_case(card.key_sha256) => {
            return Err(AccessError::NotTheEnrolledCard(enrolled.user_id));
        }
        Some(_) => {}
    }
    holder(enrolled, mapping)
}

/// Whether any enabled user has `permission`. Until someone may manage users
/// (or the store), the store's OS account does that alone: the first-run bootstrap.
pub async fn anyone_may(
    store: &Store,
    mapping: &RolePermissions,
    permission: Permission,
) -> Result<bool, AccessError> {
    let users = store.users().list().await?;
    Ok(users
        .into_iter()
        .filter(|user| !user.disabled)
        .any(|user| mapping.for_roles(&roles(&user)).contains(&permission)))
}

fn holder(enrolled: EnrolledUser, mapping: &RolePermissions) -> Result<CardHolder, AccessError> {
    let damaged = |why| AccessError::DamagedEnrolment(enrolled.user_id.clone(), why);
    let roles = roles(&enrolled);
    let user = StaffUser {
        user_id: UserId::parse(&enrolled.user_id)
            .ok_or_else(|| damaged("the user id is not twelve digits"))?,
        display_name: enrolled.display_name.clone(),
        job_title: enrolled.job_title.clone(),
        role: roles.first().cloned().ok_or_else(|| damaged("no job role"))?,
    };
    Ok(CardHolder { user, permissions: mapping.for_roles(&roles) })
}

fn roles(user: &EnrolledUser) -> Vec<JobRole> {
    user.roles.iter().map(|role| JobRole { code: role.code.clone(), name: role.name.clone() }).collect()
}
