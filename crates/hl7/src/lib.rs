//! HL7 v2 messages in ER7 (the pipe-and-hat encoding), versions 2.3 to 2.5
//! with the HL7 UK conventions. Pure: bytes in, typed values out.
//!
//! - `message`: a message as segments, fields, repetitions, components and
//!   subcomponents, parsed with the separators its MSH-1 and MSH-2 declare,
//!   escape sequences decoded, and encoded back the same way.
//! - `mllp`: the MLLP frame (`VT … FS CR`), as an incremental decoder that
//!   copes with frames split across reads, several in one read, junk between
//!   them, and a bounded frame size.
//! - `ack`: acknowledgements (AA/AE/AR, or CA/CE/CR in enhanced mode) as
//!   MSH-15 and MSH-16 ask for them.
//!
//! A small parser of our own: the reference (integration.md §4.6) lists faults
//! in the crates available, and one candidate is AGPL.

pub mod ack;
pub mod escape;
pub mod message;
pub mod mllp;

pub use message::{Encoding, Message, ParseError, Segment};
