//! The session of the one person using this workstation now. Rust enforces
//! the rules; the UI only reflects them:
//! - a session is active, locked, or absent;
//! - a locked session unlocks only with the same user's same card;
//! - another card on a locked session ends the first session entirely;
//! - patient data needs an active session with the right permission.
//!
//! No clock is read here: callers pass `now`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use crate::{Permission, StaffUser};

/// Where the session stands. Patient data may be shown only while `Active`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionState {
    SignedOut,
    Active {
        user: StaffUser,
    },
    /// Locked: the screen is blank and every patient command is refused.
    Locked {
        user: StaffUser,
        reason: LockReason,
        /// The serial of the card that unlocks it, so the lock screen can offer that card first.
        card_serial: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LockReason {
    CardRemoved,
    Inactivity,
    UserLocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SessionError {
    #[error("Nobody is signed in at this workstation. Sign in to continue.")]
    NotSignedIn,
    #[error("The session is locked. Insert your card and enter your PIN to unlock.")]
    Locked,
    #[error("Someone is already signed in at this workstation. Sign out first.")]
    AlreadySignedIn,
    #[error("Your role does not allow this ({0:?}).")]
    NotPermitted(Permission),
}

/// What presenting a card did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    Started,
    Unlocked,
    /// A different card on a locked session: the first user's session ended.
    Replaced {
        previous_user_id: String,
    },
}

struct Session {
    user: StaffUser,
    permissions: BTreeSet<Permission>,
    card_serial: Option<String>,
    locked: Option<LockReason>,
    last_activity: Instant,
}

/// The workstation's session: at most one person at a time.
#[derive(Default)]
pub struct Workstation {
    session: Option<Session>,
}

impl Workstation {
    pub fn state(&self) -> SessionState {
        match &self.session {
            None => SessionState::SignedOut,
            Some(Session { user, locked: None, .. }) => SessionState::Active { user: user.clone() },
            Some(Session { user, locked: Some(reason), card_serial, .. }) => {
                SessionState::Locked { user: user.clone(), reason: *reason, card_serial: card_serial.clone() }
            }
        }
    }

    /// Starts a session without a card (the demonstration sign-in). Refused over any open session.
    pub fn sign_in(
        &mut self,
        user: StaffUser,
        permissions: BTreeSet<Permission>,
        now: Instant,
    ) -> Result<SessionState, SessionError> {
        if self.session.is_some() {
            return Err(SessionError::AlreadySignedIn);
        }
        self.session =
            Some(Session { user, permissions, card_serial: None, locked: None, last_activity: now });
        Ok(self.state())
    }

    /// A card proved `user`. Starts a session; unlocks a locked one for the
    /// same user and card; a different card on a locked session ends it first.
    pub fn present_card(
        &mut self,
        user: StaffUser,
        permissions: BTreeSet<Permission>,
        card_serial: &str,
        now: Instant,
    ) -> Result<SessionChange, SessionError> {
        let change = match &mut self.session {
            None => SessionChange::Started,
            Some(session) if session.locked.is_none() => return Err(SessionError::AlreadySignedIn),
            Some(session)
                if session.user.user_id == user.user_id
                    && session.card_serial.as_deref() == Some(card_serial) =>
            {
                session.locked = None;
                session.last_activity = now;
                return Ok(SessionChange::Unlocked);
            }
            Some(session) => {
                SessionChange::Replaced { previous_user_id: session.user.user_id.as_str().to_owned() }
            }
        };
        self.session = Some(Session {
            user,
            permissions,
            card_serial: Some(card_serial.to_owned()),
            locked: None,
            last_activity: now,
        });
        Ok(change)
    }

    pub fn sign_out(&mut self) -> SessionState {
        self.session = None;
        self.state()
    }

    /// Locks an active session. Returns whether it was active.
    pub fn lock(&mut self, reason: LockReason) -> bool {
        match &mut self.session {
            Some(session) if session.locked.is_none() => {
                session.locked = Some(reason);
                true
            }
            _ => false,
        }
    }

    /// The serial of the card the session depends on, while one does.
    pub fn card_serial(&self) -> Option<&str> {
        self.session.as_ref().and_then(|s| s.card_serial.as_deref())
    }

    /// Locks the session if nothing has happened for `timeout`. Returns whether it locked.
    pub fn lock_if_idle(&mut self, now: Instant, timeout: Duration) -> bool {
        let idle = self
            .session
            .as_ref()
            .is_some_and(|s| s.locked.is_none() && now.duration_since(s.last_activity) >= timeout);
        idle && self.lock(LockReason::Inactivity)
    }

    /// The person at the keyboard is working (typing, pointing, scrolling), so
    /// the inactivity lock waits. A locked or absent session is left as it is.
    pub fn record_activity(&mut self, now: Instant) {
        if let Some(session) = self.session.as_mut().filter(|s| s.locked.is_none()) {
            session.last_activity = now;
        }
    }

    /// The check every command that shows patient data makes first. Counts as activity.
    pub fn require_user(&mut self, now: Instant) -> Result<&StaffUser, SessionError> {
        match &mut self.session {
            None => Err(SessionError::NotSignedIn),
            Some(session) if session.locked.is_some() => Err(SessionError::Locked),
            Some(session) => {
                session.last_activity = now;
                Ok(&session.user)
            }
        }
    }

    /// As `require_user`, and the user's roles must grant `permission`.
    pub fn require(&mut self, permission: Permission, now: Instant) -> Result<&StaffUser, SessionError> {
        let granted = self.session.as_ref().is_some_and(|s| s.permissions.contains(&permission));
        self.require_user(now)?;
        if !granted {
            return Err(SessionError::NotPermitted(permission));
        }
        self.require_user(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobRole, UserId};

    fn staff(user_id: &str) -> StaffUser {
        StaffUser {
            user_id: UserId::parse(user_id).expect("test ids are twelve digits"),
            display_name: "TESTER, Pat (Dr)".into(),
            job_title: "Test clinician".into(),
            role: JobRole { code: "R8000".into(), name: "Clinical Practitioner Access Role".into() },
        }
    }

    fn prescriber() -> BTreeSet<Permission> {
        BTreeSet::from([Permission::PrescribeSact, Permission::ViewImages])
    }

    #[test]
    fn a_new_workstation_has_nobody_signed_in() {
        let mut workstation = Workstation::default();
        assert_eq!(workstation.state(), SessionState::SignedOut);
        assert_eq!(workstation.require_user(Instant::now()).err(), Some(SessionError::NotSignedIn));
    }

    #[test]
    fn a_card_starts_a_session_that_makes_the_user_the_actor() {
        let mut workstation = Workstation::default();
        let now = Instant::now();
        assert_eq!(
            workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now),
            Ok(SessionChange::Started)
        );
        assert_eq!(
            workstation.require_user(now).map(|u| u.user_id.as_str().to_owned()),
            Ok("555000000001".into())
        );
    }

    #[test]
    fn a_second_user_cannot_sign_in_over_an_active_session() {
        let mut workstation = Workstation::default();
        let now = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        assert_eq!(
            workstation.present_card(staff("555000000002"), prescriber(), "CARD-2", now),
            Err(SessionError::AlreadySignedIn)
        );
        assert_eq!(
            workstation.sign_in(staff("555000000002"), prescriber(), now),
            Err(SessionError::AlreadySignedIn)
        );
    }

    #[test]
    fn a_locked_session_refuses_patient_commands() {
        let mut workstation = Workstation::default();
        let now = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        assert!(workstation.lock(LockReason::CardRemoved));
        assert_eq!(workstation.require_user(now).err(), Some(SessionError::Locked));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::CardRemoved, .. }));
    }

    #[test]
    fn the_same_card_unlocks() {
        let mut workstation = Workstation::default();
        let now = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        workstation.lock(LockReason::CardRemoved);
        assert_eq!(
            workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now),
            Ok(SessionChange::Unlocked)
        );
        assert!(workstation.require_user(now).is_ok());
    }

    #[test]
    fn a_different_card_on_a_locked_session_ends_it() {
        let mut workstation = Workstation::default();
        let now = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        workstation.lock(LockReason::CardRemoved);
        let change = workstation.present_card(staff("555000000002"), BTreeSet::new(), "CARD-2", now);
        assert_eq!(change, Ok(SessionChange::Replaced { previous_user_id: "555000000001".into() }));
        assert_eq!(
            workstation.require_user(now).map(|u| u.user_id.as_str().to_owned()),
            Ok("555000000002".into())
        );
        assert_eq!(
            workstation.require(Permission::PrescribeSact, now).err(),
            Some(SessionError::NotPermitted(Permission::PrescribeSact)),
            "nothing of the first user's carries over"
        );
    }

    #[test]
    fn inactivity_locks_after_the_timeout() {
        let mut workstation = Workstation::default();
        let start = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        let timeout = Duration::from_secs(300);
        assert!(!workstation.lock_if_idle(start + Duration::from_secs(299), timeout));
        assert!(workstation.lock_if_idle(start + Duration::from_secs(300), timeout));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::Inactivity, .. }));
    }

    #[test]
    fn activity_postpones_the_inactivity_lock() {
        let mut workstation = Workstation::default();
        let start = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        workstation.require_user(start + Duration::from_secs(200)).expect("active");
        assert!(!workstation.lock_if_idle(start + Duration::from_secs(400), Duration::from_secs(300)));
    }

    #[test]
    fn typing_without_commands_postpones_the_inactivity_lock() {
        let mut workstation = Workstation::default();
        let start = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        workstation.record_activity(start + Duration::from_secs(250));
        assert!(!workstation.lock_if_idle(start + Duration::from_secs(400), Duration::from_secs(300)));
        assert!(workstation.lock_if_idle(start + Duration::from_secs(550), Duration::from_secs(300)));
    }

    #[test]
    fn activity_on_a_locked_session_does_not_unlock_it() {
        let mut workstation = Workstation::default();
        let start = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        workstation.lock(LockReason::CardRemoved);
        workstation.record_activity(start + Duration::from_secs(1));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::CardRemoved, .. }));
    }

    #[test]
    fn a_command_without_the_permission_is_refused() {
        let mut workstation = Workstation::default();
        let now = Instant::now();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        assert!(workstation.require(Permission::PrescribeSact, now).is_ok());
        assert_eq!(
            workstation.require(Permission::VerifySact, now).err(),
            Some(SessionError::NotPermitted(Permission::VerifySact))
        );
    }

    #[test]
    fn signing_out_ends_access() {
        let mut workstation = Workstation::default();
        let now = Instant::now();
        workstation.sign_in(staff("555000000001"), prescriber(), now).expect("started");
        assert_eq!(workstation.sign_out(), SessionState::SignedOut);
        assert_eq!(workstation.require_user(now).err(), Some(SessionError::NotSignedIn));
    }
}
