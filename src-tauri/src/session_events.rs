//! How a session locks, ends or passes to another person: what the audit trail
//! records for each, and the event that tells the UI. `AppState::session_locked`
//! and `AppState::session_ended` are the one path every such change takes; a
//! module's own effects (closing an image viewer, dropping a draft) belong there.

use session::LockReason;
use store::{AuditAction, RecordRef};

/// The event the UI listens to for session changes it did not ask for.
pub const SESSION_CHANGED: &str = "session-changed";

/// A session locked, ended, or ended by another person's card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnding {
    Locked(LockReason),
    SignedOut,
    /// Another card on the locked session; recorded against the new user.
    Replaced {
        previous_user_id: String,
    },
}

impl SessionEnding {
    /// The audit action.
    pub fn action(&self) -> AuditAction {
        match self {
            Self::Locked(_) => AuditAction::SessionLock,
            Self::SignedOut => AuditAction::SessionLogout,
            Self::Replaced { .. } => AuditAction::SessionReplace,
        }
    }

    /// The records it concerns: the user whose session another card ended.
    pub fn records(&self) -> Vec<RecordRef> {
        match self {
            Self::Replaced { previous_user_id } => vec![RecordRef::User(previous_user_id.clone())],
            Self::Locked(_) | Self::SignedOut => Vec::new(),
        }
    }

    pub fn outcome(&self) -> String {
        match self {
            Self::Locked(reason) => format!("{reason:?}"),
            Self::SignedOut | Self::Replaced { .. } => "ok".into(),
        }
    }

    /// A lock or a sign-out leaves the audit head in the system log.
    pub fn anchors_the_audit_head(&self) -> bool {
        matches!(self, Self::Locked(_) | Self::SignedOut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_has_its_stable_audit_text() {
        let card_removed = SessionEnding::Locked(LockReason::CardRemoved);
        assert_eq!(
            (card_removed.action().text(), card_removed.outcome()),
            ("session.lock", "CardRemoved".to_owned())
        );
        assert_eq!(SessionEnding::SignedOut.action().text(), "session.logout");
        let replaced = SessionEnding::Replaced { previous_user_id: "555000000002".into() };
        assert_eq!(replaced.action().text(), "session.replace");
        assert_eq!(replaced.records(), vec![RecordRef::User("555000000002".into())]);
        assert!(!replaced.anchors_the_audit_head());
        assert!(SessionEnding::SignedOut.anchors_the_audit_head());
    }
}
