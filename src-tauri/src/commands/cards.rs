//! Signing in and unlocking with a smart card and PIN.

use identity::IdentityError;
use serde::Serialize;
use session::{SessionChange, SessionState};
use tauri::State;
use zeroize::Zeroizing;

use store::AuditAction;

use crate::error::{CommandError, ErrorCode};
use crate::session_events::SessionEnding;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CardView {
    pub label: String,
    pub serial: String,
}

fn card_error(error: IdentityError) -> CommandError {
    let code = match error {
        IdentityError::WrongPin { .. } | IdentityError::PinLocked => ErrorCode::PinRefused,
        IdentityError::CardNotFound(_) => ErrorCode::CardNotFound,
        _ => ErrorCode::CardRefused,
    };
    CommandError::new(code, format!("{}.", capitalised(&error.to_string())))
}

fn access_error(error: access::AccessError) -> CommandError {
    match error {
        access::AccessError::Store(error) => error.into(),
        other => CommandError::new(ErrorCode::CardRefused, format!("{}.", capitalised(&other.to_string()))),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn unavailable() -> CommandError {
    CommandError::new(ErrorCode::CardsUnavailable, "Smart-card sign-in is not set up on this workstation.")
}

#[tauri::command]
#[specta::specta]
pub fn list_cards(state: State<'_, AppState>) -> Result<Vec<CardView>, CommandError> {
    if let Some(problem) = &state.cards.problem {
        return Err(CommandError::new(
            ErrorCode::SettingsInvalid,
            format!("Card sign-in is unavailable: {problem}. Ask your IT service desk."),
        ));
    }
    if state.cards.trust.is_none() {
        return Err(unavailable());
    }
    let cards =
        state.cards.with_fresh_reader(|reader| reader.cards()).map_err(card_error)?.map_err(card_error)?;
    Ok(cards.into_iter().map(|c| CardView { label: c.label, serial: c.serial }).collect())
}

#[tauri::command(async)]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn card_sign_in(
    state: State<'_, AppState>,
    serial: String,
    pin: String,
) -> Result<SessionState, CommandError> {
    let pin = Zeroizing::new(pin);
    let trust = state.cards.trust.clone().ok_or_else(unavailable)?;
    let login = state
        .cards
        .with_fresh_reader(|reader| {
            reader.login_by_serial(&serial, &pin, &trust, time::OffsetDateTime::now_utc())
        })
        .map_err(card_error)?;
    let proven = services::cards::prove_card_holder(
        state.services()?,
        &serial,
        login,
        &state.roles,
        None,
        AuditAction::SessionLogin,
    )
    .await;
    let (login, holder) = proven.map_err(|refusal| match refusal {
        access::CardRefusal::Card { error, .. } => card_error(error),
        access::CardRefusal::Holder { error, .. } => access_error(error),
    })?;
    let change = {
        let mut workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
        let (user, permissions) = holder.into_parts();
        workstation.present_card(user, permissions, &login.card_serial, crate::state::now())?
    };
    let now = state.workstation.lock().map_err(|e| CommandError::internal(&e))?.state();
    match &change {
        SessionChange::Started => state.audit_session(&login.user_id, AuditAction::SessionLogin, "ok").await,
        SessionChange::Unlocked => {
            state.audit_session(&login.user_id, AuditAction::SessionUnlock, "ok").await
        }
        SessionChange::Replaced { previous_user_id } => {
            let ending = SessionEnding::Replaced { previous_user_id: previous_user_id.clone() };
            state.session_ended(&login.user_id, ending, &now);
        }
    }
    tracing::info!(?change, "card accepted");
    Ok(now)
}

/// Locks the screen now (the user stepping away).
#[tauri::command]
#[specta::specta]
pub fn lock_session(state: State<'_, AppState>) -> Result<SessionState, CommandError> {
    let mut workstation = state.workstation.lock().map_err(|e| CommandError::internal(&e))?;
    let locked = workstation.lock(session::LockReason::UserLocked);
    let now = workstation.state();
    if locked && let SessionState::Locked { user, .. } = &now {
        state.session_ended(
            user.user_id.as_str(),
            SessionEnding::Locked(session::LockReason::UserLocked),
            &now,
        );
    }
    Ok(now)
}
