//! What a store is and where, for `cws store status`: the backend, the
//! location, the engine, the schema, how much it holds, and its health.

use serde::Serialize;

use crate::backend::{Pool, on_pool};
use crate::error::database;
use crate::{Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct StoreStatus {
    /// Which backend, in words: the local encrypted file or a shared server.
    pub backend: String,
    /// The file's path, or the server and database (never a password).
    pub location: String,
    /// SQLCipher's version, or the PostgreSQL server's.
    pub engine_version: String,
    /// How data reaches the store: a local file, or the connection's TLS.
    pub transport: String,
    pub schema_version: i64,
    pub patients: i64,
    pub audit_entries: i64,
    pub integrity: String,
}

impl Store {
    pub async fn status(&self) -> Result<StoreStatus, StoreError> {
        let (schema_version,): (i64,) = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations"
        )
        .fetch_one(c)
        .await)
        .map_err(database)?;
        let (patients,): (i64,) =
            on_pool!(&self.pool, |c| sqlx::query_as("SELECT COUNT(*) FROM patients").fetch_one(c).await)
                .map_err(database)?;
        let (audit_entries,): (i64,) =
            on_pool!(&self.pool, |c| sqlx::query_as("SELECT COUNT(*) FROM audit_log").fetch_one(c).await)
                .map_err(database)?;
        let (backend, engine_version, transport, integrity) = match &self.pool {
            Pool::Local(pool) => {
                let (cipher,): (String,) =
                    sqlx::query_as("PRAGMA cipher_version").fetch_one(pool).await.map_err(database)?;
                let rows: Vec<(String,)> =
                    sqlx::query_as("PRAGMA integrity_check").fetch_all(pool).await.map_err(database)?;
                let integrity = rows.into_iter().map(|(line,)| line).collect::<Vec<_>>().join("; ");
                (
                    "local encrypted file".to_owned(),
                    format!("SQLCipher {cipher}"),
                    "a file on this machine".to_owned(),
                    integrity,
                )
            }
            Pool::Shared(pool) => {
                let (version, tls): (String, Option<bool>) = sqlx::query_as(
                    "SELECT current_setting('server_version'), (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
                )
                .fetch_one(pool)
                .await
                .map_err(database)?;
                let transport = match tls {
                    Some(true) => "TLS",
                    _ => "not encrypted (allowed only to this machine)",
                };
                (
                    "shared PostgreSQL".to_owned(),
                    format!("PostgreSQL {version}"),
                    transport.to_owned(),
                    "the server's to check (its checksums and the site's backups)".to_owned(),
                )
            }
        };
        Ok(StoreStatus {
            backend,
            location: self.location(),
            engine_version,
            transport,
            schema_version,
            patients,
            audit_entries,
            integrity,
        })
    }
}
