//! The store on a real SQLCipher file and on a real PostgreSQL 15, the same
//! test bodies on each: newer versions, search, users, transactions, and an
//! audit trail that catches tampering. Wrong keys, the file's encryption, and
//! backup and restore are the local file's alone.

use std::path::Path;

use chrono::NaiveDate;
use patients::PatientQuery;
use patients::{NewPatient, NhsNumber, NhsNumberPolicy, Sex};
use std::sync::Arc;

use sqlx::{ConnectOptions, Connection, Row};
use store::{Actor, AuditVerdict, SharedDatabase, Store, StoreError, StoreKey};
use test_services::Postgres;

fn actor() -> Actor {
    Actor { user: "test:pharmacist".into(), workstation: "test-workstation".into() }
}

fn patient(nine: [u8; 9], family: &str, given: &str, born: (i32, u32, u32)) -> NewPatient {
    NewPatient {
        nhs_number: Some(NhsNumber::from_nine_digits(nine).expect("valid check digit")),
        nhs_number_failing_check: None,
        mrn: None,
        family_name: family.into(),
        given_names: given.into(),
        title: Some("Mx".into()),
        date_of_birth: NaiveDate::from_ymd_opt(born.0, born.1, born.2).expect("date"),
        sex: Sex::Unknown,
        address: None,
        postcode: None,
        gp_practice: None,
        deceased_date: None,
    }
}

async fn new_store(folder: &Path) -> (Store, StoreKey) {
    let key = StoreKey::generate().expect("randomness");
    let store = Store::create_with_key(&folder.join("store.db"), key.clone()).await.expect("created");
    (store, key)
}

fn four_patients() -> Vec<NewPatient> {
    vec![
        patient([9, 9, 9, 0, 0, 0, 0, 0, 1], "Quillfeather", "Ada", (1945, 7, 14)),
        patient([9, 9, 9, 0, 0, 0, 0, 0, 2], "Quillfeather", "Bertram", (1950, 1, 2)),
        patient([9, 9, 9, 0, 0, 0, 0, 0, 3], "Quibble", "Clementine", (1945, 7, 14)),
        patient([9, 9, 9, 0, 0, 0, 0, 0, 4], "Marchbanks", "Dudley", (1960, 3, 3)),
    ]
}

async fn seeded_store(folder: &Path) -> (Store, StoreKey) {
    let (store, key) = new_store(folder).await;
    store.patients().add_batch(&actor(), four_patients()).await.expect("added");
    (store, key)
}

/// A raw connection to the encrypted file, as someone with the key and a SQL prompt would have.
async fn raw(path: &Path, key: &StoreKey) -> sqlx::SqliteConnection {
    let recovery = key.recovery_text().replace('-', "");
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .pragma("key", format!("\"x'{recovery}'\""))
        // New stores authenticate their pages with HMAC-SHA256 (store::page_mac).
        .pragma("cipher_hmac_algorithm", "HMAC_SHA256")
        .connect()
        .await
        .expect("raw connection")
}

/// A new, empty store on one backend, with what a test needs to reopen it or
/// reach past it with SQL, as someone with the key or a database login would.
enum Harness {
    Local { folder: tempfile::TempDir, key: StoreKey },
    Shared { _server: Arc<Postgres>, database: SharedDatabase, url: String },
}

#[derive(Clone, Copy)]
enum Backend {
    Local,
    /// The local file, with the interface's calls on its direct writer (`begin_direct`).
    LocalDirect,
    Shared,
}

/// A write transaction as the test's backend takes one for the HL7 interface.
async fn begin_for(backend: Backend, store: &Store) -> store::StoreTransaction {
    match backend {
        Backend::LocalDirect => store.begin_direct().await.expect("begun on the direct writer"),
        Backend::Local | Backend::Shared => store.begin().await.expect("begun"),
    }
}

impl Harness {
    async fn new(backend: Backend, test: &str) -> Option<(Self, Store)> {
        match backend {
            Backend::Local | Backend::LocalDirect => {
                let folder = tempfile::tempdir().expect("temp");
                let (store, key) = new_store(folder.path()).await;
                Some((Self::Local { folder, key }, store))
            }
            Backend::Shared => {
                let server = Postgres::shared_or_skip(test)?;
                let url = server.fresh_database();
                let database = SharedDatabase::parse(&url).expect("a loopback URL");
                let store = Store::create_shared(&database).await.expect("created");
                Some((Self::Shared { _server: server, database, url }, store))
            }
        }
    }

    async fn seeded(backend: Backend, test: &str) -> Option<(Self, Store)> {
        let (harness, store) = Self::new(backend, test).await?;
        store.patients().add_batch(&actor(), four_patients()).await.expect("added");
        Some((harness, store))
    }

    async fn reopen(&self) -> Result<Store, StoreError> {
        match self {
            Self::Local { folder, key } => {
                Store::open_with_key(&folder.path().join("store.db"), key.clone()).await
            }
            Self::Shared { database, .. } => Store::open_shared(database).await,
        }
    }

    /// Runs statements straight on the database, past the store.
    async fn sql(&self, statements: &str) {
        let statements = sqlx::AssertSqlSafe(statements.to_owned());
        match self {
            Self::Local { folder, key } => {
                let mut connection = raw(&folder.path().join("store.db"), key).await;
                sqlx::raw_sql(statements).execute(&mut connection).await.expect("statements run");
                connection.close().await.expect("closed");
            }
            Self::Shared { url, .. } => {
                let mut connection = sqlx::PgConnection::connect(url).await.expect("raw connection");
                sqlx::raw_sql(statements).execute(&mut connection).await.expect("statements run");
                connection.close().await.expect("closed");
            }
        }
    }

    fn is_local(&self) -> bool {
        matches!(self, Self::Local { .. })
    }
}

/// Each named test body runs on the local file and on a shared PostgreSQL,
/// as `local::NAME` and `shared::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Local, stringify!($name)).await
                }
            )*
        }
        mod shared {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Shared, concat!("shared::", stringify!($name))).await
                }
            )*
        }
    };
}

/// The interface's store calls, on the local file's direct writer as well,
/// as `local_direct::NAME`.
macro_rules! on_the_direct_writer_too {
    ($($name:ident),* $(,)?) => {
        mod local_direct {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::LocalDirect, stringify!($name)).await
                }
            )*
        }
    };
}

on_the_direct_writer_too!(
    an_hl7_message_is_kept_once_by_its_key_and_a_resend_writes_nothing,
    the_interface_error_queue_is_read_audited_and_a_replay_takes_a_message_off_it,
    lab_results_are_kept_exactly_and_a_check_finds_the_latest_usable_one,
    a_stay_is_moved_only_from_the_version_read_and_beds_follow,
    a_merge_moves_every_record_to_the_surviving_patient,
    a_direct_transaction_dropped_uncommitted_keeps_nothing_and_refuses_what_it_does_not_offer,
    a_patient_added_by_the_feed_with_an_identifier_already_held_is_refused_naming_it,
);

on_both_backends!(
    a_patient_added_by_the_feed_with_an_identifier_already_held_is_refused_naming_it,
    a_direct_transaction_dropped_uncommitted_keeps_nothing_and_refuses_what_it_does_not_offer,
    a_store_from_a_newer_version_is_refused_untouched,
    search_finds_by_nhs_number_mrn_and_name_prefix_with_birth_date,
    a_duplicate_nhs_number_is_refused_and_the_refusal_audited,
    reads_and_searches_are_audited_with_the_record_ids,
    an_edited_audit_entry_is_named,
    a_deleted_audit_entry_is_named,
    reordered_audit_entries_are_named,
    an_entry_deleted_then_renumbered_and_relinked_is_named,
    an_emptied_trail_is_broken_not_intact,
    a_new_store_begins_its_trail_with_a_genesis_entry,
    a_tail_cut_after_an_anchor_is_named_by_the_anchor,
    entries_deleted_from_the_end_are_named,
    a_head_with_another_hash_is_named,
    a_deleted_head_is_named,
    a_trail_begun_again_without_its_genesis_entry_is_named,
    an_anchor_whose_entry_has_another_hash_is_named,
    users_are_enrolled_read_and_disabled_with_each_act_audited,
    writes_in_one_transaction_commit_together_or_not_at_all,
    a_write_without_its_audit_entry_is_never_committed,
    status_says_which_backend_and_where,
    a_course_keeps_the_regimen_version_and_hashes_it_was_pinned_to,
    of_two_updates_from_the_same_version_of_a_cycle_one_wins,
    lifetime_totals_are_summed_exactly_from_the_doses_given,
    a_patients_courses_and_the_days_treatment_list_are_read_with_the_read_audited,
    a_received_regimen_version_is_kept_as_received_and_never_changes,
    the_sact_returns_read_holds_the_periods_given_cycles_and_is_audited_once,
    a_queue_page_holds_its_cycles_courses_and_patients_and_is_audited_once,
    an_hl7_message_is_kept_once_by_its_key_and_a_resend_writes_nothing,
    the_interface_error_queue_is_read_audited_and_a_replay_takes_a_message_off_it,
    lab_results_are_kept_exactly_and_a_check_finds_the_latest_usable_one,
    a_stay_is_moved_only_from_the_version_read_and_beds_follow,
    a_merge_moves_every_record_to_the_surviving_patient,
    a_relationship_is_a_stay_on_ones_ward_or_a_place_on_ones_list,
    a_discharge_draft_is_saved_only_from_the_version_read_and_never_once_signed,
    an_outbox_row_is_queued_once_per_recipient_and_claimed_by_one_sender_at_a_time,
    an_itk3_response_finds_its_send_by_message_id_and_a_negative_one_fails_it_for_good,
);

#[tokio::test]
async fn the_file_on_disk_is_not_plain_sqlite() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = seeded_store(folder.path()).await;
    let status = store.status().await.expect("status");
    assert!(status.engine_version.starts_with("SQLCipher 4"), "{}", status.engine_version);
    store.close().await;
    let header = std::fs::read(folder.path().join("store.db")).expect("file")[..16].to_vec();
    assert_ne!(header, b"SQLite format 3\0");
}

#[tokio::test]
async fn a_wrong_key_is_named_as_such() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = seeded_store(folder.path()).await;
    store.close().await;
    let wrong = StoreKey::generate().expect("randomness");
    let error = Store::open_with_key(&folder.path().join("store.db"), wrong).await.err().expect("refused");
    assert!(matches!(error, StoreError::WrongKey { .. }), "{error}");
    assert!(error.to_string().contains("store.db"), "names the store: {error}");
}

async fn a_store_from_a_newer_version_is_refused_untouched(backend: Backend, test: &str) {
    let Some((harness, store)) = Harness::seeded(backend, test).await else { return };
    store.close().await;
    harness
        .sql(if harness.is_local() {
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (99990101000000, 'future', '2030-01-01', 1, x'00', 0)"
        } else {
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (99990101000000, 'future', now(), true, '\\x00', 0)"
        })
        .await;
    let error = harness.reopen().await.err().expect("refused");
    assert!(matches!(error, StoreError::NewerVersion { found: 99990101000000, .. }), "{error}");
}

#[tokio::test]
async fn a_new_store_is_never_created_over_an_existing_file() {
    let folder = tempfile::tempdir().expect("temp");
    let path = folder.path().join("store.db");
    std::fs::write(&path, b"something precious").expect("write");
    let error =
        Store::create_with_key(&path, StoreKey::generate().expect("key")).await.err().expect("refused");
    assert!(matches!(error, StoreError::AlreadyExists { .. }));
    assert_eq!(std::fs::read(&path).expect("still there"), b"something precious");
}

async fn search_finds_by_nhs_number_mrn_and_name_prefix_with_birth_date(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let policy = NhsNumberPolicy::default();
    let by_name = store
        .patients()
        .search(&actor(), &PatientQuery::parse("quill", None, policy).expect("query"), 50)
        .await
        .expect("search");
    assert_eq!(
        by_name.iter().map(|p| p.display_name.as_str()).collect::<Vec<_>>(),
        ["QUILLFEATHER, Ada (Mx)", "QUILLFEATHER, Bertram (Mx)"]
    );
    let born = NaiveDate::from_ymd_opt(1945, 7, 14);
    let by_name_and_birth = store
        .patients()
        .search(&actor(), &PatientQuery::parse("QUI", born, policy).expect("query"), 50)
        .await
        .expect("search");
    assert_eq!(by_name_and_birth.len(), 2, "Ada Quillfeather and Clementine Quibble share the birth date");
    let number = NhsNumber::from_nine_digits([9, 9, 9, 0, 0, 0, 0, 0, 4]).expect("valid").to_string();
    let by_number = store
        .patients()
        .search(&actor(), &PatientQuery::parse(&number, None, policy).expect("query"), 50)
        .await
        .expect("search");
    assert_eq!(by_number.len(), 1);
    assert_eq!(by_number[0].display_name, "MARCHBANKS, Dudley (Mx)");
}

#[tokio::test]
async fn an_invalid_nhs_number_in_a_search_is_refused_with_the_reason() {
    let error =
        PatientQuery::parse("943 476 5918", None, NhsNumberPolicy::default()).expect_err("bad check digit");
    assert!(error.to_string().contains("check digit"), "{error}");
}

async fn a_duplicate_nhs_number_is_refused_and_the_refusal_audited(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let twin = patient([9, 9, 9, 0, 0, 0, 0, 0, 1], "Other", "Person", (1970, 1, 1));
    let error = store.patients().add(&actor(), twin).await.expect_err("duplicate");
    assert!(matches!(error, StoreError::Duplicate { field: "NHS number" }));
    assert_eq!(store.status().await.expect("status").patients, 4, "nothing half-written");
    let today = chrono::Utc::now();
    let entries = store
        .audit()
        .entries(today - chrono::Duration::days(1), today + chrono::Duration::days(1))
        .await
        .expect("entries");
    assert_eq!(entries.last().map(|e| e.outcome.as_str()), Some("refused: NHS number"));
}

async fn audit_today(store: &Store) -> Vec<store::AuditEntry> {
    let today = chrono::Utc::now();
    store
        .audit()
        .entries(today - chrono::Duration::days(1), today + chrono::Duration::days(1))
        .await
        .expect("entries")
}

async fn reads_and_searches_are_audited_with_the_record_ids(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    store.patients().read(&actor(), 3).await.expect("read");
    let entries = audit_today(&store).await;
    let read = entries.last().expect("an entry");
    assert_eq!(
        (read.action.as_str(), read.patient_id, read.actor.as_str(), read.record_ids.as_str()),
        ("patient.read", Some(3), "test:pharmacist", r#"["patient:3"]"#)
    );
    assert_eq!(read.workstation, "test-workstation");

    let query = PatientQuery::parse("quillf", None, NhsNumberPolicy::default()).expect("query");
    let found = store.patients().search(&actor(), &query, 50).await.expect("search");
    let mut found_ids: Vec<String> = found.iter().map(|p| format!("patient:{}", p.id)).collect();
    found_ids.sort_unstable();
    let entries = audit_today(&store).await;
    let search = entries.last().expect("the search is audited");
    assert!(search.action.starts_with("patient.search"), "{search:?}");
    let mut audited_ids: Vec<String> = serde_json::from_str(&search.record_ids).expect("a JSON array");
    audited_ids.sort_unstable();
    assert_eq!(audited_ids, found_ids, "the search names every record it showed");
    assert_eq!(found_ids.len(), 2);
}

/// The verdict on a trail of six entries after `statement` changed it behind
/// the store's back; `None` where the backend is not here (the test says so).
async fn tampered(backend: Backend, test: &str, statement: &str) -> Option<AuditVerdict> {
    let (harness, store) = Harness::seeded(backend, test).await?;
    for id in 1..=4 {
        store.patients().read(&actor(), id).await.expect("read");
    }
    assert_eq!(store.audit().verify().await.expect("verify"), AuditVerdict::Intact { entries: 6 });
    store.close().await;
    harness.sql(statement).await;
    let store = harness.reopen().await.expect("opens");
    Some(store.audit().verify().await.expect("verify"))
}

async fn an_edited_audit_entry_is_named(backend: Backend, test: &str) {
    let Some(verdict) =
        tampered(backend, test, "UPDATE audit_log SET actor = 'someone else' WHERE seq = 3").await
    else {
        return;
    };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 3, problem } if problem.contains("edited")),
        "{verdict:?}"
    );
}

async fn a_deleted_audit_entry_is_named(backend: Backend, test: &str) {
    let Some(verdict) = tampered(backend, test, "DELETE FROM audit_log WHERE seq = 3").await else { return };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 3, problem } if problem.contains("deleted")),
        "{verdict:?}"
    );
}

async fn reordered_audit_entries_are_named(backend: Backend, test: &str) {
    let Some(verdict) = tampered(backend, test, "UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1").await else { return };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 2, problem } if problem.contains("out of order")),
        "{verdict:?}"
    );
}

async fn an_entry_deleted_then_renumbered_and_relinked_is_named(backend: Backend, test: &str) {
    // The chain as someone with a SQL prompt would mend it after deleting entry 3:
    // later entries renumbered, the next one's link pointed at entry 2, the head moved.
    let Some(verdict) = tampered(
        backend,
        test,
        "DELETE FROM audit_log WHERE seq = 3;
         UPDATE audit_log SET seq = seq - 1 WHERE seq > 3;
         UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE seq = 3;
         UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_log), hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1);",
    )
    .await
    else {
        return;
    };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 3, problem } if problem.contains("edited")),
        "{verdict:?}"
    );
}

async fn an_emptied_trail_is_broken_not_intact(backend: Backend, test: &str) {
    let Some(verdict) = tampered(backend, test, "DELETE FROM audit_log; DELETE FROM audit_head;").await
    else {
        return;
    };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 1, problem } if problem.contains("genesis")),
        "{verdict:?}"
    );
}

async fn a_new_store_begins_its_trail_with_a_genesis_entry(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::new(backend, test).await else { return };
    assert_eq!(store.audit().verify().await.expect("verify"), AuditVerdict::Intact { entries: 1 });
    let entries = audit_today(&store).await;
    assert_eq!(entries.first().map(|e| e.action.as_str()), Some("store.genesis"));
}

async fn a_tail_cut_after_an_anchor_is_named_by_the_anchor(backend: Backend, test: &str) {
    let Some((harness, store)) = Harness::seeded(backend, test).await else { return };
    for id in 1..=4 {
        store.patients().read(&actor(), id).await.expect("read");
    }
    let anchor = store.audit().anchor().await.expect("anchor");
    assert_eq!(anchor.seq, 6);
    let line = format!("Nov 30 09:00:00 ws1 clinical-workstation[42]: {}", anchor.line());
    assert_eq!(store::AuditAnchor::parse(&line), Some(anchor.clone()), "read back from a syslog line");
    store.close().await;
    // Cut the tail and make the rest consistent again: the head moved back to entry 4.
    harness
        .sql(
            "DELETE FROM audit_log WHERE seq > 4;
             UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4);",
        )
        .await;
    let store = harness.reopen().await.expect("opens");
    assert_eq!(
        store.audit().verify().await.expect("verify"),
        AuditVerdict::Intact { entries: 4 },
        "unseen without the anchor"
    );
    let verdict = store.audit().verify_against(&[anchor]).await.expect("verify");
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 6, problem } if problem.contains("missing")),
        "{verdict:?}"
    );
}

async fn entries_deleted_from_the_end_are_named(backend: Backend, test: &str) {
    let Some(verdict) = tampered(backend, test, "DELETE FROM audit_log WHERE seq >= 4").await else { return };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 4, problem } if problem.contains("deleted from the end")),
        "{verdict:?}"
    );
}

async fn every_table(path: &Path, key: &StoreKey) -> Vec<(String, Vec<String>)> {
    let mut connection = raw(path, key).await;
    let tables: Vec<String> =
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut connection)
            .await
            .expect("tables")
            .iter()
            .map(|row| row.get::<String, _>(0))
            .collect();
    let mut contents = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(&mut connection)
            .await
            .expect("columns")
            .iter()
            .map(|row| format!("quote(\"{}\")", row.get::<String, _>(0)))
            .collect();
        let sql = format!("SELECT {} FROM \"{table}\" ORDER BY rowid", columns.join(" || '|' || "));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut connection).await.expect("rows");
        contents.push((table, rows.iter().map(|row| row.get::<String, _>(0)).collect()));
    }
    connection.close().await.expect("closed");
    contents
}

#[tokio::test]
async fn a_restored_backup_matches_the_store_table_by_table() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, key) = seeded_store(folder.path()).await;
    let backup = folder.path().join("backup.db");
    let original = every_table(&folder.path().join("store.db"), &key).await;
    let admin = store::LocalFileAdmin::new(store).expect("a local store");
    admin.backup(&actor(), &backup).await.expect("backup");
    admin.close().await;

    let header = std::fs::read(&backup).expect("backup file")[..16].to_vec();
    assert_ne!(header, b"SQLite format 3\0", "the backup is encrypted too");

    let elsewhere = folder.path().join("restored.db");
    let restored =
        store::LocalFileAdmin::restore(&elsewhere, &backup, key.clone(), &actor()).await.expect("restore");
    restored.close().await;
    let mut copy = every_table(&elsewhere, &key).await;
    // The restore is audited in the restored store after the copy: set that entry aside.
    let audit = copy.iter_mut().find(|(name, _)| name == "audit_log").expect("audit table");
    assert!(audit.1.pop().is_some_and(|entry| entry.contains("store.restore")));
    let head = copy.iter_mut().find(|(name, _)| name == "audit_head").expect("head table");
    head.1 = original.iter().find(|(name, _)| name == "audit_head").expect("head").1.clone();
    assert_eq!(copy, original);
}

async fn a_head_with_another_hash_is_named(backend: Backend, test: &str) {
    let Some(verdict) =
        tampered(backend, test, "UPDATE audit_head SET hash = 'ffff' || substr(hash, 5)").await
    else {
        return;
    };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { problem, .. } if problem.contains("deleted from the end")),
        "{verdict:?}"
    );
}

async fn a_deleted_head_is_named(backend: Backend, test: &str) {
    let Some(verdict) = tampered(backend, test, "DELETE FROM audit_head").await else { return };
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 6, problem } if problem.contains("no recorded head")),
        "{verdict:?}"
    );
}

/// Someone with the key empties the trail and lets the store write a fresh,
/// self-consistent chain: only the missing genesis entry gives it away.
async fn a_trail_begun_again_without_its_genesis_entry_is_named(backend: Backend, test: &str) {
    let Some((harness, store)) = Harness::seeded(backend, test).await else { return };
    store.close().await;
    harness.sql("DELETE FROM audit_log; DELETE FROM audit_head;").await;
    let store = harness.reopen().await.expect("opens");
    store.patients().read(&actor(), 1).await.expect("a read, audited as entry 1 of a new chain");
    let verdict = store.audit().verify().await.expect("verify");
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 1, problem } if problem.contains("not the genesis entry")),
        "{verdict:?}"
    );
}

async fn an_anchor_whose_entry_has_another_hash_is_named(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let mut anchor = store.audit().anchor().await.expect("anchor");
    assert_eq!(
        store.audit().verify_against(std::slice::from_ref(&anchor)).await.expect("verify"),
        AuditVerdict::Intact { entries: 2 }
    );
    anchor.hash = "0".repeat(64);
    let verdict = store.audit().verify_against(&[anchor]).await.expect("verify");
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 2, problem } if problem.contains("another hash")),
        "{verdict:?}"
    );
}

async fn users_are_enrolled_read_and_disabled_with_each_act_audited(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::new(backend, test).await else { return };
    let user = store::EnrolledUser {
        user_id: "555000000001".into(),
        display_name: "Dr Test Quillfeather".into(),
        job_title: "Consultant".into(),
        professional_body: Some("GMC".into()),
        registration_number: Some("0000001".into()),
        roles: vec![store::EnrolledRole { code: "R8000".into(), name: "Clinical Practitioner".into() }],
        disabled: false,
        card_key_sha256: Some("ab".repeat(32)),
    };
    store.users().enrol(&actor(), &user).await.expect("enrolled");
    assert_eq!(store.users().get("555000000001").await.expect("read"), Some(user.clone()));
    store.users().disable(&actor(), "555000000001").await.expect("disabled");
    assert!(store.users().list().await.expect("users")[0].disabled);
    let refused = store.users().disable(&actor(), "555000000099").await.expect_err("no such user");
    assert!(refused.to_string().contains("555000000099"), "{refused}");
    let actions: Vec<String> = audit_today(&store).await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["store.genesis", "user.enrol", "user.disable"]);
    assert_eq!(store.audit().verify().await.expect("verify"), AuditVerdict::Intact { entries: 3 });
}

/// A workflow's writes and their audit entries commit together, or, when it
/// stops half-way, none of them does and the chain is as it was.
async fn writes_in_one_transaction_commit_together_or_not_at_all(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let before = store.audit().anchor().await.expect("anchor");
    let mut abandoned = store.begin().await.expect("begun");
    abandoned
        .audit(&actor(), store::AuditAction::PatientRead, Some(1), &[store::RecordRef::Patient(1)], "ok")
        .await
        .expect("audited");
    drop(abandoned);
    assert_eq!(store.audit().anchor().await.expect("anchor").seq, before.seq, "nothing of it was kept");

    let mut whole = store.begin().await.expect("begun");
    for id in [1, 2] {
        whole
            .audit(
                &actor(),
                store::AuditAction::PatientRead,
                Some(id),
                &[store::RecordRef::Patient(id)],
                "ok",
            )
            .await
            .expect("audited");
    }
    whole.commit().await.expect("committed");
    assert_eq!(store.audit().anchor().await.expect("anchor").seq, before.seq + 2);
    assert_eq!(
        store.audit().verify().await.expect("verify"),
        AuditVerdict::Intact { entries: before.seq + 2 }
    );
}

async fn status_says_which_backend_and_where(backend: Backend, test: &str) {
    let Some((harness, store)) = Harness::seeded(backend, test).await else { return };
    let status = store.status().await.expect("status");
    assert_eq!((status.patients, status.audit_entries, status.schema_version), (4, 2, 16));
    if harness.is_local() {
        assert_eq!(status.backend, "local encrypted file");
        assert!(status.engine_version.starts_with("SQLCipher 4"), "{}", status.engine_version);
        assert_eq!(status.integrity, "ok");
        assert!(status.location.ends_with("store.db"), "{}", status.location);
    } else {
        assert_eq!(status.backend, "shared PostgreSQL");
        assert!(status.engine_version.starts_with("PostgreSQL 15"), "{}", status.engine_version);
        assert!(status.location.starts_with("postgres://cws@127.0.0.1:"), "{}", status.location);
    }
}

/// A shared store is made only in an empty database, and opened only where one was made.
#[tokio::test]
async fn a_shared_store_is_made_only_in_an_empty_database_and_opened_only_where_made() {
    let Some(server) = Postgres::shared_or_skip("a_shared_store_is_made_only_in_an_empty_database") else {
        return;
    };
    let url = server.fresh_database();
    let database = SharedDatabase::parse(&url).expect("url");
    let error = Store::open_shared(&database).await.err().expect("nothing made here yet");
    assert!(matches!(error, StoreError::NotInitialised { .. }), "{error}");
    let mut connection = sqlx::PgConnection::connect(&url).await.expect("raw");
    sqlx::raw_sql("CREATE TABLE someone_elses (id INTEGER)").execute(&mut connection).await.expect("table");
    let error = Store::create_shared(&database).await.err().expect("not empty");
    assert!(matches!(error, StoreError::NotEmpty { .. }), "{error}");
}

/// The kernel keeps "every write is audited": a workflow that writes and does
/// not audit cannot commit, and nothing of it is kept.
async fn a_write_without_its_audit_entry_is_never_committed(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::new(backend, test).await else { return };
    let before = store.status().await.expect("status");
    let mut tx = store.begin().await.expect("begun");
    let quiet = patient([9, 9, 9, 0, 0, 0, 0, 0, 5], "Hushwhisper", "Una", (1980, 2, 2));
    tx.patients().insert(&quiet).await.expect("inserted");
    let refused = tx.commit().await.expect_err("no audit entry");
    assert!(refused.to_string().contains("no audit entry"), "{refused}");
    let after = store.status().await.expect("status");
    assert_eq!((after.patients, after.audit_entries), (before.patients, before.audit_entries));

    let mut tx = store.begin().await.expect("begun");
    let id = tx.patients().insert(&quiet).await.expect("inserted");
    tx.audit(&actor(), store::AuditAction::PatientCreate, Some(id), &[store::RecordRef::Patient(id)], "ok")
        .await
        .expect("audited");
    tx.commit().await.expect("committed with its entry");
    assert_eq!(store.status().await.expect("status").patients, before.patients + 1);
}

/// A server that does not answer is named, with the fix, and nothing else is said.
#[tokio::test]
async fn a_shared_store_that_cannot_be_reached_is_named() {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port").port();
    let database = SharedDatabase::parse(&format!("postgres://cws@127.0.0.1:{port}/cws")).expect("url");
    let error = Store::open_shared(&database).await.err().expect("nothing listens there");
    assert!(matches!(error, StoreError::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains(&format!("127.0.0.1:{port}/cws")), "{error}");
}

fn pinned_course(patient_id: i64) -> sact::Course {
    let pin = sact::RegimenPin {
        code: "R-CHOP-21".into(),
        version: "1.0".into(),
        content_sha256: "9f".repeat(32),
        policy_version: "site-2026-11".into(),
        banding_version: "nhse-2016".into(),
    };
    let consultant = session::UserId::parse("555000000001").expect("user id");
    let start = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
    sact::Course::new(patient_id, pin, sact::Intent::Curative, 1, consultant, 6, start).expect("course")
}

fn prescribed_cycle(number: u32) -> sact::Cycle {
    let line = sact::PrescribedDrug {
        drug: "doxorubicin".into(),
        day: "D1".into(),
        dose: "95".parse().expect("decimal"),
        unit: dosing::units::DoseUnit::Milligrams,
        route: "IV".into(),
    };
    let prescriber = session::UserId::parse("555000000001").expect("user id");
    sact::Cycle::prescribe(
        number,
        NaiveDate::from_ymd_opt(2026, 12, 7).expect("date"),
        prescriber,
        vec![line],
    )
    .expect("cycle")
}

/// Starts a course with its first cycle in one audited transaction; gives (course, cycle) ids.
async fn course_with_a_cycle(store: &Store) -> (i64, i64) {
    let mut tx = store.begin().await.expect("begun");
    let course = tx.sact().insert_course(&pinned_course(1)).await.expect("course");
    let cycle = tx.sact().insert_cycle(course, &prescribed_cycle(1)).await.expect("cycle");
    tx.audit(&actor(), store::AuditAction::SactPrescribe, Some(1), &[store::RecordRef::Cycle(cycle)], "ok")
        .await
        .expect("audited");
    tx.commit().await.expect("committed");
    (course, cycle)
}

async fn a_course_keeps_the_regimen_version_and_hashes_it_was_pinned_to(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let (course_id, cycle_id) = course_with_a_cycle(&store).await;
    assert_eq!(store.sact().course(&actor(), course_id).await.expect("read"), pinned_course(1));
    let stored = store.sact().cycle(&actor(), cycle_id).await.expect("read");
    assert_eq!((stored.course_id, stored.patient_id, stored.row_version), (course_id, 1, 1));
    assert_eq!(stored.cycle, prescribed_cycle(1));
    let mut tx = store.begin().await.expect("begun");
    let twice = tx.sact().insert_cycle(course_id, &prescribed_cycle(1)).await.expect_err("cycle 1 again");
    assert!(twice.to_string().contains("already prescribed"), "{twice}");
    let entries = audit_today(&store).await;
    let reads: Vec<&str> = entries.iter().rev().take(2).map(|e| e.record_ids.as_str()).collect();
    assert_eq!(
        reads,
        [format!("[\"cycle:{cycle_id}\"]"), format!("[\"course:{course_id}\"]")],
        "each read audited"
    );
}

/// Two pharmacists verify the same cycle at once: the first update wins, and
/// the second, made from the version both read, is refused and changes nothing.
async fn of_two_updates_from_the_same_version_of_a_cycle_one_wins(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let (_, cycle_id) = course_with_a_cycle(&store).await;
    let read = store.sact().cycle(&actor(), cycle_id).await.expect("read");
    let mut first = read.cycle.clone();
    let scope = sact::VerificationScope::site_default();
    let pharmacist = |id: &str| sact::Verifier {
        user_id: session::UserId::parse(id).expect("id"),
        role_code: "R8003".into(),
    };
    first.verify(&pharmacist("555000000002"), &scope).expect("verified");
    let mut second = read.cycle.clone();
    second.verify(&pharmacist("555000000006"), &scope).expect("verified");

    let mut tx = store.begin().await.expect("begun");
    let version = tx.sact().update_cycle(cycle_id, read.row_version, &first).await.expect("the first wins");
    tx.audit(
        &actor(),
        store::AuditAction::SactCycleUpdate,
        None,
        &[store::RecordRef::Cycle(cycle_id)],
        "ok: verified",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");
    assert_eq!(version, read.row_version + 1);

    let mut tx = store.begin().await.expect("begun");
    let refused =
        tx.sact().update_cycle(cycle_id, read.row_version, &second).await.expect_err("stale version");
    assert!(matches!(refused, StoreError::Changed { .. }), "{refused}");
    assert!(refused.to_string().contains("changed by someone else"), "{refused}");
    drop(tx);
    let now = store.sact().cycle(&actor(), cycle_id).await.expect("read");
    assert_eq!(now.cycle.verifier, Some(session::UserId::parse("555000000002").expect("id")));
}

async fn lifetime_totals_are_summed_exactly_from_the_doses_given(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let (_, cycle_id) = course_with_a_cycle(&store).await;
    let given =
        |drug: &str, dose: &str, per_m2: Option<&str>, site: &str, cycle: Option<i64>| store::DoseGiven {
            patient_id: 1,
            cycle_id: cycle,
            drug: drug.into(),
            dose: dose.parse().expect("decimal"),
            unit: "mg".into(),
            dose_per_m2: per_m2.map(|d| d.parse().expect("decimal")),
            given_at: chrono::Utc::now(),
            site: site.into(),
        };
    let mut tx = store.begin().await.expect("begun");
    for dose in [
        given("doxorubicin", "95.1", Some("50.05"), "RXX01", Some(cycle_id)),
        given("doxorubicin", "95.2", Some("50.1"), "RXX01", Some(cycle_id)),
        given("doxorubicin", "94.9", Some("49.95"), "RYY99", None),
        given("vincristine", "2", None, "RXX01", Some(cycle_id)),
    ] {
        tx.sact().record_dose_given(&dose).await.expect("recorded");
    }
    tx.audit(
        &actor(),
        store::AuditAction::SactDoseGiven,
        Some(1),
        &[store::RecordRef::Cycle(cycle_id)],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");
    let totals = store.sact().lifetime_totals(&actor(), 1).await.expect("totals");
    let doxorubicin = totals["doxorubicin"];
    assert_eq!(doxorubicin.total.to_string(), "285.2", "exact decimal sum, another site's dose counted");
    assert_eq!(doxorubicin.per_m2.to_string(), "150.10");
    assert_eq!(totals["vincristine"].total.to_string(), "2");
    assert!(store.sact().lifetime_totals(&actor(), 2).await.expect("totals").is_empty());
}

/// Moving a site carries its SACT record too: courses, cycles (at their row
/// versions) and doses given, so lifetime totals are the same on arrival.
#[tokio::test]
async fn a_store_copied_to_a_server_keeps_its_courses_cycles_and_doses_given() {
    let Some(server) =
        Postgres::shared_or_skip("a_store_copied_to_a_server_keeps_its_courses_cycles_and_doses_given")
    else {
        return;
    };
    let Some((_harness, local)) = Harness::seeded(Backend::Local, "copy").await else { return };
    let (course_id, cycle_id) = course_with_a_cycle(&local).await;
    let mut tx = local.begin().await.expect("begun");
    let dose = store::DoseGiven {
        patient_id: 1,
        cycle_id: Some(cycle_id),
        drug: "doxorubicin".into(),
        dose: "95".parse().expect("decimal"),
        unit: "mg".into(),
        dose_per_m2: Some("50".parse().expect("decimal")),
        given_at: chrono::Utc::now(),
        site: "RXX01".into(),
    };
    tx.sact().record_dose_given(&dose).await.expect("recorded");
    tx.audit(&actor(), store::AuditAction::SactDoseGiven, Some(1), &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");
    receive_a_version(&local, "2.0").await;
    let message =
        keep_message(Backend::Local, &local, "M-COPY", store::MessageStatus::Applied).await.expect("kept");
    let mut tx = local.begin().await.expect("begun");
    let stay = admitted_to("WARD7", "3");
    tx.stays().insert(1, &stay).await.expect("a stay");
    tx.stays()
        .set_bed(stay.location.as_ref().expect("bed"), adt::BedState::Occupied, Some(1))
        .await
        .expect("bed");
    tx.lab_results()
        .record_all(&[store::NewLabResult {
            patient_id: 1,
            message_id: message,
            code: "NEUT".into(),
            name: "Neutrophils".into(),
            value: "1.40".into(),
            value_type: "NM".into(),
            units: "10*9/L".into(),
            reference_range: "2.0-7.5".into(),
            abnormal_flag: "L".into(),
            status: "F".into(),
            observed_at_utc: "2026-11-30T08:00:00Z".into(),
            laboratory: "RXX-HAEM".into(),
            used_for: Some("neutrophils".into()),
            held_because: None,
        }])
        .await
        .expect("a result");
    tx.audit(&actor(), store::AuditAction::InterfaceReceive, Some(1), &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");
    let version = store::RegimenVersionRef { code: "R-CHOP-21", version: "2.0", content_sha256: "ab12" };
    let approval = sact::Approval {
        approved_by: session::UserId::parse("555000000001").expect("id"),
        capacity: sact::Capacity::Consultant,
    };
    let mut tx = local.begin().await.expect("begun");
    tx.regimen_approvals().insert(version, &approval, "approved").await.expect("approved");
    tx.audit(&actor(), store::AuditAction::RegimenApprove, None, &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");
    let target = SharedDatabase::parse(&server.fresh_database()).expect("url");
    local.copy_to_shared(&target, &actor(), |_| {}).await.expect("copied");
    let shared = Store::open_shared(&target).await.expect("opened");
    assert_eq!(shared.sact().course(&actor(), course_id).await.expect("course"), pinned_course(1));
    assert_eq!(shared.sact().cycle(&actor(), cycle_id).await.expect("cycle").cycle, prescribed_cycle(1));
    let totals = shared.sact().lifetime_totals(&actor(), 1).await.expect("totals");
    assert_eq!(totals["doxorubicin"].per_m2.to_string(), "50");
    let mut tx = shared.begin().await.expect("begun");
    let next = tx
        .sact()
        .insert_cycle(course_id, &prescribed_cycle(2))
        .await
        .expect("new ids follow the copied ones");
    assert!(next > cycle_id);
    assert!(matches!(shared.audit().verify().await.expect("verify"), AuditVerdict::Intact { .. }));
    assert_eq!(
        shared.regimen_approvals().of(version).await.expect("approvals"),
        vec![approval],
        "approvals travel"
    );
    assert!(
        shared.regimen_versions().get("R-CHOP-21", "2.0").await.expect("read").is_some(),
        "received versions travel"
    );
    assert_eq!(
        shared.interface_messages().status_of(&message_key("M-COPY")).await.expect("status"),
        Some((message, store::MessageStatus::Applied)),
        "a resend after the move is still recognised"
    );
    assert_eq!(
        shared.stays().latest(&actor(), 1).await.expect("read").map(|s| s.stay),
        Some(stay),
        "stays travel"
    );
    assert_eq!(shared.stays().beds().await.expect("beds").len(), 1, "and beds");
    let results = shared.lab_results().of_patient(&actor(), 1).await.expect("results");
    let values: Vec<&str> = results.iter().map(|r| r.result.value.as_str()).collect();
    assert_eq!(values, ["1.40"], "and results, exactly");
}

async fn receive_a_version(store: &Store, version: &str) {
    let mut tx = store.begin().await.expect("begun");
    tx.regimen_versions()
        .insert(
            "R-CHOP-21",
            version,
            "ab12",
            "{\"exact\": \"text\"}",
            "RXX99 regional centre",
            "555000000001",
        )
        .await
        .expect("kept");
    tx.audit(
        &actor(),
        store::AuditAction::RegimenImport,
        None,
        &[store::RecordRef::Regimen(format!("R-CHOP-21@{version}"))],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");
}

async fn a_received_regimen_version_is_kept_as_received_and_never_changes(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    receive_a_version(&store, "2.0").await;
    let kept = store.regimen_versions().get("R-CHOP-21", "2.0").await.expect("read").expect("there");
    assert_eq!((kept.document.as_str(), kept.content_sha256.as_str()), ("{\"exact\": \"text\"}", "ab12"));
    let mut tx = store.begin().await.expect("begun");
    let again = tx
        .regimen_versions()
        .insert("R-CHOP-21", "2.0", "cd34", "{}", "elsewhere", "555000000001")
        .await
        .expect_err("a version never changes");
    assert!(again.to_string().contains("already here"), "{again}");
    drop(tx);
    assert_eq!(store.regimen_versions().get("R-CHOP-21", "2.0").await.expect("read"), Some(kept));
    assert!(store.regimen_versions().get("R-CHOP-21", "3.0").await.expect("read").is_none());
    receive_a_version(&store, "3.0").await;
    let versions: Vec<String> = store
        .regimen_versions()
        .of("R-CHOP-21")
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.regimen_version)
        .collect();
    assert_eq!(versions, ["2.0", "3.0"], "every version is kept");
}

/// The Chemotherapy page lists a patient's courses; the nurses' list holds only
/// the cycles in the states asked for on that day.
async fn a_patients_courses_and_the_days_treatment_list_are_read_with_the_read_audited(
    backend: Backend,
    test: &str,
) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let (course_id, first_cycle) = course_with_a_cycle(&store).await;
    let mut tx = store.begin().await.expect("begun");
    let mut later = prescribed_cycle(2);
    later.treatment_date = NaiveDate::from_ymd_opt(2026, 12, 28).expect("date");
    let second_cycle = tx.sact().insert_cycle(course_id, &later).await.expect("cycle 2");
    let other_course = tx.sact().insert_course(&pinned_course(2)).await.expect("another patient's course");
    tx.audit(
        &actor(),
        store::AuditAction::SactPrescribe,
        Some(1),
        &[store::RecordRef::Cycle(second_cycle)],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");

    let courses = store.sact().courses_of_patient(&actor(), 1).await.expect("courses");
    assert_eq!(courses, vec![(course_id, pinned_course(1))], "only this patient's course");
    assert!(courses.iter().all(|(id, _)| *id != other_course));
    let read = audit_today(&store).await;
    assert_eq!(read.last().map(|e| e.record_ids.as_str()), Some("[\"patient:1\"]"), "the read is audited");

    let day = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
    let due = store.sact().cycles_due_on(&actor(), &["prescribed"], day).await.expect("due");
    assert_eq!(due.iter().map(|c| c.id).collect::<Vec<_>>(), vec![first_cycle], "only that day's cycle");
    let released = store.sact().cycles_due_on(&actor(), &["released"], day).await.expect("due");
    assert!(released.is_empty(), "no cycle of another state");
    let read = audit_today(&store).await;
    assert_eq!(read.last().map(|e| e.action.as_str()), Some("sact.read"), "the list's read is audited");
}

/// The SACT return reads the period's given cycles, their courses and patients
/// in one audited read, and nothing outside the window or not yet given.
async fn the_sact_returns_read_holds_the_periods_given_cycles_and_is_audited_once(
    backend: Backend,
    test: &str,
) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
    let cycle_on = |number: u32, date: NaiveDate, state: sact::CycleState| {
        let mut cycle = prescribed_cycle(number);
        cycle.treatment_date = date;
        cycle.state = state;
        cycle
    };
    let mut tx = store.begin().await.expect("begun");
    let course = tx.sact().insert_course(&pinned_course(1)).await.expect("course");
    let other = tx.sact().insert_course(&pinned_course(2)).await.expect("course");
    let given = tx
        .sact()
        .insert_cycle(course, &cycle_on(1, day(2), sact::CycleState::Administered))
        .await
        .expect("1");
    tx.sact().insert_cycle(course, &cycle_on(2, day(23), sact::CycleState::Prescribed)).await.expect("2");
    tx.sact()
        .insert_cycle(other, &cycle_on(1, day(28), sact::CycleState::Administered))
        .await
        .expect("later");
    tx.audit(&actor(), store::AuditAction::SactPrescribe, Some(1), &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");

    let period = store.sact().return_period(&actor(), day(1), day(20)).await.expect("read");
    assert_eq!(
        period.cycles.iter().map(|c| c.id).collect::<Vec<_>>(),
        [given],
        "only the window's given cycle"
    );
    assert_eq!(period.courses.keys().copied().collect::<Vec<_>>(), [course]);
    assert_eq!(period.patients.keys().copied().collect::<Vec<_>>(), [1]);
    let entries = audit_today(&store).await;
    let last = entries.last().expect("audited");
    assert_eq!(
        (last.action.as_str(), last.record_ids.as_str()),
        ("sact.read", "[\"patient:1\"]"),
        "one entry naming the patients"
    );
}

/// The pharmacy queue reads a page of cycles with their courses, patients and
/// sibling cycles in a few statements, and audits the read once.
async fn a_queue_page_holds_its_cycles_courses_and_patients_and_is_audited_once(
    backend: Backend,
    test: &str,
) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).expect("date");
    let mut tx = store.begin().await.expect("begun");
    let first_course = tx.sact().insert_course(&pinned_course(1)).await.expect("course");
    let mut given = prescribed_cycle(1);
    given.state = sact::CycleState::Administered;
    tx.sact().insert_cycle(first_course, &given).await.expect("cycle 1");
    let mut waiting = prescribed_cycle(2);
    waiting.treatment_date = day(1);
    let oldest = tx.sact().insert_cycle(first_course, &waiting).await.expect("cycle 2");
    let other_course = tx.sact().insert_course(&pinned_course(2)).await.expect("course");
    let mut later = prescribed_cycle(1);
    later.treatment_date = day(20);
    tx.sact().insert_cycle(other_course, &later).await.expect("another patient's cycle");
    tx.audit(&actor(), store::AuditAction::SactPrescribe, Some(1), &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");

    let page = store.sact().queue_page(&actor(), "prescribed", 1).await.expect("page");
    assert_eq!(page.cycles.iter().map(|c| c.id).collect::<Vec<_>>(), [oldest], "oldest first, one per page");
    assert_eq!(page.course_cycles.len(), 2, "the course's cycles, for what changed");
    assert_eq!(page.courses.keys().copied().collect::<Vec<_>>(), [first_course]);
    assert_eq!(page.patients.keys().copied().collect::<Vec<_>>(), [1], "only the page's patient is read");
    let entries = audit_today(&store).await;
    let last = entries.last().expect("audited");
    assert_eq!(
        last.record_ids,
        format!("[\"cycle:{oldest}\",\"patient:1\"]"),
        "one entry naming the cycle and patient"
    );
    let everything = store.sact().queue_page(&actor(), "prescribed", 50).await.expect("page");
    assert_eq!(everything.patients.len(), 2);
}

fn message_key(control_id: &str) -> store::MessageKey {
    store::MessageKey {
        sending_application: "PAS".into(),
        sending_facility: "RXX01".into(),
        control_id: control_id.into(),
    }
}

async fn keep_message(
    backend: Backend,
    store: &Store,
    control_id: &str,
    status: store::MessageStatus,
) -> Option<i64> {
    let key = message_key(control_id);
    let mut tx = begin_for(backend, store).await;
    let kept = tx
        .interface_messages()
        .keep(&store::NewMessage {
            key: &key,
            message_type: "ADT",
            event: "A01",
            occurred_at_utc: Some("2026-11-30T10:00:00+00:00"),
            status,
            error: (status == store::MessageStatus::Error).then_some("PID-3: the patient has no identifier"),
            document: "MSH|^~\\&|PAS|RXX01|||20261130100000||ADT^A01|M1|P|2.4",
        })
        .await
        .expect("kept");
    if let Some(id) = kept {
        tx.audit(
            &actor(),
            store::AuditAction::InterfaceReceive,
            None,
            &[store::RecordRef::Message(id)],
            status.text(),
        )
        .await
        .expect("audited");
    }
    tx.commit().await.expect("committed");
    kept
}

/// The interface's transaction: uncommitted, nothing of it is kept (the
/// message, its audit entry, the chain's head); a store call it does not
/// offer is refused, not run; committed, its entries continue the chain the
/// pool's writes began, and the chain verifies.
async fn a_direct_transaction_dropped_uncommitted_keeps_nothing_and_refuses_what_it_does_not_offer(
    backend: Backend,
    test: &str,
) {
    let Some((harness, store)) = Harness::seeded(backend, test).await else { return };
    let entries_before = audit_today(&store).await.len();
    let key = message_key("DROPPED");
    let mut tx = store.begin_direct().await.expect("begun");
    let message = store::NewMessage {
        key: &key,
        message_type: "ADT",
        event: "A01",
        occurred_at_utc: None,
        status: store::MessageStatus::Applied,
        error: None,
        document: "MSH|^~\\&|PAS|RXX01|||20261130100000||ADT^A01|DROPPED|P|2.4",
    };
    let id = tx.interface_messages().keep(&message).await.expect("kept").expect("new");
    tx.audit(&actor(), store::AuditAction::InterfaceReceive, None, &[store::RecordRef::Message(id)], "ok")
        .await
        .expect("audited");
    drop(tx);
    assert_eq!(
        store.interface_messages().status_of(&key).await.expect("status"),
        None,
        "the message is gone"
    );
    assert_eq!(audit_today(&store).await.len(), entries_before, "and its audit entry");

    let mut tx = store.begin_direct().await.expect("begun");
    let nowhere =
        adt::Location { ward: "WARD0".into(), room: "BAY0".into(), bed: "0".into(), facility: String::new() };
    let offered = tx.stays().bed_for_update(&nowhere).await;
    if harness.is_local() {
        let refused = offered.expect_err("a bed mark's read is not the interface's");
        assert!(refused.to_string().contains("not offered in a direct transaction"), "{refused}");
    } else {
        assert_eq!(offered.expect("on a server it is an ordinary transaction"), None);
    }
    drop(tx);

    // Kept, and then a write through the pool: one chain, intact.
    assert!(
        keep_message(Backend::LocalDirect, &store, "KEPT", store::MessageStatus::Applied).await.is_some()
    );
    assert!(keep_message(Backend::Local, &store, "KEPT-POOL", store::MessageStatus::Applied).await.is_some());
    assert!(
        keep_message(Backend::LocalDirect, &store, "KEPT-2", store::MessageStatus::Applied).await.is_some()
    );
    assert_eq!(audit_today(&store).await.len(), entries_before + 3);
    assert!(
        matches!(store.audit().verify().await.expect("verified"), AuditVerdict::Intact { .. }),
        "the chain runs on across both writers"
    );
}

/// Inside the interface's transaction, a patient whose NHS number or hospital
/// number is already held is refused as a duplicate naming which (bad input,
/// not a store fault), and a person update onto another's NHS number likewise.
async fn a_patient_added_by_the_feed_with_an_identifier_already_held_is_refused_naming_it(
    backend: Backend,
    test: &str,
) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let mut with_mrn = patient([9, 9, 9, 0, 0, 0, 0, 1, 0], "Puddleford", "Edith", (1970, 1, 1));
    with_mrn.mrn = Some("RXX777".into());
    let mut tx = begin_for(backend, &store).await;
    tx.patients().insert(&with_mrn).await.expect("a new patient");
    let held_nhs = patient([9, 9, 9, 0, 0, 0, 0, 0, 1], "Quillfeather", "Ada", (1945, 7, 14));
    let again = tx.patients().insert(&held_nhs).await.expect_err("NHS number held");
    assert!(matches!(again, StoreError::Duplicate { field: "NHS number" }), "{again}");
    drop(tx);

    let mut tx = begin_for(backend, &store).await;
    let mut same_mrn = patient([9, 9, 9, 0, 0, 0, 0, 2, 0], "Puddleford", "Edith", (1970, 1, 1));
    same_mrn.mrn = Some("RXX777".into());
    tx.patients().insert(&with_mrn).await.expect("added again after the rollback");
    let taken = tx.patients().insert(&same_mrn).await.expect_err("hospital number held");
    assert!(matches!(taken, StoreError::Duplicate { field: "hospital number (MRN)" }), "{taken}");
    drop(tx);

    let mut tx = begin_for(backend, &store).await;
    let moved_onto_another = tx.patients().update_person(2, &held_nhs).await.expect_err("patient 1's number");
    assert!(
        matches!(moved_onto_another, StoreError::Duplicate { field: "NHS number" }),
        "{moved_onto_another}"
    );
    assert!(moved_onto_another.is_bad_input());
}

/// A resent message (same MSH-3, MSH-4, MSH-10) finds the one kept and writes nothing.
async fn an_hl7_message_is_kept_once_by_its_key_and_a_resend_writes_nothing(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let first = keep_message(backend, &store, "M1", store::MessageStatus::Applied)
        .await
        .expect("kept the first time");
    let entries_before = audit_today(&store).await.len();
    assert_eq!(
        keep_message(backend, &store, "M1", store::MessageStatus::Applied).await,
        None,
        "a resend is not kept again"
    );
    assert_eq!(audit_today(&store).await.len(), entries_before, "and writes nothing");
    assert_eq!(
        store.interface_messages().status_of(&message_key("M1")).await.expect("status"),
        Some((first, store::MessageStatus::Applied))
    );
    assert_eq!(store.interface_messages().status_of(&message_key("M2")).await.expect("status"), None);
}

async fn the_interface_error_queue_is_read_audited_and_a_replay_takes_a_message_off_it(
    backend: Backend,
    test: &str,
) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    keep_message(backend, &store, "OK1", store::MessageStatus::Applied).await.expect("kept");
    let failed = keep_message(backend, &store, "BAD1", store::MessageStatus::Error).await.expect("kept");
    let queue = store.interface_messages().errors(&actor(), 50).await.expect("queue");
    assert_eq!(queue.iter().map(|m| m.id).collect::<Vec<_>>(), [failed], "only the message in error");
    assert_eq!(queue[0].error.as_deref(), Some("PID-3: the patient has no identifier"));
    let read = audit_today(&store).await;
    let last = read.last().expect("audited");
    assert_eq!(
        (last.action.as_str(), last.record_ids.clone()),
        ("hl7.read", format!("[\"message:{failed}\"]"))
    );
    let mut tx = begin_for(backend, &store).await;
    let taken = tx.interface_messages().resolve_error(failed, store::MessageStatus::Replayed, None).await;
    assert!(taken.expect("resolved"), "taken off the queue");
    tx.audit(&actor(), store::AuditAction::InterfaceReplay, None, &[store::RecordRef::Message(failed)], "ok")
        .await
        .expect("audited");
    tx.commit().await.expect("committed");
    assert!(store.interface_messages().errors(&actor(), 50).await.expect("queue").is_empty());
    // A second replay finds it no longer waiting, and changes nothing.
    let mut tx = begin_for(backend, &store).await;
    let again =
        tx.interface_messages().resolve_error(failed, store::MessageStatus::Error, Some("again")).await;
    assert!(!again.expect("asked"), "a message is replayed once");
    drop(tx);
    let ok = keep_message(backend, &store, "OK1", store::MessageStatus::Applied).await;
    assert_eq!(ok, None, "and an applied message is never in the queue to replay");
    assert_eq!(
        store.interface_messages().get(&actor(), failed).await.expect("read").status,
        store::MessageStatus::Replayed
    );
}

async fn lab_results_are_kept_exactly_and_a_check_finds_the_latest_usable_one(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let message = keep_message(backend, &store, "LAB1", store::MessageStatus::Applied).await.expect("kept");
    let result = |value: &str, units: &str, at: &str, used: bool| store::NewLabResult {
        patient_id: 1,
        message_id: message,
        code: "NEUT".into(),
        name: "Neutrophils".into(),
        value: value.into(),
        value_type: "NM".into(),
        units: units.into(),
        reference_range: "2.0-7.5".into(),
        abnormal_flag: String::new(),
        status: "F".into(),
        observed_at_utc: at.into(),
        laboratory: "RXX-HAEM".into(),
        used_for: used.then(|| "neutrophils".into()),
        held_because: (!used).then(|| "arrived in 10*6/L, not 10*9/L; not converted".into()),
    };
    let mut tx = begin_for(backend, &store).await;
    // One message's results, kept together; their ids come back in the order given.
    let ids = tx
        .lab_results()
        .record_all(&[
            result("2.10", "10*9/L", "2026-11-28T08:00:00+00:00", true),
            result("1.40", "10*9/L", "2026-11-30T08:00:00+00:00", true),
            result("1400", "10*6/L", "2026-11-30T09:00:00+00:00", false),
        ])
        .await
        .expect("kept");
    assert_eq!(ids.len(), 3);
    let newer = ids[1];
    tx.audit(
        &actor(),
        store::AuditAction::InterfaceReceive,
        Some(1),
        &[store::RecordRef::Message(message)],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");

    let latest = store
        .lab_results()
        .latest_for_check(&actor(), 1, "neutrophils", "2026-11-27T08:00:00+00:00")
        .await
        .expect("read")
        .expect("a usable result");
    assert_eq!(
        (latest.id, latest.result.value.as_str()),
        (newer, "1.40"),
        "the newest usable one, its text exact; the held one is not used"
    );
    let outside = store
        .lab_results()
        .latest_for_check(&actor(), 1, "neutrophils", "2026-12-01T00:00:00+00:00")
        .await
        .expect("read");
    assert!(outside.is_none(), "nothing within the window");
    let all = store.lab_results().of_patient(&actor(), 1).await.expect("all");
    assert_eq!(all.len(), 3);
    let kept: Vec<(i64, &str)> = ids
        .iter()
        .map(|id| {
            let found = all.iter().find(|r| r.id == *id).expect("each id names a kept result");
            (*id, found.result.value.as_str())
        })
        .collect();
    assert_eq!(kept, [(ids[0], "2.10"), (ids[1], "1.40"), (ids[2], "1400")], "each id is its own result's");
    assert_eq!(
        all[0].result.held_because.as_deref(),
        Some("arrived in 10*6/L, not 10*9/L; not converted"),
        "newest first, held kept"
    );
    let last = audit_today(&store).await;
    assert_eq!(last.last().map(|e| e.action.as_str()), Some("result.read"));
}

fn admitted_to(ward: &str, bed: &str) -> adt::Stay {
    adt::Stay {
        expected_discharge: None,
        state: adt::StayState::Admitted,
        location: Some(adt::Location {
            ward: ward.into(),
            room: "BAY1".into(),
            bed: bed.into(),
            facility: "RXX01".into(),
        }),
        latest: chrono::Utc::now(),
        steps: Vec::new(),
    }
}

async fn a_stay_is_moved_only_from_the_version_read_and_beds_follow(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let stay = admitted_to("WARD7", "3");
    let bed = stay.location.clone().expect("a bed");
    let mut tx = begin_for(backend, &store).await;
    let id = tx.stays().insert(1, &stay).await.expect("kept");
    tx.stays().set_bed(&bed, adt::BedState::Occupied, Some(1)).await.expect("bed");
    tx.audit(&actor(), store::AuditAction::InterfaceReceive, Some(1), &[store::RecordRef::Stay(id)], "ok")
        .await
        .expect("audited");
    tx.commit().await.expect("committed");

    let read = store.stays().latest(&actor(), 1).await.expect("read").expect("a stay");
    assert_eq!((read.id, read.row_version, &read.stay), (id, 1, &stay));
    let moved = admitted_to("WARD9", "5");
    let mut tx = begin_for(backend, &store).await;
    tx.stays().update(id, read.row_version, &moved).await.expect("moved from the version read");
    // The bed left and the bed taken, in one call.
    tx.stays()
        .set_beds(&[
            (bed.clone(), adt::BedState::Housekeeping, None),
            (moved.location.clone().expect("bed"), adt::BedState::Occupied, Some(1)),
        ])
        .await
        .expect("beds");
    tx.audit(&actor(), store::AuditAction::InterfaceReceive, Some(1), &[store::RecordRef::Stay(id)], "ok")
        .await
        .expect("audited");
    tx.commit().await.expect("committed");
    let mut tx = begin_for(backend, &store).await;
    let stale = tx.stays().update(id, read.row_version, &stay).await.expect_err("from an old version");
    assert!(matches!(stale, StoreError::Changed { .. }), "{stale}");
    drop(tx);

    let beds = store.stays().beds().await.expect("beds");
    let states: Vec<(String, char, Option<i64>)> =
        beds.iter().map(|b| (b.location.ward.clone(), b.state.code(), b.patient_id)).collect();
    assert_eq!(states, [("WARD7".to_owned(), 'H', None), ("WARD9".to_owned(), 'O', Some(1))]);
    // A bed named twice in one call ends as its last change says, as two calls would leave it.
    let mut tx = begin_for(backend, &store).await;
    tx.stays()
        .set_beds(&[
            (bed.clone(), adt::BedState::Occupied, Some(1)),
            (bed.clone(), adt::BedState::Closed, None),
        ])
        .await
        .expect("the same bed twice");
    tx.audit(&actor(), store::AuditAction::InterfaceReceive, Some(1), &[store::RecordRef::Stay(id)], "ok")
        .await
        .expect("audited");
    tx.commit().await.expect("committed");
    let ward7 = store.stays().beds().await.expect("beds").into_iter().find(|b| b.location.ward == "WARD7");
    assert_eq!(ward7.map(|b| (b.state, b.patient_id)), Some((adt::BedState::Closed, None)));
    assert_eq!(
        audit_today(&store).await.iter().filter(|e| e.action == "stay.read").count(),
        1,
        "the read audited"
    );
    // Inside a writing transaction: a bed's state and occupant, and the stay, as the interface plans with them.
    let mut tx = store.begin().await.expect("begun");
    let ward9 = beds[1].location.clone();
    assert_eq!(
        tx.stays().bed_for_update(&ward9).await.expect("read"),
        Some((adt::BedState::Occupied, Some(1)))
    );
    let nowhere =
        adt::Location { ward: "WARD0".into(), room: "BAY0".into(), bed: "0".into(), facility: String::new() };
    assert_eq!(tx.stays().bed_for_update(&nowhere).await.expect("read"), None);
    let latest = tx.stays().latest_for_update(1).await.expect("read").expect("a stay");
    assert_eq!((latest.id, latest.stay.location.map(|l| l.ward)), (id, Some("WARD9".to_owned())));
    drop(tx);
    let admitted = store.stays().admitted_places().await.expect("places");
    assert_eq!(
        admitted.iter().map(|a| (a.location.ward.as_str(), a.patient_id)).collect::<Vec<_>>(),
        [("WARD9", 1)],
        "where each admitted stay places its patient"
    );
}

async fn a_merge_moves_every_record_to_the_surviving_patient(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    // Set up on the pool: a course is not the interface's to write.
    let mut tx = store.begin().await.expect("begun");
    let stay = tx.stays().insert(2, &admitted_to("WARD7", "3")).await.expect("patient 2's stay");
    let course = tx.sact().insert_course(&pinned_course(2)).await.expect("patient 2's course");
    tx.audit(&actor(), store::AuditAction::InterfaceReceive, Some(2), &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");
    let mut tx = begin_for(backend, &store).await;
    tx.stays().merge_patients(2, 1).await.expect("merged");
    tx.audit(
        &actor(),
        store::AuditAction::InterfaceReceive,
        Some(1),
        &[store::RecordRef::Patient(2)],
        "merged",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");
    assert_eq!(
        store.stays().latest(&actor(), 1).await.expect("read").map(|s| s.id),
        Some(stay),
        "the stay moved"
    );
    assert!(store.stays().latest(&actor(), 2).await.expect("read").is_none());
    assert_eq!(
        store.sact().course(&actor(), course).await.expect("course").patient_id,
        1,
        "the course moved"
    );
}

/// A user may see a patient admitted to one of their wards, or on their own list.
async fn a_relationship_is_a_stay_on_ones_ward_or_a_place_on_ones_list(backend: Backend, test: &str) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let nurse = "555000000003";
    let mut tx = store.begin().await.expect("begun");
    tx.relationships().set_wards(nurse, &["WARD7".to_owned(), "WARD9".to_owned()]).await.expect("wards");
    tx.stays().insert(1, &admitted_to("WARD7", "3")).await.expect("patient 1 on WARD7");
    tx.stays().insert(2, &admitted_to("WARD8", "1")).await.expect("patient 2 on WARD8");
    tx.audit(&actor(), store::AuditAction::UserWards, None, &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");
    let relationships = store.relationships();
    assert_eq!(relationships.wards_of(nurse).await.expect("wards"), ["WARD7", "WARD9"]);
    assert_eq!(
        relationships.between(nurse, 1).await.expect("read"),
        Some(store::Relationship::Ward("WARD7".into()))
    );
    assert_eq!(relationships.between(nurse, 2).await.expect("read"), None, "another ward");
    assert_eq!(
        relationships.between("555000000001", 1).await.expect("read"),
        None,
        "not another user's ward"
    );

    let mut tx = store.begin().await.expect("begun");
    let blank = tx.relationships().add_to_list(nurse, 2, "  ").await.expect_err("a reason is needed");
    assert!(blank.to_string().contains("say why"), "{blank}");
    tx.relationships().add_to_list(nurse, 2, "outlier from my ward").await.expect("listed");
    tx.audit(&actor(), store::AuditAction::PatientListChange, Some(2), &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");
    assert_eq!(
        store.relationships().between(nurse, 2).await.expect("read"),
        Some(store::Relationship::PatientList("outlier from my ward".into()))
    );
    let mut tx = store.begin().await.expect("begun");
    tx.relationships().remove_from_list(nurse, 2).await.expect("taken off");
    tx.audit(&actor(), store::AuditAction::PatientListChange, Some(2), &[], "ok").await.expect("audited");
    tx.commit().await.expect("committed");
    assert_eq!(store.relationships().between(nurse, 2).await.expect("read"), None);
    assert!(store.relationships().list_of(nurse).await.expect("list").is_empty());
}

/// Two workstations saving one draft: the second, from the row version both
/// read, is refused and nothing of it is written; a signed summary is never
/// saved as a draft again; a merge takes the summaries to the survivor.
async fn a_discharge_draft_is_saved_only_from_the_version_read_and_never_once_signed(
    backend: Backend,
    test: &str,
) {
    let Some((harness, store)) = Harness::seeded(backend, test).await else { return };
    let mut tx = store.begin().await.expect("begin");
    let id = tx
        .discharge_summaries()
        .create_draft(1, None, 1, r#"{"text":"first"}"#, "555000000001")
        .await
        .expect("draft");
    tx.audit(
        &actor(),
        store::AuditAction::DischargeDraft,
        Some(1),
        &[store::RecordRef::DischargeSummary(id)],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");

    let read = store.discharge_summaries().get(id).await.expect("read");
    assert_eq!((read.version, read.status.as_str(), read.row_version), (1, "draft", 1));
    let mut tx = store.begin().await.expect("begin");
    let now = tx
        .discharge_summaries()
        .save_draft(id, read.row_version, r#"{"text":"second"}"#, "555000000001")
        .await
        .expect("saved");
    tx.audit(
        &actor(),
        store::AuditAction::DischargeDraft,
        Some(1),
        &[store::RecordRef::DischargeSummary(id)],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");
    assert_eq!(now, 2);

    let mut tx = store.begin().await.expect("begin");
    let stale = tx
        .discharge_summaries()
        .save_draft(id, read.row_version, r#"{"text":"overwrite"}"#, "555000000004")
        .await;
    assert!(matches!(stale, Err(StoreError::Changed { .. })), "{stale:?}");
    drop(tx);
    assert_eq!(store.discharge_summaries().get(id).await.expect("read").content, r#"{"text":"second"}"#);

    harness.sql(&format!("UPDATE discharge_summaries SET status = 'signed' WHERE id = {id}")).await;
    let mut tx = store.begin().await.expect("begin");
    let signed =
        tx.discharge_summaries().save_draft(id, 2, r#"{"text":"after signing"}"#, "555000000001").await;
    assert!(matches!(signed, Err(StoreError::Changed { .. })), "a signed summary is not a draft: {signed:?}");
    drop(tx);

    let mut tx = store.begin().await.expect("begin");
    tx.stays().merge_patients(1, 2).await.expect("merged");
    tx.audit(
        &actor(),
        store::AuditAction::InterfaceReceive,
        Some(2),
        &[store::RecordRef::Patient(1)],
        "merge",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");
    assert_eq!(store.discharge_summaries().of_patient(2).await.expect("survivor's").len(), 1);
    assert!(store.discharge_summaries().of_patient(1).await.expect("merged's").is_empty());
}

async fn audited_commit(mut tx: store::StoreTransaction, summary: i64) {
    tx.audit(
        &actor(),
        store::AuditAction::DischargeSend,
        Some(1),
        &[store::RecordRef::DischargeSummary(summary)],
        "ok",
    )
    .await
    .expect("audited");
    tx.commit().await.expect("committed");
}

/// The outbox: one row per recipient of a signed version (a second is
/// refused, nothing written); a row is claimed by one sender at a time, so
/// two senders reading the same due row cannot both send it; a failure waits
/// for its next try; a delivered row is never due again.
async fn an_outbox_row_is_queued_once_per_recipient_and_claimed_by_one_sender_at_a_time(
    backend: Backend,
    test: &str,
) {
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let mut tx = store.begin().await.expect("begin");
    let summary =
        tx.discharge_summaries().create_draft(1, None, 1, "{}", "555000000001").await.expect("draft");
    let row = tx
        .discharge_outbox()
        .enqueue(summary, "smtp", "gp.a81001@nhs.net", "2026-11-30T10:00:00+00:00")
        .await
        .expect("queued");
    audited_commit(tx, summary).await;

    let mut tx = store.begin().await.expect("begin");
    let twice = tx
        .discharge_outbox()
        .enqueue(summary, "smtp", "gp.a81001@nhs.net", "2026-11-30T10:00:00+00:00")
        .await;
    assert!(twice.is_err(), "one row per recipient: {twice:?}");
    drop(tx);

    assert!(store.discharge_outbox().due("2026-11-30T09:59:59+00:00", 10).await.expect("due").is_empty());
    let due = store.discharge_outbox().due("2026-11-30T10:00:00+00:00", 10).await.expect("due");
    assert_eq!(
        due.iter().map(|r| (r.id, r.status.as_str(), r.attempts)).collect::<Vec<_>>(),
        [(row, "queued", 0)]
    );

    // Two senders read the row at attempts 0; the first claim wins.
    let mut tx = store.begin().await.expect("begin");
    tx.discharge_outbox().claim(row, 0, "2026-11-30T10:05:00+00:00").await.expect("claimed");
    audited_commit(tx, summary).await;
    let mut tx = store.begin().await.expect("begin");
    let second = tx.discharge_outbox().claim(row, 0, "2026-11-30T10:05:00+00:00").await;
    assert!(matches!(second, Err(StoreError::Changed { .. })), "{second:?}");
    drop(tx);
    assert!(store.discharge_outbox().due("2026-11-30T10:04:00+00:00", 10).await.expect("due").is_empty());

    let mut tx = store.begin().await.expect("begin");
    tx.discharge_outbox()
        .retry_later(row, "the SMTP server did not answer", "2026-11-30T10:10:00+00:00")
        .await
        .expect("later");
    audited_commit(tx, summary).await;
    let kept = store.discharge_outbox().get(row).await.expect("row");
    assert_eq!(
        (kept.status.as_str(), kept.attempts, kept.last_error.as_deref()),
        ("queued", 1, Some("the SMTP server did not answer"))
    );

    let mut tx = store.begin().await.expect("begin");
    tx.discharge_outbox().claim(row, 1, "2026-11-30T10:15:00+00:00").await.expect("claimed again");
    tx.discharge_outbox()
        .delivered(row, "<d41@cws>", None, "2026-11-30T10:10:01+00:00")
        .await
        .expect("delivered");
    audited_commit(tx, summary).await;
    assert!(store.discharge_outbox().due("2030-01-01T00:00:00+00:00", 10).await.expect("due").is_empty());
    let kept = store.discharge_outbox().of_summary(summary).await.expect("rows");
    assert_eq!(
        kept.iter().map(|r| (r.status.as_str(), r.attempts, r.remote_id.as_deref())).collect::<Vec<_>>(),
        [("delivered", 2, Some("<d41@cws>"))]
    );
    let mut tx = store.begin().await.expect("begin");
    let after = tx.discharge_outbox().give_up(row, "late failure", "2026-11-30T11:00:00+00:00").await;
    assert!(matches!(after, Err(StoreError::Changed { .. })), "a delivered row stays delivered: {after:?}");
    drop(tx);

    // Delivered to the service, then taken by the recipient; a taken row is never made undeliverable.
    let waiting = store.discharge_outbox().delivered_by("smtp", 10).await.expect("delivered");
    assert_eq!(waiting.iter().map(|r| r.id).collect::<Vec<_>>(), [row]);
    assert!(store.discharge_outbox().delivered_by("mesh", 10).await.expect("none").is_empty());
    let mut tx = store.begin().await.expect("begin");
    tx.discharge_outbox().acknowledged(row).await.expect("acknowledged");
    audited_commit(tx, summary).await;
    assert_eq!(store.discharge_outbox().get(row).await.expect("row").status, "acknowledged");
    assert!(store.discharge_outbox().delivered_by("smtp", 10).await.expect("none left").is_empty());
    let mut tx = store.begin().await.expect("begin");
    let lost = tx.discharge_outbox().undeliverable(row, "late report").await;
    assert!(matches!(lost, Err(StoreError::Changed { .. })), "{lost:?}");
}

/// A MESH send is delivered with its ITK3 MessageHeader id; the practice's
/// responses find it by that id. A positive one marks it acknowledged and is
/// kept in words; a negative one fails it with the response as its error, and
/// a failed row is never made acknowledged by a later response.
async fn an_itk3_response_finds_its_send_by_message_id_and_a_negative_one_fails_it_for_good(
    backend: Backend,
    test: &str,
) {
    use store::ResponseLevel::{Business, Infrastructure};
    let Some((_harness, store)) = Harness::seeded(backend, test).await else { return };
    let mut tx = store.begin().await.expect("begin");
    let summary =
        tx.discharge_summaries().create_draft(1, None, 1, "{}", "555000000001").await.expect("draft");
    let known = tx
        .discharge_outbox()
        .enqueue(summary, "mesh", "A81001", "2026-11-30T10:00:00+00:00")
        .await
        .expect("q");
    let unknown = tx
        .discharge_outbox()
        .enqueue(summary, "mesh", "B82002", "2026-11-30T10:00:00+00:00")
        .await
        .expect("q");
    for (row, message) in [(known, "itk-known"), (unknown, "itk-unknown")] {
        tx.discharge_outbox().claim(row, 0, "2026-11-30T10:05:00+00:00").await.expect("claimed");
        tx.discharge_outbox()
            .delivered(
                row,
                &format!("mesh-{message}"),
                Some(store::ItkSend { message_id: message, mailbox: "X26ABC2" }),
                "2026-11-30T10:00:01+00:00",
            )
            .await
            .expect("delivered");
    }
    audited_commit(tx, summary).await;
    let found = store.discharge_outbox().by_itk_message("itk-known").await.expect("read").expect("found");
    assert_eq!((found.id, found.mesh_mailbox.as_deref()), (known, Some("X26ABC2")));
    assert_eq!(store.discharge_outbox().by_itk_message("itk-none").await.expect("read"), None);

    let awaiting = |store: &store::Store| {
        let store = store.clone();
        async move {
            let rows = store.discharge_outbox().awaiting_business_response(10).await.expect("read");
            rows.iter().map(|r| r.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(awaiting(&store).await, [known, unknown], "both wait for the practice");
    let mut tx = store.begin().await.expect("begin");
    tx.discharge_outbox().responded(known, Infrastructure, "20013: Success", true).await.expect("inf");
    tx.discharge_outbox().responded(known, Business, "30001: Patient known here", true).await.expect("bus");
    tx.discharge_outbox().responded(unknown, Infrastructure, "20013: Success", true).await.expect("inf");
    tx.discharge_outbox()
        .responded(unknown, Business, "30002: Patient not known here", false)
        .await
        .expect("bus");
    audited_commit(tx, summary).await;
    assert!(awaiting(&store).await.is_empty(), "one answered, the other failed: nothing left to wait for");
    let row = store.discharge_outbox().get(known).await.expect("row");
    assert_eq!(
        (
            row.status.as_str(),
            row.infrastructure_response.as_deref(),
            row.business_response.as_deref(),
            row.last_error
        ),
        ("acknowledged", Some("20013: Success"), Some("30001: Patient known here"), None)
    );
    let row = store.discharge_outbox().get(unknown).await.expect("row");
    assert_eq!(
        (row.status.as_str(), row.last_error.as_deref(), row.business_response.as_deref()),
        ("failed", Some("30002: Patient not known here"), Some("30002: Patient not known here"))
    );

    let mut tx = store.begin().await.expect("begin");
    let late = tx.discharge_outbox().responded(unknown, Business, "30001: Patient known here", true).await;
    assert!(matches!(late, Err(StoreError::Changed { .. })), "a failed send stays failed: {late:?}");
    drop(tx);
    assert_eq!(store.discharge_outbox().get(unknown).await.expect("row").status, "failed");
}
