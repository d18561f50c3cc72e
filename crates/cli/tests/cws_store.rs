//! `cws store|patient|audit|demo` against a real SQLCipher file whose key is
//! in a real GNOME Keyring on a private D-Bus.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use test_services::{KeyringSession, Postgres};

/// A keyring, a folder, and a store path in it; or a shared store's URL.
struct Setup {
    keyring: KeyringSession,
    folder: tempfile::TempDir,
    store_url: Option<String>,
}

impl Setup {
    fn new() -> Self {
        Self {
            keyring: KeyringSession::start(),
            folder: tempfile::tempdir().expect("temp folder"),
            store_url: None,
        }
    }

    /// As `new`, with the store on the shared server at `url` (CWS_STORE_URL).
    fn on_shared_store(url: String) -> Self {
        Self { store_url: Some(url), ..Self::new() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }

    fn command(&self, store: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cws"));
        command.args(args).envs(self.keyring.env()).env("CWS_STORE", store).env("USER", "test-admin");
        command.envs(self.store_url.iter().map(|url| ("CWS_STORE_URL", url)));
        command
    }

    fn run(&self, store: &Path, args: &[&str]) -> Output {
        self.command(store, args).output().expect("cws runs")
    }

    fn ok(&self, store: &Path, args: &[&str]) -> String {
        let output = self.run(store, args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn json(&self, store: &Path, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(store, args)).expect("JSON")
    }
}

/// The account the tests run as, by its effective uid (what `id -un` says).
fn effective_account() -> String {
    let output = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn init_makes_an_encrypted_store_and_never_overwrites_one() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    let status = setup.json(&store, &["store", "init", "--json"]);
    assert!(status["engine_version"].as_str().is_some_and(|v| v.starts_with("SQLCipher 4")), "{status}");
    assert_eq!(status["backend"], "local encrypted file");
    let header = std::fs::read(&store).expect("store file")[..16].to_vec();
    assert_ne!(header, b"SQLite format 3\0");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&store).expect("metadata").permissions());
    assert_eq!(mode & 0o777, 0o600, "only the owner may read the store");
    let again = setup.run(&store, &["store", "init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("never created over an existing file"), "{}", stderr(&again));
}

#[test]
fn a_missing_key_names_the_store_and_the_fix_and_the_recovery_key_restores_it() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    setup.ok(&store, &["demo", "seed", "--patients", "20"]);
    let recovery = setup.run(&store, &["store", "recovery-key"]);
    assert!(recovery.status.success());
    assert!(stderr(&recovery).contains("WARNING"), "the key comes with a warning");
    let key = String::from_utf8_lossy(&recovery.stdout).trim().to_owned();
    let shown_again = setup.run(&store, &["store", "recovery-key"]);
    assert_eq!(shown_again.status.code(), Some(1), "{:?}: {}", shown_again.status, stderr(&shown_again));
    assert!(stderr(&shown_again).contains("already been shown once"));

    // The same file under another name has no keyring entry.
    let moved = setup.path("moved.db");
    std::fs::copy(&store, &moved).expect("copy");
    let refused = setup.run(&moved, &["store", "status"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(message.contains("moved.db") && message.contains("unlock-with-recovery-key"), "{message}");

    let mut unlock = setup
        .command(&moved, &["store", "unlock-with-recovery-key"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cws");
    unlock.stdin.take().expect("stdin").write_all(key.as_bytes()).expect("key");
    assert!(unlock.wait_with_output().expect("runs").status.success());
    assert_eq!(setup.json(&moved, &["store", "status", "--json"])["patients"], 20);
}

#[test]
fn a_locked_keyring_is_reported_plainly() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init"]);
    setup.keyring.lock();
    let refused = setup.run(&store, &["store", "status"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("keyring is locked"), "{}", stderr(&refused));
}

#[test]
fn rekey_keeps_the_data_and_changes_the_key() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    setup.ok(&store, &["demo", "seed", "--patients", "10"]);
    let before = setup.path("before.db");
    std::fs::copy(&store, &before).expect("copy");
    setup.ok(&store, &["store", "rekey"]);
    assert_eq!(setup.json(&store, &["store", "status", "--json"])["patients"], 10);
    // The new key no longer opens the old file: it really changed.
    let mut moved_key_check = setup.command(&before, &["store", "unlock-with-recovery-key"]);
    let recovery = setup.ok(&store, &["store", "recovery-key"]);
    let mut child = moved_key_check
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("cws");
    child.stdin.take().expect("stdin").write_all(recovery.as_bytes()).expect("key");
    let output = child.wait_with_output().expect("runs");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("does not open this store"), "{}", stderr(&output));
}

/// Patient data is reached only through a card's permission token, so the store's
/// OS account reaches none, even before anyone is enrolled.
#[test]
fn without_a_card_no_one_reaches_patient_data_even_before_anyone_is_enrolled() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    setup.ok(&store, &["demo", "seed", "--patients", "5"]);
    let refused = setup.run(&store, &["patient", "show", "1"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("needs the card of someone with ViewPatients"), "{}", stderr(&refused));
    let csv = setup.ok(&store, &["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(
        csv.lines().any(|l| l.contains(&format!(",os:{},", effective_account()))
            && l.contains(",patient.read,")
            && l.contains("refused")),
        "the attempt is audited against the OS account: {csv}"
    );
}

#[test]
fn nhs_number_check_prints_valid_or_the_reason() {
    let setup = Setup::new();
    let store = setup.path("unused.db");
    assert!(setup.ok(&store, &["nhs-number", "check", "9434765919"]).starts_with("valid"));
    let mismatch = setup.run(&store, &["nhs-number", "check", "9434765918"]);
    assert_eq!(mismatch.status.code(), Some(2));
    let test_range = setup.run(&store, &["nhs-number", "check", "9434765919", "--refuse-test-range"]);
    assert!(stderr(&test_range).contains("test range"));
    let outside = setup.run(&store, &["nhs-number", "check", "0000000000"]);
    assert!(stderr(&outside).contains("outside the ranges"));
}

#[test]
fn a_production_site_refuses_test_range_numbers_by_setting() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init"]);
    let refused = setup
        .command(
            &store,
            &[
                "patient",
                "add",
                "--nhs-number",
                "9434765919",
                "--family-name",
                "Smith",
                "--given-name",
                "John",
                "--date-of-birth",
                "1945-07-14",
                "--sex",
                "male",
            ],
        )
        .env("CWS_NHS_NUMBER_TEST_RANGE", "refuse")
        .output()
        .expect("cws runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("test range"), "{}", stderr(&refused));
    assert_eq!(setup.json(&store, &["store", "status", "--json"])["patients"], 0);
}

/// SIGKILL a writer in the middle of a stream of transactions, many times:
/// each time the store opens, passes its integrity check, and holds every
/// batch that was reported committed, and never half a batch.
#[test]
fn a_killed_writer_loses_nothing_it_reported_committed() {
    kill_a_writer_again_and_again(&Setup::new());
}

#[test]
fn a_killed_writer_loses_nothing_it_reported_committed_on_a_shared_store() {
    let test = "a_killed_writer_loses_nothing_it_reported_committed_on_a_shared_store";
    let Some(server) = Postgres::start_or_skip(test) else { return };
    kill_a_writer_again_and_again(&Setup::on_shared_store(server.url()));
}

fn kill_a_writer_again_and_again(setup: &Setup) {
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    let mut reported = 0;
    for round in 0..12 {
        let mut writer = setup
            .command(&store, &["demo", "seed", "--patients", "100000", "--progress"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("writer starts");
        let mut lines = BufReader::new(writer.stdout.take().expect("piped")).lines();
        // Let a different number of batches commit each round before the kill.
        for _ in 0..=(round % 4) {
            let line = lines.next().expect("a progress line").expect("text");
            reported = line.trim_start_matches("committed ").parse().expect("a count");
        }
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(writer.id() as i32, libc::SIGKILL) };
        let _ = writer.wait();
        for line in lines.map_while(Result::ok) {
            reported = line.trim_start_matches("committed ").parse().unwrap_or(reported);
        }
        let status = setup.json(&store, &["store", "status", "--json"]);
        match setup.store_url {
            None => assert_eq!(status["integrity"], "ok", "round {round}"),
            Some(_) => assert_eq!(status["backend"], "shared PostgreSQL", "round {round}"),
        }
        let held = status["patients"].as_i64().expect("count");
        assert!(held >= reported, "round {round}: {reported} reported committed, {held} present");
        assert_eq!(held % 500, 0, "round {round}: a batch was half-written ({held})");
    }
    assert!(setup.ok(&store, &["audit", "verify"]).contains("intact"));
}

/// After a run of everything that touches patient data, no file holds a
/// synthetic patient's name in plain text: not the store, its WAL or SHM,
/// the backup, nor anything else in the folder.
#[test]
fn no_patient_name_reaches_the_disk_in_plain_text() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    setup.ok(&store, &["demo", "seed", "--patients", "300"]);
    setup.ok(&store, &["store", "backup", &setup.path("backup.db").to_string_lossy()]);
    // Keep a writer open mid-stream so the WAL and SHM files exist when scanned.
    let mut writer = setup
        .command(&store, &["demo", "seed", "--patients", "100000", "--progress"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("writer");
    let mut lines = BufReader::new(writer.stdout.take().expect("piped")).lines();
    lines.next();
    let mut scanned = Vec::new();
    for entry in walk(setup.folder.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        for name in [&b"Quillfeather"[..], b"QUILLFEATHER", b"Marchbanks", b"MARCHBANKS"] {
            assert!(
                !bytes.windows(name.len()).any(|w| w == name),
                "{} holds {}",
                entry.display(),
                String::from_utf8_lossy(name)
            );
        }
        scanned.push(entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    }
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(writer.id() as i32, libc::SIGKILL) };
    let _ = writer.wait();
    assert!(scanned.iter().any(|n| n == "store.db-wal"), "the WAL was scanned: {scanned:?}");
    assert!(scanned.iter().any(|n| n == "backup.db"), "the backup was scanned: {scanned:?}");
}

fn walk(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

/// The store key never reaches a log, even at trace level: not when the store
/// opens, nor in a backup's ATTACH, nor in a rekey.
#[test]
fn the_store_key_never_reaches_the_log_even_at_trace_level() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    let traced = |args: &[&str]| {
        let output = setup.command(&store, args).env("RUST_LOG", "trace").output().expect("cws runs");
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        output
    };
    let mut logged = Vec::new();
    logged.push(traced(&["store", "init", "--demo"]));
    let first_key = recovery_key_hex(&traced(&["store", "recovery-key"]));
    logged.push(traced(&["demo", "seed", "--patients", "20"]));
    logged.push(traced(&["store", "status"]));
    let backup = setup.path("backup.db");
    logged.push(traced(&["store", "backup", &backup.to_string_lossy()]));
    logged.push(traced(&["store", "rekey"]));
    let second_key = recovery_key_hex(&traced(&["store", "recovery-key"]));
    assert_ne!(first_key, second_key, "the rekey changed the key");
    let all: String =
        logged.iter().map(|o| format!("{}{}", stderr(o), String::from_utf8_lossy(&o.stdout))).collect();
    assert!(all.contains("TRACE") || all.contains("DEBUG"), "the log was captured at trace level");
    for key in [&first_key, &second_key] {
        for form in [key.to_lowercase(), key.to_uppercase()] {
            assert!(!all.contains(&form), "the store key was logged");
        }
    }
}

/// The 64 hex digits of a key `cws store recovery-key` shows.
fn recovery_key_hex(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout);
    let hex: String = text
        .lines()
        .find(|line| line.matches('-').count() == 7 && line.len() >= 71)
        .map(|line| line.trim().chars().filter(char::is_ascii_hexdigit).collect())
        .expect("the recovery key is shown");
    assert_eq!(hex.len(), 64, "{text}");
    hex
}

#[test]
fn fictional_patients_go_only_into_a_demonstration_store() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init"]);
    let refused = setup.run(&store, &["demo", "seed", "--patients", "5"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("not a demonstration store"), "{}", stderr(&refused));
    assert_eq!(setup.json(&store, &["store", "status", "--json"])["patients"], 0);
    let elsewhere = setup.path("missing.db");
    let missing = setup.run(&elsewhere, &["demo", "seed", "--patients", "5"]);
    assert!(!missing.status.success(), "seeding never creates a store");
    assert!(!elsewhere.exists());
}

#[test]
fn a_demonstration_store_refuses_fictional_patients_where_the_site_refuses_the_test_range() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    let refused = setup
        .command(&store, &["demo", "seed", "--patients", "5"])
        .env("CWS_NHS_NUMBER_TEST_RANGE", "refuse")
        .output()
        .expect("cws runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("9xx test range"), "{}", stderr(&refused));
}

/// An unmounted data folder makes the store look missing; its key is still in the
/// keyring, and creating a store there must not overwrite it.
#[test]
fn a_store_is_never_created_where_the_keyring_holds_a_key_for_the_path() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init"]);
    let unmounted = setup.path("unmounted.db");
    std::fs::rename(&store, &unmounted).expect("moved away");
    let refused = setup.run(&store, &["store", "init"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("already holds a key"), "{}", stderr(&refused));
    std::fs::rename(&unmounted, &store).expect("mounted again");
    assert_eq!(
        setup.json(&store, &["store", "status", "--json"])["integrity"],
        "ok",
        "the old key still opens it"
    );
}

fn mode(path: &Path) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).expect("metadata").permissions()) & 0o777
}

/// A rekey killed at any step leaves a store that opens, with every patient.
#[test]
fn a_rekey_killed_at_any_step_leaves_a_store_that_opens() {
    use std::os::unix::process::ExitStatusExt;
    for step in ["rekey.pending-saved", "rekey.file-reencrypted", "rekey.key-saved"] {
        let setup = Setup::new();
        let store = setup.path("store.db");
        setup.ok(&store, &["store", "init", "--demo"]);
        setup.ok(&store, &["demo", "seed", "--patients", "10"]);
        let killed = setup
            .command(&store, &["store", "rekey"])
            .env("CWS_TEST_CRASH_AT", step)
            .output()
            .expect("cws runs");
        assert_eq!(killed.status.signal(), Some(9), "{step}: the rekey was killed there");
        for attempt in ["first", "second"] {
            let status = setup.json(&store, &["store", "status", "--json"]);
            assert_eq!(status["patients"], 10, "{step}, {attempt} open after the kill");
            assert_eq!(status["integrity"], "ok", "{step}, {attempt} open after the kill");
        }
        setup.ok(&store, &["store", "rekey"]);
        assert_eq!(
            setup.json(&store, &["store", "status", "--json"])["patients"],
            10,
            "{step}: rekeyed again"
        );
    }
}

/// A restore never swaps the file under a program that has the store open.
#[test]
fn a_restore_is_refused_while_the_store_is_open_elsewhere() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    setup.ok(&store, &["demo", "seed", "--patients", "10"]);
    let backup = setup.path("backup.db");
    setup.ok(&store, &["store", "backup", &backup.to_string_lossy()]);
    let mut writer = setup
        .command(&store, &["demo", "seed", "--patients", "100000", "--progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("writer starts");
    let mut lines = BufReader::new(writer.stdout.take().expect("stdout")).lines();
    lines.next().expect("the writer has the store open").expect("a line");
    let refused = setup.run(&store, &["store", "restore", &backup.to_string_lossy()]);
    writer.kill().expect("writer stopped");
    writer.wait().expect("writer ended");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("open in another program"), "{}", stderr(&refused));
}

/// Checking a backup checks a copy: the backup is left byte for byte as it was,
/// and the restored store, the backup and an audit export are owner-only.
#[test]
fn a_restore_leaves_the_backup_untouched_and_every_copy_is_owner_only() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    setup.ok(&store, &["demo", "seed", "--patients", "10"]);
    let backup = setup.path("backup.db");
    setup.ok(&store, &["store", "backup", &backup.to_string_lossy()]);
    assert_eq!(mode(&backup), 0o600, "the backup is owner-only");
    std::fs::set_permissions(&backup, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    let before = std::fs::read(&backup).expect("backup read");
    setup.ok(&store, &["store", "restore", &backup.to_string_lossy()]);
    assert_eq!(std::fs::read(&backup).expect("backup read"), before, "the backup was not modified");
    assert!(!setup.path("backup.db-wal").exists(), "nothing was opened beside the backup");
    assert_eq!(mode(&store), 0o600, "the restored store is owner-only, whatever the backup's mode");
    let export = setup.path("audit.csv");
    setup.ok(
        &store,
        &[
            "audit",
            "export",
            "--from",
            "2000-01-01",
            "--to",
            "2100-12-31",
            "--output",
            &export.to_string_lossy(),
        ],
    );
    assert_eq!(mode(&export), 0o600, "the audit export is owner-only");
}

/// The head kept outside the store names a tail cut after it, which the chain alone cannot see.
#[test]
fn verify_with_anchors_names_entries_cut_after_an_anchor() {
    let setup = Setup::new();
    let store = setup.path("store.db");
    setup.ok(&store, &["store", "init", "--demo"]);
    setup.ok(&store, &["demo", "seed", "--patients", "5"]);
    let anchors = setup.path("anchors.log");
    let line = setup.ok(&store, &["audit", "anchor"]);
    assert!(line.starts_with("cws-audit-anchor seq="), "{line}");
    std::fs::write(&anchors, format!("Nov 30 09:00:00 ws1 clinical-workstation: {line}")).expect("written");
    assert!(
        setup.ok(&store, &["audit", "verify", "--anchors", &anchors.to_string_lossy()]).contains("intact")
    );
    let backup = setup.path("older.db");
    std::fs::copy(&store, &backup).expect("an older copy");
    setup.ok(&store, &["demo", "seed", "--patients", "5"]);
    let newer = setup.ok(&store, &["audit", "anchor"]);
    std::fs::write(&anchors, format!("{line}\n{newer}\n")).expect("written");
    // Rolling the file back to the older copy cuts the entries anchored since.
    std::fs::copy(&backup, &store).expect("rolled back");
    let cut = setup.run(&store, &["audit", "verify", "--anchors", &anchors.to_string_lossy()]);
    assert!(!cut.status.success());
    assert!(stderr(&cut).contains("missing, though it was anchored"), "{}", stderr(&cut));
}

/// Moving a site: a stand-alone store copied into an empty shared database.
/// Patients, staff and the trail arrive; the trail verifies there; the copy is
/// recorded on both; a database that is not empty is refused; and a copy
/// killed half-way leaves nothing behind but can be run again.
#[test]
fn a_store_copied_to_a_shared_database_arrives_whole_and_verified() {
    let Some(server) =
        Postgres::start_or_skip("a_store_copied_to_a_shared_database_arrives_whole_and_verified")
    else {
        return;
    };
    let local = Setup::new();
    let store = local.path("store.db");
    local.ok(&store, &["store", "init", "--demo"]);
    local.ok(&store, &["demo", "seed", "--patients", "12000"]);
    let before = local.json(&store, &["store", "status", "--json"]);
    let url = server.url();

    let mut interrupted = local
        .command(&store, &["store", "copy-to", &url, "--progress"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("copy starts");
    let mut progress = BufReader::new(interrupted.stderr.take().expect("piped")).lines();
    let first = progress.next().expect("a progress line").expect("text");
    assert!(first.starts_with("patients: "), "{first}");
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(interrupted.id() as i32, libc::SIGKILL) };
    let _ = interrupted.wait();

    let copied = local.json(&store, &["store", "copy-to", &url, "--json"]);
    assert_eq!(copied["patients"], before["patients"], "{copied}");
    assert_eq!(copied["audit_entries"], before["audit_entries"], "{copied}");

    let shared = Setup::on_shared_store(url.clone());
    let status = shared.json(&store, &["store", "status", "--json"]);
    assert_eq!(status["backend"], "shared PostgreSQL");
    assert_eq!(status["patients"], before["patients"]);
    let verdict = shared.json(&store, &["audit", "verify", "--json"]);
    assert_eq!(verdict["verdict"], "intact", "{verdict}");
    let export = shared.ok(&store, &["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(
        export.lines().nth(1).is_some_and(|first| first.contains("store.genesis")),
        "the chain came whole"
    );
    assert!(export.lines().last().is_some_and(|last| last.contains("store.copy")), "recorded on arrival");
    let here = local.ok(&store, &["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(
        here.lines().last().is_some_and(|last| last.contains("store.copy")),
        "recorded where it came from"
    );

    let again = local.run(&store, &["store", "copy-to", &url]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
}
