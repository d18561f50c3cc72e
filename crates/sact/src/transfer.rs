//! A course's treatment record sent to another site (the regional cancer
//! centre, or back): the patient as the sender knows them, the course, its
//! cycles, and every dose given with where. The receiving site matches the
//! patient by NHS number and refuses the record if the date of birth or the
//! name differs, so one patient's doses never land on another's record.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Course, Cycle, SactRefusal};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferPatient {
    /// Ten digits, no spaces.
    pub nhs_number: String,
    pub family_name: String,
    pub given_names: String,
    pub date_of_birth: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferredDose {
    pub drug: String,
    pub dose: Decimal,
    pub unit: String,
    pub dose_per_m2: Option<Decimal>,
    pub given_at: DateTime<Utc>,
    /// Where it was given (an ODS code).
    pub site: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRecord {
    /// The schema of this record, so a receiver refuses one it cannot read.
    pub schema: String,
    pub from_site: String,
    pub patient: TransferPatient,
    pub course: Course,
    pub cycles: Vec<Cycle>,
    pub doses_given: Vec<TransferredDose>,
    pub sent_at: DateTime<Utc>,
}

pub const TRANSFER_SCHEMA: &str = "cws-sact-transfer/1";

impl TransferRecord {
    /// The bytes the sender's card signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a transfer record always serialises")
    }

    /// Refuses the record for a local patient whose date of birth or name differs.
    pub fn check_patient(&self, local: &TransferPatient) -> Result<(), SactRefusal> {
        if self.schema != TRANSFER_SCHEMA {
            return Err(SactRefusal::new(
                "transfer_schema",
                format!("this record is {:?}; this workstation reads {TRANSFER_SCHEMA}", self.schema),
            ));
        }
        let sent = &self.patient;
        if sent.nhs_number != local.nhs_number {
            return Err(SactRefusal::new("transfer_patient", "the record is for another NHS number"));
        }
        if sent.date_of_birth != local.date_of_birth {
            return Err(SactRefusal::new(
                "transfer_patient",
                "the record's date of birth differs from this patient's: it may be another person's; check with the sending site",
            ));
        }
        let first = |names: &str| names.split_whitespace().next().unwrap_or_default().to_lowercase();
        if sent.family_name.trim().to_lowercase() != local.family_name.trim().to_lowercase()
            || first(&sent.given_names) != first(&local.given_names)
        {
            return Err(SactRefusal::new(
                "transfer_patient",
                "the record's name differs from this patient's: it may be another person's; check with the sending site",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> TransferPatient {
        TransferPatient {
            nhs_number: "9990000026".into(),
            family_name: "Quillfeather".into(),
            given_names: "Ada Mary".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1958, 3, 3).expect("date"),
        }
    }

    fn record() -> TransferRecord {
        let pin = crate::RegimenPin {
            code: "R-CHOP-21".into(),
            version: "1.0.0".into(),
            content_sha256: "ab".repeat(32),
            policy_version: "p".into(),
            banding_version: "b".into(),
        };
        let consultant = session::UserId::parse("555000000001").expect("id");
        let start = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        TransferRecord {
            schema: TRANSFER_SCHEMA.into(),
            from_site: "RXX01".into(),
            patient: patient(),
            course: Course::new(1, pin, crate::Intent::Curative, 1, consultant, 6, start).expect("course"),
            cycles: vec![],
            doses_given: vec![],
            sent_at: DateTime::from_timestamp(1_764_000_000, 0).expect("a time"),
        }
    }

    #[test]
    fn a_record_lands_only_on_the_same_person() {
        let record = record();
        record.check_patient(&patient()).expect("the same person");
        let case_and_middle =
            TransferPatient { family_name: "QUILLFEATHER".into(), given_names: "ada".into(), ..patient() };
        record.check_patient(&case_and_middle).expect("case and middle names do not matter");
        let other_birth = TransferPatient {
            date_of_birth: NaiveDate::from_ymd_opt(1958, 3, 4).expect("date"),
            ..patient()
        };
        assert!(
            record
                .check_patient(&other_birth)
                .expect_err("born another day")
                .message
                .contains("date of birth")
        );
        let other_name = TransferPatient { family_name: "Quibble".into(), ..patient() };
        assert!(
            record.check_patient(&other_name).expect_err("another name").message.contains("name differs")
        );
        let other_number = TransferPatient { nhs_number: "9990000018".into(), ..patient() };
        assert_eq!(record.check_patient(&other_number).expect_err("another number").rule, "transfer_patient");
        let future = TransferRecord { schema: "cws-sact-transfer/9".into(), ..record };
        assert_eq!(future.check_patient(&patient()).expect_err("unknown schema").rule, "transfer_schema");
    }
}
