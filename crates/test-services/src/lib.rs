//! Real services for tests. Each helper starts its service privately (its own
//! folder, socket or port), waits until it is ready, and stops it on drop.

mod keyring;

pub use keyring::KeyringSession;
