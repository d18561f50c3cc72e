//! Real services for tests. Each helper starts its service privately (its own
//! folder, socket or port), waits until it is ready, and stops it on drop.
//! Today: a session D-Bus with GNOME Keyring, a private system D-Bus, SoftHSM2
//! tokens as smart cards, and a PC/SC daemon with a virtual reader.

mod keyring;
mod pcscd;
mod softhsm;
mod system_bus;

pub use keyring::KeyringSession;
pub use pcscd::{Pcscd, VIRTUAL_READER, VirtualCard};
pub use softhsm::{SOFTHSM_MODULE, SoftHsm};
pub use system_bus::SystemBus;
