//! Signing out, the session's state, and the card-less demonstration sign-in,
//! offered only when `CWS_DEMO_SIGN_IN=1` and no card CA is configured (see
//! `commands::cards` for signing in with a card).

use session::{SessionState, StaffUser, UserId};
use tauri::State;

use store::AuditAction;

use crate::error::{CommandError, ErrorCode};
use crate::session_events::SessionEnding;
use crate::state::AppState;

/// Refuses unless this workstation offers the demonstration sign-in.
fn demonstration_only(state: &AppState) -> Result<(), CommandError> {
    match state.cards.demo_sign_in_allowed() {
        true => Ok(()),
        false => Err(CommandError::new(
            ErrorCode::CardsUnavailable,
            "Smart-card sign-in is not set up on this workstation. Ask your IT service desk.",
        )),
    }
}

#[tauri::command]
#[specta::specta]
pub fn sign_in_options(state: State<'_, AppState>) -> Result<Vec<StaffUser>, CommandError> {
    demonstration_only(&state)?;
    Ok(session::demo::staff())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip(state))]
pub fn sign_in(state: State<'_, AppState>, user_id: String) -> Result<SessionState, CommandError> {
    if let Err(refused) = demonstration_only(&state) {
        let claimed =
            UserId::parse(&user_id).map(|id| id.as_str().to_owned()).unwrap_or_else(|| "unparsed".into());
        state.audit_in_background(
            format!("demo:{claimed}"),
            AuditAction::SessionLogin,
            "refused: no demonstration sign-in".into(),
        );
        return Err(refused);
    }
    let user = UserId::parse(&user_id).and_then(|id| session::demo::find(&id)).ok_or_else(|| {
        CommandError::new(ErrorCode::UnknownUser, "That user is not enrolled at this workstation.")
    })?;
    let permissions = state.roles.for_roles(std::slice::from_ref(&user.role));
    let user_id = user.user_id.as_str().to_owned();
    let session = {
        let mut workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
        workstation.sign_in(user, permissions, crate::state::now())?
    };
    state.audit_in_background(user_id, AuditAction::SessionLogin, "ok: demonstration sign-in".into());
    tracing::info!("signed in");
    Ok(session)
}

#[tauri::command]
#[specta::specta]
pub fn sign_out(state: State<'_, AppState>) -> Result<SessionState, CommandError> {
    let mut workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    let signed_in = match workstation.state() {
        SessionState::Active { user } | SessionState::Locked { user, .. } => Some(user),
        SessionState::SignedOut => None,
    };
    let now = workstation.sign_out();
    if let Some(user) = signed_in {
        state.session_ended(user.user_id.as_str(), SessionEnding::SignedOut, &now);
    }
    tracing::info!("signed out");
    Ok(now)
}

#[tauri::command]
#[specta::specta]
pub fn session_state(state: State<'_, AppState>) -> Result<SessionState, CommandError> {
    let workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    Ok(workstation.state())
}

/// The person is typing or pointing: postpones the inactivity lock. Changes
/// nothing on a locked or absent session, and locks one already idle past its
/// timeout, so it needs no session check.
#[tauri::command]
#[specta::specta]
pub fn record_activity(state: State<'_, AppState>) -> Result<(), CommandError> {
    let mut workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    workstation.record_activity(crate::state::now());
    Ok(())
}

/// What the signed-in person may do, so the screen offers only those acts.
/// Showing a button is never the check: every act is refused in Rust all the same.
#[tauri::command]
#[specta::specta]
pub fn session_permissions(state: State<'_, AppState>) -> Result<Vec<session::Permission>, CommandError> {
    let workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    Ok(workstation.permissions().into_iter().collect())
}
