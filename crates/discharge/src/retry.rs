//! When a failed send is tried again, and when the outbox gives up and raises
//! it to people. The contract wants the GP to have the summary within 24 hours
//! of discharge; mail practice (RFC 5321 §4.5.4.1) retries for days. So the
//! outbox keeps trying, doubling its wait up to a ceiling, and gives up only
//! after days; the dashboard raises an unsent summary long before that.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first_wait_seconds: i64,
    /// The longest wait between two tries.
    pub longest_wait_seconds: i64,
    /// How long after it was queued the outbox stops trying.
    pub give_up_after_hours: i64,
}

impl Default for RetryPolicy {
    /// 5 minutes, doubling to 30, for 5 days (RFC 5321: "4-5 days").
    fn default() -> Self {
        Self { first_wait_seconds: 300, longest_wait_seconds: 1800, give_up_after_hours: 120 }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    TryAgainAt(DateTime<Utc>),
    GiveUp,
}

impl RetryPolicy {
    /// The wait after `attempts` failed tries: the first wait, doubled each
    /// time, never more than the longest.
    pub fn wait_after(&self, attempts: i64) -> Duration {
        let doublings = (attempts.max(1) - 1).min(30) as u32;
        let wait = self.first_wait_seconds.saturating_mul(1_i64 << doublings);
        Duration::seconds(wait.min(self.longest_wait_seconds).max(1))
    }

    /// After `attempts` failed tries of a send queued at `queued_at`: when to
    /// try again, or to give up because the next try would come too late.
    pub fn after_failure(&self, attempts: i64, queued_at: DateTime<Utc>, now: DateTime<Utc>) -> AfterFailure {
        let next = now + self.wait_after(attempts);
        match next > queued_at + Duration::hours(self.give_up_after_hours) {
            true => AfterFailure::GiveUp,
            false => AfterFailure::TryAgainAt(next),
        }
    }
}

/// The contract's target: the GP has the summary within this of discharge.
pub const SEND_WITHIN_HOURS: i64 = 24;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").expect("time").to_utc() + Duration::hours(hours)
    }

    #[test]
    fn the_wait_doubles_from_five_minutes_to_a_ceiling_of_thirty() {
        let policy = RetryPolicy::default();
        let waits: Vec<i64> = (1..=6).map(|n| policy.wait_after(n).num_minutes()).collect();
        assert_eq!(waits, [5, 10, 20, 30, 30, 30]);
        assert_eq!(policy.wait_after(1_000).num_minutes(), 30, "no overflow after many tries");
    }

    #[test]
    fn the_outbox_gives_up_only_when_the_next_try_would_be_after_five_days() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_failure(3, at(0), at(24)),
            AfterFailure::TryAgainAt(at(24) + Duration::minutes(20)),
            "a day late is still retried"
        );
        assert_eq!(
            policy.after_failure(200, at(0), at(119)),
            AfterFailure::TryAgainAt(at(119) + Duration::minutes(30))
        );
        assert_eq!(policy.after_failure(201, at(0), at(120)), AfterFailure::GiveUp);
    }
}
