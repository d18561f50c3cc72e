//! Who approved which regimen version here: the approvals a prescription needs.

use sact::{Approval, Capacity};
use session::UserId;

use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// Which exact regimen version: code, version and content hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegimenVersionRef<'a> {
    pub code: &'a str,
    pub version: &'a str,
    pub content_sha256: &'a str,
}

pub struct RegimenApprovals<'s> {
    store: &'s Store,
}

impl Store {
    pub fn regimen_approvals(&self) -> RegimenApprovals<'_> {
        RegimenApprovals { store: self }
    }
}

impl RegimenApprovals<'_> {
    /// The approvals of one exact version (not patient data: read without audit).
    pub async fn of(&self, version: RegimenVersionRef<'_>) -> Result<Vec<Approval>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(&self.store.pool, |c| sqlx::query_as(
            "SELECT approved_by, capacity FROM regimen_approvals
             WHERE regimen_code = $1 AND regimen_version = $2 AND content_sha256 = $3 ORDER BY id"
        )
        .bind(version.code)
        .bind(version.version)
        .bind(version.content_sha256)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        rows.into_iter()
            .map(|(by, capacity)| {
                let damaged =
                    || StoreError::Database(format!("an approval of {} is unreadable", version.code));
                Ok(Approval {
                    approved_by: UserId::parse(&by).ok_or_else(damaged)?,
                    capacity: Capacity::parse(&capacity).ok_or_else(damaged)?,
                })
            })
            .collect()
    }
}

pub struct ApprovalWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn regimen_approvals(&mut self) -> ApprovalWrites<'_> {
        ApprovalWrites { transaction: self }
    }
}

impl ApprovalWrites<'_> {
    pub async fn insert(
        &mut self,
        version: RegimenVersionRef<'_>,
        approval: &Approval,
        note: &str,
    ) -> Result<(), StoreError> {
        on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "INSERT INTO regimen_approvals (regimen_code, regimen_version, content_sha256, approved_by, capacity, note, approved_at_utc)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(version.code)
        .bind(version.version)
        .bind(version.content_sha256)
        .bind(approval.approved_by.as_str())
        .bind(approval.capacity.text())
        .bind(note)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *c)
        .await
        .map(|_| ()))
        .map_err(database)?;
        self.transaction.wrote();
        Ok(())
    }
}
