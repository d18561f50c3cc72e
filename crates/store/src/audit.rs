//! The append-only audit trail. Each entry is chained to the one before by
//! SHA-256 over the previous hash and the entry's canonical bytes, and the
//! newest entry is kept in `audit_head`, so an edit, a deletion or a
//! reordering is found by `verify`, which names the first entry at fault.
//!
//! The first entry is always the genesis entry written when the store was
//! created, so a trail emptied or cut from the start is broken, not "intact, 0
//! entries". A consistent rewrite of the whole chain by someone holding the key
//! is caught only against anchors: heads recorded outside the store
//! (`audit_anchor`, checked by `verify_anchors`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit_action::{AuditAction, RecordRef};
use crate::backend::{Tx, on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user id once sessions exist; the OS account for administration.
    pub user: String,
    pub workstation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_utc: String,
    pub actor: String,
    pub workstation: String,
    pub action: String,
    pub patient_id: Option<i64>,
    /// The record ids the action touched, as a JSON array.
    pub record_ids: String,
    pub outcome: String,
    pub hash: String,
}

/// The head of the trail at a moment, to be kept outside the store (the system
/// log, a printout, another machine) and checked later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditAnchor {
    pub seq: i64,
    pub hash: String,
    pub at_utc: String,
}

impl AuditAnchor {
    const PREFIX: &'static str = "cws-audit-anchor";

    /// One line: `cws-audit-anchor seq=12 hash=… at=2026-11-30T09:00:00.000000Z`.
    pub fn line(&self) -> String {
        format!("{} seq={} hash={} at={}", Self::PREFIX, self.seq, self.hash, self.at_utc)
    }

    /// Reads an anchor line; the line may sit inside a longer log line (syslog adds a prefix).
    pub fn parse(line: &str) -> Option<Self> {
        let rest = &line[line.find(Self::PREFIX)? + Self::PREFIX.len()..];
        let field =
            |name: &str| rest.split_whitespace().find_map(|part| part.strip_prefix(name).map(str::to_owned));
        let seq = field("seq=")?.parse().ok()?;
        let hash = field("hash=")?;
        let valid_hash = hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit());
        valid_hash.then_some(Self { seq, hash, at_utc: field("at=")? })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum AuditVerdict {
    Intact { entries: i64 },
    Broken { seq: i64, problem: String },
}

/// What happened, for one audit entry.
pub(crate) struct Event<'a> {
    pub action: AuditAction,
    /// The one patient the act was about, where there is one.
    pub patient_id: Option<i64>,
    pub records: &'a [RecordRef],
    pub outcome: &'a str,
}

fn canonical(
    at_utc: &str,
    actor: &str,
    workstation: &str,
    event: (&str, Option<i64>, &str, &str),
) -> Vec<u8> {
    let (action, patient_id, record_ids, outcome) = event;
    serde_json::to_vec(&(at_utc, actor, workstation, action, patient_id, record_ids, outcome))
        .expect("a tuple of strings and integers always serialises")
}

/// The canonical bytes after their first element, the time, as the server
/// completes them: `["` + time + `",` + this. A time never needs escaping in JSON.
fn canonical_after_time(actor: &str, workstation: &str, event: (&str, Option<i64>, &str, &str)) -> String {
    let (action, patient_id, record_ids, outcome) = event;
    let rest = serde_json::to_string(&(actor, workstation, action, patient_id, record_ids, outcome))
        .expect("a tuple of strings and integers always serialises");
    rest.strip_prefix('[').expect("a JSON array").to_owned()
}

fn chain_hash(prev_hash: &str, canonical: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical);
    hex::encode(hasher.finalize())
}

/// Appends one entry inside the caller's transaction, in the next place in the
/// chain, where no other writer can take it.
pub(crate) async fn append(tx: &mut Tx, actor: &Actor, event: Event<'_>) -> Result<(), StoreError> {
    match tx {
        Tx::Local(tx) => append_locally(tx, actor, event).await,
        Tx::Shared(tx) => append_on_server(&mut **tx, actor, event).await,
        Tx::Direct(tx) => append_directly(tx, actor, event),
    }
}

/// A local entry's place in the chain and its hash, after the head it follows.
struct LocalEntry {
    seq: i64,
    at_utc: String,
    action: &'static str,
    record_ids: String,
    prev_hash: String,
    hash: String,
}

impl LocalEntry {
    fn after(head: Option<(i64, String)>, actor: &Actor, event: &Event<'_>) -> Self {
        let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_owned()));
        let at_utc = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let record_ids = record_ids(event.records);
        let action = event.action.text();
        let bytes = canonical(
            &at_utc,
            &actor.user,
            &actor.workstation,
            (action, event.patient_id, &record_ids, event.outcome),
        );
        let hash = chain_hash(&prev_hash, &bytes);
        Self { seq: prev_seq + 1, at_utc, action, record_ids, prev_hash, hash }
    }
}

const LOCAL_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
const LOCAL_INSERT: &str = "INSERT INTO audit_log (seq, at_utc, actor, workstation, action, patient_id, record_ids, outcome, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
const LOCAL_MOVE_HEAD: &str = "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash";

/// The local file through its direct writer: the same chain, statements and
/// write lock as `append_locally`.
fn append_directly(tx: &crate::direct::DirectTx, actor: &Actor, event: Event<'_>) -> Result<(), StoreError> {
    let head = tx.row(LOCAL_HEAD, &[], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let entry = LocalEntry::after(head, actor, &event);
    tx.execute(
        LOCAL_INSERT,
        &[
            &entry.seq,
            &entry.at_utc,
            &actor.user,
            &actor.workstation,
            &entry.action,
            &event.patient_id,
            &entry.record_ids,
            &event.outcome,
            &entry.prev_hash,
            &entry.hash,
        ],
    )?;
    tx.execute(LOCAL_MOVE_HEAD, &[&entry.seq, &entry.hash])?;
    Ok(())
}

/// The local file: `BEGIN IMMEDIATE` has already made this transaction the
/// chain's only writer, and one machine's clock serves.
async fn append_locally(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    actor: &Actor,
    event: Event<'_>,
) -> Result<(), StoreError> {
    let head: Option<(i64, String)> =
        sqlx::query_as(LOCAL_HEAD).fetch_optional(&mut **tx).await.map_err(database)?;
    let entry = LocalEntry::after(head, actor, &event);
    sqlx::query(LOCAL_INSERT)
        .bind(entry.seq)
        .bind(&entry.at_utc)
        .bind(&actor.user)
        .bind(&actor.workstation)
        .bind(entry.action)
        .bind(event.patient_id)
        .bind(&entry.record_ids)
        .bind(event.outcome)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut **tx)
        .await
        .map_err(database)?;
    sqlx::query(LOCAL_MOVE_HEAD)
        .bind(entry.seq)
        .bind(&entry.hash)
        .execute(&mut **tx)
        .await
        .map_err(database)?;
    Ok(())
}

/// A shared server: `cws_append_audit` (migration 0004) serialises appends
/// from every workstation with an advisory lock held to the end of the calling
/// transaction, and stamps the entry with the server's clock, in one round
/// trip. Called on the pool, it is its own transaction.
pub(crate) async fn append_on_server<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    actor: &Actor,
    event: Event<'_>,
) -> Result<(), StoreError> {
    let record_ids = record_ids(event.records);
    let action = event.action.text();
    let after_time = canonical_after_time(
        &actor.user,
        &actor.workstation,
        (action, event.patient_id, &record_ids, event.outcome),
    );
    sqlx::query("SELECT new_seq FROM cws_append_audit($1, $2, $3, $4, $5, $6, $7)")
        .bind(&actor.user)
        .bind(&actor.workstation)
        .bind(action)
        .bind(event.patient_id)
        .bind(&record_ids)
        .bind(event.outcome)
        .bind(after_time)
        .execute(executor)
        .await
        .map_err(database)?;
    Ok(())
}

fn record_ids(records: &[RecordRef]) -> String {
    let texts: Vec<String> = records.iter().map(RecordRef::text).collect();
    serde_json::to_string(&texts).expect("strings serialise")
}

#[derive(sqlx::FromRow)]
struct StoredEntry {
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
    /// The first entry of a new store's trail.
    pub(crate) async fn write_genesis(&self) -> Result<(), StoreError> {
        let actor = Actor { user: "store".into(), workstation: String::new() };
        let event =
            Event { action: AuditAction::StoreGenesis, patient_id: None, records: &[], outcome: "ok" };
        self.audit_alone(&actor, event).await
    }

    /// Records an event on its own (reads and searches, and refusals whose own
    /// transaction was rolled back). On a server the append is one statement,
    /// its own transaction.
    pub(crate) async fn audit_alone(&self, actor: &Actor, event: Event<'_>) -> Result<(), StoreError> {
        if let crate::backend::Pool::Shared(pool) = &self.pool {
            return append_on_server(pool, actor, event).await;
        }
        let mut tx = self.begin().await?;
        append(&mut tx.tx, actor, event).await?;
        tx.commit().await
    }
}

/// The audit trail: record an act, verify the chain, anchor its head, read entries.
pub struct Audit<'s> {
    store: &'s Store,
}

impl Store {
    pub fn audit(&self) -> Audit<'_> {
        Audit { store: self }
    }
}

impl Audit<'_> {
    /// Records an act on its own (a sign-in, lock, unlock, refused command),
    /// against the actor, with the records it concerns (the user a replaced
    /// session belonged to, say).
    pub async fn record(
        &self,
        actor: &Actor,
        action: AuditAction,
        records: &[RecordRef],
        outcome: &str,
    ) -> Result<(), StoreError> {
        self.store.audit_alone(actor, Event { action, patient_id: None, records, outcome }).await
    }

    /// Records an act concerning one patient on its own (an imaging query or
    /// launch, a break-glass), with the records it touched.
    pub async fn record_for_patient(
        &self,
        actor: &Actor,
        action: AuditAction,
        patient_id: i64,
        records: &[RecordRef],
        outcome: &str,
    ) -> Result<(), StoreError> {
        self.store.audit_alone(actor, Event { action, patient_id: Some(patient_id), records, outcome }).await
    }

    /// Walks the chain from the start and names the first entry that was edited,
    /// deleted or reordered. It reads one consistent moment of the trail, so
    /// entries appended meanwhile by other workstations are not taken for damage,
    /// and it streams the entries rather than holding the whole trail in memory.
    pub async fn verify(&self) -> Result<AuditVerdict, StoreError> {
        use futures_util::TryStreamExt;
        let mut snapshot = self.store.snapshot().await?;
        let mut walk = ChainWalk::default();
        let found = on_tx!(&mut snapshot, |c| {
            let mut rows =
                sqlx::query_as::<_, StoredEntry>("SELECT * FROM audit_log ORDER BY seq").fetch(&mut *c);
            let mut found = None;
            while let Some(entry) = rows.try_next().await.map_err(database)? {
                if let Some(verdict) = walk.step(&entry) {
                    found = Some(verdict);
                    break;
                }
            }
            drop(rows);
            if found.is_none() {
                let head: Option<(i64, String)> =
                    sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                        .fetch_optional(&mut *c)
                        .await
                        .map_err(database)?;
                found = Some(walk.finish(head));
            }
            found
        });
        Ok(found.expect("the walk ends with a verdict"))
    }

    /// The head of the trail now, for keeping outside the store.
    pub async fn anchor(&self) -> Result<AuditAnchor, StoreError> {
        let head: Option<(i64, String)> = on_pool!(&self.store.pool, |c| {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(c).await
        })
        .map_err(database)?;
        let (seq, hash) = head.unwrap_or((0, GENESIS.to_owned()));
        Ok(AuditAnchor { seq, hash, at_utc: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true) })
    }

    /// Checks that every anchored entry is still in the chain with the hash it
    /// had, naming the first that is not, then runs `verify`, which checks
    /// the links between entries.
    pub async fn verify_against(&self, anchors: &[AuditAnchor]) -> Result<AuditVerdict, StoreError> {
        for anchor in anchors {
            let found: Option<(String,)> = on_pool!(&self.store.pool, |c| {
                sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1")
                    .bind(anchor.seq)
                    .fetch_optional(c)
                    .await
            })
            .map_err(database)?;
            let problem = match found {
                None => "is missing, though it was anchored",
                Some((hash,)) if hash != anchor.hash => {
                    "has another hash than was anchored: the chain was rewritten"
                }
                Some(_) => continue,
            };
            return Ok(AuditVerdict::Broken {
                seq: anchor.seq,
                problem: format!("audit entry {} {problem} at {}", anchor.seq, anchor.at_utc),
            });
        }
        self.verify().await
    }

    /// Entries from `from` up to, not including, `to` (UTC), oldest first.
    pub async fn entries(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let format = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let rows: Vec<StoredEntry> = on_pool!(&self.store.pool, |c| {
            sqlx::query_as("SELECT * FROM audit_log WHERE at_utc >= $1 AND at_utc < $2 ORDER BY seq")
                .bind(format(from))
                .bind(format(to))
                .fetch_all(c)
                .await
        })
        .map_err(database)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                seq: r.seq,
                at_utc: r.at_utc,
                actor: r.actor,
                workstation: r.workstation,
                action: r.action,
                patient_id: r.patient_id,
                record_ids: r.record_ids,
                outcome: r.outcome,
                hash: r.hash,
            })
            .collect())
    }
}

/// The walk along the chain: what the next entry must be.
struct ChainWalk {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainWalk {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS.to_owned() }
    }
}

impl ChainWalk {
    /// Checks one entry; a verdict means the chain is broken there.
    fn step(&mut self, entry: &StoredEntry) -> Option<AuditVerdict> {
        if entry.seq == 1 && entry.action != AuditAction::StoreGenesis.text() {
            return Some(broken(1, "is not the genesis entry: the start of the trail was replaced"));
        }
        if entry.seq != self.expected_seq {
            return Some(broken(self.expected_seq, "is missing: it was deleted"));
        }
        let bytes = canonical(
            &entry.at_utc,
            &entry.actor,
            &entry.workstation,
            (&entry.action, entry.patient_id, &entry.record_ids, &entry.outcome),
        );
        if chain_hash(&entry.prev_hash, &bytes) != entry.hash {
            return Some(broken(entry.seq, "was edited: its contents no longer match its hash"));
        }
        if entry.prev_hash != self.prev_hash {
            return Some(broken(
                entry.seq,
                "is out of order: it does not follow the entry before it (reordered, or an entry before it was removed)",
            ));
        }
        self.prev_hash.clone_from(&entry.hash);
        self.expected_seq += 1;
        None
    }

    /// The verdict once every entry has passed: the head must name the last one.
    fn finish(self, head: Option<(i64, String)>) -> AuditVerdict {
        let last = self.expected_seq - 1;
        if last == 0 {
            return broken(1, "is missing: the trail is empty, so even its genesis entry was deleted");
        }
        match head {
            Some((seq, hash)) if seq != last || hash != self.prev_hash => {
                broken(last + 1, &format!("is missing: entries {}–{seq} were deleted from the end", last + 1))
            }
            None => broken(last, "has no recorded head: the head record was deleted"),
            _ => AuditVerdict::Intact { entries: last },
        }
    }
}

fn broken(seq: i64, problem: &str) -> AuditVerdict {
    AuditVerdict::Broken { seq, problem: format!("audit entry {seq} {problem}") }
}

/// CSV for the Information Governance team: one row per entry, ids only, no patient details.
pub fn write_csv(entries: &[AuditEntry], out: impl std::io::Write) -> Result<(), StoreError> {
    let mut writer = csv::Writer::from_writer(out);
    for entry in entries {
        writer.serialize(entry).map_err(|e| StoreError::Database(format!("CSV export failed: {e}")))?;
    }
    writer.flush().map_err(|e| StoreError::Database(format!("CSV export failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "c9fbc3ab2eb2940d512303fdd2e6db2d68fbf8f3b9907a3ac13b3ea00406f38b";

    /// The server completes the canonical bytes from the time and what the
    /// workstation sends; the result must be byte for byte what verification hashes.
    #[test]
    fn the_servers_canonical_bytes_are_the_workstations() {
        let at = "2026-11-30T09:00:00.123456Z";
        for (actor, outcome) in [("555000000001", "ok"), ("os:it \"quoted\"\n", "refused: naïve – “curly”")]
        {
            let event = ("patient.search.name", Some(42), r#"["patient:42"]"#, outcome);
            let whole = canonical(at, actor, "ws-1", event);
            let completed = format!("[\"{at}\",{}", canonical_after_time(actor, "ws-1", event));
            assert_eq!(whole, completed.into_bytes());
        }
    }

    #[test]
    fn an_anchor_line_reads_back_from_inside_a_log_line() {
        let anchor = AuditAnchor { seq: 12, hash: HASH.into(), at_utc: "2026-11-30T09:00:00.000000Z".into() };
        assert_eq!(AuditAnchor::parse(&format!("Nov 30 ws1 app[42]: {}", anchor.line())), Some(anchor));
    }

    #[test]
    fn a_line_that_is_not_a_whole_anchor_is_not_one() {
        let at = "at=2026-11-30T09:00:00.000000Z";
        assert_eq!(AuditAnchor::parse(&format!("seq=12 hash={HASH} {at}")), None, "no marker");
        assert_eq!(AuditAnchor::parse(&format!("cws-audit-anchor seq=12 hash={} {at}", &HASH[..63])), None);
        assert_eq!(AuditAnchor::parse(&format!("cws-audit-anchor seq=12 hash={}g {at}", &HASH[..63])), None);
        assert_eq!(AuditAnchor::parse(&format!("cws-audit-anchor seq=twelve hash={HASH} {at}")), None);
        assert_eq!(AuditAnchor::parse(&format!("cws-audit-anchor seq=12 hash={HASH}")), None, "no time");
    }
}
