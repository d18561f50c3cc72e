//! Enrolling and disabling the staff who sign in with cards: `manage_users`.

use session::Permission;
use store::EnrolledUser;

use crate::{Acting, Context, ServiceError};

/// Enrols (or re-enrols) a member of staff, bound to their card's key.
pub async fn enrol(context: &Context, acting: &Acting, user: &EnrolledUser) -> Result<(), ServiceError> {
    let actor = acting.requires(Permission::ManageUsers)?;
    Ok(context.store().users().enrol(actor, user).await?)
}

pub async fn disable(context: &Context, acting: &Acting, user_id: &str) -> Result<(), ServiceError> {
    let actor = acting.requires(Permission::ManageUsers)?;
    Ok(context.store().users().disable(actor, user_id).await?)
}

/// Every enrolled member of staff, disabled or not (names and roles; no patient data).
pub async fn list(context: &Context) -> Result<Vec<EnrolledUser>, ServiceError> {
    Ok(context.store().users().list().await?)
}
