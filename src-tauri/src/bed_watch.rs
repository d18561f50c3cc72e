//! Tells the UI when the beds change (the HL7 listener, another process or
//! workstation, moves them): a cheap stamp is compared every two seconds and a
//! `beds-changed` event sent when it moves. The event carries no patient data;
//! the page asks for the board again through its session-checked command.

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager};

use crate::state::AppState;

pub const BEDS_CHANGED: &str = "beds-changed";
const INTERVAL: Duration = Duration::from_secs(2);

pub fn start(app: AppHandle) {
    std::thread::spawn(move || {
        // Read at once, so a change made before the first interval is not taken as the starting point.
        let mut last: Option<String> = None;
        loop {
            if let Ok(context) = app.state::<AppState>().services().cloned() {
                match tauri::async_runtime::block_on(services::beds::changed_stamp(&context)) {
                    Ok(stamp) if last.as_ref() != Some(&stamp) => {
                        if last.is_some() {
                            let _ = app.emit(BEDS_CHANGED, ());
                        }
                        last = Some(stamp);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::debug!(%error, "the bed stamp could not be read"),
                }
            }
            std::thread::sleep(INTERVAL);
        }
    });
}
