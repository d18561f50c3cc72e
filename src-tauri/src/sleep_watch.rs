//! Locks the session the moment the machine is about to sleep, on logind's
//! `PrepareForSleep(true)` signal, where a system bus carries it. Without one,
//! idleness still counts time suspended (`session::Moment`), so a session that
//! slept past its timeout locks on waking.

use session::LockReason;
use tauri::{AppHandle, Manager};
use zbus::MatchRule;
use zbus::blocking::{Connection, MessageIterator};
use zbus::message::Type;

use crate::state::AppState;

/// Starts listening for sleep on its own thread.
pub fn start(app: AppHandle) {
    std::thread::spawn(move || {
        if let Err(error) = watch(&app) {
            tracing::info!(%error, "no sleep signal from logind; idleness still counts time suspended");
        }
    });
}

fn watch(app: &AppHandle) -> zbus::Result<()> {
    let connection = Connection::system()?;
    // No sender in the rule: a signal from another sender can only lock, which is safe.
    let rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .path("/org/freedesktop/login1")?
        .interface("org.freedesktop.login1.Manager")?
        .member("PrepareForSleep")?
        .build();
    let signals = MessageIterator::for_match_rule(rule, &connection, Some(16))?;
    tracing::info!("the session locks whenever the machine goes to sleep");
    for signal in signals {
        let going_to_sleep: bool = signal?.body().deserialize()?;
        let state = app.state::<AppState>();
        let locked = going_to_sleep && state.workstation.lock().is_ok_and(|mut w| w.lock(LockReason::Sleep));
        if locked {
            state.session_locked(LockReason::Sleep);
        }
    }
    Ok(())
}
