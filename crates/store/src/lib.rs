//! The store: one API over two backends. The embedded default is an SQLite file
//! encrypted by SQLCipher, its key in the OS keyring; a trust's workstations
//! share one PostgreSQL server instead. This crate is the only one that knows
//! SQL or which backend is in use: everything outside it sees typed methods.
//!
//! Every read and write of patient data is audited in the same transaction.

mod audit;
mod audit_action;
mod backend;
mod connection;
mod copy;
mod demonstration;
mod direct;
mod discharge_outbox;
mod discharge_summaries;
mod error;
mod interface;
mod key;
mod lab_results;
mod local_admin;
mod local_file;
mod page_mac;
mod patients;
mod regimen_approvals;
mod regimen_versions;
mod relationships;
mod sact;
mod shared;
mod status;
mod stays;
mod users;

pub use audit::{Actor, Audit, AuditAnchor, AuditEntry, AuditVerdict, write_csv};
pub use audit_action::{AuditAction, RecordRef};
pub use backend::StoreTransaction;
pub use connection::Store;
pub use copy::{CopyProgress, CopyReport};
pub use discharge_outbox::{DischargeOutbox, DischargeOutboxWrites, ItkSend, OutboxRow, ResponseLevel};
pub use discharge_summaries::{DischargeSummaries, DischargeSummaryWrites, DischargedStay, KeptSummary};
pub use error::StoreError;
pub use interface::{InterfaceMessages, InterfaceWrites, KeptMessage, MessageKey, MessageStatus, NewMessage};
pub use key::{KEYRING_SERVICE, StoreKey};
pub use lab_results::{KeptLabResult, LabResultWrites, LabResults, NewLabResult};
pub use local_admin::LocalFileAdmin;
pub use local_file::default_path;
pub use patients::{PatientSummary, PatientWrites, Patients};
pub use regimen_approvals::{ApprovalWrites, RegimenApprovals, RegimenVersionRef};
pub use regimen_versions::{ReceivedRegimen, RegimenVersionWrites, RegimenVersions};
pub use relationships::{Relationship, RelationshipWrites, Relationships};
pub use sact::{DoseGiven, LifetimeTotal, QueuePage, ReturnPeriod, SactRecords, SactWrites, StoredCycle};
pub use shared::{PASSWORD_KEYRING_SERVICE, SharedDatabase};
pub use status::StoreStatus;
pub use stays::{AdmittedPlace, BedRow, StayWrites, Stays, StoredStay};
pub use users::{EnrolledRole, EnrolledUser, Users};
