//! The signed-in user of a shared workstation and the rules of their session.
//!
//! This crate is pure: it holds state and answers questions about it, and does
//! no I/O. How a user proves who they are (a smart card, in the identity
//! crate) is decided elsewhere; this crate only records the result.

pub mod demo;
mod permissions;
mod staff;
mod state;

pub use permissions::{Permission, RolePermissions};
pub use staff::{JobRole, StaffUser, UserId};
pub use state::{
    LockReason, Moment, SessionChange, SessionCheck, SessionError, SessionState, WatchOutcome, Workstation,
};
