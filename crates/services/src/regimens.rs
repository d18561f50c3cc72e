//! Regimen versions: the shipped library's, and versions received from another
//! site (the regional cancer centre), kept as received. Look-up is by code and
//! version. Two people with `manage_regimens`, a consultant and a pharmacist,
//! approve an exact version (its content hash) before anyone may prescribe it;
//! a received version arrives as a draft awaiting that approval.

use regimens::{Regimen, RegimenLibrary, RegimenStatus};
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

/// A regimen by code and version: the library's own when no version is given
/// or the library holds that version, otherwise a version received here.
pub async fn version(context: &Context, code: &str, version: Option<&str>) -> Result<Regimen, ServiceError> {
    let shipped = context.regimens().find(code).ok();
    if let Some(regimen) = shipped.filter(|r| version.is_none_or(|v| v == r.version)) {
        return Ok(regimen.clone());
    }
    let Some(version) = version else {
        return Err(ServiceError::Invalid {
            field: "regimen",
            reason: format!("no regimen has the code {code:?}; `cws regimen list` shows them"),
        });
    };
    let received = context.store().regimen_versions().get(code, version).await?.ok_or_else(|| {
        ServiceError::Invalid { field: "version", reason: format!("{code} version {version} is not here") }
    })?;
    let regimen = regimens::parse_exchanged(&received.received_from, &received.document)
        .map_err(|e| ServiceError::Regimens(e.to_string()))?;
    // The text is kept as received; its hash is checked again on every read.
    if regimen.content_sha256 != received.content_sha256 {
        return Err(ServiceError::Regimens(format!(
            "{code} version {version} no longer matches the hash it was received with"
        )));
    }
    Ok(regimen)
}

/// The exact text of a regimen version, to send to another site.
pub async fn export(context: &Context, code: &str, version: Option<&str>) -> Result<String, ServiceError> {
    let regimen = self::version(context, code, version).await?;
    if let Some(text) = RegimenLibrary::shipped_text(code)
        && context.regimens().find(code).is_ok_and(|r| r.version == regimen.version)
    {
        return Ok(text.to_owned());
    }
    let received = context.store().regimen_versions().get(code, &regimen.version).await?;
    received.map(|r| r.document).ok_or_else(|| ServiceError::Invalid {
        field: "version",
        reason: format!("{code} version {} is not here", regimen.version),
    })
}

/// Receives a regimen version from another site (manage_regimens): checked
/// exactly as a shipped file is, kept as received, and a draft until a
/// consultant and a pharmacist approve it here. A version already here is refused.
pub async fn import(
    context: &Context,
    acting: &Acting,
    text: &str,
    received_from: &str,
) -> Result<Regimen, ServiceError> {
    let actor = acting.requires(Permission::ManageRegimens)?;
    let regimen = regimens::parse_exchanged(received_from, text)
        .map_err(|e| ServiceError::Invalid { field: "regimen", reason: e.to_string() })?;
    if context.regimens().find(&regimen.code).is_ok_and(|r| r.version == regimen.version) {
        return Err(ServiceError::Refused {
            rule: "regimen_version_exists",
            reason: format!(
                "{} version {} is already in this workstation's library; a version never changes, so send a new version number",
                regimen.code, regimen.version
            ),
        });
    }
    let mut tx = context.store().begin().await?;
    tx.regimen_versions()
        .insert(&regimen.code, &regimen.version, &regimen.content_sha256, text, received_from, &actor.user)
        .await?;
    let record = RecordRef::Regimen(format!("{}@{}", regimen.code, regimen.version));
    let outcome = format!("ok: received from {received_from}; a draft until approved here");
    tx.audit(actor, AuditAction::RegimenImport, None, &[record], &outcome).await?;
    tx.commit().await?;
    Ok(regimen)
}

/// Records the token holder's approval of a version of `code` (the library's
/// current one where none is given), in the capacity their job role gives them.
pub async fn approve(
    context: &Context,
    acting: &Acting,
    role_code: &str,
    code: &str,
    version: Option<&str>,
    note: &str,
) -> Result<ApprovalState, ServiceError> {
    let actor = acting.requires(Permission::ManageRegimens)?;
    let regimen = self::version(context, code, version).await?;
    if regimen.status == RegimenStatus::Withdrawn {
        return Err(ServiceError::Refused {
            rule: "regimen_withdrawn",
            reason: format!(
                "{} version {} is withdrawn and cannot be approved",
                regimen.code, regimen.version
            ),
        });
    }
    let version = version_ref(&regimen);
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

/// Where a regimen version's approval stands.
pub async fn approval_state(context: &Context, regimen: &Regimen) -> Result<ApprovalState, ServiceError> {
    let approvals = context.store().regimen_approvals().of(version_ref(regimen)).await?;
    Ok(ApprovalState { approved: is_approved(&approvals), approvals })
}

fn version_ref(regimen: &Regimen) -> RegimenVersionRef<'_> {
    RegimenVersionRef {
        code: &regimen.code,
        version: &regimen.version,
        content_sha256: &regimen.content_sha256,
    }
}
