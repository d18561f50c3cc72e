//! The store's 256-bit key: made at random on first run, kept in the OS
//! keyring (Secret Service, Keychain or Credential Manager, never the Linux
//! kernel keyutils store, which forgets on reboot), and wiped from memory
//! after use.

use std::path::Path;

use zeroize::Zeroizing;

use crate::StoreError;

/// The keyring service name; the account is the store's absolute path.
pub const KEYRING_SERVICE: &str = "uk.example.clinicalworkstation.store";

const KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; KEY_BYTES]>);

impl StoreKey {
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        getrandom::fill(bytes.as_mut())
            .map_err(|e| StoreError::Database(format!("no randomness for a new key: {e}")))?;
        Ok(Self(bytes))
    }

    /// Reads a recovery key as shown by `recovery_text`: 64 hex digits, with
    /// any spaces or dashes ignored.
    pub fn from_recovery_text(text: &str) -> Result<Self, StoreError> {
        let compact =
            Zeroizing::new(text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>());
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        hex::decode_to_slice(compact.as_str(), bytes.as_mut()).map_err(|_| {
            StoreError::InvalidRecoveryKey(
                "a recovery key is 64 hexadecimal digits, in groups as it was shown".into(),
            )
        })?;
        Ok(Self(bytes))
    }

    /// The key in eight groups of eight hex digits, for writing down.
    pub fn recovery_text(&self) -> Zeroizing<String> {
        let hex = Zeroizing::new(hex::encode_upper(self.0.as_ref()));
        Zeroizing::new(
            hex.as_bytes()
                .chunks(8)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-"),
        )
    }

    /// The value for `PRAGMA key`: a raw key, so SQLCipher skips its slow KDF.
    pub(crate) fn pragma_value(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("\"x'{}'\"", hex::encode(self.0.as_ref())))
    }

    fn keyring_text(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    /// The key kept for the store at `path`.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        let text = Zeroizing::new(entry(path)?.get_password().map_err(|e| keyring_error(path, e))?);
        Self::from_recovery_text(&text).map_err(|_| StoreError::KeyringUnavailable {
            path: path.to_owned(),
            detail: "the keyring entry is not a store key".into(),
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), StoreError> {
        entry(path)?.set_password(&self.keyring_text()).map_err(|e| keyring_error(path, e))
    }

    /// Whether the keyring already holds a key for a store at `path`, so that
    /// creating a store there would overwrite the only copy of another's key.
    pub fn exists(path: &Path) -> Result<bool, StoreError> {
        match entry(path)?.get_password() {
            Ok(_) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(error) => Err(keyring_error(path, error)),
        }
    }

    /// Removes the key from the keyring (only when creating a store failed).
    pub(crate) fn forget(path: &Path) {
        if let Ok(entry) = entry(path) {
            let _ = entry.delete_credential();
        }
    }

    /// Keeps a rekey's new key in a pending entry before the file is
    /// re-encrypted, so a crash at any point leaves a key that opens the file.
    pub(crate) fn save_pending(&self, path: &Path) -> Result<(), StoreError> {
        pending_entry(path)?.set_password(&self.keyring_text()).map_err(|e| keyring_error(path, e))
    }

    /// A rekey's pending key, if one was left.
    pub(crate) fn load_pending(path: &Path) -> Result<Option<Self>, StoreError> {
        match pending_entry(path)?.get_password() {
            Ok(text) => Ok(Self::from_recovery_text(&Zeroizing::new(text)).ok()),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(keyring_error(path, error)),
        }
    }

    /// Drops a pending key once the store's own entry holds the key that opens it.
    pub(crate) fn forget_pending(path: &Path) {
        if let Ok(entry) = pending_entry(path) {
            let _ = entry.delete_credential();
        }
    }
}

fn entry(path: &Path) -> Result<keyring::Entry, StoreError> {
    keyring::Entry::new(KEYRING_SERVICE, &path.to_string_lossy()).map_err(|e| keyring_error(path, e))
}

/// The pending entry sits beside the store's own, under its path with a suffix.
fn pending_entry(path: &Path) -> Result<keyring::Entry, StoreError> {
    keyring::Entry::new(KEYRING_SERVICE, &format!("{}#pending-rekey", path.to_string_lossy()))
        .map_err(|e| keyring_error(path, e))
}

fn keyring_error(path: &Path, error: keyring::Error) -> StoreError {
    let path = path.to_owned();
    match error {
        keyring::Error::NoEntry => StoreError::KeyMissing { path },
        keyring::Error::NoStorageAccess(_) => StoreError::KeyringLocked { path },
        other => StoreError::KeyringUnavailable { path, detail: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_text_round_trips() {
        let key = StoreKey::generate().expect("randomness");
        let text = key.recovery_text();
        assert_eq!(text.len(), 64 + 7, "eight groups of eight, joined by dashes");
        let back = StoreKey::from_recovery_text(&text).expect("parses");
        assert_eq!(back.0.as_ref(), key.0.as_ref());
    }

    #[test]
    fn a_mistyped_recovery_key_is_refused() {
        assert!(StoreKey::from_recovery_text("not-a-key").is_err());
        assert!(StoreKey::from_recovery_text(&"A".repeat(62)).is_err());
    }

    #[test]
    fn two_new_keys_differ() {
        let a = StoreKey::generate().expect("randomness");
        let b = StoreKey::generate().expect("randomness");
        assert_ne!(a.0.as_ref(), b.0.as_ref());
    }
}
