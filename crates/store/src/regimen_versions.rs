//! Regimen versions received from another site, kept as the exact text
//! received (its hash is the sender's). Not patient data: read without audit;
//! each import is audited by the services in the transaction that writes it.

use chrono::Utc;

use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// A received version as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReceivedRegimen {
    pub regimen_code: String,
    pub regimen_version: String,
    pub content_sha256: String,
    /// The file's text, exactly as received.
    pub document: String,
    pub received_from: String,
    pub received_by: String,
    pub received_at_utc: String,
}

pub struct RegimenVersions<'s> {
    store: &'s Store,
}

impl Store {
    pub fn regimen_versions(&self) -> RegimenVersions<'_> {
        RegimenVersions { store: self }
    }
}

const SELECT: &str = "SELECT regimen_code, regimen_version, content_sha256, document, received_from, received_by, received_at_utc FROM regimen_versions";

impl RegimenVersions<'_> {
    /// One received version of a regimen, if it is here.
    pub async fn get(&self, code: &str, version: &str) -> Result<Option<ReceivedRegimen>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE regimen_code = $1 AND regimen_version = $2"
        )))
        .bind(code)
        .bind(version)
        .fetch_optional(c)
        .await)
        .map_err(database)
    }

    /// Every received version of a regimen, in the order received.
    pub async fn of(&self, code: &str) -> Result<Vec<ReceivedRegimen>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE regimen_code = $1 ORDER BY id"
        )))
        .bind(code)
        .fetch_all(c)
        .await)
        .map_err(database)
    }
}

pub struct RegimenVersionWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn regimen_versions(&mut self) -> RegimenVersionWrites<'_> {
        RegimenVersionWrites { transaction: self }
    }
}

impl RegimenVersionWrites<'_> {
    /// Keeps a received version. A version of that code already here is refused,
    /// whatever its text: a version, once received, never changes.
    pub async fn insert(
        &mut self,
        code: &str,
        version: &str,
        content_sha256: &str,
        document: &str,
        received_from: &str,
        received_by: &str,
    ) -> Result<(), StoreError> {
        let inserted = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "INSERT INTO regimen_versions (regimen_code, regimen_version, content_sha256, document, received_from, received_by, received_at_utc)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (regimen_code, regimen_version) DO NOTHING",
        )
        .bind(code)
        .bind(version)
        .bind(content_sha256)
        .bind(document)
        .bind(received_from)
        .bind(received_by)
        .bind(Utc::now().to_rfc3339())
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        if inserted == 0 {
            return Err(StoreError::Invalid {
                field: "version".into(),
                reason: format!(
                    "{code} version {version} is already here; a version never changes once received"
                ),
            });
        }
        self.transaction.wrote();
        Ok(())
    }
}
