//! The workflows the desktop app and `cws` share. Every function that reads or
//! writes patient data takes an `Acting` token: proof, made only from the
//! workstation's session check or a proven card, that a named person holds the
//! permission the act needs. The audit actor comes from the token, never from a
//! free string. Only the binaries depend on this crate.
//!
//! Today: patients (search and open). The other areas move here next.

mod acting;
pub mod patients;

pub use acting::Acting;

use session::Permission;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("this needs the {0:?} permission, which was not proven")]
    NotPermitted(Permission),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}
