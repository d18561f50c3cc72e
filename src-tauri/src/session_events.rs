//! How a session locks, ends or passes to another person: what the audit trail
//! records for each, and the event that tells the UI. `AppState::session_locked`
//! and `AppState::session_ended` are the one path every such change takes; a
//! module's own effects (closing an image viewer, dropping a draft) belong there.

use session::LockReason;

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
    /// The audit action, with its stable text.
    pub fn action(&self) -> String {
        match self {
            Self::Locked(_) => "session.lock".into(),
            Self::SignedOut => "session.logout".into(),
            Self::Replaced { previous_user_id } => format!("session.replace {previous_user_id}"),
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
        assert_eq!(
            (
                SessionEnding::Locked(LockReason::CardRemoved).action(),
                SessionEnding::Locked(LockReason::CardRemoved).outcome()
            ),
            ("session.lock".to_owned(), "CardRemoved".to_owned())
        );
        assert_eq!(SessionEnding::SignedOut.action(), "session.logout");
        let replaced = SessionEnding::Replaced { previous_user_id: "555000000002".into() };
        assert_eq!(replaced.action(), "session.replace 555000000002");
        assert!(!replaced.anchors_the_audit_head());
        assert!(SessionEnding::SignedOut.anchors_the_audit_head());
    }
}
