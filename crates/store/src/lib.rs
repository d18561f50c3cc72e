//! The encrypted local store. SQLite encrypted by SQLCipher, reached through
//! sqlx; the key lives in the OS keyring. This crate is the only one that
//! knows SQL or that the store is SQLite: everything outside it sees typed
//! methods, so a PostgreSQL backend can follow behind the same API.
//!
//! Every read and write of patient data is audited in the same transaction.

mod audit;
mod audit_action;
mod connection;
mod demonstration;
mod error;
mod key;
mod maintenance;
mod patients;
mod users;

pub use audit::{Actor, AuditAnchor, AuditEntry, AuditVerdict, write_csv};
pub use audit_action::{AuditAction, RecordRef};
pub use connection::{Store, default_path};
pub use error::StoreError;
pub use key::{KEYRING_SERVICE, StoreKey};
pub use maintenance::StoreStatus;
pub use patients::PatientSummary;
pub use users::{EnrolledRole, EnrolledUser};
