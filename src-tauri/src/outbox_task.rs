//! On a stand-alone workstation (its own local store), the app works the
//! discharge outbox itself, every few seconds, as `cws outbox run` does for a
//! trust's shared store. It sends nothing it cannot check: without a card CA
//! to verify signatures by, it does not run. It logs counts only.

use std::time::Duration;

use services::discharge_outbox::{SenderToken, run_once};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

const INTERVAL: Duration = Duration::from_secs(5);

/// The OS account running the app, by its uid (not `$USER`, which anyone sets).
fn os_account(workstation: &str) -> store::Actor {
    // SAFETY: getuid cannot fail; getpwuid's result is read at once, on this thread, before any other call.
    let user = unsafe {
        let entry = libc::getpwuid(libc::getuid());
        if entry.is_null() {
            format!("uid{}", libc::getuid())
        } else {
            std::ffi::CStr::from_ptr((*entry).pw_name).to_string_lossy().into_owned()
        }
    };
    store::Actor { user, workstation: workstation.to_owned() }
}

pub fn start(app: AppHandle) {
    std::thread::spawn(move || {
        let state = app.state::<AppState>();
        let (Ok(context), Some(trust)) = (state.services().cloned(), state.cards.trust.clone()) else {
            return;
        };
        let routes = &context.settings().discharge;
        if context.is_shared_store()
            || (routes.smtp.is_none() && routes.mesh.is_none() && routes.mdm.is_none())
        {
            return;
        }
        let Ok(sender) = SenderToken::for_account(&context, &os_account(state.workstation_name())) else {
            tracing::warn!("the discharge outbox is not worked here: this account may not send");
            return;
        };
        loop {
            match tauri::async_runtime::block_on(run_once(&context, &sender, &trust)) {
                Ok(report) if report.delivered + report.retrying + report.given_up > 0 => tracing::info!(
                    delivered = report.delivered,
                    retrying = report.retrying,
                    given_up = report.given_up,
                    "discharge outbox worked"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the discharge outbox could not be worked"),
            }
            std::thread::sleep(INTERVAL);
        }
    });
}
