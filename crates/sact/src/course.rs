//! A course: one patient on one version of a regimen, pinned to exactly what
//! its doses are calculated from.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use session::UserId;

use crate::SactRefusal;

/// Why the course is given (the SACT data set's Intent of Treatment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Curative,
    Palliative,
    Adjuvant,
    Neoadjuvant,
}

impl Intent {
    pub fn parse(text: &str) -> Result<Self, SactRefusal> {
        match text.trim().to_ascii_lowercase().as_str() {
            "curative" => Ok(Self::Curative),
            "palliative" => Ok(Self::Palliative),
            "adjuvant" => Ok(Self::Adjuvant),
            "neoadjuvant" => Ok(Self::Neoadjuvant),
            other => Err(SactRefusal::new(
                "intent",
                format!("intent: {other:?} is not one of curative, palliative, adjuvant or neoadjuvant"),
            )),
        }
    }
}

/// Everything a prescription was calculated from, so it shows and prints what
/// it was made with, whatever changes in the library or the site's policy later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegimenPin {
    pub code: String,
    pub version: String,
    /// SHA-256 of the regimen's content, hex.
    pub content_sha256: String,
    pub policy_version: String,
    pub banding_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    pub patient_id: i64,
    pub regimen: RegimenPin,
    pub intent: Intent,
    /// First line of treatment is 1.
    pub line: u32,
    pub consultant: UserId,
    pub planned_cycles: u32,
    pub start_date: NaiveDate,
}

impl Course {
    /// A new course, its numbers checked: at least one cycle, a line from 1.
    pub fn new(
        patient_id: i64,
        regimen: RegimenPin,
        intent: Intent,
        line: u32,
        consultant: UserId,
        planned_cycles: u32,
        start_date: NaiveDate,
    ) -> Result<Self, SactRefusal> {
        if planned_cycles == 0 || planned_cycles > 99 {
            return Err(SactRefusal::new("cycles", "cycles: a course plans 1 to 99 cycles"));
        }
        if line == 0 || line > 20 {
            return Err(SactRefusal::new("line", "line: the line of treatment is 1 (first line) to 20"));
        }
        Ok(Self { patient_id, regimen, intent, line, consultant, planned_cycles, start_date })
    }

    /// Refuses a cycle number outside the course's plan.
    pub fn check_cycle_number(&self, number: u32) -> Result<(), SactRefusal> {
        if number == 0 || number > self.planned_cycles {
            return Err(SactRefusal::new(
                "cycle",
                format!("cycle: this course plans cycles 1 to {}, not {number}", self.planned_cycles),
            ));
        }
        Ok(())
    }
}
