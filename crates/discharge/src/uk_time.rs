//! Times as people in England write and read them (GMT or BST), kept as UTC.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::London;

use crate::summary::SummaryError;

/// `27-Nov-2026 14:00` as a form field shows it (the NHS CUI date), in UK local time.
pub fn form_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&London).format("%d-%b-%Y %H:%M").to_string()
}

/// A form field's UK local time as UTC: `27-Nov-2026 14:00` (or ISO
/// `2026-11-27T14:00`); empty is none. A time the clocks skip (the spring
/// change) is refused; one they repeat (autumn) is the first.
pub fn parse_form_time(field: &str, text: &str) -> Result<Option<DateTime<Utc>>, SummaryError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%d-%b-%Y %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| SummaryError::new(field, "enter the date and time as 27-Nov-2026 14:00"))?;
    London.from_local_datetime(&naive).earliest().map(|t| Some(t.with_timezone(&Utc))).ok_or_else(|| {
        SummaryError::new(field, "that time does not exist in the UK: the clocks went forward")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_are_uk_local_both_ways_and_a_skipped_hour_is_refused() {
        let summer = parse_form_time("t", "2026-07-01T10:30").expect("valid").expect("some");
        assert_eq!(summer.to_rfc3339(), "2026-07-01T09:30:00+00:00");
        assert_eq!(form_time(summer), "01-Jul-2026 10:30");
        assert_eq!(parse_form_time("t", "01-Jul-2026 10:30").expect("valid"), Some(summer));
        assert_eq!(parse_form_time("t", " ").expect("empty"), None);
        let skipped = parse_form_time("admitted_at", "2026-03-29T01:30").expect_err("refused");
        assert!(skipped.to_string().contains("admitted_at"), "{skipped}");
        assert!(parse_form_time("t", "27/11/2026").is_err());
    }
}
