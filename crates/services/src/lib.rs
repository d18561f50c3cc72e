//! The workflows the desktop app and `cws` share. Every function that reads or
//! writes patient data takes an `Acting` token: proof, made only from the
//! workstation's session check or a proven card, that a named person holds the
//! permission the act needs. The audit actor comes from the token, never from a
//! free string. Only the binaries depend on this crate, and they reach the
//! store only through it (`tests/layering.rs` checks).
//!
//! One module per area: patients, users, audit, cards (proving a card holder
//! and recording session events) and store administration; each clinical
//! module adds its own.

mod acting;
pub mod audit;
pub mod beds;
pub mod cards;
mod context;
pub mod demo;
pub mod discharge;
pub mod discharge_dashboard;
pub mod discharge_outbox;
pub mod imaging;
pub mod interface;
mod mdm_sender;
mod mesh;
mod pacs;
pub mod patients;
pub mod regimens;
pub mod relationships;
pub mod results;
pub mod sact;
pub mod sact_lists;
pub mod sact_print;
pub mod sact_return;
pub mod sact_transfer;
mod smtp;
pub mod store_admin;
pub mod users;
mod viewer_token;

pub use acting::Acting;
pub use context::{Clock, Context, StoreLocation};

use session::Permission;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("this needs the {0:?} permission, which was not proven")]
    NotPermitted(Permission),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A clinical rule refused the act: its stable code, and why.
    #[error("{reason}")]
    Refused { rule: &'static str, reason: String },
    #[error("the regimen library or the site's dosing policy could not be loaded: {0}")]
    Regimens(String),
    /// A service outside the store (the PACS) did not answer as it should: a sentence naming it.
    #[error("{reason}")]
    Unavailable { service: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl ServiceError {
    /// True when the fault lies in what the person asked for, not in the system.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::NotPermitted(_) | Self::Invalid { .. } | Self::Refused { .. } => true,
            Self::Regimens(_) | Self::Unavailable { .. } => false,
            Self::Store(error) => error.is_bad_input(),
        }
    }
}
