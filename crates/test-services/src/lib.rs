//! Real services for tests. Each helper starts its service privately (its own
//! folder, socket or port), waits until it is ready, and stops it on drop.
//! Today: a session D-Bus with GNOME Keyring, and SoftHSM2 tokens as smart cards.

mod keyring;
mod softhsm;

pub use keyring::KeyringSession;
pub use softhsm::{SOFTHSM_MODULE, SoftHsm};
