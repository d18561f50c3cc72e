//! "Discharges needing summaries": each patient discharged whose summary has
//! not yet reached the GP, with the time left or overdue on the 24-hour rule,
//! and over the last 30 days the share that did reach the GP in time.

use chrono::{DateTime, Duration, Utc};
use discharge::DayShare;
use session::Permission;
use store::{AuditAction, RecordRef};

use crate::{Acting, Context, ServiceError};

/// Days the dashboard's chart covers.
pub const CHART_DAYS: u32 = 30;

/// One discharge still waiting for its summary to reach the GP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DueSummary {
    pub patient_id: i64,
    pub patient_name: String,
    pub nhs_number: String,
    pub ward: Option<String>,
    pub discharged_at_utc: String,
    /// Negative once overdue.
    pub minutes_left: i64,
    pub time_left: String,
    pub summary_id: Option<i64>,
    /// Where it stands, in words: "No summary started", "Draft", "Signed, sending", "Sending failed".
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dashboard {
    /// Most urgent first.
    pub due: Vec<DueSummary>,
    pub days: Vec<DayShare>,
}

fn parsed(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc())
}

/// The dashboard as of now. Reading the patients it names is audited.
pub async fn dashboard(context: &Context, acting: &Acting) -> Result<Dashboard, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let now = context.now();
    let since = now - Duration::days(i64::from(CHART_DAYS) + 1);
    let stays = context.store().discharge_summaries().discharged_since(&since.to_rfc3339()).await?;
    let history: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = stays
        .iter()
        .filter_map(|s| {
            Some((parsed(&s.discharged_at_utc)?, s.first_delivered_at_utc.as_deref().and_then(parsed)))
        })
        .collect();
    let mut due = Vec::new();
    for stay in stays.iter().filter(|s| s.first_delivered_at_utc.is_none()) {
        let Some(discharged_at) = parsed(&stay.discharged_at_utc) else { continue };
        let patient = context.store().patients().read(actor, stay.patient_id).await?;
        let state =
            discharge::summary_state(stay.summary_status.as_deref(), stay.failed_sends, stay.waiting_sends);
        let minutes_left = discharge::minutes_left(discharged_at, now);
        due.push(DueSummary {
            patient_id: stay.patient_id,
            patient_name: patient.details.display_name(),
            nhs_number: patient.details.nhs_number_display(),
            ward: stay.ward.clone(),
            discharged_at_utc: stay.discharged_at_utc.clone(),
            minutes_left,
            time_left: discharge::time_left_words(minutes_left),
            summary_id: stay.summary_id,
            state: state.into(),
        });
    }
    due.sort_by_key(|d| d.minutes_left);
    let records: Vec<RecordRef> =
        due.iter().filter_map(|d| d.summary_id.map(RecordRef::DischargeSummary)).collect();
    context
        .store()
        .audit()
        .record(actor, AuditAction::DischargeRead, &records, &format!("ok: dashboard, {} due", due.len()))
        .await?;
    Ok(Dashboard { due, days: discharge::daily_share(&history, now, CHART_DAYS) })
}
