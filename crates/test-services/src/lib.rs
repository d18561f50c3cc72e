//! Real services for tests. Each helper starts its service privately (its own
//! folder, socket or port), waits until it is ready, and stops it on drop.
//! Today: a session D-Bus with GNOME Keyring, a private system D-Bus, SoftHSM2
//! tokens as smart cards, a PC/SC daemon with a virtual reader, a
//! PostgreSQL 15 cluster, and an Orthanc PACS with DICOMweb.

mod keyring;
mod orthanc;
mod pcscd;
mod postgres;
mod softhsm;
mod system_bus;

pub use keyring::KeyringSession;
pub use orthanc::{ORTHANC_PASSWORD, ORTHANC_USER, Orthanc, SyntheticStudy};
pub use pcscd::{Pcscd, VIRTUAL_READER, VirtualCard};
pub use postgres::Postgres;
pub use softhsm::{SOFTHSM_MODULE, SoftHsm};
pub use system_bus::SystemBus;
