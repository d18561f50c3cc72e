//! The patient index: add, find and read patients, each act audited.

use chrono::{NaiveDate, Utc};
use patients::{GpPractice, NewPatient, NhsNumber, NhsNumberPolicy, PatientQuery, PatientRecord, Sex};
use serde::Serialize;

use crate::audit::{Actor, Event};
use crate::audit_action::{AuditAction, RecordRef};
use crate::backend::{StoreTransaction, Tx, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

/// The audit action a search is recorded under.
fn search_action(query: &PatientQuery) -> AuditAction {
    match query {
        PatientQuery::NhsNumber(_) => AuditAction::PatientSearchNhsNumber,
        PatientQuery::Mrn(_) => AuditAction::PatientSearchMrn,
        PatientQuery::NamePrefix { .. } => AuditAction::PatientSearchName,
    }
}
/// One search result: enough to pick the right patient, no more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatientSummary {
    pub id: i64,
    /// Absent for a patient kept by hospital number (the NHS number received
    /// failed its check): the screen says so rather than showing a blank.
    pub nhs_number: Option<NhsNumber>,
    /// The warning shown for a patient without a valid NHS number.
    pub nhs_number_flag: Option<String>,
    pub display_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub deceased: bool,
    /// The record this one was merged into (A40), if it was.
    pub merged_into: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    id: i64,
    nhs_number: Option<String>,
    nhs_number_failing_check: Option<String>,
    mrn: Option<String>,
    family_name: String,
    given_names: String,
    title: Option<String>,
    date_of_birth: String,
    sex: String,
    address: Option<String>,
    postcode: Option<String>,
    gp_practice_ods: Option<String>,
    gp_practice_name: Option<String>,
    deceased_date: Option<String>,
    merged_into: Option<i64>,
}

impl PatientRow {
    /// A row of `select_patient!` read through the local file's direct writer.
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            nhs_number: row.get(1)?,
            nhs_number_failing_check: row.get(2)?,
            mrn: row.get(3)?,
            family_name: row.get(4)?,
            given_names: row.get(5)?,
            title: row.get(6)?,
            date_of_birth: row.get(7)?,
            sex: row.get(8)?,
            address: row.get(9)?,
            postcode: row.get(10)?,
            gp_practice_ods: row.get(11)?,
            gp_practice_name: row.get(12)?,
            deceased_date: row.get(13)?,
            merged_into: row.get(14)?,
        })
    }

    fn into_record(self) -> Result<PatientRecord, StoreError> {
        let corrupt =
            |what: &str| StoreError::Database(format!("patient {} has an unreadable {what}", self.id));
        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d");
        Ok(PatientRecord {
            id: self.id,
            details: NewPatient {
                nhs_number: self
                    .nhs_number
                    .as_deref()
                    .map(|digits| NhsNumber::parse(digits, NhsNumberPolicy::default()))
                    .transpose()
                    .map_err(|_| corrupt("NHS number"))?,
                nhs_number_failing_check: self.nhs_number_failing_check.clone(),
                mrn: self.mrn.clone(),
                family_name: self.family_name.clone(),
                given_names: self.given_names.clone(),
                title: self.title.clone(),
                date_of_birth: date(&self.date_of_birth).map_err(|_| corrupt("date of birth"))?,
                sex: Sex::parse(&self.sex).map_err(|_| corrupt("sex"))?,
                address: self.address.clone(),
                postcode: self.postcode.clone(),
                gp_practice: self
                    .gp_practice_ods
                    .clone()
                    .map(|ods_code| GpPractice { ods_code, name: self.gp_practice_name.clone() }),
                deceased_date: self
                    .deceased_date
                    .as_deref()
                    .map(date)
                    .transpose()
                    .map_err(|_| corrupt("date of death"))?,
            },
            merged_into: self.merged_into,
        })
    }
}

/// The columns of a patient, as a literal so every statement stays static SQL.
macro_rules! select_patient {
    () => {
        "SELECT id, nhs_number, nhs_number_failing_check, mrn, family_name, given_names, title, date_of_birth, sex, address, postcode, gp_practice_ods, gp_practice_name, deceased_date, merged_into FROM patients"
    };
}
// A prefix is the index range [prefix, prefix + U+10FFFF): byte order on both
// backends (SQLite's BINARY, PostgreSQL's "C" collation on the key column),
// in which no longer name with that prefix sorts past the highest code point.
const BY_NHS_NUMBER: &str = concat!(select_patient!(), " WHERE nhs_number = $1");
const BY_MRN: &str = concat!(select_patient!(), " WHERE mrn = $1");
const BY_NAME_PREFIX: &str = concat!(
    select_patient!(),
    " WHERE family_name_key >= $1 AND family_name_key < $2 ORDER BY family_name_key, given_names, date_of_birth LIMIT $3"
);
const BY_NAME_PREFIX_AND_BIRTH: &str = concat!(
    select_patient!(),
    " WHERE family_name_key >= $1 AND family_name_key < $2 AND date_of_birth = $4 ORDER BY family_name_key, given_names LIMIT $3"
);

/// The patient index: add, find and read patients, each act audited.
pub struct Patients<'s> {
    store: &'s Store,
}

impl Store {
    pub fn patients(&self) -> Patients<'_> {
        Patients { store: self }
    }
}

impl Patients<'_> {
    /// Adds a patient after checking the record. A refusal is audited too.
    pub async fn add(&self, actor: &Actor, patient: NewPatient) -> Result<PatientRecord, StoreError> {
        let patient = match patient.validated(Utc::now().date_naive()) {
            Ok(patient) => patient,
            Err(error) => {
                self.audit_refusal(actor, AuditAction::PatientCreate, &error.field).await?;
                return Err(error.into());
            }
        };
        let mut tx = self.store.begin().await?;
        let id = match tx.patients().insert(&patient).await {
            Ok(id) => id,
            Err(error) => {
                drop(tx);
                if let StoreError::Duplicate { field } = &error {
                    self.audit_refusal(actor, AuditAction::PatientCreate, field).await?;
                }
                return Err(error);
            }
        };
        tx.audit(actor, AuditAction::PatientCreate, Some(id), &[RecordRef::Patient(id)], "ok").await?;
        tx.commit().await?;
        Ok(PatientRecord { id, details: patient, merged_into: None })
    }

    /// Adds many patients in one transaction (demonstration data and benchmarks), audited as one act.
    pub async fn add_batch(&self, actor: &Actor, batch: Vec<NewPatient>) -> Result<Vec<i64>, StoreError> {
        let today = Utc::now().date_naive();
        let mut tx = self.store.begin().await?;
        let mut ids = Vec::with_capacity(batch.len());
        for patient in batch {
            ids.push(tx.patients().insert(&patient.validated(today)?).await?);
        }
        let range: Vec<RecordRef> = match (ids.first(), ids.last()) {
            (Some(first), Some(last)) => vec![RecordRef::PatientRange(*first, *last)],
            _ => Vec::new(),
        };
        tx.audit(actor, AuditAction::PatientCreateBatch, None, &range, "ok").await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Finds patients; the search and the ids it returned are audited.
    pub async fn search(
        &self,
        actor: &Actor,
        query: &PatientQuery,
        limit: u32,
    ) -> Result<Vec<PatientSummary>, StoreError> {
        let records = self.find(query, limit).await?;
        let found: Vec<RecordRef> = records.iter().map(|r| RecordRef::Patient(r.id)).collect();
        self.store
            .audit_alone(
                actor,
                Event { action: search_action(query), patient_id: None, records: &found, outcome: "ok" },
            )
            .await?;
        Ok(records.into_iter().map(summary).collect())
    }

    /// The patients a query finds, unaudited: the callers audit what they show.
    async fn find(&self, query: &PatientQuery, limit: u32) -> Result<Vec<PatientRecord>, StoreError> {
        let rows: Vec<PatientRow> = on_pool!(&self.store.pool, |c| match query {
            PatientQuery::NhsNumber(number) =>
                sqlx::query_as(BY_NHS_NUMBER).bind(number.digits()).fetch_all(c).await,
            PatientQuery::Mrn(mrn) => sqlx::query_as(BY_MRN).bind(mrn).fetch_all(c).await,
            PatientQuery::NamePrefix { prefix, date_of_birth } => {
                let mut upper = prefix.clone();
                upper.push(char::MAX);
                let sql = if date_of_birth.is_some() { BY_NAME_PREFIX_AND_BIRTH } else { BY_NAME_PREFIX };
                let mut statement = sqlx::query_as(sql).bind(prefix).bind(upper).bind(i64::from(limit));
                if let Some(born) = date_of_birth {
                    statement = statement.bind(born.format("%Y-%m-%d").to_string());
                }
                statement.fetch_all(c).await
            }
        })
        .map_err(database)?;
        rows.into_iter().map(PatientRow::into_record).collect()
    }

    /// The bare query beneath a search, with no audit entry, so a benchmark can
    /// show the audit's share of a search. Only in builds with the `bench` feature.
    #[cfg(feature = "bench")]
    #[doc(hidden)]
    pub async fn search_unaudited_for_benchmarks(
        &self,
        query: &PatientQuery,
        limit: u32,
    ) -> Result<usize, StoreError> {
        Ok(self.find(query, limit).await?.len())
    }

    /// Reads one patient's record; the read is audited.
    pub async fn read(&self, actor: &Actor, id: i64) -> Result<PatientRecord, StoreError> {
        let row: Option<PatientRow> = on_pool!(&self.store.pool, |c| {
            sqlx::query_as(concat!(select_patient!(), " WHERE id = $1")).bind(id).fetch_optional(c).await
        })
        .map_err(database)?;
        let Some(row) = row else {
            self.store
                .audit_alone(
                    actor,
                    Event {
                        action: AuditAction::PatientRead,
                        patient_id: None,
                        records: &[RecordRef::Patient(id)],
                        outcome: "refused: no such patient",
                    },
                )
                .await?;
            return Err(StoreError::NoSuchPatient(id));
        };
        let record = row.into_record()?;
        self.store
            .audit_alone(
                actor,
                Event {
                    action: AuditAction::PatientRead,
                    patient_id: Some(id),
                    records: &[RecordRef::Patient(id)],
                    outcome: "ok",
                },
            )
            .await?;
        Ok(record)
    }

    async fn audit_refusal(&self, actor: &Actor, action: AuditAction, field: &str) -> Result<(), StoreError> {
        let outcome = format!("refused: {field}");
        self.store
            .audit_alone(actor, Event { action, patient_id: None, records: &[], outcome: &outcome })
            .await
    }
}

/// The patient index's writes inside a transaction, for a workflow that composes
/// them with its own. Each write must be followed by its audit entry in the same
/// transaction (`StoreTransaction::audit`), or the commit is refused.
/// The cycles whose treatment date falls in a window, in states with doses
/// given: the SACT return's cycles (`sact.rs` shares this condition).
pub(crate) const GIVEN_IN_WINDOW: &str = "c.state IN ('administered', 'partly administered') AND c.treatment_date >= $1 AND c.treatment_date <= $2";

impl Patients<'_> {
    /// The patients of a queue's page (`sact.rs`'s `queue_page`), in one read; the caller audits it.
    pub(crate) async fn of_courses_in_queue(
        &self,
        state: &str,
        limit: i64,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let rows: Vec<PatientRow> = on_pool!(&self.store.pool, |c| {
            sqlx::query_as(concat!(
            select_patient!(),
            " WHERE id IN (SELECT k.patient_id FROM sact_courses k WHERE k.id IN",
            " (SELECT page.course_id FROM (SELECT q.id, q.course_id FROM sact_cycles q WHERE q.state = $1",
            " ORDER BY q.treatment_date, q.id LIMIT $2) page))"
        ))
        .bind(state)
        .bind(limit)
        .fetch_all(c)
        .await
        })
        .map_err(database)?;
        rows.into_iter().map(PatientRow::into_record).collect()
    }

    /// Every patient with a cycle given in the window, in one read; the caller audits it.
    pub(crate) async fn with_cycles_given_between(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let rows: Vec<PatientRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE id IN (SELECT k.patient_id FROM sact_cycles c JOIN sact_courses k ON k.id = c.course_id WHERE {GIVEN_IN_WINDOW})",
            select_patient!()
        )))
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        rows.into_iter().map(PatientRow::into_record).collect()
    }
}

pub struct PatientWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn patients(&mut self) -> PatientWrites<'_> {
        PatientWrites { transaction: self }
    }
}

impl PatientWrites<'_> {
    /// The patients a query finds, read inside the writing transaction, for a
    /// writer whose own audit entry names the patient it acted on (the HL7
    /// interface's receipt of a message). Name searches are not offered here.
    pub async fn find_by_identifier(
        &mut self,
        query: &PatientQuery,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        if let Tx::Direct(direct) = &self.transaction.tx {
            let rows = match query {
                PatientQuery::NhsNumber(number) => {
                    direct.rows(BY_NHS_NUMBER, &[&number.digits().to_string()], PatientRow::from_direct)?
                }
                PatientQuery::Mrn(mrn) => direct.rows(BY_MRN, &[mrn], PatientRow::from_direct)?,
                PatientQuery::NamePrefix { .. } => Vec::new(),
            };
            return rows.into_iter().map(PatientRow::into_record).collect();
        }
        let rows: Vec<PatientRow> = on_tx!(&mut self.transaction.tx, |c| match query {
            PatientQuery::NhsNumber(number) =>
                sqlx::query_as(BY_NHS_NUMBER).bind(number.digits()).fetch_all(c).await,
            PatientQuery::Mrn(mrn) => sqlx::query_as(BY_MRN).bind(mrn).fetch_all(c).await,
            PatientQuery::NamePrefix { .. } => Ok(Vec::new()),
        })
        .map_err(database)?;
        rows.into_iter().map(PatientRow::into_record).collect()
    }
    /// Adds a patient whose record has passed `NewPatient::validated`, giving its id.
    pub async fn insert(&mut self, patient: &NewPatient) -> Result<i64, StoreError> {
        let id = insert(&mut self.transaction.tx, patient).await?;
        self.transaction.wrote();
        Ok(id)
    }

    /// Replaces a patient's name, birth date, sex and death (an A08, A28 or A31
    /// from the PAS), and their NHS number as the caller decided it (a number
    /// corrected at source for a patient kept by hospital number). The hospital
    /// number, by which they were found, is not changed here.
    pub async fn update_person(&mut self, id: i64, p: &NewPatient) -> Result<(), StoreError> {
        const UPDATE: &str = "UPDATE patients SET family_name = $1, given_names = $2, title = $3, family_name_key = $4, date_of_birth = $5,
                 sex = $6, deceased = $7, deceased_date = $8, nhs_number = $10, nhs_number_failing_check = $11
             WHERE id = $9";
        let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        if let Tx::Direct(direct) = &self.transaction.tx {
            let values: [&dyn rusqlite::ToSql; 11] = [
                &p.family_name,
                &p.given_names,
                &p.title,
                &p.family_name.to_uppercase(),
                &date(p.date_of_birth),
                &p.sex.code(),
                &i64::from(p.deceased_date.is_some()),
                &p.deceased_date.map(date),
                &id,
                &p.nhs_number.map(|n| n.digits().to_string()),
                &p.nhs_number_failing_check,
            ];
            let changed = direct.execute_or_sqlite_error(UPDATE, &values).map_err(|error| {
                if crate::direct::is_unique_violation(&error) {
                    StoreError::Duplicate { field: "NHS number" }
                } else {
                    crate::direct::error(error)
                }
            })?;
            if changed == 0 {
                return Err(StoreError::NoSuchPatient(id));
            }
            self.transaction.wrote();
            return Ok(());
        }
        let changed = on_tx!(&mut self.transaction.tx, |c| sqlx::query(UPDATE)
            .bind(&p.family_name)
            .bind(&p.given_names)
            .bind(&p.title)
            .bind(p.family_name.to_uppercase())
            .bind(date(p.date_of_birth))
            .bind(p.sex.code())
            .bind(i64::from(p.deceased_date.is_some()))
            .bind(p.deceased_date.map(date))
            .bind(id)
            .bind(p.nhs_number.map(|n| n.digits()))
            .bind(&p.nhs_number_failing_check)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))
        .map_err(|error| match error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate { field: "NHS number" }
            }
            other => database(other),
        })?;
        if changed == 0 {
            return Err(StoreError::NoSuchPatient(id));
        }
        self.transaction.wrote();
        Ok(())
    }
}

fn summary(record: PatientRecord) -> PatientSummary {
    PatientSummary {
        id: record.id,
        nhs_number: record.details.nhs_number,
        nhs_number_flag: record.details.nhs_number_flag(),
        display_name: record.details.display_name(),
        date_of_birth: record.details.date_of_birth,
        sex: record.details.sex,
        deceased: record.details.deceased_date.is_some(),
        merged_into: record.merged_into,
    }
}

const INSERT: &str = "INSERT INTO patients (nhs_number, mrn, family_name, given_names, title, family_name_key, date_of_birth, sex, address, postcode,
             gp_practice_ods, gp_practice_name, deceased, deceased_date, created_at_utc, nhs_number_failing_check)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id";

/// Which unique index refused a patient, from the engine's message.
fn duplicate_field(message: &str) -> &'static str {
    if message.contains("mrn") { "hospital number (MRN)" } else { "NHS number" }
}

async fn insert(tx: &mut Tx, p: &NewPatient) -> Result<i64, StoreError> {
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    if let Tx::Direct(direct) = tx {
        let values: [&dyn rusqlite::ToSql; 16] = [
            &p.nhs_number.map(|n| n.digits().to_string()),
            &p.mrn,
            &p.family_name,
            &p.given_names,
            &p.title,
            &p.family_name.to_uppercase(),
            &date(p.date_of_birth),
            &p.sex.code(),
            &p.address,
            &p.postcode,
            &p.gp_practice.as_ref().map(|g| g.ods_code.clone()),
            &p.gp_practice.as_ref().and_then(|g| g.name.clone()),
            &i64::from(p.deceased_date.is_some()),
            &p.deceased_date.map(date),
            &Utc::now().to_rfc3339(),
            &p.nhs_number_failing_check,
        ];
        return match direct.rows_or_sqlite_error(INSERT, &values, |row| row.get(0)) {
            Ok(ids) => {
                ids.into_iter().next().ok_or_else(|| StoreError::Database("a patient was not added".into()))
            }
            Err(error) if crate::direct::is_unique_violation(&error) => {
                Err(StoreError::Duplicate { field: duplicate_field(&error.to_string()) })
            }
            Err(error) => Err(crate::direct::error(error)),
        };
    }
    let result: Result<(i64,), sqlx::Error> = on_tx!(tx, |c| {
        sqlx::query_as(INSERT)
            .bind(p.nhs_number.map(|n| n.digits()))
            .bind(&p.mrn)
            .bind(&p.family_name)
            .bind(&p.given_names)
            .bind(&p.title)
            .bind(p.family_name.to_uppercase())
            .bind(date(p.date_of_birth))
            .bind(p.sex.code())
            .bind(&p.address)
            .bind(&p.postcode)
            .bind(p.gp_practice.as_ref().map(|g| g.ods_code.clone()))
            .bind(p.gp_practice.as_ref().and_then(|g| g.name.clone()))
            .bind(i64::from(p.deceased_date.is_some()))
            .bind(p.deceased_date.map(date))
            .bind(Utc::now().to_rfc3339())
            .bind(&p.nhs_number_failing_check)
            .fetch_one(&mut *c)
            .await
    });
    match result {
        Ok((id,)) => Ok(id),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(StoreError::Duplicate { field: duplicate_field(db.message()) })
        }
        Err(other) => Err(database(other)),
    }
}
