//! Regimen versions approved for local use: two people with `manage_regimens`,
//! a consultant and a pharmacist, approve the exact version (its content hash)
//! before anyone may prescribe it.

use sact::{Approval, Capacity, check_new_approval, is_approved};
use session::Permission;
use store::{AuditAction, RecordRef, RegimenVersionRef};

use crate::{Acting, Context, ServiceError};

/// Where a version's approval stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalState {
    pub approvals: Vec<Approval>,
    pub approved: bool,
}

/// Records the token holder's approval of the library's current version of
/// `code`, in the capacity their job role gives them.
pub async fn approve(
    context: &Context,
    acting: &Acting,
    role_code: &str,
    code: &str,
    note: &str,
) -> Result<ApprovalState, ServiceError> {
    let actor = acting.requires(Permission::ManageRegimens)?;
    let regimen = context.regimens().find(code)?;
    let version = RegimenVersionRef {
        code: &regimen.code,
        version: &regimen.version,
        content_sha256: &regimen.content_sha256,
    };
    let approved_by = session::UserId::parse(&actor.user).ok_or(ServiceError::Invalid {
        field: "user",
        reason: "a regimen is approved by a person proven by a card".into(),
    })?;
    let approval = Approval { approved_by, capacity: Capacity::of_role(role_code)? };
    let mut approvals = context.store().regimen_approvals().of(version).await?;
    check_new_approval(&approvals, &approval)?;
    let mut tx = context.store().begin().await?;
    tx.regimen_approvals().insert(version, &approval, note).await?;
    let record = RecordRef::Regimen(format!("{}@{}", regimen.code, regimen.version));
    let outcome = format!("ok: as {}", approval.capacity.text());
    tx.audit(actor, AuditAction::RegimenApprove, None, &[record], &outcome).await?;
    tx.commit().await?;
    approvals.push(approval);
    Ok(ApprovalState { approved: is_approved(&approvals), approvals })
}

/// Where the library's current version of `code` stands.
pub async fn approval_state(context: &Context, code: &str) -> Result<ApprovalState, ServiceError> {
    let regimen = context.regimens().find(code)?;
    let version = RegimenVersionRef {
        code: &regimen.code,
        version: &regimen.version,
        content_sha256: &regimen.content_sha256,
    };
    let approvals = context.store().regimen_approvals().of(version).await?;
    Ok(ApprovalState { approved: is_approved(&approvals), approvals })
}
