//! Who has a legitimate relationship with a patient: the wards a member of
//! staff works on (the patient a current inpatient there), and their own
//! patient list. Writes are audited by the services in the same transaction.

use chrono::Utc;

use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// Why someone may see a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relationship {
    /// The patient is a current inpatient on this ward, one of the user's.
    Ward(String),
    /// The user added the patient to their list, for this reason.
    PatientList(String),
}

pub struct Relationships<'s> {
    store: &'s Store,
}

impl Store {
    pub fn relationships(&self) -> Relationships<'_> {
        Relationships { store: self }
    }
}

impl Relationships<'_> {
    /// The wards a member of staff works on.
    pub async fn wards_of(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_scalar(
            "SELECT ward FROM user_wards WHERE user_id = $1 ORDER BY ward"
        )
        .bind(user_id)
        .fetch_all(c)
        .await)
        .map_err(database)
    }

    /// The patients on a user's list now, with the reason each was added (ids only; the caller audits what it shows).
    pub async fn list_of(&self, user_id: &str) -> Result<Vec<(i64, String)>, StoreError> {
        on_pool!(&self.store.pool, |c| sqlx::query_as(
            "SELECT patient_id, reason FROM patient_lists WHERE user_id = $1 AND removed_at_utc IS NULL ORDER BY id"
        )
        .bind(user_id)
        .fetch_all(c)
        .await)
        .map_err(database)
    }

    /// The relationship between a user and a patient, if there is one: an
    /// admitted stay on one of the user's wards first, then their list.
    pub async fn between(&self, user_id: &str, patient_id: i64) -> Result<Option<Relationship>, StoreError> {
        let ward: Option<String> = on_pool!(&self.store.pool, |c| sqlx::query_scalar(
            "SELECT s.ward FROM stays s JOIN user_wards w ON w.ward = s.ward
             WHERE s.patient_id = $1 AND s.state = 'admitted' AND w.user_id = $2 ORDER BY s.id DESC LIMIT 1"
        )
        .bind(patient_id)
        .bind(user_id)
        .fetch_optional(c)
        .await)
        .map_err(database)?;
        if let Some(ward) = ward {
            return Ok(Some(Relationship::Ward(ward)));
        }
        let listed: Option<String> = on_pool!(&self.store.pool, |c| sqlx::query_scalar(
            "SELECT reason FROM patient_lists WHERE user_id = $1 AND patient_id = $2 AND removed_at_utc IS NULL ORDER BY id DESC LIMIT 1"
        )
        .bind(user_id)
        .bind(patient_id)
        .fetch_optional(c)
        .await)
        .map_err(database)?;
        Ok(listed.map(Relationship::PatientList))
    }
}

pub struct RelationshipWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn relationships(&mut self) -> RelationshipWrites<'_> {
        RelationshipWrites { transaction: self }
    }
}

impl RelationshipWrites<'_> {
    /// Replaces the wards a member of staff works on.
    pub async fn set_wards(&mut self, user_id: &str, wards: &[String]) -> Result<(), StoreError> {
        on_tx!(&mut self.transaction.tx, |c| sqlx::query("DELETE FROM user_wards WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await
            .map(|_| ()))
        .map_err(database)?;
        for ward in wards {
            on_tx!(&mut self.transaction.tx, |c| sqlx::query(
                "INSERT INTO user_wards (user_id, ward) VALUES ($1, $2) ON CONFLICT (user_id, ward) DO NOTHING"
            )
            .bind(user_id)
            .bind(ward)
            .execute(c)
            .await
            .map(|_| ()))
            .map_err(database)?;
        }
        self.transaction.wrote();
        Ok(())
    }

    /// Adds a patient to a user's list, with the reason.
    pub async fn add_to_list(
        &mut self,
        user_id: &str,
        patient_id: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "reason".into(),
                reason: "say why the patient is added to your list".into(),
            });
        }
        on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "INSERT INTO patient_lists (user_id, patient_id, reason, added_at_utc) VALUES ($1, $2, $3, $4)"
        )
        .bind(user_id)
        .bind(patient_id)
        .bind(reason.trim())
        .bind(Utc::now().to_rfc3339())
        .execute(c)
        .await
        .map(|_| ()))
        .map_err(database)?;
        self.transaction.wrote();
        Ok(())
    }

    /// Takes a patient off a user's list (kept, with when).
    pub async fn remove_from_list(&mut self, user_id: &str, patient_id: i64) -> Result<(), StoreError> {
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE patient_lists SET removed_at_utc = $1 WHERE user_id = $2 AND patient_id = $3 AND removed_at_utc IS NULL"
        )
        .bind(Utc::now().to_rfc3339())
        .bind(user_id)
        .bind(patient_id)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        if changed == 0 {
            return Err(StoreError::Invalid {
                field: "patient".into(),
                reason: "that patient is not on your list".into(),
            });
        }
        self.transaction.wrote();
        Ok(())
    }
}
