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
    pub async fn record(&mut self, result: &NewLabResult) -> Result<i64, StoreError> {
        const RECORD: &str = "INSERT INTO lab_results (patient_id, message_id, code, name, value, value_type, units, reference_range, abnormal_flag, status, observed_at_utc, laboratory, used_for, held_because)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id";
        if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            let r = result;
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
            let id = direct
                .row(RECORD, &values, |row| row.get(0))?
                .ok_or_else(|| StoreError::Database("a result was not kept".into()))?;
            self.transaction.wrote();
            return Ok(id);
        }
        let id: i64 = on_tx!(&mut self.transaction.tx, |c| sqlx::query_scalar(RECORD)
            .bind(result.patient_id)
            .bind(result.message_id)
            .bind(&result.code)
            .bind(&result.name)
            .bind(&result.value)
            .bind(&result.value_type)
            .bind(&result.units)
            .bind(&result.reference_range)
            .bind(&result.abnormal_flag)
            .bind(&result.status)
            .bind(&result.observed_at_utc)
            .bind(&result.laboratory)
            .bind(&result.used_for)
            .bind(&result.held_because)
            .fetch_one(c)
            .await)
        .map_err(database)?;
        self.transaction.wrote();
        Ok(id)
    }
}
