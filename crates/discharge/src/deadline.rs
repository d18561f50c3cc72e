//! The 24-hour rule: each discharge's deadline, the time left or overdue in
//! words, and over recent days the share of discharges whose summary reached
//! the GP within 24 hours.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::London;
use serde::Serialize;

use crate::retry::SEND_WITHIN_HOURS;

/// When the GP must have the summary of a discharge at `discharged_at`.
pub fn deadline(discharged_at: DateTime<Utc>) -> DateTime<Utc> {
    discharged_at + Duration::hours(SEND_WITHIN_HOURS)
}

/// Minutes left before the deadline (negative once overdue).
pub fn minutes_left(discharged_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (deadline(discharged_at) - now).num_minutes()
}

/// "3 h 20 min left" or "overdue by 1 h 5 min", as the dashboard says it.
pub fn time_left_words(minutes_left: i64) -> String {
    let span = |minutes: i64| match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    };
    match minutes_left {
        m if m >= 0 => format!("{} left", span(m)),
        m => format!("overdue by {}", span(-m)),
    }
}

/// Where a discharge's summary stands, in the dashboard's words: a failed
/// send is said first, so it is never hidden behind one still waiting.
pub fn summary_state(status: Option<&str>, failed_sends: i64, waiting_sends: i64) -> &'static str {
    match (status, failed_sends, waiting_sends) {
        (None, _, _) => "No summary started",
        (Some("draft"), _, _) => "Draft, not signed",
        (Some(_), failed, _) if failed > 0 => "Signed; sending failed",
        (Some(_), _, waiting) if waiting > 0 => "Signed; sending",
        (Some(_), _, _) => "Signed; no route to the GP is set up",
    }
}

/// One day's discharges and how many of their summaries reached the GP in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayShare {
    pub day: NaiveDate,
    pub discharges: u32,
    pub sent_within_24_hours: u32,
}

/// For each of the `days` days up to `today` (UK dates), the discharges that
/// day and how many were sent within 24 hours. A discharge whose deadline has
/// not yet come and is not yet sent is counted when its deadline passes.
pub fn daily_share(
    discharges: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    now: DateTime<Utc>,
    days: u32,
) -> Vec<DayShare> {
    let today = now.with_timezone(&London).date_naive();
    (0..days)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(u64::from(back))))
        .map(|day| {
            let mut share = DayShare { day, discharges: 0, sent_within_24_hours: 0 };
            for (discharged_at, sent_at) in discharges {
                if discharged_at.with_timezone(&London).date_naive() != day {
                    continue;
                }
                let in_time = sent_at.is_some_and(|sent| sent <= deadline(*discharged_at));
                if in_time || now > deadline(*discharged_at) {
                    share.discharges += 1;
                    share.sent_within_24_hours += u32::from(in_time);
                }
            }
            share
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    #[test]
    fn a_failed_send_is_said_before_one_still_waiting() {
        assert_eq!(summary_state(None, 0, 0), "No summary started");
        assert_eq!(summary_state(Some("draft"), 0, 0), "Draft, not signed");
        assert_eq!(summary_state(Some("signed"), 1, 1), "Signed; sending failed");
        assert_eq!(summary_state(Some("signed"), 0, 1), "Signed; sending");
        assert_eq!(summary_state(Some("signed"), 0, 0), "Signed; no route to the GP is set up");
    }

    #[test]
    fn time_left_and_overdue_read_as_words() {
        let discharged = at("2026-11-29T10:00:00Z");
        assert_eq!(time_left_words(minutes_left(discharged, at("2026-11-29T16:40:00Z"))), "17 h 20 min left");
        assert_eq!(time_left_words(minutes_left(discharged, at("2026-11-30T10:00:00Z"))), "0 min left");
        assert_eq!(time_left_words(minutes_left(discharged, at("2026-11-30T12:00:00Z"))), "overdue by 2 h");
    }

    #[test]
    fn a_day_counts_summaries_sent_in_time_and_waits_for_an_open_deadline() {
        let now = at("2026-11-30T12:00:00Z");
        let discharges = [
            (at("2026-11-28T09:00:00Z"), Some(at("2026-11-28T15:00:00Z"))), // in time
            (at("2026-11-28T10:00:00Z"), Some(at("2026-11-29T11:00:00Z"))), // 25 h: late
            (at("2026-11-28T11:00:00Z"), None),                             // never sent
            (at("2026-11-30T08:00:00Z"), None),                             // deadline still open
        ];
        let days = daily_share(&discharges, now, 3);
        assert_eq!(
            days.iter().map(|d| d.day.to_string()).collect::<Vec<_>>(),
            ["2026-11-28", "2026-11-29", "2026-11-30"]
        );
        assert_eq!((days[0].discharges, days[0].sent_within_24_hours), (3, 1));
        assert_eq!(
            (days[2].discharges, days[2].sent_within_24_hours),
            (0, 0),
            "not yet due, not yet counted"
        );
    }
}
