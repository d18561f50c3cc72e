//! The embedded default: an SQLCipher file whose key is in the OS keyring.
//! Opening it: the key first, then WAL, foreign keys and migrations. A new
//! store is never created over an existing file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection};

use crate::backend::Pool;
use crate::connection::{Place, refuse_newer_schema};
use crate::error::database;
use crate::page_mac::PageMac;
use crate::{Store, StoreError, StoreKey};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLCipher's answer to a wrong key: "file is not a database".
const SQLITE_NOTADB: &str = "26";

/// Where a local store is, and what it holds open.
#[derive(Clone)]
pub(crate) struct LocalFile {
    pub(crate) path: PathBuf,
    /// Held while open for backup and rekey; wiped on drop.
    pub(crate) key: StoreKey,
    /// A shared advisory lock on `<store>.lock`, held by every opener for as long
    /// as the store is open, so restore and rekey can tell that no one else is.
    pub(crate) lock: Arc<File>,
    /// How its pages are authenticated, as found when it was opened.
    pub(crate) mac: PageMac,
}

impl Store {
    /// Creates a new encrypted store at `path` with a new random key, kept in the
    /// OS keyring. Refused where a file exists, and where the keyring already holds
    /// a key for the path: that key may open a store on a folder not mounted now.
    pub async fn create(path: &Path) -> Result<Self, StoreError> {
        let path = absolute(path)?;
        if path.exists() || sidecar(&path, "-wal").exists() {
            return Err(StoreError::AlreadyExists { path });
        }
        let held_path = path.clone();
        if blocking(move || StoreKey::exists(&held_path)).await?? {
            return Err(StoreError::KeyAlreadyHeld { path });
        }
        let key = StoreKey::generate()?;
        let (key_path, key_copy) = (path.clone(), key.clone());
        blocking(move || key_copy.save(&key_path)).await??;
        match Self::create_with_key(&path, key)
            .await
            .and_then(|store| restrict_to_owner(&path).map(|()| store))
        {
            Ok(store) => Ok(store),
            Err(error) => {
                let key_path = path.clone();
                let _ = tokio::task::spawn_blocking(move || StoreKey::forget(&key_path)).await;
                let _ = std::fs::remove_file(&path);
                Err(error)
            }
        }
    }

    /// Creates a new store encrypted with `key`, without touching the keyring
    /// (for tests and benchmarks; `create` is the way in for people).
    pub async fn create_with_key(path: &Path, key: StoreKey) -> Result<Self, StoreError> {
        let path = absolute(path)?;
        if path.exists() || sidecar(&path, "-wal").exists() {
            return Err(StoreError::AlreadyExists { path });
        }
        let lock = Arc::new(shared_lock(&path)?);
        Self::connect(&path, key, true, lock).await
    }

    /// Opens the store at `path` with the key from the OS keyring. Where that key
    /// is missing or wrong and a rekey left a pending key that opens the file (a
    /// crash between re-encrypting and saving), the pending key is promoted.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = absolute(path)?;
        if !path.exists() {
            return Err(StoreError::NotFound { path });
        }
        let lock = Arc::new(shared_lock(&path)?);
        let key_path = path.clone();
        let saved = blocking(move || StoreKey::load(&key_path)).await?;
        let opened = match saved {
            Ok(key) => Self::connect(&path, key, false, lock.clone()).await,
            Err(error) => Err(error),
        };
        // A pending key left by a rekey killed before it re-encrypted the file opens
        // nothing; it stays until the next rekey replaces it, so an open costs no
        // keyring call beyond reading the key.
        match opened {
            Ok(store) => Ok(store),
            Err(error @ (StoreError::WrongKey { .. } | StoreError::KeyMissing { .. })) => {
                Self::open_with_pending_key(&path, lock).await?.ok_or(error)
            }
            Err(error) => Err(error),
        }
    }

    async fn open_with_pending_key(path: &Path, lock: Arc<File>) -> Result<Option<Self>, StoreError> {
        let pending_path = path.to_owned();
        let Some(pending) = blocking(move || StoreKey::load_pending(&pending_path)).await?? else {
            return Ok(None);
        };
        let Ok(store) = Self::connect(path, pending.clone(), false, lock).await else { return Ok(None) };
        let promoted = path.to_owned();
        blocking(move || {
            pending.save(&promoted)?;
            StoreKey::forget_pending(&promoted);
            Ok::<(), StoreError>(())
        })
        .await??;
        tracing::warn!("a rekey was interrupted; its new key opened the store and is now the store's key");
        Ok(Some(store))
    }

    /// Opens the store with a key given directly (a recovery key, or a backup's key).
    pub async fn open_with_key(path: &Path, key: StoreKey) -> Result<Self, StoreError> {
        let path = absolute(path)?;
        if !path.exists() {
            return Err(StoreError::NotFound { path });
        }
        let lock = Arc::new(shared_lock(&path)?);
        Self::connect(&path, key, false, lock).await
    }

    pub(crate) async fn connect(
        path: &Path,
        key: StoreKey,
        create: bool,
        lock: Arc<File>,
    ) -> Result<Self, StoreError> {
        let mac = PageMac::of_file(path, &key);
        let options = connect_options(path, &key, create, SqliteJournalMode::Wal, mac)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(|e| connect_error(path, e))?;
        // Connected after the readers, which made the file (and chose WAL) when `create`.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // A writer waiting behind a transaction that never ends is told so, as busy_timeout would.
            .acquire_timeout(Duration::from_secs(10))
            // A local file's connection does not go stale as a network one can:
            // no ping before each transaction (a round trip to its thread).
            .test_before_acquire(false)
            .connect_with(options.create_if_missing(false))
            .await
            .map_err(|e| connect_error(path, e))?;
        settle_connections_at_exit();
        let pool = Pool::Local(pool);
        let direct_key = key.clone();
        let place = Place::LocalFile(LocalFile { path: path.to_owned(), key, lock, mac });
        refuse_newer_schema(&pool, &place).await?;
        if let Pool::Local(pool) = &pool {
            MIGRATOR.run(pool).await.map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        }
        // Opened after the migrations, on the file as they left it.
        let direct = Some(crate::direct::open(path, &direct_key, mac)?);
        let store = Self { pool, writer: Some(writer), direct, place };
        if create {
            store.write_genesis().await?;
        }
        Ok(store)
    }

    /// One connection outside the pool, for maintenance that needs the file to itself.
    pub(crate) async fn single_connection(
        path: &Path,
        key: &StoreKey,
        mac: PageMac,
        journal: SqliteJournalMode,
    ) -> Result<SqliteConnection, StoreError> {
        connect_options(path, key, false, journal, mac)?.connect().await.map_err(|e| connect_error(path, e))
    }
}

pub(crate) fn connect_options(
    path: &Path,
    key: &StoreKey,
    create: bool,
    journal: SqliteJournalMode,
    mac: PageMac,
) -> Result<SqliteConnectOptions, StoreError> {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(database)?
        .filename(path)
        .create_if_missing(create)
        // The key must be the first pragma; sqlx sends it first.
        .pragma("key", key.pragma_value().as_str().to_owned())
        // sqlx sends SQLCipher's own settings straight after the key, before any read.
        .pragma("cipher_hmac_algorithm", mac.pragma_value())
        .journal_mode(journal)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5))
        // Sorts and temporary tables stay in memory, never in a temp file.
        .pragma("temp_store", "MEMORY")
        // sqlx logs each statement (the key pragma too) at debug, and any that
        // takes a second at warn: a connection that carries the key logs none.
        .log_statements(log::LevelFilter::Off)
        .log_slow_statements(log::LevelFilter::Off, Duration::ZERO);
    Ok(options)
}

/// SQLCipher frees its state as the process exits (an `atexit` handler and a
/// `.fini_array` destructor), while sqlx closes each SQLite connection on a
/// worker thread of its own. A connection still closing then reads freed
/// memory and the process dies by SIGSEGV on its way out, its work done
/// (about one exit in twenty, in test binaries that drop a store at their end).
/// Once SQLite has started, an exit handler of ours, run before SQLCipher's
/// (handlers run in reverse order of registration), waits a moment for the
/// worker threads to finish.
fn settle_connections_at_exit() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: atexit takes a plain function pointer; the handler touches only /proc.
        unsafe {
            libc::atexit(wait_for_closing_connections);
        }
    });
}

/// How long an exiting process waits for sqlx's SQLite workers: long enough for
/// a close in progress, short enough that a pool still open (idle workers, which
/// are safe) delays the exit unnoticed.
const CLOSE_WAIT: Duration = Duration::from_millis(250);

extern "C" fn wait_for_closing_connections() {
    let deadline = std::time::Instant::now() + CLOSE_WAIT;
    while std::time::Instant::now() < deadline && sqlite_workers_running() {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether any of sqlx's SQLite worker threads (named `sqlx-sqlite-worker-N`) is alive.
fn sqlite_workers_running() -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return false };
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("comm"))
            .is_ok_and(|name| name.starts_with("sqlx-sqlite-wor"))
    })
}

fn connect_error(path: &Path, error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(SQLITE_NOTADB) => {
            StoreError::WrongKey { path: path.to_owned() }
        }
        _ => database(error),
    }
}

/// Runs keyring work off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| StoreError::Database(e.to_string()))
}

/// The store's lock file, opened (and made, owner-only) for an advisory lock.
pub(crate) fn lock_file(path: &Path) -> Result<File, StoreError> {
    let lock_path = sidecar(path, ".lock");
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&lock_path).map_err(|e| StoreError::Database(format!("{}: {e}", lock_path.display())))
}

/// A shared hold on the store, refused while a restore or rekey holds it alone.
fn shared_lock(path: &Path) -> Result<File, StoreError> {
    let file = lock_file(path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse { path: path.to_owned() }),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Database(format!("{}: {e}", path.display()))),
    }
}

/// Takes the store to itself: refused while anyone else has it open.
pub(crate) fn exclusive(lock: &File, path: &Path) -> Result<(), StoreError> {
    match lock.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse { path: path.to_owned() }),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Database(format!("{}: {e}", path.display()))),
    }
}

/// Only the owning account may read the store's files, encrypted as they are.
pub(crate) fn restrict_to_owner(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    for file in [path.to_owned(), sidecar(path, "-wal"), sidecar(path, "-shm")] {
        use std::os::unix::fs::PermissionsExt;
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| StoreError::Database(format!("{}: {e}", file.display())))?;
        }
    }
    Ok(())
}

pub(crate) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn absolute(path: &Path) -> Result<PathBuf, StoreError> {
    std::path::absolute(path).map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))
}

/// Where the store lives when no path is given: the platform's data folder
/// (`~/.local/share/clinicalworkstation/store.db` on Linux).
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("uk", "example", "clinicalworkstation")
        .map(|dirs| dirs.data_dir().join("store.db"))
        .unwrap_or_else(|| PathBuf::from("store.db"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Actor;

    /// Migration 0011 rebuilds the patients table (SQLite cannot drop NOT NULL
    /// in place): a store made before it keeps every patient, every row that
    /// names one still names the same person, and foreign keys are enforced again.
    #[tokio::test]
    async fn a_store_from_before_patients_could_lack_an_nhs_number_keeps_them_all_when_opened() {
        let folder = tempfile::tempdir().expect("folder");
        let path = folder.path().join("store.db");
        let key = StoreKey::generate().expect("key");
        let mut old = connect_options(&path, &key, true, SqliteJournalMode::Wal, PageMac::NEW)
            .expect("options")
            .connect()
            .await
            .expect("a new file");
        MIGRATOR.run_to(10, &mut old).await.expect("the schema as it was before 0011");
        for (id, nhs_number, mrn) in [(1, "9990000018", "RXX1"), (2, "9990000026", "RXX2")] {
            sqlx::query(
                "INSERT INTO patients (id, nhs_number, mrn, family_name, given_names, family_name_key, date_of_birth, sex, created_at_utc)
                 VALUES (?, ?, ?, 'OLDSTORE', 'Olive', 'OLDSTORE', '1950-01-01', 'female', '2026-11-01T00:00:00Z')",
            )
            .bind(id)
            .bind(nhs_number)
            .bind(mrn)
            .execute(&mut old)
            .await
            .expect("patient");
        }
        sqlx::query("UPDATE patients SET merged_into = 1 WHERE id = 2")
            .execute(&mut old)
            .await
            .expect("merged");
        sqlx::query(
            "INSERT INTO patient_lists (user_id, patient_id, reason, added_at_utc) VALUES ('555000000001', 2, 'clinic', '2026-11-01')",
        )
        .execute(&mut old)
        .await
        .expect("a row naming the patient");
        drop(old);

        let store = Store::open_with_key(&path, key).await.expect("opened and migrated");
        let actor = Actor { user: "test".into(), workstation: "ws".into() };
        let second = store.patients().read(&actor, 2).await.expect("still there");
        assert_eq!(second.details.nhs_number.map(|n| n.digits()).as_deref(), Some("9990000026"));
        assert_eq!(second.merged_into, Some(1));
        let Pool::Local(pool) = &store.pool else { panic!("a local store") };
        let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
            .fetch_all(pool)
            .await
            .expect("checked");
        assert!(broken.is_empty(), "{broken:?}");
        let (listed,): (i64,) =
            sqlx::query_as("SELECT patient_id FROM patient_lists").fetch_one(pool).await.expect("list");
        assert_eq!(listed, 2);
        let orphan = sqlx::query(
            "INSERT INTO patient_lists (user_id, patient_id, reason, added_at_utc) VALUES ('555000000001', 99, 'x', '2026-11-01')",
        )
        .execute(pool)
        .await;
        assert!(orphan.is_err(), "foreign keys are enforced again on every connection");
        store.close().await;
    }
}
