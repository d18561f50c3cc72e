//! What can go wrong with the store, each in words that name the store and the fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path}: the key does not open this store (SQLCipher: file is not a database). Restore the right key with `cws store unlock-with-recovery-key`."
    )]
    WrongKey { path: PathBuf },
    #[error(
        "{path}: the OS keyring holds no key for this store. Restore it with `cws store unlock-with-recovery-key`."
    )]
    KeyMissing { path: PathBuf },
    #[error(
        "{path}: the OS keyring is locked. Unlock your login keyring (sign in to the desktop, or unlock it in the keyring manager), then try again."
    )]
    KeyringLocked { path: PathBuf },
    #[error(
        "{path}: the OS keyring cannot be reached ({detail}). Check that a Secret Service (such as GNOME Keyring) is running for this user."
    )]
    KeyringUnavailable { path: PathBuf, detail: String },
    #[error(
        "{store}: this store was written by a newer version of the workstation (schema {found}, this version knows up to {supported}). Install the newer version."
    )]
    NewerVersion { store: String, found: i64, supported: i64 },
    #[error(
        "{location}: this is a shared store on a server; this is done only to a local store file (the server's own backup and key management serve a shared store)."
    )]
    NotLocal { location: String },
    #[error(
        "{location}: this database holds no workstation store yet. Create one with `cws store init` (the site's [store] url or CWS_STORE_URL naming this database)."
    )]
    NotInitialised { location: String },
    #[error(
        "{location}: the database is not empty. A store is made, or copied, only into an empty database, so nothing there is overwritten."
    )]
    NotEmpty { location: String },
    #[error(
        "{location}: the shared store cannot be reached ({detail}). Check the network and the server, then try again; nothing was changed."
    )]
    Unreachable { location: String, detail: String },
    #[error(
        "{path}: a file already exists there. A new store is never created over an existing file; choose another path."
    )]
    AlreadyExists { path: PathBuf },
    #[error(
        "{path}: the OS keyring already holds a key for a store at this path. Creating a store here would overwrite it, and the store it opens may only be on a folder that is not mounted. Mount the data folder, or restore the store, or choose another path."
    )]
    KeyAlreadyHeld { path: PathBuf },
    #[error(
        "{path}: the store is open in another program (the workstation app or another cws). Close it there first, then try again."
    )]
    InUse { path: PathBuf },
    #[error(
        "{path}: there is no store here. Create one with `cws store init`, or give the right path with --store or CWS_STORE."
    )]
    NotFound { path: PathBuf },
    #[error(
        "{path}: the recovery key has already been shown once. Run `cws store rekey` to make a new key, then show that one."
    )]
    RecoveryKeyAlreadyShown { path: PathBuf },
    #[error(
        "{path}: only the account that owns the store may do this (it needs the manage_store permission)."
    )]
    NotPermitted { path: PathBuf },
    #[error("{0}")]
    InvalidRecoveryKey(String),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("a patient with this {field} is already in the index")]
    Duplicate { field: &'static str },
    #[error("no patient has the id {0}")]
    NoSuchPatient(i64),
    #[error(
        "{record} was changed by someone else while you had it open. Nothing of yours was saved; look at it again and repeat what you meant to do."
    )]
    Changed { record: String },
    #[error("{path}: the store failed its integrity check: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("the store could not complete the request: {0}")]
    Database(String),
}

impl StoreError {
    /// True when the fault lies in what the user asked for, not in the system.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::Invalid { .. }
                | Self::Duplicate { .. }
                | Self::NoSuchPatient(_)
                | Self::InvalidRecoveryKey(_)
                | Self::AlreadyExists { .. }
                | Self::KeyAlreadyHeld { .. }
                | Self::InUse { .. }
                | Self::NotLocal { .. }
                | Self::NotEmpty { .. }
                | Self::Changed { .. }
        )
    }
}

impl From<patients::PatientError> for StoreError {
    fn from(error: patients::PatientError) -> Self {
        Self::Invalid { field: error.field, reason: error.reason }
    }
}

/// SQL errors become a sentence with no statement text and no values in it.
pub(crate) fn database(error: sqlx::Error) -> StoreError {
    StoreError::Database(match &error {
        sqlx::Error::Database(db) => format!("database error {}", db.code().unwrap_or_default()),
        other => other.to_string(),
    })
}
