//! Demonstration and test smart cards, never linked by the desktop app: a local
//! certificate authority (rcgen) that issues card certificates carrying the NHS
//! user id, revocation lists and unsuitable certificates for tests, and SoftHSM2
//! tokens that stand in for cards in readers. Used by `cws card demo-init`
//! (`make run`), by tests and by benchmarks.

pub mod demo_ca;
pub mod softhsm;

pub use demo_ca::{CardProfile, DemoCa, IssuedCard};
pub use softhsm::{SOFTHSM_MODULE, SoftHsmTokens};

/// What went wrong making a demonstration card, in words for whoever ran it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("demonstration cards: {0}")]
pub struct DemoCardError(pub String);
