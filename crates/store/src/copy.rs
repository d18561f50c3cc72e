//! Moving a site: a store copied, whole, into an empty shared database. The
//! patients, the staff and the audit trail go in one transaction on the target,
//! so an interrupted copy leaves the target as empty as it was. The chain
//! arrives as it was written (its entries, times and hashes unchanged) and is
//! verified on arrival; the copy is then recorded on both stores.

use futures_util::TryStreamExt;
use sqlx::{Postgres, QueryBuilder};

use crate::audit::{Actor, Event};
use crate::audit_action::AuditAction;
use crate::backend::{Pool, Tx, on_tx};
use crate::error::database;
use crate::{AuditVerdict, SharedDatabase, Store, StoreError};

/// Rows per INSERT: PostgreSQL takes at most 65,535 bound values a statement.
const ROWS_PER_STATEMENT: usize = 2_000;

/// How far a copy has gone, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyProgress {
    pub table: &'static str,
    pub copied: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    pub target: String,
    pub patients: u64,
    pub users: u64,
    pub audit_entries: u64,
}

#[derive(sqlx::FromRow)]
struct PatientCopy {
    id: i64,
    nhs_number: Option<String>,
    nhs_number_failing_check: Option<String>,
    mrn: Option<String>,
    family_name: String,
    given_names: String,
    title: Option<String>,
    family_name_key: String,
    date_of_birth: String,
    sex: String,
    address: Option<String>,
    postcode: Option<String>,
    gp_practice_ods: Option<String>,
    gp_practice_name: Option<String>,
    deceased: i64,
    deceased_date: Option<String>,
    created_at_utc: String,
}

#[derive(sqlx::FromRow)]
struct UserCopy {
    user_id: String,
    display_name: String,
    job_title: String,
    professional_body: Option<String>,
    registration_number: Option<String>,
    roles: String,
    disabled: i64,
    enrolled_at_utc: String,
    card_key_sha256: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EntryCopy {
    seq: i64,
    at_utc: String,
    actor: String,
    workstation: String,
    action: String,
    patient_id: Option<i64>,
    record_ids: String,
    outcome: String,
    prev_hash: String,
    hash: String,
}

impl Store {
    /// Copies this store into `target`, an empty database, as `actor`. Refused
    /// where the target holds any table, or where this store's own chain is
    /// broken (a broken trail is not carried into a new home unnoticed).
    pub async fn copy_to_shared(
        &self,
        target: &SharedDatabase,
        actor: &Actor,
        mut progress: impl FnMut(CopyProgress),
    ) -> Result<CopyReport, StoreError> {
        if let AuditVerdict::Broken { problem, .. } = self.audit().verify().await? {
            return Err(StoreError::Invalid {
                field: "audit".into(),
                reason: format!(
                    "this store's trail is broken ({problem}); it is not copied until that is resolved"
                ),
            });
        }
        let destination = Store::prepare_empty_shared(target).await?;
        let Pool::Shared(destination_pool) = &destination.pool else {
            unreachable!("a shared store has a PostgreSQL pool")
        };
        let mut into = destination_pool.begin().await.map_err(database)?;
        let mut from = self.snapshot().await?;
        let counts = count_rows(&mut from).await?;
        let patients = copy_table::<PatientCopy>(&mut from, &mut into, counts.0, &mut progress).await?;
        let users = copy_users(&mut from, &mut into).await?;
        copy_sact(&mut from, &mut into).await?;
        copy_regimens(&mut from, &mut into).await?;
        copy_interface(&mut from, &mut into).await?;
        let audit_entries = copy_audit(&mut from, &mut into, counts.1, &mut progress).await?;
        copy_demonstration_mark(&mut from, &mut into).await?;
        drop(from);
        for table in [
            "patients",
            "sact_courses",
            "sact_cycles",
            "sact_doses_given",
            "regimen_approvals",
            "regimen_versions",
        ] {
            // The copied ids were given explicitly; new rows must start after them.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )))
            .execute(&mut *into)
            .await
            .map_err(database)?;
        }
        into.commit().await.map_err(database)?;

        match destination.audit().verify().await? {
            AuditVerdict::Intact { entries } if entries == self.audit().anchor().await?.seq => {}
            verdict => {
                destination.close().await;
                return Err(StoreError::Corrupt {
                    path: target.display().into(),
                    detail: format!("the copied trail did not verify: {verdict:?}"),
                });
            }
        }
        let outcome = format!("ok: copied from {} to {}", self.location(), target.display());
        let event =
            || Event { action: AuditAction::StoreCopy, patient_id: None, records: &[], outcome: &outcome };
        destination.audit_alone(actor, event()).await?;
        destination.close().await;
        self.audit_alone(actor, event()).await?;
        Ok(CopyReport { target: target.display(), patients, users, audit_entries })
    }

    /// A shared database given the schema and nothing else: no genesis entry,
    /// since the copied chain brings its own. Refused where it is not empty.
    async fn prepare_empty_shared(target: &SharedDatabase) -> Result<Store, StoreError> {
        Store::create_shared_schema(target).await
    }
}

async fn count_rows(from: &mut Tx) -> Result<(u64, u64), StoreError> {
    let (patients, entries): (i64, i64) = on_tx!(from, |c| sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM audit_log)"
    )
    .fetch_one(&mut *c)
    .await)
    .map_err(database)?;
    Ok((u64::try_from(patients).unwrap_or(0), u64::try_from(entries).unwrap_or(0)))
}

type Target<'a> = sqlx::Transaction<'a, Postgres>;

/// A table copied in batches: how to read its rows and write them on the server.
trait CopiedRow:
    Send
    + Unpin
    + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
{
    const TABLE: &'static str;
    /// Every row, in order.
    const SELECT: &'static str;
    /// `INSERT INTO table (columns) `, before the values.
    const INSERT: &'static str;
    fn bind(self, values: &mut sqlx::query_builder::Separated<'_, Postgres, &'static str>);
}

/// Streams a table's rows from the store into the server, a batch per statement.
async fn copy_table<R: CopiedRow>(
    from: &mut Tx,
    into: &mut Target<'_>,
    total: u64,
    progress: &mut impl FnMut(CopyProgress),
) -> Result<u64, StoreError> {
    let mut copied = 0;
    let mut batch: Vec<R> = Vec::with_capacity(ROWS_PER_STATEMENT);
    on_tx!(from, |c| {
        let mut rows = sqlx::query_as::<_, R>(R::SELECT).fetch(&mut *c);
        while let Some(row) = rows.try_next().await.map_err(database)? {
            batch.push(row);
            if batch.len() == ROWS_PER_STATEMENT {
                copied += insert_batch(into, &mut batch).await?;
                progress(CopyProgress { table: R::TABLE, copied, total });
            }
        }
    });
    copied += insert_batch(into, &mut batch).await?;
    progress(CopyProgress { table: R::TABLE, copied, total });
    Ok(copied)
}

async fn insert_batch<R: CopiedRow>(into: &mut Target<'_>, batch: &mut Vec<R>) -> Result<u64, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let mut insert = QueryBuilder::<Postgres>::new(R::INSERT);
    insert.push_values(batch.drain(..), |mut values, row| row.bind(&mut values));
    let done = insert.build().execute(&mut **into).await.map_err(database)?;
    Ok(done.rows_affected())
}

impl CopiedRow for PatientCopy {
    const TABLE: &'static str = "patients";
    const SELECT: &'static str = "SELECT * FROM patients ORDER BY id";
    const INSERT: &'static str = "INSERT INTO patients (id, nhs_number, mrn, family_name, given_names, title, family_name_key, date_of_birth, sex, address, postcode, gp_practice_ods, gp_practice_name, deceased, deceased_date, created_at_utc, nhs_number_failing_check) ";
    fn bind(self, values: &mut sqlx::query_builder::Separated<'_, Postgres, &'static str>) {
        values
            .push_bind(self.id)
            .push_bind(self.nhs_number)
            .push_bind(self.mrn)
            .push_bind(self.family_name)
            .push_bind(self.given_names)
            .push_bind(self.title)
            .push_bind(self.family_name_key)
            .push_bind(self.date_of_birth)
            .push_bind(self.sex)
            .push_bind(self.address)
            .push_bind(self.postcode)
            .push_bind(self.gp_practice_ods)
            .push_bind(self.gp_practice_name)
            .push_bind(self.deceased)
            .push_bind(self.deceased_date)
            .push_bind(self.created_at_utc)
            .push_bind(self.nhs_number_failing_check);
    }
}

impl CopiedRow for EntryCopy {
    const TABLE: &'static str = "audit_log";
    const SELECT: &'static str = "SELECT * FROM audit_log ORDER BY seq";
    const INSERT: &'static str = "INSERT INTO audit_log (seq, at_utc, actor, workstation, action, patient_id, record_ids, outcome, prev_hash, hash) ";
    fn bind(self, values: &mut sqlx::query_builder::Separated<'_, Postgres, &'static str>) {
        values
            .push_bind(self.seq)
            .push_bind(self.at_utc)
            .push_bind(self.actor)
            .push_bind(self.workstation)
            .push_bind(self.action)
            .push_bind(self.patient_id)
            .push_bind(self.record_ids)
            .push_bind(self.outcome)
            .push_bind(self.prev_hash)
            .push_bind(self.hash);
    }
}

async fn copy_users(from: &mut Tx, into: &mut Target<'_>) -> Result<u64, StoreError> {
    let users: Vec<UserCopy> =
        on_tx!(from, |c| sqlx::query_as("SELECT * FROM users ORDER BY user_id").fetch_all(&mut *c).await)
            .map_err(database)?;
    for user in &users {
        sqlx::query(
            "INSERT INTO users (user_id, display_name, job_title, professional_body, registration_number, roles, disabled, enrolled_at_utc, card_key_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&user.user_id)
        .bind(&user.display_name)
        .bind(&user.job_title)
        .bind(&user.professional_body)
        .bind(&user.registration_number)
        .bind(&user.roles)
        .bind(user.disabled)
        .bind(&user.enrolled_at_utc)
        .bind(&user.card_key_sha256)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    Ok(users.len() as u64)
}

async fn copy_audit(
    from: &mut Tx,
    into: &mut Target<'_>,
    total: u64,
    progress: &mut impl FnMut(CopyProgress),
) -> Result<u64, StoreError> {
    let copied = copy_table::<EntryCopy>(from, into, total, progress).await?;
    let head: Option<(i64, String)> =
        on_tx!(from, |c| sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&mut *c)
            .await)
        .map_err(database)?;
    if let Some((seq, hash)) = head {
        sqlx::query("INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)")
            .bind(seq)
            .bind(hash)
            .execute(&mut **into)
            .await
            .map_err(database)?;
    }
    Ok(copied)
}

#[derive(sqlx::FromRow)]
struct CourseCopy {
    id: i64,
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
    created_at_utc: String,
}

#[derive(sqlx::FromRow)]
struct CycleCopy {
    id: i64,
    course_id: i64,
    number: i64,
    state: String,
    treatment_date: String,
    document: String,
    row_version: i64,
}

#[derive(sqlx::FromRow)]
struct DoseCopy {
    id: i64,
    patient_id: i64,
    cycle_id: Option<i64>,
    drug: String,
    dose: String,
    unit: String,
    dose_per_m2: Option<String>,
    given_at_utc: String,
    site: String,
}

/// SACT courses, cycles and doses given, ids kept, as they stand.
async fn copy_sact(from: &mut Tx, into: &mut Target<'_>) -> Result<(), StoreError> {
    let courses: Vec<CourseCopy> =
        on_tx!(from, |c| sqlx::query_as("SELECT * FROM sact_courses ORDER BY id").fetch_all(&mut *c).await)
            .map_err(database)?;
    for k in courses {
        sqlx::query(
            "INSERT INTO sact_courses (id, patient_id, regimen_code, regimen_version, regimen_sha256, policy_version,
                 banding_version, intent, line, consultant, planned_cycles, start_date, created_at_utc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(k.id)
        .bind(k.patient_id)
        .bind(k.regimen_code)
        .bind(k.regimen_version)
        .bind(k.regimen_sha256)
        .bind(k.policy_version)
        .bind(k.banding_version)
        .bind(k.intent)
        .bind(k.line)
        .bind(k.consultant)
        .bind(k.planned_cycles)
        .bind(k.start_date)
        .bind(k.created_at_utc)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    let cycles: Vec<CycleCopy> =
        on_tx!(from, |c| sqlx::query_as("SELECT * FROM sact_cycles ORDER BY id").fetch_all(&mut *c).await)
            .map_err(database)?;
    for c in cycles {
        sqlx::query(
            "INSERT INTO sact_cycles (id, course_id, number, state, treatment_date, document, row_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id)
        .bind(c.course_id)
        .bind(c.number)
        .bind(c.state)
        .bind(c.treatment_date)
        .bind(c.document)
        .bind(c.row_version)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    let doses: Vec<DoseCopy> = on_tx!(from, |c| sqlx::query_as("SELECT * FROM sact_doses_given ORDER BY id")
        .fetch_all(&mut *c)
        .await)
    .map_err(database)?;
    for d in doses {
        sqlx::query(
            "INSERT INTO sact_doses_given (id, patient_id, cycle_id, drug, dose, unit, dose_per_m2, given_at_utc, site)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(d.id)
        .bind(d.patient_id)
        .bind(d.cycle_id)
        .bind(d.drug)
        .bind(d.dose)
        .bind(d.unit)
        .bind(d.dose_per_m2)
        .bind(d.given_at_utc)
        .bind(d.site)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    Ok(())
}

/// A demonstration store stays one; nothing else in `store_facts` belongs to a
/// server (the recovery key's record is the local file's).
async fn copy_demonstration_mark(from: &mut Tx, into: &mut Target<'_>) -> Result<(), StoreError> {
    let mark: Option<(String,)> =
        on_tx!(from, |c| sqlx::query_as("SELECT value FROM store_facts WHERE name = 'demonstration_store'")
            .fetch_optional(&mut *c)
            .await)
        .map_err(database)?;
    if let Some((value,)) = mark {
        sqlx::query("INSERT INTO store_facts (name, value) VALUES ('demonstration_store', $1)")
            .bind(value)
            .execute(&mut **into)
            .await
            .map_err(database)?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ApprovalCopy {
    id: i64,
    regimen_code: String,
    regimen_version: String,
    content_sha256: String,
    approved_by: String,
    capacity: String,
    note: String,
    approved_at_utc: String,
}

#[derive(sqlx::FromRow)]
struct ReceivedCopy {
    id: i64,
    regimen_code: String,
    regimen_version: String,
    content_sha256: String,
    document: String,
    received_from: String,
    received_by: String,
    received_at_utc: String,
}

/// The site's regimen approvals and received regimen versions: without them a
/// copied site could prescribe nothing it had approved.
async fn copy_regimens(from: &mut Tx, into: &mut Target<'_>) -> Result<(), StoreError> {
    let approvals: Vec<ApprovalCopy> =
        on_tx!(from, |c| sqlx::query_as("SELECT * FROM regimen_approvals ORDER BY id")
            .fetch_all(&mut *c)
            .await)
        .map_err(database)?;
    for a in approvals {
        sqlx::query(
            "INSERT INTO regimen_approvals (id, regimen_code, regimen_version, content_sha256, approved_by, capacity, note, approved_at_utc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(a.id)
        .bind(a.regimen_code)
        .bind(a.regimen_version)
        .bind(a.content_sha256)
        .bind(a.approved_by)
        .bind(a.capacity)
        .bind(a.note)
        .bind(a.approved_at_utc)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    let received: Vec<ReceivedCopy> =
        on_tx!(from, |c| sqlx::query_as("SELECT * FROM regimen_versions ORDER BY id")
            .fetch_all(&mut *c)
            .await)
        .map_err(database)?;
    for r in received {
        sqlx::query(
            "INSERT INTO regimen_versions (id, regimen_code, regimen_version, content_sha256, document, received_from, received_by, received_at_utc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.id)
        .bind(r.regimen_code)
        .bind(r.regimen_version)
        .bind(r.content_sha256)
        .bind(r.document)
        .bind(r.received_from)
        .bind(r.received_by)
        .bind(r.received_at_utc)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ListCopy {
    id: i64,
    user_id: String,
    patient_id: i64,
    reason: String,
    added_at_utc: String,
    removed_at_utc: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StayCopy {
    id: i64,
    patient_id: i64,
    state: String,
    ward: Option<String>,
    room: Option<String>,
    bed: Option<String>,
    latest_utc: String,
    document: String,
    row_version: i64,
}

#[derive(sqlx::FromRow)]
struct BedCopy {
    id: i64,
    ward: String,
    room: String,
    bed: String,
    state: String,
    patient_id: Option<i64>,
    changed_at_utc: String,
}

/// The messages received (so a resend after the move is still recognised),
/// merges, stays and beds, and the laboratory results.
async fn copy_interface(from: &mut Tx, into: &mut Target<'_>) -> Result<(), StoreError> {
    let messages: Vec<crate::interface::MessageRow> =
        on_tx!(from, |c| sqlx::query_as("SELECT * FROM interface_messages ORDER BY id")
            .fetch_all(&mut *c)
            .await)
        .map_err(database)?;
    for m in messages {
        sqlx::query(
            "INSERT INTO interface_messages (id, sending_application, sending_facility, control_id, message_type, event, occurred_at_utc, received_at_utc, status, error, document)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(m.id)
        .bind(m.sending_application)
        .bind(m.sending_facility)
        .bind(m.control_id)
        .bind(m.message_type)
        .bind(m.event)
        .bind(m.occurred_at_utc)
        .bind(m.received_at_utc)
        .bind(m.status)
        .bind(m.error)
        .bind(m.document)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    let merges: Vec<(i64, i64)> = on_tx!(from, |c| sqlx::query_as(
        "SELECT id, merged_into FROM patients WHERE merged_into IS NOT NULL ORDER BY id"
    )
    .fetch_all(&mut *c)
    .await)
    .map_err(database)?;
    for (id, into_id) in merges {
        sqlx::query("UPDATE patients SET merged_into = $1 WHERE id = $2")
            .bind(into_id)
            .bind(id)
            .execute(&mut **into)
            .await
            .map_err(database)?;
    }
    let stays: Vec<StayCopy> =
        on_tx!(from, |c| sqlx::query_as(
            "SELECT id, patient_id, state, ward, room, bed, latest_utc, document, row_version FROM stays ORDER BY id"
        )
        .fetch_all(&mut *c)
        .await)
        .map_err(database)?;
    for StayCopy {
        id,
        patient_id,
        state,
        ward,
        room,
        bed,
        latest_utc: latest,
        document,
        row_version: version,
    } in stays
    {
        sqlx::query(
            "INSERT INTO stays (id, patient_id, state, ward, room, bed, latest_utc, document, row_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(patient_id)
        .bind(state)
        .bind(ward)
        .bind(room)
        .bind(bed)
        .bind(latest)
        .bind(document)
        .bind(version)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    let beds: Vec<BedCopy> = on_tx!(from, |c| sqlx::query_as(
        "SELECT id, ward, room, bed, state, patient_id, changed_at_utc FROM beds ORDER BY id"
    )
    .fetch_all(&mut *c)
    .await)
    .map_err(database)?;
    for BedCopy { id, ward, room, bed, state, patient_id, changed_at_utc: changed } in beds {
        sqlx::query(
            "INSERT INTO beds (id, ward, room, bed, state, patient_id, changed_at_utc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(ward)
        .bind(room)
        .bind(bed)
        .bind(state)
        .bind(patient_id)
        .bind(changed)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    let wards: Vec<(String, String)> =
        on_tx!(from, |c| sqlx::query_as("SELECT user_id, ward FROM user_wards").fetch_all(&mut *c).await)
            .map_err(database)?;
    for (user_id, ward) in wards {
        sqlx::query("INSERT INTO user_wards (user_id, ward) VALUES ($1, $2)")
            .bind(user_id)
            .bind(ward)
            .execute(&mut **into)
            .await
            .map_err(database)?;
    }
    let lists: Vec<ListCopy> = on_tx!(from, |c| {
        sqlx::query_as(
        "SELECT id, user_id, patient_id, reason, added_at_utc, removed_at_utc FROM patient_lists ORDER BY id"
    )
    .fetch_all(&mut *c)
    .await
    })
    .map_err(database)?;
    for l in lists {
        sqlx::query(
            "INSERT INTO patient_lists (id, user_id, patient_id, reason, added_at_utc, removed_at_utc) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(l.id)
        .bind(l.user_id)
        .bind(l.patient_id)
        .bind(l.reason)
        .bind(l.added_at_utc)
        .bind(l.removed_at_utc)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    let results: Vec<crate::KeptLabResult> =
        on_tx!(from, |c| sqlx::query_as("SELECT * FROM lab_results ORDER BY id").fetch_all(&mut *c).await)
            .map_err(database)?;
    for crate::KeptLabResult { id, result: r } in results {
        sqlx::query(
            "INSERT INTO lab_results (id, patient_id, message_id, code, name, value, value_type, units, reference_range, abnormal_flag, status, observed_at_utc, laboratory, used_for, held_because)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(id)
        .bind(r.patient_id)
        .bind(r.message_id)
        .bind(r.code)
        .bind(r.name)
        .bind(r.value)
        .bind(r.value_type)
        .bind(r.units)
        .bind(r.reference_range)
        .bind(r.abnormal_flag)
        .bind(r.status)
        .bind(r.observed_at_utc)
        .bind(r.laboratory)
        .bind(r.used_for)
        .bind(r.held_because)
        .execute(&mut **into)
        .await
        .map_err(database)?;
    }
    Ok(())
}
