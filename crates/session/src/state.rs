//! The session of the one person using this workstation now. Rust enforces
//! the rules; the UI only reflects them:
//! - a session is active, locked, or absent;
//! - a locked session unlocks only with the same user's same card;
//! - another card on a locked session ends the first session entirely;
//! - patient data needs an active session with the right permission;
//! - a session idle past its timeout is locked by the very check that finds it so;
//! - every start, lock, replacement and end begins a new epoch, so an answer
//!   fetched under one session can be refused once another has begun.
//!
//! No clock is read here: callers pass `now` as a `Moment`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

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
    /// The machine was about to sleep.
    Sleep,
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

/// A point in time for idleness, read from two clocks. The monotonic clock does
/// not count time suspended on Linux or macOS, and the wall clock can be set back;
/// idleness is the longer of the two, so a laptop that slept past the timeout
/// locks on waking, and a clock set back never keeps a session open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    monotonic: Instant,
    wall: SystemTime,
}

impl Moment {
    pub fn new(monotonic: Instant, wall: SystemTime) -> Self {
        Self { monotonic, wall }
    }

    /// How long since `earlier`, counting suspended time.
    pub fn since(self, earlier: Moment) -> Duration {
        let monotonic = self.monotonic.saturating_duration_since(earlier.monotonic);
        let wall = self.wall.duration_since(earlier.wall).unwrap_or_default();
        monotonic.max(wall)
    }

    /// The same moment `by` later on both clocks, for tests and simulations.
    pub fn later(self, by: Duration) -> Moment {
        Self { monotonic: self.monotonic + by, wall: self.wall + by }
    }
}

/// Proof that a session check passed, and of which session: compare it after a
/// slow call with `Workstation::still_current`, so an answer fetched for one
/// person never reaches the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCheck {
    pub user: StaffUser,
    epoch: u64,
    /// The permission this check proved the user holds, if it was asked for one.
    permission: Option<Permission>,
}

impl SessionCheck {
    /// The permission this check proved, if any: only `Workstation::require` sets it.
    pub fn permission(&self) -> Option<Permission> {
        self.permission
    }
}

/// Why the watcher locked the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchOutcome {
    Unchanged,
    Locked(LockReason),
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
    last_activity: Moment,
}

/// The workstation's session: at most one person at a time.
pub struct Workstation {
    session: Option<Session>,
    inactivity_timeout: Duration,
    /// Moves on whenever the person or the session's state changes.
    epoch: u64,
}

impl Workstation {
    /// A workstation that locks after `inactivity_timeout` without activity.
    pub fn new(inactivity_timeout: Duration) -> Self {
        Self { session: None, inactivity_timeout, epoch: 0 }
    }

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
        now: Moment,
    ) -> Result<SessionState, SessionError> {
        if self.session.is_some() {
            return Err(SessionError::AlreadySignedIn);
        }
        self.session =
            Some(Session { user, permissions, card_serial: None, locked: None, last_activity: now });
        self.epoch += 1;
        Ok(self.state())
    }

    /// A card proved `user`. Starts a session; unlocks a locked one for the
    /// same user and card; a different card on a locked session ends it first.
    /// `permissions` are read afresh by the caller each time, so a role changed
    /// while the session was locked applies from the unlock.
    pub fn present_card(
        &mut self,
        user: StaffUser,
        permissions: BTreeSet<Permission>,
        card_serial: &str,
        now: Moment,
    ) -> Result<SessionChange, SessionError> {
        self.epoch += 1;
        let change = match &mut self.session {
            None => SessionChange::Started,
            Some(session) if session.locked.is_none() => return Err(SessionError::AlreadySignedIn),
            Some(session)
                if session.user.user_id == user.user_id
                    && session.card_serial.as_deref() == Some(card_serial) =>
            {
                session.locked = None;
                session.last_activity = now;
                session.permissions = permissions;
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
        self.epoch += 1;
        self.state()
    }

    /// Locks an active session. Returns whether it was active.
    pub fn lock(&mut self, reason: LockReason) -> bool {
        match &mut self.session {
            Some(session) if session.locked.is_none() => {
                session.locked = Some(reason);
                self.epoch += 1;
                true
            }
            _ => false,
        }
    }

    /// What the active session's person may do (empty when none is active),
    /// so the screen shows only the acts they may take; Rust still checks each act.
    pub fn permissions(&self) -> BTreeSet<Permission> {
        match &self.session {
            Some(session) if session.locked.is_none() => session.permissions.clone(),
            _ => BTreeSet::new(),
        }
    }

    /// The serial of the card the session depends on, while one does.
    pub fn card_serial(&self) -> Option<&str> {
        self.session.as_ref().and_then(|s| s.card_serial.as_deref())
    }

    /// The watcher's decision on each tick: a session whose card has gone locks
    /// for that reason first; otherwise one idle past the timeout locks.
    pub fn watch(&mut self, card_gone: bool, now: Moment) -> WatchOutcome {
        if card_gone && self.lock(LockReason::CardRemoved) {
            return WatchOutcome::Locked(LockReason::CardRemoved);
        }
        if self.lock_if_idle(now) {
            return WatchOutcome::Locked(LockReason::Inactivity);
        }
        WatchOutcome::Unchanged
    }

    /// Locks the session if nothing has happened for the timeout. Returns whether it locked.
    pub fn lock_if_idle(&mut self, now: Moment) -> bool {
        let timeout = self.inactivity_timeout;
        let idle = self
            .session
            .as_ref()
            .is_some_and(|s| s.locked.is_none() && now.since(s.last_activity) >= timeout);
        idle && self.lock(LockReason::Inactivity)
    }

    /// The person at the keyboard is working (typing, pointing, scrolling), so
    /// the inactivity lock waits. A locked, absent or already idle session is left as it is.
    pub fn record_activity(&mut self, now: Moment) {
        if self.lock_if_idle(now) {
            return;
        }
        if let Some(session) = self.session.as_mut().filter(|s| s.locked.is_none()) {
            session.last_activity = now;
        }
    }

    /// The check every command that shows patient data makes first. A session
    /// idle past its timeout is locked here, not extended, whether or not the
    /// watcher has ticked. Counts as activity otherwise.
    pub fn require_user(&mut self, now: Moment) -> Result<SessionCheck, SessionError> {
        self.lock_if_idle(now);
        let epoch = self.epoch;
        match &mut self.session {
            None => Err(SessionError::NotSignedIn),
            Some(session) if session.locked.is_some() => Err(SessionError::Locked),
            Some(session) => {
                session.last_activity = now;
                Ok(SessionCheck { user: session.user.clone(), epoch, permission: None })
            }
        }
    }

    /// As `require_user`, and the user's roles must grant `permission`.
    pub fn require(&mut self, permission: Permission, now: Moment) -> Result<SessionCheck, SessionError> {
        let check = self.require_user(now)?;
        let granted = self.session.as_ref().is_some_and(|s| s.permissions.contains(&permission));
        if !granted {
            return Err(SessionError::NotPermitted(permission));
        }
        Ok(SessionCheck { permission: Some(permission), ..check })
    }

    /// Whether the session a check was made under is still the active one:
    /// made after a slow call, so its answer is refused if a lock, sign-out or
    /// another card came in between.
    pub fn still_current(&self, check: &SessionCheck) -> Result<(), SessionError> {
        match &self.session {
            None => Err(SessionError::NotSignedIn),
            Some(session) if session.locked.is_some() => Err(SessionError::Locked),
            Some(_) if self.epoch != check.epoch => Err(SessionError::Locked),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobRole, UserId};

    const TIMEOUT: Duration = Duration::from_secs(300);

    fn workstation() -> Workstation {
        Workstation::new(TIMEOUT)
    }

    fn moment() -> Moment {
        Moment::new(Instant::now(), SystemTime::now())
    }

    fn seconds(n: u64) -> Duration {
        Duration::from_secs(n)
    }

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
        let mut workstation = workstation();
        assert_eq!(workstation.state(), SessionState::SignedOut);
        assert_eq!(workstation.require_user(moment()).err(), Some(SessionError::NotSignedIn));
    }

    #[test]
    fn a_card_starts_a_session_that_makes_the_user_the_actor() {
        let mut workstation = workstation();
        let now = moment();
        assert_eq!(
            workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now),
            Ok(SessionChange::Started)
        );
        assert_eq!(
            workstation.require_user(now).map(|c| c.user.user_id.as_str().to_owned()),
            Ok("555000000001".into())
        );
    }

    #[test]
    fn a_second_user_cannot_sign_in_over_an_active_session() {
        let mut workstation = workstation();
        let now = moment();
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
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        assert!(workstation.lock(LockReason::CardRemoved));
        assert_eq!(workstation.require_user(now).err(), Some(SessionError::Locked));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::CardRemoved, .. }));
    }

    #[test]
    fn the_same_card_unlocks() {
        let mut workstation = workstation();
        let now = moment();
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
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        workstation.lock(LockReason::CardRemoved);
        let change = workstation.present_card(staff("555000000002"), BTreeSet::new(), "CARD-2", now);
        assert_eq!(change, Ok(SessionChange::Replaced { previous_user_id: "555000000001".into() }));
        assert_eq!(
            workstation.require_user(now).map(|c| c.user.user_id.as_str().to_owned()),
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
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        assert!(!workstation.lock_if_idle(start.later(seconds(299))));
        assert!(workstation.lock_if_idle(start.later(seconds(300))));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::Inactivity, .. }));
    }

    #[test]
    fn activity_postpones_the_inactivity_lock() {
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        workstation.require_user(start.later(seconds(200))).expect("active");
        assert!(!workstation.lock_if_idle(start.later(seconds(400))));
    }

    #[test]
    fn typing_without_commands_postpones_the_inactivity_lock() {
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        workstation.record_activity(start.later(seconds(250)));
        assert!(!workstation.lock_if_idle(start.later(seconds(400))));
        assert!(workstation.lock_if_idle(start.later(seconds(550))));
    }

    #[test]
    fn a_command_after_the_timeout_is_refused_and_locks_rather_than_extending_the_session() {
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        assert_eq!(workstation.require_user(start.later(seconds(301))).err(), Some(SessionError::Locked));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::Inactivity, .. }));
    }

    #[test]
    fn typing_after_the_timeout_does_not_extend_the_session() {
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        workstation.record_activity(start.later(seconds(301)));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::Inactivity, .. }));
    }

    #[test]
    fn time_suspended_counts_as_idle() {
        // Asleep for ten minutes: the monotonic clock (which stops in suspend) moved
        // one second, the wall clock ten minutes.
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        let woken = Moment::new(start.monotonic + seconds(1), start.wall + seconds(600));
        assert_eq!(workstation.watch(false, woken), WatchOutcome::Locked(LockReason::Inactivity));
    }

    #[test]
    fn a_wall_clock_set_back_does_not_keep_a_session_open() {
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        let set_back = Moment::new(start.monotonic + seconds(301), start.wall - seconds(3600));
        assert_eq!(workstation.watch(false, set_back), WatchOutcome::Locked(LockReason::Inactivity));
    }

    #[test]
    fn the_watcher_locks_for_a_removed_card_before_idleness_and_only_once() {
        let mut workstation = workstation();
        let start = moment();
        assert_eq!(workstation.watch(true, start), WatchOutcome::Unchanged, "no session, nothing to lock");
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        assert_eq!(workstation.watch(false, start.later(seconds(10))), WatchOutcome::Unchanged);
        assert_eq!(
            workstation.watch(true, start.later(seconds(400))),
            WatchOutcome::Locked(LockReason::CardRemoved),
            "a pulled card is the reason, even when idle too"
        );
        assert_eq!(workstation.watch(true, start.later(seconds(401))), WatchOutcome::Unchanged);
    }

    #[test]
    fn the_watcher_locks_an_idle_session_at_the_timeout() {
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        assert_eq!(workstation.watch(false, start.later(seconds(299))), WatchOutcome::Unchanged);
        assert_eq!(
            workstation.watch(false, start.later(seconds(300))),
            WatchOutcome::Locked(LockReason::Inactivity)
        );
    }

    #[test]
    fn the_same_user_with_a_different_card_does_not_unlock_but_replaces() {
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        workstation.lock(LockReason::CardRemoved);
        assert_eq!(
            workstation.present_card(staff("555000000001"), prescriber(), "CARD-9", now),
            Ok(SessionChange::Replaced { previous_user_id: "555000000001".into() })
        );
        assert_eq!(workstation.card_serial(), Some("CARD-9"));
    }

    #[test]
    fn unlocking_takes_the_permissions_afresh() {
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        workstation.lock(LockReason::UserLocked);
        let demoted = BTreeSet::from([Permission::ViewImages]);
        assert_eq!(
            workstation.present_card(staff("555000000001"), demoted, "CARD-1", now),
            Ok(SessionChange::Unlocked)
        );
        assert_eq!(
            workstation.require(Permission::PrescribeSact, now).err(),
            Some(SessionError::NotPermitted(Permission::PrescribeSact))
        );
    }

    #[test]
    fn an_answer_checked_before_a_card_swap_is_refused_after_it() {
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        let check = workstation.require_user(now).expect("active");
        assert_eq!(workstation.still_current(&check), Ok(()));
        workstation.lock(LockReason::CardRemoved);
        workstation.present_card(staff("555000000002"), prescriber(), "CARD-2", now).expect("replaced");
        assert!(workstation.require_user(now).is_ok(), "the new user is active");
        assert_eq!(
            workstation.still_current(&check),
            Err(SessionError::Locked),
            "but the old answer is stale"
        );
    }

    #[test]
    fn an_answer_checked_before_a_lock_and_unlock_is_refused() {
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        let check = workstation.require_user(now).expect("active");
        workstation.lock(LockReason::UserLocked);
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("unlocked");
        assert_eq!(workstation.still_current(&check), Err(SessionError::Locked));
    }

    #[test]
    fn activity_on_a_locked_session_does_not_unlock_it() {
        let mut workstation = workstation();
        let start = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", start).expect("started");
        workstation.lock(LockReason::CardRemoved);
        workstation.record_activity(start.later(seconds(1)));
        assert!(matches!(workstation.state(), SessionState::Locked { reason: LockReason::CardRemoved, .. }));
    }

    #[test]
    fn a_check_records_the_permission_it_proved_and_only_that() {
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        assert_eq!(workstation.require_user(now).map(|c| c.permission()), Ok(None));
        assert_eq!(
            workstation.require(Permission::PrescribeSact, now).map(|c| c.permission()),
            Ok(Some(Permission::PrescribeSact))
        );
    }

    #[test]
    fn a_command_without_the_permission_is_refused() {
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        assert!(workstation.require(Permission::PrescribeSact, now).is_ok());
        assert_eq!(
            workstation.require(Permission::VerifySact, now).err(),
            Some(SessionError::NotPermitted(Permission::VerifySact))
        );
    }

    #[test]
    fn signing_out_ends_access() {
        let mut workstation = workstation();
        let now = moment();
        workstation.sign_in(staff("555000000001"), prescriber(), now).expect("started");
        assert_eq!(workstation.sign_out(), SessionState::SignedOut);
        assert_eq!(workstation.require_user(now).err(), Some(SessionError::NotSignedIn));
    }

    #[test]
    fn every_start_lock_and_end_moves_the_session_on_by_itself() {
        let mut workstation = workstation();
        let now = moment();
        let mut last = workstation.epoch;
        let mut moved = |workstation: &Workstation, what: &str| {
            assert!(workstation.epoch > last, "{what} must begin a new epoch");
            last = workstation.epoch;
        };
        workstation.sign_in(staff("555000000001"), prescriber(), now).expect("started");
        moved(&workstation, "a sign-in");
        workstation.lock(LockReason::UserLocked);
        moved(&workstation, "a lock");
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("replaced");
        moved(&workstation, "a card");
        workstation.sign_out();
        moved(&workstation, "a sign-out");
    }

    #[test]
    fn a_locked_session_is_not_current_whatever_its_epoch() {
        let mut workstation = workstation();
        let now = moment();
        workstation.present_card(staff("555000000001"), prescriber(), "CARD-1", now).expect("started");
        workstation.lock(LockReason::UserLocked);
        let check = SessionCheck { user: staff("555000000001"), epoch: workstation.epoch, permission: None };
        assert_eq!(workstation.still_current(&check), Err(SessionError::Locked));
    }

    #[test]
    fn a_later_moment_is_later_on_both_clocks() {
        let start = moment();
        let later = start.later(seconds(5));
        assert_eq!(later.monotonic, start.monotonic + seconds(5));
        assert_eq!(later.wall, start.wall + seconds(5));
    }
}
