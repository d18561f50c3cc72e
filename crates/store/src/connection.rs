//! The store handle, whichever backend holds it, and what every backend does on
//! opening: refuse a schema from a newer version before migrating.

use crate::backend::{Pool, on_pool};
use crate::error::database;
use crate::local_file::LocalFile;
use crate::{SharedDatabase, StoreError};

/// The patient record, on the local encrypted file or on a shared server.
/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// A local file's one writing connection. SQLite takes one writer at a
    /// time anyway; giving writes a connection of their own keeps its page
    /// cache warm (a connection's cache is dropped whenever another connection
    /// has written), where a pool hands each transaction the connection idle
    /// longest, whose cache is stale, and every page touched is read and
    /// decrypted again.
    pub(crate) writer: Option<sqlx::SqlitePool>,
    /// A local file's direct writer, for the HL7 interface (`begin_direct`).
    pub(crate) direct: Option<crate::direct::DirectWriter>,
    pub(crate) place: Place,
}

#[derive(Clone)]
pub(crate) enum Place {
    LocalFile(LocalFile),
    Shared(SharedDatabase),
}

impl Place {
    /// Where the store is, in words for a person (never with a password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::LocalFile(file) => file.path.display().to_string(),
            Self::Shared(database) => database.display(),
        }
    }
}

impl Store {
    /// Where this store is: a file's path, or a server and database.
    pub fn location(&self) -> String {
        self.place.describe()
    }

    pub async fn close(self) {
        if let Some(direct) = &self.direct {
            crate::direct::close(direct).await;
        }
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        on_pool!(&self.pool, |pool| pool.close().await);
    }

    /// Whether this is a trust's shared server rather than one workstation's file.
    pub fn is_shared(&self) -> bool {
        matches!(self.place, Place::Shared(_))
    }

    /// The local file's place, for the operations only a local file has.
    pub(crate) fn local_file(&self) -> Result<&LocalFile, StoreError> {
        match &self.place {
            Place::LocalFile(file) => Ok(file),
            Place::Shared(database) => Err(StoreError::NotLocal { location: database.display() }),
        }
    }
}

/// A store from a newer version is refused before any migration touches it.
pub(crate) async fn refuse_newer_schema(pool: &Pool, place: &Place) -> Result<(), StoreError> {
    if !has_migrations_table(pool).await? {
        return Ok(());
    }
    let (found,): (Option<i64>,) =
        on_pool!(pool, |c| sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(c).await)
            .map_err(database)?;
    let supported = match pool {
        Pool::Local(_) => crate::local_file::MIGRATOR.iter().map(|m| m.version).max(),
        Pool::Shared(_) => crate::shared::MIGRATOR.iter().map(|m| m.version).max(),
    }
    .unwrap_or(0);
    match found {
        Some(found) if found > supported => {
            Err(StoreError::NewerVersion { store: place.describe(), found, supported })
        }
        _ => Ok(()),
    }
}

/// Whether migrations have ever run here: the mark of a store, not just a database.
pub(crate) async fn has_migrations_table(pool: &Pool) -> Result<bool, StoreError> {
    let found = match pool {
        Pool::Local(pool) => sqlx::query_as::<_, (i64,)>(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(pool)
        .await
        .map(|(count,)| count > 0),
        Pool::Shared(pool) => {
            sqlx::query_as::<_, (bool,)>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(pool)
                .await
                .map(|(found,)| found)
        }
    };
    found.map_err(database)
}
