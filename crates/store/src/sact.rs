//! SACT courses, cycles and doses given. Writes go through `tx.sact()` inside a
//! workflow's transaction, audited there; reads through `store.sact()`, each
//! audited against the reader. A cycle is updated only from the version that
//! was read (optimistic concurrency), so two pharmacists acting on one cycle at
//! once cannot both succeed: the second is told it changed under them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sact::{Course, Cycle, Intent, RegimenPin};
use session::UserId;

use crate::audit::{Actor, Event};
use crate::audit_action::{AuditAction, RecordRef};
use crate::backend::{StoreTransaction, on_pool, on_tx};
use crate::error::database;
use crate::patients::GIVEN_IN_WINDOW;
use crate::{Store, StoreError};
use patients::PatientRecord;

/// A cycle as stored: its ids, the version an update must name, and the cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCycle {
    pub id: i64,
    pub course_id: i64,
    pub patient_id: i64,
    pub row_version: i64,
    pub cycle: Cycle,
}

/// One dose recorded as given, here or at another site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseGiven {
    pub patient_id: i64,
    pub cycle_id: Option<i64>,
    pub drug: String,
    pub dose: Decimal,
    pub unit: String,
    /// The dose over the body surface area it was calculated for, where the limit is per m².
    pub dose_per_m2: Option<Decimal>,
    pub given_at: DateTime<Utc>,
    /// Where it was given: this site's ODS code, or the site a transfer came from.
    pub site: String,
}

/// A drug's lifetime total for one patient, summed exactly from doses given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LifetimeTotal {
    pub total: Decimal,
    pub per_m2: Decimal,
}

pub struct SactWrites<'t> {
    transaction: &'t mut StoreTransaction,
}

impl StoreTransaction {
    pub fn sact(&mut self) -> SactWrites<'_> {
        SactWrites { transaction: self }
    }
}

impl SactWrites<'_> {
    pub async fn insert_course(&mut self, course: &Course) -> Result<i64, StoreError> {
        let pin = &course.regimen;
        let (id,): (i64,) = on_tx!(&mut self.transaction.tx, |c| sqlx::query_as(
            "INSERT INTO sact_courses (patient_id, regimen_code, regimen_version, regimen_sha256, policy_version, banding_version,
                 intent, line, consultant, planned_cycles, start_date, created_at_utc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(course.patient_id)
        .bind(&pin.code)
        .bind(&pin.version)
        .bind(&pin.content_sha256)
        .bind(&pin.policy_version)
        .bind(&pin.banding_version)
        .bind(intent_text(course.intent))
        .bind(i64::from(course.line))
        .bind(course.consultant.as_str())
        .bind(i64::from(course.planned_cycles))
        .bind(course.start_date.format("%Y-%m-%d").to_string())
        .bind(Utc::now().to_rfc3339())
        .fetch_one(&mut *c)
        .await)
        .map_err(database)?;
        self.transaction.wrote();
        Ok(id)
    }

    /// Adds a cycle to a course; a cycle number already there is refused.
    pub async fn insert_cycle(&mut self, course_id: i64, cycle: &Cycle) -> Result<i64, StoreError> {
        let document = serde_json::to_string(cycle).map_err(|e| StoreError::Database(e.to_string()))?;
        let inserted: Result<(i64,), sqlx::Error> = on_tx!(&mut self.transaction.tx, |c| sqlx::query_as(
            "INSERT INTO sact_cycles (course_id, number, state, treatment_date, document, row_version)
             VALUES ($1, $2, $3, $4, $5, 1) RETURNING id",
        )
        .bind(course_id)
        .bind(i64::from(cycle.number))
        .bind(cycle.state.name())
        .bind(cycle.treatment_date.format("%Y-%m-%d").to_string())
        .bind(&document)
        .fetch_one(&mut *c)
        .await);
        let id = match inserted {
            Ok((id,)) => id,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::Invalid {
                    field: "cycle".into(),
                    reason: format!("cycle {} of this course is already prescribed", cycle.number),
                });
            }
            Err(other) => return Err(database(other)),
        };
        self.transaction.wrote();
        Ok(id)
    }

    /// Writes a cycle's new state, only if it is still at `read_version`; gives the new version.
    pub async fn update_cycle(
        &mut self,
        id: i64,
        read_version: i64,
        cycle: &Cycle,
    ) -> Result<i64, StoreError> {
        let document = serde_json::to_string(cycle).map_err(|e| StoreError::Database(e.to_string()))?;
        let updated = on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "UPDATE sact_cycles SET state = $1, treatment_date = $2, document = $3, row_version = row_version + 1
             WHERE id = $4 AND row_version = $5",
        )
        .bind(cycle.state.name())
        .bind(cycle.treatment_date.format("%Y-%m-%d").to_string())
        .bind(&document)
        .bind(id)
        .bind(read_version)
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected()))
        .map_err(database)?;
        if updated == 0 {
            return Err(StoreError::Changed { record: format!("cycle {id}") });
        }
        self.transaction.wrote();
        Ok(read_version + 1)
    }

    pub async fn record_dose_given(&mut self, dose: &DoseGiven) -> Result<(), StoreError> {
        on_tx!(&mut self.transaction.tx, |c| sqlx::query(
            "INSERT INTO sact_doses_given (patient_id, cycle_id, drug, dose, unit, dose_per_m2, given_at_utc, site)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(dose.patient_id)
        .bind(dose.cycle_id)
        .bind(&dose.drug)
        .bind(dose.dose.to_string())
        .bind(&dose.unit)
        .bind(dose.dose_per_m2.map(|d| d.to_string()))
        .bind(dose.given_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .bind(&dose.site)
        .execute(&mut *c)
        .await
        .map(|_| ()))
        .map_err(database)?;
        self.transaction.wrote();
        Ok(())
    }
}

/// A dose given as stored: cycle, drug, dose, unit, dose per m², time, site.
type DoseRow = (Option<i64>, String, String, String, Option<String>, String, String);

/// A queue's page: its cycles, every cycle of their courses, and the courses
/// and patients by id.
#[derive(Debug, Clone)]
pub struct QueuePage {
    pub cycles: Vec<StoredCycle>,
    pub course_cycles: Vec<StoredCycle>,
    pub courses: BTreeMap<i64, Course>,
    pub patients: BTreeMap<i64, PatientRecord>,
}

/// What a SACT return reads: the cycles, and their courses and patients by id.
#[derive(Debug, Clone)]
pub struct ReturnPeriod {
    pub cycles: Vec<StoredCycle>,
    pub courses: BTreeMap<i64, Course>,
    pub patients: BTreeMap<i64, PatientRecord>,
}

/// Reading courses, cycles and lifetime totals, each read audited.
pub struct SactRecords<'s> {
    store: &'s Store,
}

impl Store {
    pub fn sact(&self) -> SactRecords<'_> {
        SactRecords { store: self }
    }
}

#[derive(sqlx::FromRow)]
struct CourseRow {
    patient_id: i64,
    regimen_code: String,
    regimen_version: String,
    regimen_sha256: String,
    policy_version: String,
    banding_version: String,
    intent: String,
    line: i64,
    consultant: String,
    planned_cycles: i64,
    start_date: String,
}

#[derive(sqlx::FromRow)]
struct IdCourseRow {
    id: i64,
    #[sqlx(flatten)]
    course: CourseRow,
}

#[derive(sqlx::FromRow)]
struct CycleRow {
    id: i64,
    course_id: i64,
    patient_id: i64,
    row_version: i64,
    document: String,
}

const SELECT_CYCLE: &str = "SELECT c.id, c.course_id, k.patient_id, c.row_version, c.document
     FROM sact_cycles c JOIN sact_courses k ON k.id = c.course_id";

impl SactRecords<'_> {
    pub async fn course(&self, actor: &Actor, id: i64) -> Result<Course, StoreError> {
        let row: Option<CourseRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(
            "SELECT patient_id, regimen_code, regimen_version, regimen_sha256, policy_version, banding_version, intent,
                 line, consultant, planned_cycles, start_date FROM sact_courses WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(c)
        .await)
        .map_err(database)?;
        let row = row.ok_or_else(|| not_found("course", id))?;
        let course = row.into_course(id)?;
        self.audited(actor, Some(course.patient_id), RecordRef::Course(id)).await?;
        Ok(course)
    }

    pub async fn cycle(&self, actor: &Actor, id: i64) -> Result<StoredCycle, StoreError> {
        let row: Option<CycleRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT_CYCLE} WHERE c.id = $1")
        ))
        .bind(id)
        .fetch_optional(c)
        .await)
        .map_err(database)?;
        let stored = row.ok_or_else(|| not_found("cycle", id))?.into_stored()?;
        self.audited(actor, Some(stored.patient_id), RecordRef::Cycle(id)).await?;
        Ok(stored)
    }

    /// A patient's courses, newest start first, each with its id; the read is audited.
    pub async fn courses_of_patient(
        &self,
        actor: &Actor,
        patient_id: i64,
    ) -> Result<Vec<(i64, Course)>, StoreError> {
        let rows: Vec<(i64, CourseRow)> = on_pool!(&self.store.pool, |c| sqlx::query_as::<_, IdCourseRow>(
            "SELECT id, patient_id, regimen_code, regimen_version, regimen_sha256, policy_version, banding_version,
                 intent, line, consultant, planned_cycles, start_date FROM sact_courses
                 WHERE patient_id = $1 ORDER BY start_date DESC, id DESC"
        )
        .bind(patient_id)
        .fetch_all(c)
        .await)
        .map_err(database)?
        .into_iter()
        .map(|row| (row.id, row.course))
        .collect();
        let courses = rows
            .into_iter()
            .map(|(id, row)| Ok((id, row.into_course(id)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.audited(actor, Some(patient_id), RecordRef::Patient(patient_id)).await?;
        Ok(courses)
    }

    /// Cycles in any of `states` whose treatment date is `day`, in course order
    /// (the day's treatment list); the read is audited naming them.
    pub async fn cycles_due_on(
        &self,
        actor: &Actor,
        states: &[&str],
        day: NaiveDate,
    ) -> Result<Vec<StoredCycle>, StoreError> {
        let mut cycles = Vec::new();
        for state in states {
            let rows: Vec<CycleRow> =
                on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT_CYCLE} WHERE c.state = $1 AND c.treatment_date = $2 ORDER BY c.course_id, c.id"
                )))
                .bind(*state)
                .bind(day.format("%Y-%m-%d").to_string())
                .fetch_all(c)
                .await)
                .map_err(database)?;
            for row in rows {
                cycles.push(row.into_stored()?);
            }
        }
        cycles.sort_by_key(|c| (c.course_id, c.id));
        let records: Vec<RecordRef> = cycles.iter().map(|c| RecordRef::Cycle(c.id)).collect();
        let event =
            Event { action: AuditAction::SactRead, patient_id: None, records: &records, outcome: "ok" };
        self.store.audit_alone(actor, event).await?;
        Ok(cycles)
    }

    /// Cycles in `state` (its stored name), oldest treatment date first, at most `limit`.
    pub async fn cycles_in_state(
        &self,
        actor: &Actor,
        state: &str,
        limit: u32,
    ) -> Result<Vec<StoredCycle>, StoreError> {
        let rows: Vec<CycleRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT_CYCLE} WHERE c.state = $1 ORDER BY c.treatment_date, c.id LIMIT $2")
        ))
        .bind(state)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let cycles = rows.into_iter().map(CycleRow::into_stored).collect::<Result<Vec<_>, _>>()?;
        let records: Vec<RecordRef> = cycles.iter().map(|c| RecordRef::Cycle(c.id)).collect();
        let event =
            Event { action: AuditAction::SactRead, patient_id: None, records: &records, outcome: "ok" };
        self.store.audit_alone(actor, event).await?;
        Ok(cycles)
    }

    /// A course's cycles, in order; the read is audited.
    pub async fn cycles_of_course(
        &self,
        actor: &Actor,
        course_id: i64,
    ) -> Result<Vec<StoredCycle>, StoreError> {
        let rows: Vec<CycleRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT_CYCLE} WHERE c.course_id = $1 ORDER BY c.number")
        ))
        .bind(course_id)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let cycles = rows.into_iter().map(CycleRow::into_stored).collect::<Result<Vec<_>, _>>()?;
        self.audited(actor, None, RecordRef::Course(course_id)).await?;
        Ok(cycles)
    }

    /// Every dose recorded as given to a patient, here and elsewhere, oldest first; the read is audited.
    pub async fn doses_given(&self, actor: &Actor, patient_id: i64) -> Result<Vec<DoseGiven>, StoreError> {
        let rows: Vec<DoseRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(
            "SELECT cycle_id, drug, dose, unit, dose_per_m2, given_at_utc, site FROM sact_doses_given
                 WHERE patient_id = $1 ORDER BY given_at_utc, id"
        )
        .bind(patient_id)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let unreadable =
            || StoreError::Database(format!("a dose given to patient {patient_id} is unreadable"));
        let doses = rows
            .into_iter()
            .map(|(cycle_id, drug, dose, unit, per_m2, given_at, site)| {
                Ok(DoseGiven {
                    patient_id,
                    cycle_id,
                    drug,
                    dose: dose.parse().map_err(|_| unreadable())?,
                    unit,
                    dose_per_m2: per_m2.map(|d| d.parse()).transpose().map_err(|_| unreadable())?,
                    given_at: DateTime::parse_from_rfc3339(&given_at)
                        .map_err(|_| unreadable())?
                        .with_timezone(&Utc),
                    site,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.audited(actor, Some(patient_id), RecordRef::Patient(patient_id)).await?;
        Ok(doses)
    }

    /// A page of a queue (cycles in `state`, oldest treatment date first, at
    /// most `limit`) with what a pharmacist checks beside each: its course, its
    /// patient, and the course's other cycles. Four statements whatever the
    /// page's size, audited as one read naming every cycle and patient.
    pub async fn queue_page(&self, actor: &Actor, state: &str, limit: u32) -> Result<QueuePage, StoreError> {
        const PAGE: &str = "SELECT q.id, q.course_id FROM sact_cycles q WHERE q.state = $1 ORDER BY q.treatment_date, q.id LIMIT $2";
        let limit = i64::from(limit);
        let rows: Vec<CycleRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT_CYCLE} WHERE c.state = $1 ORDER BY c.treatment_date, c.id LIMIT $2")
        ))
        .bind(state)
        .bind(limit)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let cycles = rows.into_iter().map(CycleRow::into_stored).collect::<Result<Vec<_>, _>>()?;
        let sibling_rows: Vec<CycleRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT_CYCLE} WHERE c.course_id IN (SELECT page.course_id FROM ({PAGE}) page) ORDER BY c.course_id, c.number")
        ))
        .bind(state)
        .bind(limit)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let course_cycles =
            sibling_rows.into_iter().map(CycleRow::into_stored).collect::<Result<Vec<_>, _>>()?;
        let course_rows: Vec<IdCourseRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, patient_id, regimen_code, regimen_version, regimen_sha256, policy_version, banding_version,
                 intent, line, consultant, planned_cycles, start_date FROM sact_courses
                 WHERE id IN (SELECT page.course_id FROM ({PAGE}) page)"
        )))
        .bind(state)
        .bind(limit)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let courses = course_rows
            .into_iter()
            .map(|row| Ok((row.id, row.course.into_course(row.id)?)))
            .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
        let patient_ids: Vec<i64> = {
            let mut ids: Vec<i64> = courses.values().map(|c| c.patient_id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let patients = self.store.patients().of_courses_in_queue(state, limit).await?;
        let patients: BTreeMap<i64, PatientRecord> =
            patients.into_iter().filter(|p| patient_ids.contains(&p.id)).map(|p| (p.id, p)).collect();
        let mut records: Vec<RecordRef> = cycles.iter().map(|c| RecordRef::Cycle(c.id)).collect();
        records.extend(patients.keys().map(|id| RecordRef::Patient(*id)));
        let event = Event {
            action: AuditAction::SactRead,
            patient_id: None,
            records: &records,
            outcome: "ok: queue",
        };
        self.store.audit_alone(actor, event).await?;
        Ok(QueuePage { cycles, course_cycles, courses, patients })
    }

    /// What the SACT return for a period reads, in three statements whatever its
    /// size: the cycles with doses given whose treatment date is in
    /// `cycles_from..=to` (the caller picks the doses given in its period), their
    /// courses, and their patients. Audited as one read naming every patient.
    pub async fn return_period(
        &self,
        actor: &Actor,
        cycles_from: NaiveDate,
        to: NaiveDate,
    ) -> Result<ReturnPeriod, StoreError> {
        let (from, to) = (cycles_from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string());
        let rows: Vec<CycleRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT_CYCLE} WHERE {GIVEN_IN_WINDOW} ORDER BY c.id")
        ))
        .bind(&from)
        .bind(&to)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let cycles = rows.into_iter().map(CycleRow::into_stored).collect::<Result<Vec<_>, _>>()?;
        let course_rows: Vec<IdCourseRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, patient_id, regimen_code, regimen_version, regimen_sha256, policy_version, banding_version,
                 intent, line, consultant, planned_cycles, start_date FROM sact_courses
                 WHERE id IN (SELECT c.course_id FROM sact_cycles c WHERE {GIVEN_IN_WINDOW})"
        )))
        .bind(&from)
        .bind(&to)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let courses = course_rows
            .into_iter()
            .map(|row| Ok((row.id, row.course.into_course(row.id)?)))
            .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
        let patients: BTreeMap<i64, PatientRecord> = self
            .store
            .patients()
            .with_cycles_given_between(&from, &to)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let records: Vec<RecordRef> = patients.keys().map(|id| RecordRef::Patient(*id)).collect();
        let outcome = format!("ok: SACT return, cycles dated {from} to {to}: {} cycles", cycles.len());
        let event =
            Event { action: AuditAction::SactRead, patient_id: None, records: &records, outcome: &outcome };
        self.store.audit_alone(actor, event).await?;
        Ok(ReturnPeriod { cycles, courses, patients })
    }

    /// Every cycle with a dose given, for the SACT return (the services pick the
    /// period's administrations); the read is audited as one act naming them.
    pub async fn cycles_with_doses_given(&self, actor: &Actor) -> Result<Vec<StoredCycle>, StoreError> {
        let rows: Vec<CycleRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            format!("{SELECT_CYCLE} WHERE c.state IN ('administered', 'partly administered') ORDER BY c.id")
        ))
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let cycles = rows.into_iter().map(CycleRow::into_stored).collect::<Result<Vec<_>, _>>()?;
        let records: Vec<RecordRef> = cycles.iter().map(|c| RecordRef::Cycle(c.id)).collect();
        let event = Event {
            action: AuditAction::SactRead,
            patient_id: None,
            records: &records,
            outcome: "ok: SACT return",
        };
        self.store.audit_alone(actor, event).await?;
        Ok(cycles)
    }

    /// Each drug's lifetime total for a patient, summed exactly from every dose given.
    pub async fn lifetime_totals(
        &self,
        actor: &Actor,
        patient_id: i64,
    ) -> Result<BTreeMap<String, LifetimeTotal>, StoreError> {
        let rows: Vec<(String, String, Option<String>)> = on_pool!(&self.store.pool, |c| sqlx::query_as(
            "SELECT drug, dose, dose_per_m2 FROM sact_doses_given WHERE patient_id = $1"
        )
        .bind(patient_id)
        .fetch_all(c)
        .await)
        .map_err(database)?;
        let mut totals: BTreeMap<String, LifetimeTotal> = BTreeMap::new();
        for (drug, dose, per_m2) in rows {
            let unreadable =
                || StoreError::Database(format!("a dose of {drug} for patient {patient_id} is unreadable"));
            let total = totals.entry(drug.clone()).or_default();
            total.total =
                total.total.checked_add(dose.parse().map_err(|_| unreadable())?).ok_or_else(unreadable)?;
            if let Some(per_m2) = per_m2 {
                total.per_m2 = total
                    .per_m2
                    .checked_add(per_m2.parse().map_err(|_| unreadable())?)
                    .ok_or_else(unreadable)?;
            }
        }
        self.audited(actor, Some(patient_id), RecordRef::Patient(patient_id)).await?;
        Ok(totals)
    }

    async fn audited(
        &self,
        actor: &Actor,
        patient_id: Option<i64>,
        record: RecordRef,
    ) -> Result<(), StoreError> {
        let records = [record];
        let event = Event { action: AuditAction::SactRead, patient_id, records: &records, outcome: "ok" };
        self.store.audit_alone(actor, event).await
    }
}

impl CourseRow {
    fn into_course(self, id: i64) -> Result<Course, StoreError> {
        let damaged = |what: &str| StoreError::Database(format!("course {id} has an unreadable {what}"));
        Ok(Course {
            patient_id: self.patient_id,
            regimen: RegimenPin {
                code: self.regimen_code,
                version: self.regimen_version,
                content_sha256: self.regimen_sha256,
                policy_version: self.policy_version,
                banding_version: self.banding_version,
            },
            intent: Intent::parse(&self.intent).map_err(|_| damaged("intent"))?,
            line: u32::try_from(self.line).map_err(|_| damaged("line"))?,
            consultant: UserId::parse(&self.consultant).ok_or_else(|| damaged("consultant"))?,
            planned_cycles: u32::try_from(self.planned_cycles).map_err(|_| damaged("number of cycles"))?,
            start_date: NaiveDate::parse_from_str(&self.start_date, "%Y-%m-%d")
                .map_err(|_| damaged("start date"))?,
        })
    }
}

impl CycleRow {
    fn into_stored(self) -> Result<StoredCycle, StoreError> {
        let cycle = serde_json::from_str(&self.document)
            .map_err(|_| StoreError::Database(format!("cycle {} is unreadable", self.id)))?;
        Ok(StoredCycle {
            id: self.id,
            course_id: self.course_id,
            patient_id: self.patient_id,
            row_version: self.row_version,
            cycle,
        })
    }
}

fn intent_text(intent: Intent) -> &'static str {
    match intent {
        Intent::Curative => "curative",
        Intent::Palliative => "palliative",
        Intent::Adjuvant => "adjuvant",
        Intent::Neoadjuvant => "neoadjuvant",
    }
}

fn not_found(what: &str, id: i64) -> StoreError {
    StoreError::Invalid { field: what.into(), reason: format!("no {what} has the id {id}") }
}
