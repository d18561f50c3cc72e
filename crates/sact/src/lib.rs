//! SACT (systemic anti-cancer therapy) courses and cycles, and the rules that
//! move a cycle from prescribed to verified, released and administered. Pure:
//! no I/O, no clock (callers pass the time), no store. Each act returns the
//! cycle's next state or a refusal naming the rule it broke; the services
//! record what it returns, signed and audited.

mod administration;
mod approval;
mod changes;
mod course;
mod cycle;
mod export;
mod freshness;
mod refusal;
mod release;
mod signing;
mod transfer;
mod verification;

pub use administration::{Administration, AdministrationRecord};
pub use approval::{Approval, Capacity, check_new_approval, is_approved};
pub use changes::{Change, since as changes_since};
pub use course::{Course, Intent, RegimenPin};
pub use cycle::{
    Amendment, Cycle, CycleState, DeferralReason, EarlierVersion, PrescribedDrug, RecordedMeasurements,
};
pub use export::{LeftOut, ReturnRow, write_return};
pub use freshness::{MeasurementAge, measurement_age};
pub use refusal::SactRefusal;
pub use release::{
    LifetimeDose, Override, ReleaseEvidence, ReleaseFinding, ReleasePolicy, ResultSource, TimedResult,
    assess as release_findings,
};
pub use signing::SignedAct;
pub use transfer::{TRANSFER_SCHEMA, TransferPatient, TransferRecord, TransferredDose};
pub use verification::{VerificationScope, Verifier};
