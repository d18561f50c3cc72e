//! Whether the measurements a cycle is prescribed from are recent enough.
//! "Prescribe next cycle" prefills the last measurements with their date; a
//! stale weight must be answered (re-measured, or confirmed with a reason),
//! never silently reused.

use chrono::NaiveDate;
use serde::Serialize;

use crate::SactRefusal;

/// How old the measurements are on the treatment day, and whether that is too old.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MeasurementAge {
    pub days: i64,
    pub stale: bool,
}

/// The age of measurements taken on `taken_on` for treatment on `treatment_date`,
/// stale when older than `max_days`. Measurements dated after the treatment
/// day are refused: nobody measures a patient in the future.
pub fn measurement_age(
    taken_on: NaiveDate,
    treatment_date: NaiveDate,
    max_days: u32,
) -> Result<MeasurementAge, SactRefusal> {
    let days = (treatment_date - taken_on).num_days();
    if days < 0 {
        return Err(SactRefusal::new(
            "measured_on",
            "measured_on: the measurements are dated after the treatment day; check the date",
        ));
    }
    Ok(MeasurementAge { days, stale: days > i64::from(max_days) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    #[test]
    fn measurements_up_to_the_limit_are_fresh_and_a_day_more_is_stale() {
        assert_eq!(
            measurement_age(day(1), day(8), 7).expect("age"),
            MeasurementAge { days: 7, stale: false }
        );
        assert_eq!(measurement_age(day(1), day(9), 7).expect("age"), MeasurementAge { days: 8, stale: true });
        assert_eq!(
            measurement_age(day(9), day(9), 0).expect("age"),
            MeasurementAge { days: 0, stale: false }
        );
    }

    #[test]
    fn measurements_dated_after_the_treatment_day_are_refused_naming_the_field() {
        let refusal = measurement_age(day(10), day(9), 7).expect_err("future");
        assert_eq!(refusal.rule, "measured_on");
    }
}
