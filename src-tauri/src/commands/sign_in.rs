//! Signing out, the session's state, and the card-less demonstration sign-in,
//! offered only when no card module and CA are configured (see
//! `commands::cards` for signing in with a card).

use session::{RolePermissions, SessionState, StaffUser, UserId};
use tauri::State;

use crate::error::{CommandError, ErrorCode};
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub fn sign_in_options() -> Vec<StaffUser> {
    session::demo::staff()
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(state))]
pub fn sign_in(state: State<'_, AppState>, user_id: String) -> Result<SessionState, CommandError> {
    let user = UserId::parse(&user_id).and_then(|id| session::demo::find(&id)).ok_or_else(|| {
        CommandError::new(ErrorCode::UnknownUser, "That user is not enrolled at this workstation.")
    })?;
    let permissions = RolePermissions::site_default().for_roles(std::slice::from_ref(&user.role));
    let mut workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    let session = workstation.sign_in(user, permissions, std::time::Instant::now())?;
    tracing::info!("signed in");
    Ok(session)
}

#[tauri::command]
#[specta::specta]
pub fn sign_out(state: State<'_, AppState>) -> Result<SessionState, CommandError> {
    let mut workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    if let SessionState::Active { user } | SessionState::Locked { user, .. } = workstation.state() {
        state.audit_in_background(user.user_id.as_str().to_owned(), "session.logout", "ok".into());
    }
    tracing::info!("signed out");
    Ok(workstation.sign_out())
}

#[tauri::command]
#[specta::specta]
pub fn session_state(state: State<'_, AppState>) -> Result<SessionState, CommandError> {
    let workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    Ok(workstation.state())
}
