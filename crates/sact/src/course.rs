//! A course: one patient on one version of a regimen, pinned to exactly what
//! its doses are calculated from.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use session::UserId;

use crate::SactRefusal;
use crate::cycle::{Cycle, CycleState};

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

    /// The next cycle to prescribe after `cycles` (the course's cycles so far):
    /// its number, one past the highest used (a cancelled cycle keeps its
    /// number), and its date, one cycle length after the last cycle not
    /// cancelled, or the course's start date for the first. `None` once every
    /// planned cycle has been prescribed, and while a cycle is still on its way
    /// (prescribed, verified, released, part given or deferred): the next is
    /// offered once the last is given or cancelled.
    pub fn next_cycle(&self, cycles: &[&Cycle], cycle_length_days: u32) -> Option<(u32, NaiveDate)> {
        if cycles.iter().any(|c| !matches!(c.state, CycleState::Administered | CycleState::Cancelled { .. }))
        {
            return None;
        }
        let number = cycles.iter().map(|c| c.number).max().unwrap_or(0) + 1;
        if number > self.planned_cycles {
            return None;
        }
        let last_given_date = cycles
            .iter()
            .filter(|c| !matches!(c.state, CycleState::Cancelled { .. }))
            .map(|c| c.treatment_date)
            .max();
        let date = match last_given_date {
            Some(date) => date.checked_add_days(Days::new(u64::from(cycle_length_days)))?,
            None => self.start_date,
        };
        Some((number, date))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).expect("date")
    }

    fn course(planned: u32) -> Course {
        let pin = RegimenPin {
            code: "R-CHOP-21".into(),
            version: "1.0".into(),
            content_sha256: "ab".repeat(32),
            policy_version: "p".into(),
            banding_version: "b".into(),
        };
        let consultant = UserId::parse("555000000001").expect("id");
        Course::new(1, pin, Intent::Curative, 1, consultant, planned, day(11, 2)).expect("course")
    }

    fn given(number: u32, date: NaiveDate) -> Cycle {
        let mut cycle = cycle(number, date);
        cycle.state = CycleState::Administered;
        cycle
    }

    fn cycle(number: u32, date: NaiveDate) -> Cycle {
        let drug = crate::PrescribedDrug {
            drug: "vincristine".into(),
            day: "D1".into(),
            dose: rust_decimal::Decimal::TWO,
            unit: dosing::units::DoseUnit::Milligrams,
            route: "intravenous".into(),
        };
        Cycle::prescribe(number, date, UserId::parse("555000000001").expect("id"), vec![drug]).expect("cycle")
    }

    #[test]
    fn the_first_cycle_is_on_the_start_date_and_the_next_one_cycle_length_later() {
        let course = course(6);
        assert_eq!(course.next_cycle(&[], 21), Some((1, day(11, 2))));
        let first = given(1, day(11, 2));
        assert_eq!(course.next_cycle(&[&first], 21), Some((2, day(11, 23))));
    }

    #[test]
    fn a_cancelled_cycle_keeps_its_number_but_not_its_date() {
        let course = course(6);
        let first = given(1, day(11, 2));
        let mut second = cycle(2, day(11, 23));
        second.cancel("patient unwell").expect("cancelled");
        assert_eq!(course.next_cycle(&[&first, &second], 21), Some((3, day(11, 23))));
    }

    #[test]
    fn no_cycle_follows_the_last_planned_one() {
        let course = course(2);
        let (first, second) = (given(1, day(11, 2)), given(2, day(11, 23)));
        assert_eq!(
            course.next_cycle(&[&first], 21),
            Some((2, day(11, 23))),
            "the last planned cycle is offered"
        );
        assert_eq!(course.next_cycle(&[&first, &second], 21), None);
    }

    #[test]
    fn no_next_cycle_is_offered_while_the_last_is_still_on_its_way() {
        let course = course(6);
        let first = given(1, day(11, 2));
        let second = cycle(2, day(11, 23));
        assert_eq!(course.next_cycle(&[&first, &second], 21), None, "cycle 2 is prescribed, not yet given");
    }
}
