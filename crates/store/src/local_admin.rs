//! Keeping the store safe without locking the data in: status, backup,
//! restore, rekey and the recovery key.

use std::path::Path;

use sqlx::sqlite::SqliteJournalMode;
use sqlx::{ConnectOptions, Connection};
use zeroize::Zeroizing;

use std::sync::Arc;

use crate::audit::{Actor, Event};
use crate::audit_action::AuditAction;
use crate::backend::Pool;
use crate::error::database;
use crate::local_file::{LocalFile, blocking, restrict_to_owner, sidecar};
use crate::{Store, StoreError, StoreKey};

/// The operations only a local encrypted file has: its integrity check, file
/// backup and restore, the recovery key and rekey. A shared store's server has
/// its own (the site's database backups and encryption at rest), so a shared
/// store is refused here by name.
pub struct LocalFileAdmin {
    store: Store,
}

impl LocalFileAdmin {
    pub fn new(store: Store) -> Result<Self, StoreError> {
        store.local_file()?;
        Ok(Self { store })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn close(self) {
        self.store.close().await;
    }

    fn file(&self) -> &LocalFile {
        self.store.local_file().expect("checked in LocalFileAdmin::new")
    }

    /// `PRAGMA integrity_check`: `ok`, or what is wrong.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        integrity_check(&self.store).await
    }

    /// Writes a consistent copy, encrypted with the same key, to `destination` (which must not exist).
    pub async fn backup(&self, actor: &Actor, destination: &Path) -> Result<(), StoreError> {
        let destination =
            std::path::absolute(destination).map_err(|e| StoreError::Database(e.to_string()))?;
        create_owner_only(&destination)?;
        let file = self.file();
        let key = &file.key;
        // ATTACH opens the backup with the main connection's flags, so this
        // connection needs SQLITE_OPEN_CREATE, which the pool's lack.
        let mut connection =
            crate::local_file::connect_options(&file.path, key, true, SqliteJournalMode::Wal, file.mac)?
                .connect()
                .await
                .map_err(database)?;
        // An attached file takes SQLCipher's defaults: the backup is set to the
        // store's page MAC before anything is written to it.
        let attach = Zeroizing::new(format!(
            "ATTACH DATABASE '{}' AS backup KEY {}; PRAGMA backup.cipher_hmac_algorithm = {};",
            destination.to_string_lossy().replace('\'', "''"),
            key.pragma_value().as_str(),
            file.mac.pragma_value()
        ));
        sqlx::raw_sql(sqlx::AssertSqlSafe(attach.as_str()))
            .execute(&mut connection)
            .await
            .map_err(database)?;
        let exported = async {
            sqlx::raw_sql("BEGIN; SELECT sqlcipher_export('backup'); COMMIT;").execute(&mut connection).await
        }
        .await;
        sqlx::raw_sql("DETACH DATABASE backup").execute(&mut connection).await.map_err(database)?;
        exported.map_err(database)?;
        connection.close().await.map_err(database)?;
        self.store
            .audit_alone(
                actor,
                Event { action: AuditAction::StoreBackup, patient_id: None, records: &[], outcome: "ok" },
            )
            .await
    }

    /// Shows the recovery key once, to the store's owner; later calls are refused until a rekey.
    pub async fn reveal_recovery_key(&self, actor: &Actor) -> Result<StoreKey, StoreError> {
        let (file, pool) = (self.file(), self.local_pool());
        ensure_owner(&file.path)?;
        let shown: Option<(String,)> =
            sqlx::query_as("SELECT value FROM store_facts WHERE name = 'recovery_key_shown_at'")
                .fetch_optional(pool)
                .await
                .map_err(database)?;
        if shown.is_some() {
            self.store
                .audit_alone(
                    actor,
                    Event {
                        action: AuditAction::StoreRecoveryKey,
                        patient_id: None,
                        records: &[],
                        outcome: "refused: already shown",
                    },
                )
                .await?;
            return Err(StoreError::RecoveryKeyAlreadyShown { path: file.path.clone() });
        }
        let key = file.key.clone();
        let mut tx = self.store.begin().await?;
        if let crate::backend::Tx::Local(local) = &mut tx.tx {
            sqlx::query("INSERT INTO store_facts (name, value) VALUES ('recovery_key_shown_at', $1)")
                .bind(chrono::Utc::now().to_rfc3339())
                .execute(&mut **local)
                .await
                .map_err(database)?;
        }
        tx.audit(actor, AuditAction::StoreRecoveryKey, None, &[], "ok: shown").await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Changes the key, with no moment at which the only key that opens the file
    /// is held nowhere: the new key is saved as a pending entry, the file is
    /// re-encrypted, the new key becomes the store's entry, and the pending entry
    /// goes. `Store::open` promotes a pending key that opens the file, so a crash
    /// at any step leaves a store that opens. Refused while the store is open elsewhere.
    pub async fn rekey(self, actor: &Actor) -> Result<Store, StoreError> {
        let file = self.file().clone();
        ensure_owner(&file.path)?;
        crate::local_file::exclusive(&file.lock, &file.path)?;
        let (path, old, lock, mac) = (file.path, file.key, file.lock, file.mac);
        self.store
            .audit_alone(
                actor,
                Event { action: AuditAction::StoreRekey, patient_id: None, records: &[], outcome: "started" },
            )
            .await?;
        self.close().await;
        let new = StoreKey::generate()?;
        let (pending_path, pending) = (path.clone(), new.clone());
        blocking(move || pending.save_pending(&pending_path)).await??;
        crash_point("rekey.pending-saved");
        let mut connection = Store::single_connection(&path, &old, mac, SqliteJournalMode::Delete).await?;
        rekey_connection(&mut connection, &new).await?;
        crash_point("rekey.file-reencrypted");
        let (save_path, new_copy) = (path.clone(), new.clone());
        if let Err(error) = blocking(move || new_copy.save(&save_path)).await? {
            rekey_connection(&mut connection, &old).await?;
            let forget_path = path.clone();
            blocking(move || StoreKey::forget_pending(&forget_path)).await?;
            return Err(error);
        }
        crash_point("rekey.key-saved");
        let forget_path = path.clone();
        blocking(move || StoreKey::forget_pending(&forget_path)).await?;
        connection.close().await.map_err(database)?;
        lock.lock_shared().map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))?;
        let store = Store::connect(&path, new, false, lock).await?;
        if let Pool::Local(pool) = &store.pool {
            sqlx::query("DELETE FROM store_facts WHERE name = 'recovery_key_shown_at'")
                .execute(pool)
                .await
                .map_err(database)?;
        }
        store
            .audit_alone(
                actor,
                Event { action: AuditAction::StoreRekey, patient_id: None, records: &[], outcome: "ok" },
            )
            .await?;
        Ok(store)
    }

    /// Puts a recovery key back in the keyring after checking that it opens the store.
    pub async fn unlock_with_recovery_key(
        path: &Path,
        key: StoreKey,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let store = Store::open_with_key(path, key.clone()).await?;
        let (save_path, key_copy) = (store.local_file()?.path.clone(), key.clone());
        tokio::task::spawn_blocking(move || key_copy.save(&save_path))
            .await
            .map_err(|e| StoreError::Database(e.to_string()))??;
        store
            .audit_alone(
                actor,
                Event {
                    action: AuditAction::StoreUnlockWithRecoveryKey,
                    patient_id: None,
                    records: &[],
                    outcome: "ok",
                },
            )
            .await?;
        store.close().await;
        Ok(())
    }

    /// Replaces the store at `path` with the backup at `backup`. Refused while
    /// anyone has the store open. A copy of the backup is checked (opened with the
    /// store's key, migrated, integrity-checked), never the backup itself; the
    /// copy, owner-only, then takes the store's place. The replaced file is kept
    /// beside it, never deleted.
    pub async fn restore(
        path: &Path,
        backup: &Path,
        key: StoreKey,
        actor: &Actor,
    ) -> Result<Store, StoreError> {
        let path = std::path::absolute(path).map_err(|e| StoreError::Database(e.to_string()))?;
        let lock = Arc::new(crate::local_file::lock_file(&path)?);
        crate::local_file::exclusive(&lock, &path)?;
        let staged = sidecar(&path, ".restoring");
        let _ = std::fs::remove_file(&staged);
        create_owner_only(&staged)?;
        std::fs::copy(backup, &staged)
            .map_err(|e| StoreError::Database(format!("copying the backup: {e}")))?;
        restrict_to_owner(&staged)?;
        std::fs::File::open(&staged)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::Database(e.to_string()))?;
        if let Err(error) = check_candidate(&staged, &key, backup).await {
            let _ = std::fs::remove_file(&staged);
            return Err(error);
        }
        if path.exists() {
            let kept = sidecar(&path, &format!(".replaced-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
            std::fs::rename(&path, &kept)
                .map_err(|e| StoreError::Database(format!("keeping the old store: {e}")))?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::rename(sidecar(&path, suffix), sidecar(&kept, suffix));
            }
        }
        std::fs::rename(&staged, &path)
            .map_err(|e| StoreError::Database(format!("putting the backup in place: {e}")))?;
        lock.lock_shared().map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))?;
        let store = Store::connect(&path, key, false, lock).await?;
        store
            .audit_alone(
                actor,
                Event { action: AuditAction::StoreRestore, patient_id: None, records: &[], outcome: "ok" },
            )
            .await?;
        Ok(store)
    }
}

impl LocalFileAdmin {
    fn local_pool(&self) -> &sqlx::SqlitePool {
        match &self.store.pool {
            Pool::Local(pool) => pool,
            Pool::Shared(_) => unreachable!("LocalFileAdmin holds only a local store"),
        }
    }
}

async fn integrity_check(store: &Store) -> Result<String, StoreError> {
    let Pool::Local(pool) = &store.pool else {
        return Err(StoreError::NotLocal { location: store.location() });
    };
    let rows: Vec<(String,)> =
        sqlx::query_as("PRAGMA integrity_check").fetch_all(pool).await.map_err(database)?;
    Ok(rows.into_iter().map(|(line,)| line).collect::<Vec<_>>().join("; "))
}

/// Opens a staged copy of a backup with the store's key (migrating the copy)
/// and checks its integrity; failures name the backup, not the copy.
async fn check_candidate(staged: &Path, key: &StoreKey, backup: &Path) -> Result<(), StoreError> {
    let candidate_lock = Arc::new(crate::local_file::lock_file(staged)?);
    let candidate =
        Store::connect(staged, key.clone(), false, candidate_lock).await.map_err(|e| match e {
            StoreError::WrongKey { .. } => StoreError::WrongKey { path: backup.to_owned() },
            other => other,
        })?;
    let integrity = integrity_check(&candidate).await;
    candidate.close().await;
    let _ = std::fs::remove_file(sidecar(staged, ".lock"));
    let integrity = integrity?;
    if integrity != "ok" {
        return Err(StoreError::Corrupt { path: backup.to_owned(), detail: integrity });
    }
    Ok(())
}

/// Makes an empty file only the owner may read, refusing one that exists.
fn create_owner_only(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(StoreError::AlreadyExists { path: path.to_owned() })
        }
        Err(e) => Err(StoreError::Database(format!("{}: {e}", path.display()))),
    }
}

/// Where a test may stop the process as if the power went: `CWS_TEST_CRASH_AT`
/// names the point. Only debug builds have it; release builds never stop here.
fn crash_point(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("CWS_TEST_CRASH_AT").is_ok_and(|at| at == name) {
        // SAFETY: kill and getpid have no preconditions; SIGKILL ends the process at once.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// Re-encrypts the file under `key`. The statement is wiped once sent; the
/// connection logs no statements (see `connection::connect_options`).
async fn rekey_connection(connection: &mut sqlx::SqliteConnection, key: &StoreKey) -> Result<(), StoreError> {
    let statement = Zeroizing::new(format!("PRAGMA rekey = {}", key.pragma_value().as_str()));
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.as_str())).execute(connection).await.map_err(database)?;
    Ok(())
}

/// The store's owner is the OS account that administers it (manage_store).
fn ensure_owner(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(path).map_err(|e| StoreError::Database(e.to_string()))?.uid();
        // SAFETY: geteuid has no preconditions and cannot fail.
        if owner != unsafe { libc::geteuid() } {
            return Err(StoreError::NotPermitted { path: path.to_owned() });
        }
    }
    Ok(())
}
