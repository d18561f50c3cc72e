//! The session of the one person using this workstation now.

use serde::Serialize;
use thiserror::Error;

use crate::StaffUser;

/// Where the session stands. Patient data may be shown only while `Active`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionState {
    SignedOut,
    Active { user: StaffUser },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SessionError {
    #[error("Nobody is signed in at this workstation. Sign in to continue.")]
    NotSignedIn,
    #[error("Someone is already signed in at this workstation. Sign out first.")]
    AlreadySignedIn,
}

/// The workstation's session: at most one signed-in user at a time.
#[derive(Debug, Default)]
pub struct Workstation {
    signed_in: Option<StaffUser>,
}

impl Workstation {
    pub fn state(&self) -> SessionState {
        match &self.signed_in {
            Some(user) => SessionState::Active { user: user.clone() },
            None => SessionState::SignedOut,
        }
    }

    /// Starts a session. A second person must never inherit the first one's
    /// session, so signing in over an open session is refused.
    pub fn sign_in(&mut self, user: StaffUser) -> Result<SessionState, SessionError> {
        if self.signed_in.is_some() {
            return Err(SessionError::AlreadySignedIn);
        }
        self.signed_in = Some(user);
        Ok(self.state())
    }

    pub fn sign_out(&mut self) -> SessionState {
        self.signed_in = None;
        self.state()
    }

    /// The check every command that shows patient data makes first.
    pub fn require_user(&self) -> Result<&StaffUser, SessionError> {
        self.signed_in.as_ref().ok_or(SessionError::NotSignedIn)
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

    #[test]
    fn a_new_workstation_has_nobody_signed_in() {
        let workstation = Workstation::default();
        assert_eq!(workstation.state(), SessionState::SignedOut);
        assert_eq!(workstation.require_user(), Err(SessionError::NotSignedIn));
    }

    #[test]
    fn signing_in_makes_the_user_the_actor() {
        let mut workstation = Workstation::default();
        workstation.sign_in(staff("555000000001")).expect("first sign-in succeeds");
        assert_eq!(workstation.require_user().map(|u| u.user_id.as_str()), Ok("555000000001"));
    }

    #[test]
    fn a_second_user_cannot_sign_in_over_an_open_session() {
        let mut workstation = Workstation::default();
        workstation.sign_in(staff("555000000001")).expect("first sign-in succeeds");
        assert_eq!(workstation.sign_in(staff("555000000002")), Err(SessionError::AlreadySignedIn));
        assert_eq!(workstation.require_user().map(|u| u.user_id.as_str()), Ok("555000000001"));
    }

    #[test]
    fn signing_out_ends_access() {
        let mut workstation = Workstation::default();
        workstation.sign_in(staff("555000000001")).expect("first sign-in succeeds");
        assert_eq!(workstation.sign_out(), SessionState::SignedOut);
        assert_eq!(workstation.require_user(), Err(SessionError::NotSignedIn));
    }
}
