//! Handing a viewer URL to whatever opens it: the site's command where it
//! names one (a test's capturing opener, say), else the OS handler. The URL may
//! carry a study UID, so it is never logged.

use crate::error::{CommandError, ErrorCode};

pub fn open(context: &services::Context, url: &str) -> Result<(), CommandError> {
    if services::imaging::open_with_site_command(context, url)? {
        return Ok(());
    }
    tauri_plugin_opener::open_url(url, None::<&str>).map_err(|e| {
        CommandError::new(ErrorCode::ServiceUnavailable, format!("The viewer could not be opened: {e}"))
    })
}

/// On every lock, sign-out or card removal: each viewer with a close command is
/// told to close, so no image outlives the session that opened it.
pub fn close_all(context: &services::Context) {
    for command in services::imaging::close_commands(context) {
        if let Err(error) = open(context, &command) {
            tracing::warn!(error = %error.message, "a viewer's close command could not be sent");
        }
    }
}
