//! The smart-card side of the session: the PKCS#11 reader, the trusted CA,
//! and the watcher that locks the session when the card leaves its reader.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use identity::{CardReader, OPENSC_MODULE, Trust};
use session::{LockReason, SessionState};
use tauri::{AppHandle, Emitter, Manager};

use crate::state::AppState;

/// How often the watcher looks for the card: well inside the one second
/// allowed from removal to a blank screen.
const WATCH_INTERVAL: Duration = Duration::from_millis(150);
/// The event the UI listens to for session changes it did not ask for.
pub const SESSION_CHANGED: &str = "session-changed";

pub struct Cards {
    module: PathBuf,
    pub trust: Option<Trust>,
    /// One PKCS#11 context per process; re-opened to see cards inserted since.
    reader: Mutex<Option<CardReader>>,
    pub inactivity_timeout: Duration,
}

impl Cards {
    /// OpenSC's module for real cards, unless `CWS_PKCS11_MODULE` names another (SoftHSM2 for demonstrations).
    pub fn configure() -> Self {
        let module =
            std::env::var_os("CWS_PKCS11_MODULE").map(PathBuf::from).unwrap_or_else(|| OPENSC_MODULE.into());
        let trust = std::env::var_os("CWS_CARD_CA").and_then(|path| match std::fs::read(&path) {
            Ok(bytes) => Trust::from_pem_or_der(&bytes)
                .map_err(|e| tracing::error!(error = %e, "the card CA cannot be read"))
                .ok(),
            Err(error) => {
                tracing::error!(%error, "the card CA file cannot be read");
                None
            }
        });
        let minutes =
            std::env::var("CWS_INACTIVITY_LOCK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
        Self { module, trust, reader: Mutex::new(None), inactivity_timeout: Duration::from_secs(minutes) }
    }

    /// Runs `work` with a freshly opened reader, so newly inserted cards are seen.
    pub fn with_fresh_reader<T>(
        &self,
        work: impl FnOnce(&CardReader) -> T,
    ) -> Result<T, identity::IdentityError> {
        let mut slot = self
            .reader
            .lock()
            .map_err(|_| identity::IdentityError::Pkcs11("the card reader lock was poisoned".into()))?;
        *slot = None;
        let reader = CardReader::open(&self.module)?;
        let result = work(&reader);
        *slot = Some(reader);
        Ok(result)
    }

    fn card_present(&self, serial: &str) -> bool {
        match self.reader.lock() {
            Ok(slot) => slot.as_ref().is_some_and(|reader| reader.is_present(serial)),
            Err(_) => false,
        }
    }
}

/// Watches for card removal and inactivity, locks the session in Rust, audits
/// it, and tells the UI, which blanks at once.
pub fn start_watcher(app: AppHandle) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(WATCH_INTERVAL);
            let state = app.state::<AppState>();
            if let Some(reason) = lock_if_needed(&state) {
                let locked = state.workstation.lock().map(|w| w.state()).unwrap_or(SessionState::SignedOut);
                if let SessionState::Locked { user, .. } = &locked {
                    tauri::async_runtime::block_on(state.audit_session(
                        user.user_id.as_str(),
                        "session.lock",
                        &format!("{reason:?}"),
                    ));
                }
                let _ = app.emit(SESSION_CHANGED, locked);
            }
        }
    });
}

fn lock_if_needed(state: &AppState) -> Option<LockReason> {
    let serial = state.workstation.lock().ok()?.card_serial().map(str::to_owned);
    let removed = serial.is_some_and(|serial| !state.cards.card_present(&serial));
    let mut workstation = state.workstation.lock().ok()?;
    if removed && workstation.lock(LockReason::CardRemoved) {
        return Some(LockReason::CardRemoved);
    }
    workstation.lock_if_idle(Instant::now(), state.cards.inactivity_timeout).then_some(LockReason::Inactivity)
}
