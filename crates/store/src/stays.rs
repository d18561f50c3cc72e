//! Stays and beds, as the ADT feed moves them. A stay is kept whole (the adt
//! crate's document) and updated only from the version read; a bed holds its
//! table-0116 state and, when occupied, its patient. Writes go through the
//! transaction that applies a message, audited there.

use adt::{BedState, Location, Stay};
use chrono::Utc;

use crate::audit::{Actor, Event};
use crate::audit_action::{AuditAction, RecordRef};
use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// A stay as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStay {
    pub id: i64,
    pub patient_id: i64,
    pub row_version: i64,
    pub stay: Stay,
}

/// A bed as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedRow {
    pub location: Location,
    pub state: BedState,
    pub patient_id: Option<i64>,
    pub changed_at_utc: String,
}

/// Where an admitted stay places its patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedPlace {
    pub location: Location,
    pub patient_id: i64,
    pub expected_discharge: Option<chrono::NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct StayRow {
    id: i64,
    patient_id: i64,
    row_version: i64,
    document: String,
}

impl StayRow {
    fn into_stored(self) -> Result<StoredStay, StoreError> {
        let stay = serde_json::from_str(&self.document)
            .map_err(|_| StoreError::Database(format!("stay {} is unreadable", self.id)))?;
        Ok(StoredStay { id: self.id, patient_id: self.patient_id, row_version: self.row_version, stay })
    }
}

pub struct Stays<'s> {
    store: &'s Store,
}

impl Store {
    pub fn stays(&self) -> Stays<'_> {
        Stays { store: self }
    }
}

impl Stays<'_> {
    /// The patient's latest stay not cancelled, whatever its state; the read is audited.
    pub async fn latest(&self, actor: &Actor, patient_id: i64) -> Result<Option<StoredStay>, StoreError> {
        let row: Option<StayRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(LATEST_NOT_CANCELLED)
            .bind(patient_id)
            .fetch_optional(c)
            .await)
        .map_err(database)?;
        let stored = row.map(StayRow::into_stored).transpose()?;
        let mut records = vec![RecordRef::Patient(patient_id)];
        records.extend(stored.iter().map(|s| RecordRef::Stay(s.id)));
        let event = Event {
            action: AuditAction::StayRead,
            patient_id: Some(patient_id),
            records: &records,
            outcome: "ok",
        };
        self.store.audit_alone(actor, event).await?;
        Ok(stored)
    }

    /// A number that grows whenever a bed changes (no patient data): a screen
    /// showing the board compares it to know when to look again.
    pub async fn beds_changed_stamp(&self) -> Result<String, StoreError> {
        let stamp: (Option<String>, i64) =
            on_pool!(&self.store.pool, |c| sqlx::query_as("SELECT MAX(changed_at_utc), COUNT(*) FROM beds")
                .fetch_one(c)
                .await)
            .map_err(database)?;
        Ok(format!("{}#{}", stamp.0.unwrap_or_default(), stamp.1))
    }

    /// Where each admitted stay says its patient is, and the day they are
    /// expected home where known (patient ids only): the board checks these
    /// against its beds, so two patients claiming one bed are shown, not one
    /// of them hidden.
    pub async fn admitted_places(&self) -> Result<Vec<AdmittedPlace>, StoreError> {
        let rows: Vec<StayRow> = on_pool!(&self.store.pool, |c| {
            sqlx::query_as(
            "SELECT id, patient_id, row_version, document FROM stays WHERE state = 'admitted' AND ward <> ''"
        )
        .fetch_all(c)
        .await
        })
        .map_err(database)?;
        rows.into_iter()
            .map(|row| {
                let stored = row.into_stored()?;
                Ok(stored.stay.location.clone().map(|location| AdmittedPlace {
                    location,
                    patient_id: stored.patient_id,
                    expected_discharge: stored.stay.expected_discharge,
                }))
            })
            .filter_map(Result::transpose)
            .collect()
    }

    /// Every bed, ward by ward (no patient details: the services read those, audited).
    pub async fn beds(&self) -> Result<Vec<BedRow>, StoreError> {
        let rows: Vec<(String, String, String, String, Option<i64>, String)> =
            on_pool!(&self.store.pool, |c| sqlx::query_as(
                "SELECT ward, room, bed, state, patient_id, changed_at_utc FROM beds ORDER BY ward, room, bed"
            )
            .fetch_all(c)
            .await)
            .map_err(database)?;
        rows.into_iter()
            .map(|(ward, room, bed, state, patient_id, changed_at_utc)| {
                let state = BedState::from_code(&state).ok_or_else(|| {
                    StoreError::Database(format!("bed {ward}/{room}/{bed} has an unreadable state"))
                })?;
                Ok(BedRow {
                    location: Location { ward, room, bed, facility: String::new() },
                    state,
                    patient_id,
                    changed_at_utc,
                })
            })
            .collect()
    }
}

pub struct StayWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn stays(&mut self) -> StayWrites<'_> {
        StayWrites { transaction: self }
    }
}

fn document(stay: &Stay) -> Result<String, StoreError> {
    serde_json::to_string(stay).map_err(|e| StoreError::Database(format!("a stay could not be written: {e}")))
}

/// A patient's latest stay not cancelled (the local file's statement; the
/// server's adds `FOR UPDATE`).
const LATEST_NOT_CANCELLED: &str = "SELECT id, patient_id, row_version, document FROM stays WHERE patient_id = $1 AND state <> 'cancelled' ORDER BY id DESC LIMIT 1";

impl StayWrites<'_> {
    /// The patient's latest stay not cancelled, read inside the writing
    /// transaction, for a writer whose own audit entry names what it read (the
    /// HL7 interface's receipt of a message). On PostgreSQL the row is locked
    /// until commit, so two messages for one patient take turns.
    pub async fn latest_for_update(&mut self, patient_id: i64) -> Result<Option<StoredStay>, StoreError> {
        let row: Option<StayRow> = match &mut self.transaction.tx {
            crate::backend::Tx::Local(c) => sqlx::query_as(
                LATEST_NOT_CANCELLED,
            )
            .bind(patient_id)
            .fetch_optional(&mut **c)
            .await,
            crate::backend::Tx::Shared(c) => sqlx::query_as(
                "SELECT id, patient_id, row_version, document FROM stays WHERE patient_id = $1 AND state <> 'cancelled' ORDER BY id DESC LIMIT 1 FOR UPDATE",
            )
            .bind(patient_id)
            .fetch_optional(&mut **c)
            .await,
            crate::backend::Tx::Direct(direct) => {
                let row = direct.row(
                    LATEST_NOT_CANCELLED,
                    &[&patient_id],
                    |row| Ok(StayRow { id: row.get(0)?, patient_id: row.get(1)?, row_version: row.get(2)?, document: row.get(3)? }),
                )?;
                Ok(row)
            }
        }
        .map_err(database)?;
        row.map(StayRow::into_stored).transpose()
    }

    pub async fn insert(&mut self, patient_id: i64, stay: &Stay) -> Result<i64, StoreError> {
        const INSERT: &str =
            "INSERT INTO stays (patient_id, state, ward, room, bed, latest_utc, document, row_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1) RETURNING id";
        let document = document(stay)?;
        let place = stay.location.clone().unwrap_or_default();
        if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            let latest = stay.latest.to_rfc3339();
            let id = direct
                .row(
                    INSERT,
                    &[
                        &patient_id,
                        &stay.state.text(),
                        &place.ward,
                        &place.room,
                        &place.bed,
                        &latest,
                        &document,
                    ],
                    |row| row.get(0),
                )?
                .ok_or_else(|| StoreError::Database("a stay was not added".into()))?;
            self.transaction.wrote();
            return Ok(id);
        }
        let id: i64 = on_tx!(&mut self.transaction.tx, |c| sqlx::query_scalar(INSERT)
            .bind(patient_id)
            .bind(stay.state.text())
            .bind(&place.ward)
            .bind(&place.room)
            .bind(&place.bed)
            .bind(stay.latest.to_rfc3339())
            .bind(&document)
            .fetch_one(c)
            .await)
        .map_err(database)?;
        self.transaction.wrote();
        Ok(id)
    }

    /// Writes a stay from the version read; refused as changed if another moved it first.
    pub async fn update(&mut self, id: i64, read_version: i64, stay: &Stay) -> Result<i64, StoreError> {
        const UPDATE: &str = "UPDATE stays SET state = $1, ward = $2, room = $3, bed = $4, latest_utc = $5, document = $6, row_version = row_version + 1
             WHERE id = $7 AND row_version = $8";
        let document = document(stay)?;
        let place = stay.location.clone().unwrap_or_default();
        let changed = if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            let latest = stay.latest.to_rfc3339();
            let values: [&dyn rusqlite::ToSql; 8] = [
                &stay.state.text(),
                &place.ward,
                &place.room,
                &place.bed,
                &latest,
                &document,
                &id,
                &read_version,
            ];
            direct.execute(UPDATE, &values)? as u64
        } else {
            on_tx!(&mut self.transaction.tx, |c| sqlx::query(UPDATE)
                .bind(stay.state.text())
                .bind(&place.ward)
                .bind(&place.room)
                .bind(&place.bed)
                .bind(stay.latest.to_rfc3339())
                .bind(&document)
                .bind(id)
                .bind(read_version)
                .execute(c)
                .await
                .map(|done| done.rows_affected()))
            .map_err(database)?
        };
        if changed == 0 {
            return Err(StoreError::Changed { record: format!("stay {id}") });
        }
        self.transaction.wrote();
        Ok(read_version + 1)
    }

    /// A bed's state and occupant, read inside the writing transaction (and on
    /// PostgreSQL locked to its end), for a change that depends on them.
    pub async fn bed_for_update(
        &mut self,
        at: &Location,
    ) -> Result<Option<(BedState, Option<i64>)>, StoreError> {
        let row: Option<(String, Option<i64>)> = match &mut self.transaction.tx {
            crate::backend::Tx::Local(c) => {
                sqlx::query_as(
                    "SELECT state, patient_id FROM beds WHERE ward = $1 AND room = $2 AND bed = $3",
                )
                .bind(&at.ward)
                .bind(&at.room)
                .bind(&at.bed)
                .fetch_optional(&mut **c)
                .await
            }
            crate::backend::Tx::Shared(c) => sqlx::query_as(
                "SELECT state, patient_id FROM beds WHERE ward = $1 AND room = $2 AND bed = $3 FOR UPDATE",
            )
            .bind(&at.ward)
            .bind(&at.room)
            .bind(&at.bed)
            .fetch_optional(&mut **c)
            .await,
            crate::backend::Tx::Direct(_) => return Err(crate::direct::not_offered()),
        }
        .map_err(database)?;
        row.map(|(state, patient_id)| {
            BedState::from_code(&state).map(|state| (state, patient_id)).ok_or_else(|| {
                StoreError::Database(format!(
                    "bed {}/{}/{} has an unreadable state",
                    at.ward, at.room, at.bed
                ))
            })
        })
        .transpose()
    }

    /// Sets a bed's state and occupant, adding the bed if the feed names it first.
    pub async fn set_bed(
        &mut self,
        at: &Location,
        state: BedState,
        patient_id: Option<i64>,
    ) -> Result<(), StoreError> {
        self.set_beds(&[(at.clone(), state, patient_id)]).await
    }

    /// Sets several beds at once (the one a transfer leaves and the one it
    /// takes), as if one after another: a bed named twice ends as its last
    /// change says. On a shared server it is one statement, one round trip.
    pub async fn set_beds(
        &mut self,
        changes: &[(Location, BedState, Option<i64>)],
    ) -> Result<(), StoreError> {
        // One statement's parts, for one bed or many.
        macro_rules! insert {
            () => {
                "INSERT INTO beds (ward, room, bed, state, patient_id, changed_at_utc) "
            };
        }
        macro_rules! upsert {
            () => {
                " ON CONFLICT (ward, room, bed) DO UPDATE SET state = excluded.state, patient_id = excluded.patient_id, changed_at_utc = excluded.changed_at_utc"
            };
        }
        // One statement may not change a row twice: only each bed's last change is sent.
        let last_changes: Vec<&(Location, BedState, Option<i64>)> = changes
            .iter()
            .enumerate()
            .filter(|(i, (at, ..))| !changes[i + 1..].iter().any(|(later, ..)| same_bed(at, later)))
            .map(|(_, change)| change)
            .collect();
        if last_changes.is_empty() {
            return Ok(());
        }
        let now = Utc::now().to_rfc3339();
        if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            const SET_BED: &str = concat!(insert!(), "VALUES ($1, $2, $3, $4, $5, $6)", upsert!());
            for (at, state, patient_id) in last_changes {
                let code = state.code().to_string();
                direct.execute(SET_BED, &[&at.ward, &at.room, &at.bed, &code, patient_id, &now])?;
            }
            self.transaction.wrote();
            return Ok(());
        }
        on_tx!(&mut self.transaction.tx, |c| {
            let mut statement = sqlx::QueryBuilder::new(insert!());
            statement.push_values(&last_changes, |mut row, (at, state, patient_id)| {
                row.push_bind(&at.ward)
                    .push_bind(&at.room)
                    .push_bind(&at.bed)
                    .push_bind(state.code().to_string())
                    .push_bind(*patient_id)
                    .push_bind(&now);
            });
            statement.push(upsert!());
            statement.build().execute(c).await.map(|_| ())
        })
        .map_err(database)?;
        self.transaction.wrote();
        Ok(())
    }

    /// A40: every record of `from` now belongs to `into`, and `from` is marked merged.
    pub async fn merge_patients(&mut self, from: i64, into: i64) -> Result<(), StoreError> {
        const MARK_MERGED: &str = "UPDATE patients SET merged_into = $1 WHERE id = $2";
        let tables =
            ["stays", "sact_courses", "sact_doses_given", "lab_results", "beds", "discharge_summaries"];
        if let crate::backend::Tx::Direct(direct) = &self.transaction.tx {
            for table in tables {
                direct.execute(
                    &format!("UPDATE {table} SET patient_id = $1 WHERE patient_id = $2"),
                    &[&into, &from],
                )?;
            }
            direct.execute(MARK_MERGED, &[&into, &from])?;
            self.transaction.wrote();
            return Ok(());
        }
        for table in tables {
            on_tx!(&mut self.transaction.tx, |c| sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET patient_id = $1 WHERE patient_id = $2"
            )))
            .bind(into)
            .bind(from)
            .execute(c)
            .await
            .map(|_| ()))
            .map_err(database)?;
        }
        on_tx!(&mut self.transaction.tx, |c| sqlx::query(MARK_MERGED)
            .bind(into)
            .bind(from)
            .execute(c)
            .await
            .map(|_| ()))
        .map_err(database)?;
        self.transaction.wrote();
        Ok(())
    }
}

/// A bed is its ward, room and bed; the facility does not key the board.
fn same_bed(a: &Location, b: &Location) -> bool {
    (&a.ward, &a.room, &a.bed) == (&b.ward, &b.room, &b.bed)
}
