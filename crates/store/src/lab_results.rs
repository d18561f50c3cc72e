//! Laboratory results, one row per OBX, kept against the patient with the
//! message they came in. Decimals stay the text the laboratory sent; whether a
//! chemotherapy check may use a result was decided when it was filed.

use crate::audit::{Actor, Event};
use crate::audit_action::{AuditAction, RecordRef};
use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// A result to keep.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NewLabResult {
    pub patient_id: i64,
    pub message_id: i64,
    pub code: String,
    pub name: String,
    pub value: String,
    pub value_type: String,
    pub units: String,
    pub reference_range: String,
    pub abnormal_flag: String,
    pub status: String,
    /// RFC 3339, UTC.
    pub observed_at_utc: String,
    pub laboratory: String,
    /// The chemotherapy check it may serve (neutrophils…), if it was filed for one.
    pub used_for: Option<String>,
    /// Why a result a check would use is held for review.
    pub held_because: Option<String>,
}

/// A result as kept: its id and the result.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeptLabResult {
    pub id: i64,
    #[sqlx(flatten)]
    pub result: NewLabResult,
}

const SELECT: &str = "SELECT id, patient_id, message_id, code, name, value, value_type, units, reference_range, abnormal_flag, status, observed_at_utc, laboratory, used_for, held_because FROM lab_results";

pub struct LabResults<'s> {
    store: &'s Store,
}

impl Store {
    pub fn lab_results(&self) -> LabResults<'_> {
        LabResults { store: self }
    }
}

impl LabResults<'_> {
    /// A patient's results, newest first; the read is audited.
    pub async fn of_patient(&self, actor: &Actor, patient_id: i64) -> Result<Vec<KeptLabResult>, StoreError> {
        let rows: Vec<KeptLabResult> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT} WHERE patient_id = $1 ORDER BY observed_at_utc DESC, id DESC")
        ))
        .bind(patient_id)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let records = [RecordRef::Patient(patient_id)];
        let event = Event {
            action: AuditAction::ResultRead,
            patient_id: Some(patient_id),
            records: &records,
            outcome: "ok",
        };
        self.store.audit_alone(actor, event).await?;
        Ok(rows)
    }

    /// The latest result a check may use for a patient, taken at or after
    /// `since` (RFC 3339, UTC); the read is audited.
    pub async fn latest_for_check(
        &self,
        actor: &Actor,
        patient_id: i64,
        check: &str,
        since: &str,
    ) -> Result<Option<KeptLabResult>, StoreError> {
        let row: Option<KeptLabResult> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE patient_id = $1 AND used_for = $2 AND observed_at_utc >= $3 ORDER BY observed_at_utc DESC, id DESC LIMIT 1"
        )))
        .bind(patient_id)
        .bind(check)
        .bind(since)
        .fetch_optional(c)
        .await)
        .map_err(database)?;
        let mut records = vec![RecordRef::Patient(patient_id)];
        records.extend(row.iter().map(|r| RecordRef::Result(r.id)));
        let outcome = format!("ok: latest {check}");
        let event = Event {
            action: AuditAction::ResultRead,
            patient_id: Some(patient_id),
            records: &records,
            outcome: &outcome,
        };
        self.store.audit_alone(actor, event).await?;
        Ok(row)
    }
}

pub struct LabResultWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn lab_results(&mut self) -> LabResultWrites<'_> {
        LabResultWrites { transaction: self }
    }
}

impl LabResultWrites<'_> {
    /// Keeps a message's results; gives their ids in the order given. On a
    /// shared server they go in one statement, one round trip however many
    /// OBX segments the message held.
    pub async fn record_all(&mut self, results: &[NewLabResult]) -> Result<Vec<i64>, StoreError> {
        // One column list for both statements.
        macro_rules! insert {
            () => {
                "INSERT INTO lab_results (patient_id, message_id, code, name, value, value_type, units, reference_range, abnormal_flag, status, observed_at_utc, laboratory, used_for, held_because) "
            };
        }
        if results.is_empty() {
            return Ok(Vec::new());
        }
        if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            const RECORD: &str = concat!(
                insert!(),
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id"
            );
            let mut ids = Vec::with_capacity(results.len());
            for r in results {
                let values: [&dyn rusqlite::ToSql; 14] = [
                    &r.patient_id,
                    &r.message_id,
                    &r.code,
                    &r.name,
                    &r.value,
                    &r.value_type,
                    &r.units,
                    &r.reference_range,
                    &r.abnormal_flag,
                    &r.status,
                    &r.observed_at_utc,
                    &r.laboratory,
                    &r.used_for,
                    &r.held_because,
                ];
                ids.push(
                    direct
                        .row(RECORD, &values, |row| row.get(0))?
                        .ok_or_else(|| StoreError::Database("a result was not kept".into()))?,
                );
            }
            self.transaction.wrote();
            return Ok(ids);
        }
        let mut ids: Vec<i64> = on_tx!(&mut self.transaction.tx, |c| {
            let mut insert = sqlx::QueryBuilder::new(insert!());
            insert.push_values(results, |mut row, r| {
                row.push_bind(r.patient_id)
                    .push_bind(r.message_id)
                    .push_bind(&r.code)
                    .push_bind(&r.name)
                    .push_bind(&r.value)
                    .push_bind(&r.value_type)
                    .push_bind(&r.units)
                    .push_bind(&r.reference_range)
                    .push_bind(&r.abnormal_flag)
                    .push_bind(&r.status)
                    .push_bind(&r.observed_at_utc)
                    .push_bind(&r.laboratory)
                    .push_bind(&r.used_for)
                    .push_bind(&r.held_because);
            });
            insert.push(" RETURNING id");
            insert.build_query_scalar().fetch_all(c).await
        })
        .map_err(database)?;
        if ids.len() != results.len() {
            return Err(StoreError::Database(format!(
                "{} results of {} were kept",
                ids.len(),
                results.len()
            )));
        }
        // Ids are taken in the order the rows are inserted; RETURNING's own order is not promised.
        ids.sort_unstable();
        self.transaction.wrote();
        Ok(ids)
    }
}
