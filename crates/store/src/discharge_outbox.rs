//! The discharge outbox as kept: one row per recipient of each signed
//! version, with its status, attempts, next try, last error and remote id.
//! Rows are queued in the signing transaction; a sender claims one before it
//! sends, so two senders never send the same row at once.

use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// One recipient's send of one signed version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub summary_id: i64,
    /// `smtp`, `mesh` or `mdm`.
    pub channel: String,
    pub recipient: String,
    /// `queued`, `sending` (claimed: it may have reached the recipient),
    /// `delivered`, `acknowledged` or `failed` (given up, raised to people).
    pub status: String,
    pub attempts: i64,
    pub next_try_utc: String,
    pub last_error: Option<String>,
    pub remote_id: Option<String>,
    pub created_at_utc: String,
    pub delivered_at_utc: Option<String>,
    /// MESH: the ITK3 MessageHeader id the practice's responses name, and
    /// the mailbox it went to, which they must come from.
    pub itk_message_id: Option<String>,
    pub mesh_mailbox: Option<String>,
    /// The practice's last ITK3 response at each level, as words.
    pub infrastructure_response: Option<String>,
    pub business_response: Option<String>,
}

/// A MESH send's ITK3 message: its MessageHeader id and the mailbox it went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItkSend<'a> {
    pub message_id: &'a str,
    pub mailbox: &'a str,
}

/// Which ITK3 response a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseLevel {
    Infrastructure,
    Business,
}

macro_rules! select_row {
    () => {
        "SELECT id, summary_id, channel, recipient, status, attempts, next_try_utc, last_error, remote_id, created_at_utc, delivered_at_utc, itk_message_id, mesh_mailbox, infrastructure_response, business_response FROM discharge_outbox"
    };
}
const ALL: &str = concat!(select_row!(), " ORDER BY id");
const BY_ID: &str = concat!(select_row!(), " WHERE id = $1");
// RFC 3339 UTC times from one clock compare correctly as text.
const DUE: &str = concat!(
    select_row!(),
    " WHERE status IN ('queued', 'sending') AND next_try_utc <= $1 ORDER BY next_try_utc, id LIMIT $2"
);
const DELIVERED_BY: &str =
    concat!(select_row!(), " WHERE status = 'delivered' AND channel = $1 ORDER BY id LIMIT $2");
const OF_SUMMARY: &str = concat!(select_row!(), " WHERE summary_id = $1 ORDER BY id");
const AWAITING_BUSINESS_RESPONSE: &str = concat!(
    select_row!(),
    " WHERE itk_message_id IS NOT NULL AND business_response IS NULL AND status IN ('delivered', 'acknowledged')
     ORDER BY id LIMIT $1"
);
const BY_ITK_MESSAGE: &str = concat!(select_row!(), " WHERE itk_message_id = $1 ORDER BY id LIMIT 1");

pub struct DischargeOutbox<'s> {
    store: &'s Store,
}

impl Store {
    pub fn discharge_outbox(&self) -> DischargeOutbox<'_> {
        DischargeOutbox { store: self }
    }
}

impl DischargeOutbox<'_> {
    /// Every row, oldest first.
    pub async fn all(&self) -> Result<Vec<OutboxRow>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(ALL).fetch_all(c).await).map_err(database)
    }

    pub async fn get(&self, id: i64) -> Result<OutboxRow, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(BY_ID).bind(id).fetch_optional(c).await)
            .map_err(database)?
            .ok_or_else(|| StoreError::Invalid {
                field: "outbox".into(),
                reason: format!("no outbox row {id}"),
            })
    }

    /// Rows whose next try has come (queued, or claimed by a sender whose lease ran out).
    pub async fn due(&self, now_utc: &str, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(DUE).bind(now_utc).bind(limit).fetch_all(c).await)
            .map_err(database)
    }

    /// Sends delivered by `channel` and not yet acknowledged by the recipient, oldest first.
    pub async fn delivered_by(&self, channel: &str, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(DELIVERED_BY)
            .bind(channel)
            .bind(limit)
            .fetch_all(c)
            .await)
        .map_err(database)
    }

    /// ITK3 sends the practice has not yet answered at the business level
    /// (and not failed): while there are any, its responses are looked for.
    pub async fn awaiting_business_response(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(AWAITING_BUSINESS_RESPONSE)
            .bind(limit)
            .fetch_all(c)
            .await)
        .map_err(database)
    }

    /// The send an ITK3 response answers, by the MessageHeader id it names.
    pub async fn by_itk_message(&self, itk_message_id: &str) -> Result<Option<OutboxRow>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(BY_ITK_MESSAGE)
            .bind(itk_message_id)
            .fetch_optional(c)
            .await)
        .map_err(database)
    }

    /// The sends of one signed version.
    pub async fn of_summary(&self, summary_id: i64) -> Result<Vec<OutboxRow>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(OF_SUMMARY).bind(summary_id).fetch_all(c).await)
            .map_err(database)
    }
}

pub struct DischargeOutboxWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn discharge_outbox(&mut self) -> DischargeOutboxWrites<'_> {
        DischargeOutboxWrites { transaction: self }
    }
}

impl DischargeOutboxWrites<'_> {
    /// Queues a send, due now; called in the transaction that signs the summary.
    pub async fn enqueue(
        &mut self,
        summary_id: i64,
        channel: &str,
        recipient: &str,
        now_utc: &str,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = on_tx!(&mut self.transaction.tx, |c| sqlx::query_as(
            "INSERT INTO discharge_outbox (summary_id, channel, recipient, status, attempts, next_try_utc, created_at_utc)
             VALUES ($1, $2, $3, 'queued', 0, $4, $4) RETURNING id"
        )
        .bind(summary_id)
        .bind(channel)
        .bind(recipient)
        .bind(now_utc)
        .fetch_one(&mut *c)
        .await)
        .map_err(database)?;
        self.transaction.wrote();
        Ok(id)
    }

    /// Claims a due row for one attempt, as read (`attempts`): it becomes
    /// `sending` until `lease_until_utc`. Another sender's claim since, or a
    /// row no longer due, is refused (Changed) and nothing is written.
    pub async fn claim(&mut self, id: i64, attempts: i64, lease_until_utc: &str) -> Result<(), StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE discharge_outbox SET status = 'sending', attempts = attempts + 1, next_try_utc = $1
             WHERE id = $2 AND attempts = $3 AND status IN ('queued', 'sending')"
        )
        .bind(lease_until_utc)
        .bind(id)
        .bind(attempts)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        self.finish(changed, id)
    }

    /// The recipient has it: with the id the far end gave it, and for MESH
    /// the ITK3 message it went as.
    pub async fn delivered(
        &mut self,
        id: i64,
        remote_id: &str,
        itk: Option<ItkSend<'_>>,
        at_utc: &str,
    ) -> Result<(), StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE discharge_outbox SET status = 'delivered', remote_id = $1, delivered_at_utc = $2, last_error = NULL,
                 itk_message_id = $3, mesh_mailbox = $4
             WHERE id = $5 AND status = 'sending'"
        )
        .bind(remote_id)
        .bind(at_utc)
        .bind(itk.map(|i| i.message_id))
        .bind(itk.map(|i| i.mailbox))
        .bind(id)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        self.finish(changed, id)
    }

    /// The recipient has taken it (MESH: downloaded and acknowledged).
    pub async fn acknowledged(&mut self, id: i64) -> Result<(), StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE discharge_outbox SET status = 'acknowledged' WHERE id = $1 AND status = 'delivered'"
        )
        .bind(id)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        self.finish(changed, id)
    }

    /// Delivered to the service but not to the recipient (MESH: undeliverable, or
    /// not collected in time): failed, with why, and raised to people.
    pub async fn undeliverable(&mut self, id: i64, error: &str) -> Result<(), StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE discharge_outbox SET status = 'failed', last_error = $1 WHERE id = $2 AND status = 'delivered'"
        )
        .bind(error)
        .bind(id)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        self.finish(changed, id)
    }

    /// The practice's ITK3 response to a delivered send, kept in words. A
    /// positive one means the practice's system has it (acknowledged); a
    /// negative one fails the row with the response as its error, raised to
    /// people. A row already failed stays failed.
    pub async fn responded(
        &mut self,
        id: i64,
        level: ResponseLevel,
        words: &str,
        positive: bool,
    ) -> Result<(), StoreError> {
        let sql = match (level, positive) {
            (ResponseLevel::Infrastructure, true) => {
                "UPDATE discharge_outbox SET infrastructure_response = $1, status = 'acknowledged'
                 WHERE id = $2 AND status IN ('delivered', 'acknowledged')"
            }
            (ResponseLevel::Business, true) => {
                "UPDATE discharge_outbox SET business_response = $1, status = 'acknowledged'
                 WHERE id = $2 AND status IN ('delivered', 'acknowledged')"
            }
            (ResponseLevel::Infrastructure, false) => {
                "UPDATE discharge_outbox SET infrastructure_response = $1, status = 'failed', last_error = $1
                 WHERE id = $2 AND status IN ('delivered', 'acknowledged')"
            }
            (ResponseLevel::Business, false) => {
                "UPDATE discharge_outbox SET business_response = $1, status = 'failed', last_error = $1
                 WHERE id = $2 AND status IN ('delivered', 'acknowledged')"
            }
        };
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(sql)
            .bind(words)
            .bind(id)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))
        .map_err(database)?;
        self.finish(changed, id)
    }

    /// Not delivered this time: why, and when to try again.
    pub async fn retry_later(&mut self, id: i64, error: &str, next_try_utc: &str) -> Result<(), StoreError> {
        self.set_failure(id, "queued", error, next_try_utc).await
    }

    /// Given up after the limits, or refused for good: kept, and raised to people.
    pub async fn give_up(&mut self, id: i64, error: &str, now_utc: &str) -> Result<(), StoreError> {
        self.set_failure(id, "failed", error, now_utc).await
    }

    async fn set_failure(
        &mut self,
        id: i64,
        status: &str,
        error: &str,
        next_try_utc: &str,
    ) -> Result<(), StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE discharge_outbox SET status = $1, last_error = $2, next_try_utc = $3
             WHERE id = $4 AND status IN ('queued', 'sending')"
        )
        .bind(status)
        .bind(error)
        .bind(next_try_utc)
        .bind(id)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        self.finish(changed, id)
    }

    fn finish(&mut self, changed: u64, id: i64) -> Result<(), StoreError> {
        if changed == 0 {
            return Err(StoreError::Changed { record: format!("outbox row {id}") });
        }
        self.transaction.wrote();
        Ok(())
    }
}
