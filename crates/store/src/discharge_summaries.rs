//! Discharge summaries as kept: each version of a patient's summary with its
//! content (JSON the services write and read), a draft until signed. The
//! services audit every read and write in the same transaction.

use chrono::Utc;

use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// One version of a summary as kept.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeptSummary {
    pub id: i64,
    pub patient_id: i64,
    pub stay_id: Option<i64>,
    pub version: i64,
    /// `draft` or `signed`.
    pub status: String,
    pub content: String,
    pub author: String,
    pub updated_at_utc: String,
    pub row_version: i64,
    /// The card signature (JSON), once signed.
    pub signature: Option<String>,
    /// Who signed: name, role and registration (JSON).
    pub signed_by: Option<String>,
    pub signed_at_utc: Option<String>,
}

/// The columns of a kept summary, as a literal so every statement stays static SQL.
macro_rules! select_summary {
    () => {
        "SELECT id, patient_id, stay_id, version, status, content, author, updated_at_utc, row_version, signature, signed_by, signed_at_utc FROM discharge_summaries"
    };
}
const BY_ID: &str = concat!(select_summary!(), " WHERE id = $1");
const OF_PATIENT: &str = concat!(select_summary!(), " WHERE patient_id = $1 ORDER BY id");

/// A stay that ended in discharge, and how its summary stands: what the
/// 24-hour dashboard lists.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DischargedStay {
    pub stay_id: i64,
    pub patient_id: i64,
    pub ward: Option<String>,
    pub discharged_at_utc: String,
    /// The latest version of the stay's summary, if one was started.
    pub summary_id: Option<i64>,
    pub summary_status: Option<String>,
    /// When a summary of the stay first reached a recipient.
    pub first_delivered_at_utc: Option<String>,
    /// Sends given up on, and sends still waiting.
    pub failed_sends: i64,
    pub waiting_sends: i64,
}

const DISCHARGED_SINCE: &str = "
SELECT s.id AS stay_id, s.patient_id, s.ward, s.latest_utc AS discharged_at_utc,
    (SELECT MAX(d.id) FROM discharge_summaries d WHERE d.stay_id = s.id) AS summary_id,
    (SELECT d.status FROM discharge_summaries d WHERE d.stay_id = s.id ORDER BY d.id DESC LIMIT 1) AS summary_status,
    (SELECT MIN(o.delivered_at_utc) FROM discharge_outbox o JOIN discharge_summaries d ON d.id = o.summary_id
        WHERE d.stay_id = s.id AND o.status IN ('delivered', 'acknowledged')) AS first_delivered_at_utc,
    (SELECT COUNT(*) FROM discharge_outbox o JOIN discharge_summaries d ON d.id = o.summary_id
        WHERE d.stay_id = s.id AND o.status = 'failed') AS failed_sends,
    (SELECT COUNT(*) FROM discharge_outbox o JOIN discharge_summaries d ON d.id = o.summary_id
        WHERE d.stay_id = s.id AND o.status IN ('queued', 'sending')) AS waiting_sends
FROM stays s
WHERE s.state = 'discharged' AND s.latest_utc >= $1
ORDER BY s.latest_utc, s.id";

pub struct DischargeSummaries<'s> {
    store: &'s Store,
}

impl Store {
    pub fn discharge_summaries(&self) -> DischargeSummaries<'_> {
        DischargeSummaries { store: self }
    }
}

impl DischargeSummaries<'_> {
    /// One kept version, by id (the caller audits the read).
    pub async fn get(&self, id: i64) -> Result<KeptSummary, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(BY_ID).bind(id).fetch_optional(c).await)
            .map_err(database)?
            .ok_or_else(|| StoreError::Invalid {
                field: "summary".into(),
                reason: format!("no discharge summary {id}"),
            })
    }

    /// Every stay discharged since `since_utc` (RFC 3339), oldest first, with
    /// its summary's state and sends (the caller audits what it shows).
    pub async fn discharged_since(&self, since_utc: &str) -> Result<Vec<DischargedStay>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(DISCHARGED_SINCE).bind(since_utc).fetch_all(c).await)
            .map_err(database)
    }

    /// Every version of every summary of a patient, oldest first.
    pub async fn of_patient(&self, patient_id: i64) -> Result<Vec<KeptSummary>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(OF_PATIENT).bind(patient_id).fetch_all(c).await)
            .map_err(database)
    }
}

pub struct DischargeSummaryWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn discharge_summaries(&mut self) -> DischargeSummaryWrites<'_> {
        DischargeSummaryWrites { transaction: self }
    }
}

impl DischargeSummaryWrites<'_> {
    /// Starts a draft (version 1, or the next version of an amended summary).
    pub async fn create_draft(
        &mut self,
        patient_id: i64,
        stay_id: Option<i64>,
        version: i64,
        content: &str,
        author: &str,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = on_tx!(&mut self.transaction.tx, |c| sqlx::query_as(
            "INSERT INTO discharge_summaries (patient_id, stay_id, version, status, content, author, updated_at_utc, row_version)
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, 1) RETURNING id"
        )
        .bind(patient_id)
        .bind(stay_id)
        .bind(version)
        .bind(content)
        .bind(author)
        .bind(Utc::now().to_rfc3339())
        .fetch_one(&mut *c)
        .await)
        .map_err(database)?;
        self.transaction.wrote();
        Ok(id)
    }

    /// Saves a draft's content from the row version the caller read; gives the
    /// new row version. A signed summary, or one saved by someone else since it
    /// was read, is refused and nothing is written.
    pub async fn save_draft(
        &mut self,
        id: i64,
        read_at: i64,
        content: &str,
        author: &str,
    ) -> Result<i64, StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE discharge_summaries SET content = $1, author = $2, updated_at_utc = $3, row_version = row_version + 1
             WHERE id = $4 AND row_version = $5 AND status = 'draft'"
        )
        .bind(content)
        .bind(author)
        .bind(Utc::now().to_rfc3339())
        .bind(id)
        .bind(read_at)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        if changed == 0 {
            return Err(StoreError::Changed { record: format!("discharge summary {id}") });
        }
        self.transaction.wrote();
        Ok(read_at + 1)
    }

    /// Signs the draft as read: its content is locked from now on. Refused, and
    /// nothing written, if it changed since it was read or is already signed.
    pub async fn sign(
        &mut self,
        id: i64,
        read_at: i64,
        signature: &str,
        signed_by: &str,
        signed_at_utc: &str,
    ) -> Result<(), StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE discharge_summaries SET status = 'signed', signature = $1, signed_by = $2, signed_at_utc = $3,
                 row_version = row_version + 1
             WHERE id = $4 AND row_version = $5 AND status = 'draft'"
        )
        .bind(signature)
        .bind(signed_by)
        .bind(signed_at_utc)
        .bind(id)
        .bind(read_at)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        if changed == 0 {
            return Err(StoreError::Changed { record: format!("discharge summary {id}") });
        }
        self.transaction.wrote();
        Ok(())
    }
}
