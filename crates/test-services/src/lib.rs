//! Real services for tests. Each helper starts its service privately (its own
//! folder, socket or port), waits until it is ready, and stops it on drop.
//! Today: a session D-Bus with GNOME Keyring, SoftHSM2 tokens as smart cards,
//! and a PC/SC daemon with a virtual reader.

mod keyring;
mod pcscd;
mod softhsm;

pub use keyring::KeyringSession;
pub use pcscd::{Pcscd, VIRTUAL_READER, VirtualCard};
pub use softhsm::{SOFTHSM_MODULE, SoftHsm};
