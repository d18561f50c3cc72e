//! The watcher that locks the session when its card leaves the reader (PKCS#11
//! polling, woken at once by PC/SC reader events) or when it has been idle too
//! long. The lock then takes the one path every lock takes (`AppState::session_locked`).

use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use session::{LockReason, WatchOutcome};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// How often the watcher looks for the card: well inside the one second
/// allowed from removal to a blank screen.
const WATCH_INTERVAL: Duration = Duration::from_millis(150);
/// How soon to look again for a PC/SC service that was missing or stopped.
const PCSC_RETRY: Duration = Duration::from_secs(5);

/// Watches for card removal and inactivity, and locks the session in Rust.
pub fn start(app: AppHandle) {
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
                state.session_locked(reason);
            }
        }
    });
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
