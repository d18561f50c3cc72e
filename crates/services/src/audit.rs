//! The audit trail for Information Governance: verify the chain (against
//! anchors kept outside the store, where given) and export entries. The trail
//! names records by id only, never a patient's details.

use chrono::{DateTime, Utc};
use store::{AuditAnchor, AuditEntry, AuditVerdict};

use crate::{Context, ServiceError};

/// Walks the whole chain; with anchors, first checks each anchored entry is there unchanged.
pub async fn verify(context: &Context, anchors: &[AuditAnchor]) -> Result<AuditVerdict, ServiceError> {
    let store = context.store();
    Ok(match anchors {
        [] => store.audit().verify().await?,
        anchors => store.audit().verify_against(anchors).await?,
    })
}

/// The head of the trail now, to keep outside the store.
pub async fn anchor(context: &Context) -> Result<AuditAnchor, ServiceError> {
    Ok(context.store().audit().anchor().await?)
}

/// Entries from `from` up to, not including, `to`, oldest first.
pub async fn entries(
    context: &Context,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AuditEntry>, ServiceError> {
    Ok(context.store().audit().entries(from, to).await?)
}
