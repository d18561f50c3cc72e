//! What a nurse records for each drug given (or, for an oral drug, dispensed),
//! witnessed by a second person with their own card.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use session::UserId;

use crate::SactRefusal;
use crate::cycle::PrescribedDrug;

/// One drug given, as recorded at the chair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdministrationRecord {
    pub drug: String,
    /// The line's days, as prescribed (`D1`, `D1–D5`).
    pub day: String,
    pub dose_given: Decimal,
    pub started: DateTime<Utc>,
    pub stopped: Option<DateTime<Utc>>,
    pub batch: String,
    pub expiry: NaiveDate,
    pub administered_by: UserId,
    /// The second checker, proven by their own card at the same workstation.
    pub witness: UserId,
}

/// A record accepted against a prescribed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administration {
    pub record: AdministrationRecord,
    /// The unit of the prescribed line it was given against (mg or IU).
    pub unit: dosing::units::DoseUnit,
    pub route: String,
}

impl AdministrationRecord {
    /// Checks the record against the line it gives; the cycle checks its state and doubles.
    pub(crate) fn check(&self, line: &PrescribedDrug) -> Result<(), SactRefusal> {
        if self.witness == self.administered_by {
            return Err(SactRefusal::new(
                "witness",
                "witness: the second checker must be another person, with their own card",
            ));
        }
        if self.dose_given <= Decimal::ZERO {
            return Err(SactRefusal::new("dose_given", "dose_given: give the dose given, more than zero"));
        }
        if self.dose_given > line.dose {
            return Err(SactRefusal::new(
                "dose_given",
                format!(
                    "dose_given: {} {} is more than the {} {} prescribed for {} {}",
                    self.dose_given.normalize(),
                    line.unit.symbol(),
                    line.dose.normalize(),
                    line.unit.symbol(),
                    line.drug,
                    line.day
                ),
            ));
        }
        if self.stopped.is_some_and(|stopped| stopped < self.started) {
            return Err(SactRefusal::new("stopped", "stopped: the stop time is before the start time"));
        }
        if self.expiry < self.started.date_naive() {
            return Err(SactRefusal::new(
                "expiry",
                format!("expiry: batch {} expired on {}; it must not be given", self.batch, self.expiry),
            ));
        }
        if self.batch.trim().is_empty() {
            return Err(SactRefusal::new("batch", "batch: record the product's batch number"));
        }
        Ok(())
    }
}
