//! The store on a real SQLCipher file: wrong keys, newer versions, backup and
//! restore, search, and an audit trail that catches tampering.

use std::path::Path;

use chrono::NaiveDate;
use patients::PatientQuery;
use patients::{NewPatient, NhsNumber, NhsNumberPolicy, Sex};
use sqlx::{ConnectOptions, Connection, Row};
use store::{Actor, AuditVerdict, Store, StoreError, StoreKey};

fn actor() -> Actor {
    Actor { user: "test:pharmacist".into(), workstation: "test-workstation".into() }
}

fn patient(nine: [u8; 9], family: &str, given: &str, born: (i32, u32, u32)) -> NewPatient {
    NewPatient {
        nhs_number: NhsNumber::from_nine_digits(nine).expect("valid check digit"),
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

async fn seeded_store(folder: &Path) -> (Store, StoreKey) {
    let (store, key) = new_store(folder).await;
    let people = vec![
        patient([9, 9, 9, 0, 0, 0, 0, 0, 1], "Quillfeather", "Ada", (1945, 7, 14)),
        patient([9, 9, 9, 0, 0, 0, 0, 0, 2], "Quillfeather", "Bertram", (1950, 1, 2)),
        patient([9, 9, 9, 0, 0, 0, 0, 0, 3], "Quibble", "Clementine", (1945, 7, 14)),
        patient([9, 9, 9, 0, 0, 0, 0, 0, 4], "Marchbanks", "Dudley", (1960, 3, 3)),
    ];
    store.add_patients(&actor(), people).await.expect("added");
    (store, key)
}

/// A raw connection to the encrypted file, as someone with the key and a SQL prompt would have.
async fn raw(path: &Path, key: &StoreKey) -> sqlx::SqliteConnection {
    let recovery = key.recovery_text().replace('-', "");
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .pragma("key", format!("\"x'{recovery}'\""))
        .connect()
        .await
        .expect("raw connection")
}

#[tokio::test]
async fn the_file_on_disk_is_not_plain_sqlite() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = seeded_store(folder.path()).await;
    let status = store.status().await.expect("status");
    assert!(status.cipher_version.starts_with('4'), "SQLCipher 4: {}", status.cipher_version);
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

#[tokio::test]
async fn a_store_from_a_newer_version_is_refused_untouched() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, key) = seeded_store(folder.path()).await;
    store.close().await;
    let path = folder.path().join("store.db");
    let mut connection = raw(&path, &key).await;
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (99990101000000, 'future', '2030-01-01', 1, x'00', 0)")
        .execute(&mut connection)
        .await
        .expect("insert");
    connection.close().await.expect("closed");
    let error = Store::open_with_key(&path, key).await.err().expect("refused");
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

#[tokio::test]
async fn search_finds_by_nhs_number_mrn_and_name_prefix_with_birth_date() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = seeded_store(folder.path()).await;
    let policy = NhsNumberPolicy::default();
    let by_name = store
        .search_patients(&actor(), &PatientQuery::parse("quill", None, policy).expect("query"), 50)
        .await
        .expect("search");
    assert_eq!(
        by_name.iter().map(|p| p.display_name.as_str()).collect::<Vec<_>>(),
        ["QUILLFEATHER, Ada (Mx)", "QUILLFEATHER, Bertram (Mx)"]
    );
    let born = NaiveDate::from_ymd_opt(1945, 7, 14);
    let by_name_and_birth = store
        .search_patients(&actor(), &PatientQuery::parse("QUI", born, policy).expect("query"), 50)
        .await
        .expect("search");
    assert_eq!(by_name_and_birth.len(), 2, "Ada Quillfeather and Clementine Quibble share the birth date");
    let number = NhsNumber::from_nine_digits([9, 9, 9, 0, 0, 0, 0, 0, 4]).expect("valid").to_string();
    let by_number = store
        .search_patients(&actor(), &PatientQuery::parse(&number, None, policy).expect("query"), 50)
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

#[tokio::test]
async fn a_duplicate_nhs_number_is_refused_and_the_refusal_audited() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = seeded_store(folder.path()).await;
    let twin = patient([9, 9, 9, 0, 0, 0, 0, 0, 1], "Other", "Person", (1970, 1, 1));
    let error = store.add_patient(&actor(), twin).await.expect_err("duplicate");
    assert!(matches!(error, StoreError::Duplicate { field: "NHS number" }));
    assert_eq!(store.status().await.expect("status").patients, 4, "nothing half-written");
    let today = chrono::Utc::now();
    let entries = store
        .audit_entries(today - chrono::Duration::days(1), today + chrono::Duration::days(1))
        .await
        .expect("entries");
    assert_eq!(entries.last().map(|e| e.outcome.as_str()), Some("refused: NHS number"));
}

async fn audit_today(store: &Store) -> Vec<store::AuditEntry> {
    let today = chrono::Utc::now();
    store
        .audit_entries(today - chrono::Duration::days(1), today + chrono::Duration::days(1))
        .await
        .expect("entries")
}

#[tokio::test]
async fn reads_and_searches_are_audited_with_the_record_ids() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = seeded_store(folder.path()).await;
    store.patient(&actor(), 3).await.expect("read");
    let entries = audit_today(&store).await;
    let read = entries.last().expect("an entry");
    assert_eq!(
        (read.action.as_str(), read.patient_id, read.actor.as_str(), read.record_ids.as_str()),
        ("patient.read", Some(3), "test:pharmacist", r#"["patient:3"]"#)
    );
    assert_eq!(read.workstation, "test-workstation");

    let query = PatientQuery::parse("quillf", None, NhsNumberPolicy::default()).expect("query");
    let found = store.search_patients(&actor(), &query, 50).await.expect("search");
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

async fn tampered(statement: &str) -> AuditVerdict {
    let folder = tempfile::tempdir().expect("temp");
    let (store, key) = seeded_store(folder.path()).await;
    for id in 1..=4 {
        store.patient(&actor(), id).await.expect("read");
    }
    assert_eq!(store.verify_audit().await.expect("verify"), AuditVerdict::Intact { entries: 6 });
    store.close().await;
    let path = folder.path().join("store.db");
    let mut connection = raw(&path, &key).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut connection).await.expect("tamper");
    connection.close().await.expect("closed");
    let store = Store::open_with_key(&path, key).await.expect("opens");
    store.verify_audit().await.expect("verify")
}

#[tokio::test]
async fn an_edited_audit_entry_is_named() {
    let verdict = tampered("UPDATE audit_log SET actor = 'someone else' WHERE seq = 3").await;
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 3, problem } if problem.contains("edited")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_deleted_audit_entry_is_named() {
    let verdict = tampered("DELETE FROM audit_log WHERE seq = 3").await;
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 3, problem } if problem.contains("deleted")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn reordered_audit_entries_are_named() {
    let verdict = tampered("UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1").await;
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 2, problem } if problem.contains("out of order")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn an_entry_deleted_then_renumbered_and_relinked_is_named() {
    // The chain as someone with a SQL prompt would mend it after deleting entry 3:
    // later entries renumbered, the next one's link pointed at entry 2, the head moved.
    let verdict = tampered(
        "DELETE FROM audit_log WHERE seq = 3;
         UPDATE audit_log SET seq = seq - 1 WHERE seq > 3;
         UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE seq = 2) WHERE seq = 3;
         UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_log), hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1);",
    )
    .await;
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 3, problem } if problem.contains("edited")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn an_emptied_trail_is_broken_not_intact() {
    let verdict = tampered("DELETE FROM audit_log; DELETE FROM audit_head;").await;
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 1, problem } if problem.contains("genesis")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_new_store_begins_its_trail_with_a_genesis_entry() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = new_store(folder.path()).await;
    assert_eq!(store.verify_audit().await.expect("verify"), AuditVerdict::Intact { entries: 1 });
    let entries = audit_today(&store).await;
    assert_eq!(entries.first().map(|e| e.action.as_str()), Some("store.genesis"));
}

#[tokio::test]
async fn a_tail_cut_after_an_anchor_is_named_by_the_anchor() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, key) = seeded_store(folder.path()).await;
    for id in 1..=4 {
        store.patient(&actor(), id).await.expect("read");
    }
    let anchor = store.audit_anchor().await.expect("anchor");
    assert_eq!(anchor.seq, 6);
    let line = format!("Nov 30 09:00:00 ws1 clinical-workstation[42]: {}", anchor.line());
    assert_eq!(store::AuditAnchor::parse(&line), Some(anchor.clone()), "read back from a syslog line");
    store.close().await;
    // Cut the tail and make the rest consistent again: the head moved back to entry 4.
    let path = folder.path().join("store.db");
    let mut connection = raw(&path, &key).await;
    sqlx::raw_sql(
        "DELETE FROM audit_log WHERE seq > 4;
         UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4);",
    )
    .execute(&mut connection)
    .await
    .expect("cut");
    connection.close().await.expect("closed");
    let store = Store::open_with_key(&path, key).await.expect("opens");
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact { entries: 4 },
        "unseen without the anchor"
    );
    let verdict = store.verify_anchors(&[anchor]).await.expect("verify");
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 6, problem } if problem.contains("missing")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn entries_deleted_from_the_end_are_named() {
    let verdict = tampered("DELETE FROM audit_log WHERE seq >= 4").await;
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
    store.backup(&actor(), &backup).await.expect("backup");
    store.close().await;

    let header = std::fs::read(&backup).expect("backup file")[..16].to_vec();
    assert_ne!(header, b"SQLite format 3\0", "the backup is encrypted too");

    let elsewhere = folder.path().join("restored.db");
    let restored = Store::restore(&elsewhere, &backup, key.clone(), &actor()).await.expect("restore");
    restored.close().await;
    let mut copy = every_table(&elsewhere, &key).await;
    // The restore is audited in the restored store after the copy: set that entry aside.
    let audit = copy.iter_mut().find(|(name, _)| name == "audit_log").expect("audit table");
    assert!(audit.1.pop().is_some_and(|entry| entry.contains("store.restore")));
    let head = copy.iter_mut().find(|(name, _)| name == "audit_head").expect("head table");
    head.1 = original.iter().find(|(name, _)| name == "audit_head").expect("head").1.clone();
    assert_eq!(copy, original);
}

#[tokio::test]
async fn a_head_with_another_hash_is_named() {
    let verdict = tampered("UPDATE audit_head SET hash = 'ffff' || substr(hash, 5)").await;
    assert!(
        matches!(&verdict, AuditVerdict::Broken { problem, .. } if problem.contains("deleted from the end")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn a_deleted_head_is_named() {
    let verdict = tampered("DELETE FROM audit_head").await;
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 6, problem } if problem.contains("no recorded head")),
        "{verdict:?}"
    );
}

/// Someone with the key empties the trail and lets the store write a fresh,
/// self-consistent chain: only the missing genesis entry gives it away.
#[tokio::test]
async fn a_trail_begun_again_without_its_genesis_entry_is_named() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, key) = seeded_store(folder.path()).await;
    store.close().await;
    let path = folder.path().join("store.db");
    let mut connection = raw(&path, &key).await;
    sqlx::raw_sql("DELETE FROM audit_log; DELETE FROM audit_head;")
        .execute(&mut connection)
        .await
        .expect("emptied");
    connection.close().await.expect("closed");
    let store = Store::open_with_key(&path, key).await.expect("opens");
    store.patient(&actor(), 1).await.expect("a read, audited as entry 1 of a new chain");
    let verdict = store.verify_audit().await.expect("verify");
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 1, problem } if problem.contains("not the genesis entry")),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn an_anchor_whose_entry_has_another_hash_is_named() {
    let folder = tempfile::tempdir().expect("temp");
    let (store, _) = seeded_store(folder.path()).await;
    let mut anchor = store.audit_anchor().await.expect("anchor");
    assert_eq!(
        store.verify_anchors(std::slice::from_ref(&anchor)).await.expect("verify"),
        AuditVerdict::Intact { entries: 2 }
    );
    anchor.hash = "0".repeat(64);
    let verdict = store.verify_anchors(&[anchor]).await.expect("verify");
    assert!(
        matches!(&verdict, AuditVerdict::Broken { seq: 2, problem } if problem.contains("another hash")),
        "{verdict:?}"
    );
}
