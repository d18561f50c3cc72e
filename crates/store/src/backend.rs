//! The two backends behind one API: the local SQLCipher file and a shared
//! PostgreSQL server. Statement code is written once, with `$1` placeholders
//! (both engines read them), and the `on_pool!`/`on_tx!` macros type-check it
//! for each backend. Where the engines differ, the difference is written here
//! or beside the statement, never outside this crate.

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::audit::{Actor, Event, append};
use crate::audit_action::{AuditAction, RecordRef};
use crate::direct::DirectTx;
use crate::error::database;
use crate::{Store, StoreError};

#[derive(Clone)]
pub(crate) enum Pool {
    Local(SqlitePool),
    Shared(PgPool),
}

pub(crate) enum Tx {
    Local(Transaction<'static, Sqlite>),
    Shared(Transaction<'static, Postgres>),
    /// The local file's direct writer (`Store::begin_direct`).
    Direct(DirectTx),
}

/// Runs the same statement code on the pool of whichever backend is open; `$c`
/// is the backend's pool. Use it as an executor directly (`.fetch_all($c)`).
macro_rules! on_pool {
    ($pool:expr, |$c:ident| $body:expr) => {
        match $pool {
            $crate::backend::Pool::Local($c) => $body,
            $crate::backend::Pool::Shared($c) => $body,
        }
    };
}

/// Runs the same statement code inside a transaction of either backend; `$c` is
/// the backend's connection. Use it as `&mut *$c`.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::backend::Tx::Local(transaction) => {
                let $c = &mut **transaction;
                $body
            }
            $crate::backend::Tx::Shared(transaction) => {
                let $c = &mut **transaction;
                $body
            }
            $crate::backend::Tx::Direct(_) => return Err($crate::direct::not_offered()),
        }
    };
}

pub(crate) use {on_pool, on_tx};

/// Writes that commit together or not at all, with their audit entries. Service
/// code composes several area writes in one of these (each area's handle, such
/// as `patients()`); dropping it uncommitted rolls everything back. A write with
/// no audit entry after it cannot be committed.
pub struct StoreTransaction {
    pub(crate) tx: Tx,
    /// Area writes made since the last audit entry.
    unaudited_writes: u32,
}

impl Store {
    /// Begins a write transaction. On the local file it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so a transaction never fails half-way for want of
    /// it; on PostgreSQL the audit chain is serialised when an entry is appended.
    pub async fn begin(&self) -> Result<StoreTransaction, StoreError> {
        let tx = match &self.pool {
            Pool::Local(pool) => {
                let writer = self.writer.as_ref().unwrap_or(pool);
                Tx::Local(writer.begin_with("BEGIN IMMEDIATE").await.map_err(database)?)
            }
            Pool::Shared(pool) => Tx::Shared(pool.begin().await.map_err(database)?),
        };
        Ok(StoreTransaction { tx, unaudited_writes: 0 })
    }

    /// Begins a write transaction for the writer whose peer waits on each
    /// commit (the HL7 interface). On the local file it runs on the store's
    /// direct connection, every statement in the caller's thread (see
    /// `direct.rs`); only the interface's reads and writes are offered in it,
    /// and any other store call is refused. On a shared server it is `begin`.
    pub async fn begin_direct(&self) -> Result<StoreTransaction, StoreError> {
        match &self.direct {
            Some(writer) => {
                Ok(StoreTransaction { tx: Tx::Direct(DirectTx::begin(writer).await?), unaudited_writes: 0 })
            }
            None => self.begin().await,
        }
    }

    /// A read-only transaction that sees one consistent moment, however many
    /// statements it takes (the audit chain and its head, say) while others write.
    pub(crate) async fn snapshot(&self) -> Result<Tx, StoreError> {
        Ok(match &self.pool {
            Pool::Local(pool) => Tx::Local(pool.begin().await.map_err(database)?),
            Pool::Shared(pool) => Tx::Shared(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(database)?,
            ),
        })
    }
}

impl StoreTransaction {
    /// Records an act in the audit trail, committed with the writes it describes.
    pub async fn audit(
        &mut self,
        actor: &Actor,
        action: AuditAction,
        patient_id: Option<i64>,
        records: &[RecordRef],
        outcome: &str,
    ) -> Result<(), StoreError> {
        append(&mut self.tx, actor, Event { action, patient_id, records, outcome }).await?;
        self.unaudited_writes = 0;
        Ok(())
    }

    /// Counts an area's write, which must be audited before the commit.
    pub(crate) fn wrote(&mut self) {
        self.unaudited_writes += 1;
    }

    /// Commits every write and audit entry, or, where a write has no audit entry
    /// after it, refuses and rolls everything back.
    pub async fn commit(self) -> Result<(), StoreError> {
        if self.unaudited_writes > 0 {
            return Err(StoreError::Database(format!(
                "{} write(s) had no audit entry, so nothing was committed",
                self.unaudited_writes
            )));
        }
        match self.tx {
            Tx::Local(tx) => tx.commit().await.map_err(database),
            Tx::Shared(tx) => tx.commit().await.map_err(database),
            Tx::Direct(tx) => tx.commit().await,
        }
    }
}
