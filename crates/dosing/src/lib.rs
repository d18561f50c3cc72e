//! Exact SACT dose calculation. Every number a person acts on is a
//! `rust_decimal::Decimal` inside a unit type, and every result carries the
//! derivation that produced it.
//!
//! Architecture invariant: this crate does no I/O, reads no clock and knows
//! nothing of Tauri, the store or any regimen by name. Tables and site policy
//! arrive as text or values; the shipped defaults are compiled in.

pub mod banding;
pub mod bsa;
pub mod carboplatin;
pub mod checks;
pub mod course;
pub mod derivation;
pub mod error;
mod maths;
pub mod pipeline;
pub mod policy;
pub mod renal;
pub mod rounding;
pub mod units;

pub use derivation::{Derivation, Step, StepKind};
pub use error::DoseError;
