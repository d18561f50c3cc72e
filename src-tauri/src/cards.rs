//! The smart-card side of the session: the PKCS#11 reader, the trusted CA,
//! and the watcher that locks the session when the card leaves its reader.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use identity::{CardReader, Trust};
use session::{LockReason, SessionState, WatchOutcome};
use settings::Settings;
use tauri::{AppHandle, Emitter, Manager};

use crate::state::AppState;

/// How often the watcher looks for the card: well inside the one second
/// allowed from removal to a blank screen.
const WATCH_INTERVAL: Duration = Duration::from_millis(150);
/// How soon to look again for a PC/SC service that was missing or stopped.
const PCSC_RETRY: Duration = Duration::from_secs(5);
/// The event the UI listens to for session changes it did not ask for.
pub const SESSION_CHANGED: &str = "session-changed";

pub struct Cards {
    module: PathBuf,
    pub trust: Option<Trust>,
    /// Why cards cannot be used here although settings ask for them (unreadable settings or CA).
    pub problem: Option<String>,
    /// One PKCS#11 context per process; re-opened to see cards inserted since.
    reader: Mutex<Option<CardReader>>,
    /// Offer the fictional demonstration staff, without cards.
    demo_sign_in: bool,
}

impl Cards {
    /// From the settings: OpenSC's module unless another is named (SoftHSM2 for
    /// demonstrations), and the CA that issues staff cards. `settings_problem` is
    /// why the settings could not be read; cards are then refused, never guessed at.
    /// The demonstration sign-in needs a store made for demonstrations as well.
    pub fn configure(
        settings: &Settings,
        settings_problem: Option<String>,
        demonstration_store: bool,
    ) -> Self {
        let module = settings.pkcs11_module.clone();
        let read_ca =
            |ca: &PathBuf| Trust::from_files(ca, settings.card_crl.as_deref()).map_err(|e| e.to_string());
        let (trust, ca_problem) = match settings.card_ca.as_ref().map(read_ca) {
            None => (None, None),
            Some(Ok(trust)) => (Some(trust), None),
            Some(Err(problem)) => (None, Some(problem)),
        };
        let problem = settings_problem.or(ca_problem);
        if let Some(problem) = &problem {
            tracing::error!(%problem, "card sign-in is unavailable");
        }
        Self {
            module,
            trust,
            problem,
            reader: Mutex::new(None),
            demo_sign_in: settings.demo_sign_in && settings.card_ca.is_none() && demonstration_store,
        }
    }

    /// The card-less demonstration sign-in: only when asked for, on a demonstration
    /// store, never beside cards, and never when the settings could not be read.
    pub fn demo_sign_in_allowed(&self) -> bool {
        self.demo_sign_in && self.trust.is_none() && self.problem.is_none()
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

    /// Whether the card with this serial has left its reader, by PKCS#11 or by
    /// a PC/SC removal from the reader its slot is in.
    fn card_gone(&self, serial: &str, readers_emptied: &[String]) -> bool {
        let slot = match self.reader.lock() {
            Ok(reader) => reader.as_ref().and_then(|reader| reader.slot_description(serial)),
            Err(_) => None,
        };
        identity::readers::session_card_gone(slot.as_deref(), readers_emptied)
    }
}

/// Watches for card removal and inactivity, locks the session in Rust, tells
/// the UI, which blanks at once, and then audits it: a busy store never keeps a
/// patient on screen.
pub fn start_watcher(app: AppHandle) {
    let readers_emptied = watch_readers();
    std::thread::spawn(move || {
        loop {
            // A PC/SC removal wakes the watcher at once; otherwise it polls.
            let mut emptied = match readers_emptied.recv_timeout(WATCH_INTERVAL) {
                Ok(reader) => vec![reader],
                Err(RecvTimeoutError::Timeout) => Vec::new(),
                Err(RecvTimeoutError::Disconnected) => {
                    // The PC/SC thread has gone; keep polling at the same pace.
                    std::thread::sleep(WATCH_INTERVAL);
                    Vec::new()
                }
            };
            emptied.extend(readers_emptied.try_iter());
            let state = app.state::<AppState>();
            if let Some(reason) = lock_if_needed(&state, &emptied) {
                announce_lock(&app, reason);
            }
        }
    });
}

/// After Rust has locked the session: tells the UI, which blanks at once, and
/// then audits the lock, so a busy store never keeps a patient on screen.
pub fn announce_lock(app: &AppHandle, reason: LockReason) {
    let state = app.state::<AppState>();
    let locked = state.workstation.lock().map(|w| w.state()).unwrap_or(SessionState::SignedOut);
    let _ = app.emit(SESSION_CHANGED, &locked);
    if let SessionState::Locked { user, .. } = &locked {
        tauri::async_runtime::block_on(state.audit_session(
            user.user_id.as_str(),
            "session.lock",
            &format!("{reason:?}"),
        ));
    }
}

/// Hears PC/SC readers report a card leaving, where a PC/SC service runs.
/// Without one, removal is still seen by polling PKCS#11. The service may start
/// later (pcscd is socket-activated), so the watch is retried.
fn watch_readers() -> Receiver<String> {
    let (emptied, readers_emptied) = channel();
    std::thread::spawn(move || {
        let mut reported = false;
        loop {
            let result = identity::readers::watch_readers(
                |readers| tracing::info!(readers = readers.len(), "watching PC/SC readers for card removal"),
                |event| {
                    if event.card_left() {
                        tracing::info!(reader = %event.reader, "a card left a PC/SC reader");
                        let _ = emptied.send(event.reader);
                    } else {
                        tracing::info!(reader = %event.reader, "a card arrived in a PC/SC reader");
                    }
                },
            );
            if let Err(error) = result
                && !std::mem::replace(&mut reported, true)
            {
                tracing::info!(%error, "no PC/SC reader events");
            }
            std::thread::sleep(PCSC_RETRY);
        }
    });
    readers_emptied
}

fn lock_if_needed(state: &AppState, readers_emptied: &[String]) -> Option<LockReason> {
    let serial = state.workstation.lock().ok()?.card_serial().map(str::to_owned);
    let removed = serial.is_some_and(|serial| state.cards.card_gone(&serial, readers_emptied));
    match state.workstation.lock().ok()?.watch(removed, crate::state::now()) {
        WatchOutcome::Locked(reason) => Some(reason),
        WatchOutcome::Unchanged => None,
    }
}
