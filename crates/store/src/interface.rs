//! HL7 v2 messages received, kept once each by (MSH-3, MSH-4, MSH-10): the
//! record that makes a resent message harmless, and the error queue. A
//! message's text is patient data: reading it is audited; writing it happens
//! in the transaction that applies it, audited there by the services.

use chrono::Utc;

use crate::audit::{Actor, Event};
use crate::audit_action::{AuditAction, RecordRef};
use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// What identifies a message across resends (integration.md §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageKey {
    pub sending_application: String,
    pub sending_facility: String,
    pub control_id: String,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    /// Its effects are committed.
    Applied,
    /// Older than what the store already holds: recorded, and nothing changed.
    Stale,
    /// It could not be parsed or applied; it waits in the error queue.
    Error,
    /// Applied later, after a correction, from the error queue.
    Replayed,
}

impl MessageStatus {
    pub fn text(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Stale => "stale",
            Self::Error => "error",
            Self::Replayed => "replayed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "applied" => Self::Applied,
            "stale" => Self::Stale,
            "error" => Self::Error,
            "replayed" => Self::Replayed,
            _ => return None,
        })
    }
}

/// A message as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptMessage {
    pub id: i64,
    pub key: MessageKey,
    pub message_type: String,
    pub event: String,
    pub occurred_at_utc: Option<String>,
    pub received_at_utc: String,
    pub status: MessageStatus,
    pub error: Option<String>,
    /// The message as received (ER7).
    pub document: String,
}

/// A message to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage<'a> {
    pub key: &'a MessageKey,
    pub message_type: &'a str,
    pub event: &'a str,
    pub occurred_at_utc: Option<&'a str>,
    pub status: MessageStatus,
    pub error: Option<&'a str>,
    pub document: &'a str,
}

/// A message row as stored (read here, and copied whole onto a shared server by `copy.rs`).
#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub(crate) id: i64,
    pub(crate) sending_application: String,
    pub(crate) sending_facility: String,
    pub(crate) control_id: String,
    pub(crate) message_type: String,
    pub(crate) event: String,
    pub(crate) occurred_at_utc: Option<String>,
    pub(crate) received_at_utc: String,
    pub(crate) status: String,
    pub(crate) error: Option<String>,
    pub(crate) document: String,
}

impl MessageRow {
    fn into_kept(self) -> Result<KeptMessage, StoreError> {
        let status = MessageStatus::parse(&self.status)
            .ok_or_else(|| StoreError::Database(format!("message {} has an unreadable status", self.id)))?;
        Ok(KeptMessage {
            id: self.id,
            key: MessageKey {
                sending_application: self.sending_application,
                sending_facility: self.sending_facility,
                control_id: self.control_id,
            },
            message_type: self.message_type,
            event: self.event,
            occurred_at_utc: self.occurred_at_utc,
            received_at_utc: self.received_at_utc,
            status,
            error: self.error,
            document: self.document,
        })
    }
}

const SELECT: &str = "SELECT id, sending_application, sending_facility, control_id, message_type, event, occurred_at_utc, received_at_utc, status, error, document FROM interface_messages";

const STATUS_OF: &str = "SELECT id, status FROM interface_messages WHERE sending_application = $1 AND sending_facility = $2 AND control_id = $3";

fn status_of(row: Option<(i64, String)>) -> Result<Option<(i64, MessageStatus)>, StoreError> {
    row.map(|(id, status)| {
        MessageStatus::parse(&status)
            .map(|s| (id, s))
            .ok_or_else(|| StoreError::Database(format!("message {id} has an unreadable status")))
    })
    .transpose()
}

pub struct InterfaceMessages<'s> {
    store: &'s Store,
}

impl Store {
    pub fn interface_messages(&self) -> InterfaceMessages<'_> {
        InterfaceMessages { store: self }
    }
}

impl InterfaceMessages<'_> {
    /// What became of a message already received, if it was: status only, no
    /// patient data, so not audited (the listener asks this of every message).
    pub async fn status_of(&self, key: &MessageKey) -> Result<Option<(i64, MessageStatus)>, StoreError> {
        let row: Option<(i64, String)> = on_pool!(&self.store.pool, |c| sqlx::query_as(STATUS_OF)
            .bind(&key.sending_application)
            .bind(&key.sending_facility)
            .bind(&key.control_id)
            .fetch_optional(c)
            .await)
        .map_err(database)?;
        status_of(row)
    }

    /// The error queue, oldest first; the read is audited naming each message.
    pub async fn errors(&self, actor: &Actor, limit: u32) -> Result<Vec<KeptMessage>, StoreError> {
        let rows: Vec<MessageRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT} WHERE status = 'error' ORDER BY id LIMIT $1")
        ))
        .bind(i64::from(limit))
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let kept = rows.into_iter().map(MessageRow::into_kept).collect::<Result<Vec<_>, _>>()?;
        let records: Vec<RecordRef> = kept.iter().map(|m| RecordRef::Message(m.id)).collect();
        let event = Event {
            action: AuditAction::InterfaceRead,
            patient_id: None,
            records: &records,
            outcome: "ok: error queue",
        };
        self.store.audit_alone(actor, event).await?;
        Ok(kept)
    }

    /// One message by id; the read is audited.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<KeptMessage, StoreError> {
        let row: Option<MessageRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT} WHERE id = $1")
        ))
        .bind(id)
        .fetch_optional(c)
        .await)
        .map_err(database)?;
        let kept = row
            .ok_or_else(|| StoreError::Invalid {
                field: "message".into(),
                reason: format!("no message has the id {id}"),
            })?
            .into_kept()?;
        let event = Event {
            action: AuditAction::InterfaceRead,
            patient_id: None,
            records: &[RecordRef::Message(id)],
            outcome: "ok",
        };
        self.store.audit_alone(actor, event).await?;
        Ok(kept)
    }
}

pub struct InterfaceWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn interface_messages(&mut self) -> InterfaceWrites<'_> {
        InterfaceWrites { transaction: self }
    }
}

impl InterfaceWrites<'_> {
    /// As `InterfaceMessages::status_of`, inside the writing transaction.
    pub async fn status_of(&mut self, key: &MessageKey) -> Result<Option<(i64, MessageStatus)>, StoreError> {
        if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            let values: [&dyn rusqlite::ToSql; 3] =
                [&key.sending_application, &key.sending_facility, &key.control_id];
            return status_of(direct.row(STATUS_OF, &values, |row| Ok((row.get(0)?, row.get(1)?)))?);
        }
        let row: Option<(i64, String)> = on_tx!(&mut self.transaction.tx, |c| sqlx::query_as(STATUS_OF)
            .bind(&key.sending_application)
            .bind(&key.sending_facility)
            .bind(&key.control_id)
            .fetch_optional(c)
            .await)
        .map_err(database)?;
        status_of(row)
    }

    /// Keeps a message; `None` when one with its key is already kept (a resend),
    /// in which case nothing is written and its effects must not be applied again.
    pub async fn keep(&mut self, message: &NewMessage<'_>) -> Result<Option<i64>, StoreError> {
        const KEEP: &str = "INSERT INTO interface_messages (sending_application, sending_facility, control_id, message_type, event, occurred_at_utc, received_at_utc, status, error, document)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (sending_application, sending_facility, control_id) DO NOTHING RETURNING id";
        let id: Option<i64> = if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            let (m, now) = (message, Utc::now().to_rfc3339());
            let values: [&dyn rusqlite::ToSql; 10] = [
                &m.key.sending_application,
                &m.key.sending_facility,
                &m.key.control_id,
                &m.message_type,
                &m.event,
                &m.occurred_at_utc,
                &now,
                &m.status.text(),
                &m.error,
                &m.document,
            ];
            direct.row(KEEP, &values, |row| row.get(0))?
        } else {
            on_tx!(&mut self.transaction.tx, |c| sqlx::query_scalar(KEEP)
                .bind(&message.key.sending_application)
                .bind(&message.key.sending_facility)
                .bind(&message.key.control_id)
                .bind(message.message_type)
                .bind(message.event)
                .bind(message.occurred_at_utc)
                .bind(Utc::now().to_rfc3339())
                .bind(message.status.text())
                .bind(message.error)
                .bind(message.document)
                .fetch_optional(c)
                .await)
            .map_err(database)?
        };
        if id.is_some() {
            self.transaction.wrote();
        }
        Ok(id)
    }

    /// Takes a message out of the error queue with its new status (replayed,
    /// stale, or an error again with a new reason): `false`, and nothing
    /// changed, when it is no longer waiting there (replayed by someone else).
    pub async fn resolve_error(
        &mut self,
        id: i64,
        status: MessageStatus,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.change_status(id, status, error, true).await
    }

    /// A kept message's new status (an error replayed after correction).
    pub async fn set_status(
        &mut self,
        id: i64,
        status: MessageStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        if !self.change_status(id, status, error, false).await? {
            return Err(StoreError::Invalid {
                field: "message".into(),
                reason: format!("no message has the id {id}"),
            });
        }
        Ok(())
    }

    /// Sets a message's status, only while it is in the error queue when `only_from_error`.
    async fn change_status(
        &mut self,
        id: i64,
        status: MessageStatus,
        error: Option<&str>,
        only_from_error: bool,
    ) -> Result<bool, StoreError> {
        let sql = if only_from_error {
            "UPDATE interface_messages SET status = $1, error = $2 WHERE id = $3 AND status = 'error'"
        } else {
            "UPDATE interface_messages SET status = $1, error = $2 WHERE id = $3"
        };
        if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            let changed = direct.execute(sql, &[&status.text(), &error, &id])?;
            if changed > 0 {
                self.transaction.wrote();
            }
            return Ok(changed > 0);
        }
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(sql)
            .bind(status.text())
            .bind(error)
            .bind(id)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))
        .map_err(database)?;
        if changed > 0 {
            self.transaction.wrote();
        }
        Ok(changed > 0)
    }
}
