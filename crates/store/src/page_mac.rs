//! How a local store's pages are authenticated. SQLCipher keeps an HMAC of
//! every page, computed again for each page written: a message received writes
//! about eight. New stores use HMAC-SHA256, which this class of CPU computes in
//! hardware (SHA extensions) at twice the speed of SQLCipher 4's default,
//! HMAC-SHA512: about 10% more messages a second on one connection
//! (docs/PERFORMANCE.md). HMAC-SHA256 with SQLCipher's 256-bit MAC key is the
//! standard MAC of FIPS 198-1, a tag no one can forge. A store made before
//! this, or a file made with SQLCipher's defaults, keeps HMAC-SHA512.
//!
//! Nothing in an encrypted file says which it uses, so an existing file is
//! tried with each (one read of its first page) before it is opened.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use crate::StoreKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageMac {
    /// New stores and their backups.
    Sha256,
    /// SQLCipher 4's default: stores made before 2026-12-01.
    Sha512,
}

impl PageMac {
    /// What a new store is made with.
    pub(crate) const NEW: Self = Self::Sha256;

    /// The value of `PRAGMA cipher_hmac_algorithm`.
    pub(crate) fn pragma_value(self) -> &'static str {
        match self {
            Self::Sha256 => "HMAC_SHA256",
            Self::Sha512 => "HMAC_SHA512",
        }
    }

    /// The MAC the file at `path` was made with, read with `key`. A file not
    /// yet made (or empty) is made with `NEW`; one that neither opens gives
    /// `NEW` too, so that the open that follows reports the wrong key.
    pub(crate) fn of_file(path: &Path, key: &StoreKey) -> Self {
        let made = std::fs::metadata(path).is_ok_and(|file| file.len() > 0);
        if !made || opens_with(path, key, Self::NEW) {
            return Self::NEW;
        }
        if opens_with(path, key, Self::Sha512) { Self::Sha512 } else { Self::NEW }
    }
}

/// A connection to a store file that exists (never made here), its key and
/// page MAC set and nothing yet read. Not logged: rusqlite logs nothing, and
/// the key goes only to SQLCipher.
pub(crate) fn keyed_connection(path: &Path, key: &StoreKey, mac: PageMac) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    let pragmas = Zeroizing::new(format!(
        "PRAGMA key = {}; PRAGMA cipher_hmac_algorithm = {};",
        key.pragma_value().as_str(),
        mac.pragma_value()
    ));
    connection.execute_batch(&pragmas)?;
    Ok(connection)
}

/// Whether `key` with `mac` reads the file's first page: only read, so a
/// failed try changes nothing.
fn opens_with(path: &Path, key: &StoreKey, mac: PageMac) -> bool {
    let Ok(connection) = keyed_connection(path, key, mac) else { return false };
    // A try that fails is expected, not an error: SQLCipher would log its
    // failed page check to standard error, so its log (the process's) is off
    // for the one read and set back at once.
    let level: Option<String> = connection.query_row("PRAGMA cipher_log_level", [], |row| row.get(0)).ok();
    let _ = connection.execute_batch("PRAGMA cipher_log_level = NONE;");
    let read =
        connection.query_row("SELECT COUNT(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0)).is_ok();
    if let Some(level) = level.filter(|l| l.chars().all(|c| c.is_ascii_uppercase())) {
        let _ = connection.execute_batch(&format!("PRAGMA cipher_log_level = {level};"));
    }
    read
}

#[cfg(test)]
mod tests {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteJournalMode;

    use super::*;
    use crate::local_file::{MIGRATOR, connect_options};
    use crate::{Actor, AuditAction, LocalFileAdmin, Store, StoreError};

    fn actor() -> Actor {
        Actor { user: "test".into(), workstation: "ws".into() }
    }

    /// One write through the interface's direct writer, which opens the file itself.
    async fn write_directly(store: &Store) {
        let mut tx = store.begin_direct().await.expect("the direct writer opened");
        tx.audit(&actor(), AuditAction::InterfaceReceive, None, &[], "ok").await.expect("audited");
        tx.commit().await.expect("committed");
    }

    #[tokio::test]
    async fn a_new_store_and_its_backup_authenticate_pages_with_sha256() {
        let folder = tempfile::tempdir().expect("folder");
        let path = folder.path().join("store.db");
        let key = StoreKey::generate().expect("key");
        let store = Store::create_with_key(&path, key.clone()).await.expect("made");
        write_directly(&store).await;
        assert_eq!(PageMac::of_file(&path, &key), PageMac::Sha256);
        assert!(!opens_with(&path, &key, PageMac::Sha512), "SQLCipher's default MAC does not read it");

        let backup = folder.path().join("backup.db");
        let admin = LocalFileAdmin::new(store).expect("a local store");
        admin.backup(&actor(), &backup).await.expect("backup");
        admin.close().await;
        assert_eq!(PageMac::of_file(&backup, &key), PageMac::Sha256, "the backup is made as the store was");
        assert!(!opens_with(&backup, &key, PageMac::Sha512));

        // A wrong key reads neither way, and the open says so.
        let other = StoreKey::generate().expect("another key");
        assert_eq!(PageMac::of_file(&path, &other), PageMac::NEW);
        let refused = Store::open_with_key(&path, other).await.err().expect("refused");
        assert!(matches!(refused, StoreError::WrongKey { .. }), "{refused}");
    }

    #[tokio::test]
    async fn a_store_made_with_sqlciphers_default_mac_opens_is_written_and_backed_up_as_it_was() {
        let folder = tempfile::tempdir().expect("folder");
        let path = folder.path().join("store.db");
        let key = StoreKey::generate().expect("key");
        let mut made_before = connect_options(&path, &key, true, SqliteJournalMode::Wal, PageMac::Sha512)
            .expect("options")
            .connect()
            .await
            .expect("a file as SQLCipher 4 makes it by default");
        MIGRATOR.run(&mut made_before).await.expect("the schema");
        drop(made_before);
        assert_eq!(PageMac::of_file(&path, &key), PageMac::Sha512);

        let store = Store::open_with_key(&path, key.clone()).await.expect("opened");
        write_directly(&store).await;
        let backup = folder.path().join("backup.db");
        let admin = LocalFileAdmin::new(store).expect("a local store");
        admin.backup(&actor(), &backup).await.expect("backup");
        admin.close().await;
        assert_eq!(PageMac::of_file(&path, &key), PageMac::Sha512, "still as it was made");
        assert_eq!(PageMac::of_file(&backup, &key), PageMac::Sha512, "its backup too");
        let reopened = Store::open_with_key(&path, key).await.expect("opened again");
        write_directly(&reopened).await;
        reopened.close().await;
    }
}
