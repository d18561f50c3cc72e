//! `cws adt listen` on a demonstration store, driven by two peers over MLLP:
//! a raw socket that splits frames and sends junk between them, and
//! python-hl7's `mllp_send` (Debian python3-hl7), an independent sender.
//! Results are filed once, acknowledged after they are kept; what cannot be
//! applied is answered AE and waits in `cws adt errors`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use test_services::KeyringSession;

struct Site {
    keyring: KeyringSession,
    folder: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let site = Self { keyring: KeyringSession::start(), folder: tempfile::tempdir().expect("folder") };
        site.ok(&["store", "init", "--demo"]);
        site.ok(&["card", "demo-init", "--folder", &site.cards().to_string_lossy()]);
        // Card acts trust only a settings file owned by root (as the tests run).
        let settings = format!(
            "[cards]\npkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\nissuing_ca = {:?}\n",
            site.cards().join("demo-ca.pem").to_string_lossy()
        );
        std::fs::write(site.folder.path().join("workstation.toml"), settings).expect("settings");
        // The first demonstration patient: NHS number 999 000 0018, hospital number DEMO0000001.
        site.ok(&["demo", "seed", "--patients", "3"]);
        site
    }

    fn cards(&self) -> PathBuf {
        self.folder.path().join("cards")
    }

    /// A read with the demonstration nurse's card (PIN on standard input).
    fn as_nurse(&self, args: &[&str]) -> serde_json::Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let output = self.as_nurse_output(&with_json);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("JSON")
    }

    /// An act with the demonstration nurse's card, whatever its outcome.
    fn as_nurse_output(&self, args: &[&str]) -> std::process::Output {
        let mut with_card = args.to_vec();
        with_card.extend(["--card", "DEMO-NURSE", "--pin-stdin"]);
        let mut child = self
            .command(&with_card)
            .env("CWS_CONFIG", self.folder.path().join("workstation.toml"))
            .env("SOFTHSM2_CONF", self.cards().join("softhsm2.conf"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cws runs");
        child.stdin.take().expect("stdin").write_all(b"3333\n").expect("PIN");
        child.wait_with_output().expect("cws ends")
    }

    fn store(&self) -> PathBuf {
        self.folder.path().join("store.db")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cws"));
        command.args(args).envs(self.keyring.env()).env("CWS_STORE", self.store());
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.command(args).output().expect("cws runs");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Starts the listener on a free loopback port; stopped when dropped.
    fn listen(&self) -> Listener {
        self.listen_with(&[])
    }

    fn listen_with(&self, more: &[&str]) -> Listener {
        self.listen_with_env(more, &[])
    }

    fn listen_with_env(&self, more: &[&str], env: &[(&str, &str)]) -> Listener {
        let mut args = vec![
            "adt",
            "listen",
            "--bind",
            "127.0.0.1:0",
            "--idle-seconds",
            "5",
            "--max-message-bytes",
            "65536",
        ];
        args.extend(more);
        let mut child = self
            .command(&args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("listener starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("a line");
        let port = first
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{first:?}"));
        Listener { child, port }
    }
}

struct Listener {
    child: Child,
    port: u16,
}

impl Listener {
    /// Stops the listener and returns everything it logged.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut log);
        }
        let _ = self.child.wait();
        log
    }
}

fn oru(control_id: &str, pid3: &str) -> String {
    format!(
        "MSH|^~\\&|LIMS|RXX-PATH|CLINWS|RXX01|20261130083000||ORU^R01^ORU_R01|{control_id}|P|2.4\r\
         PID|||{pid3}||FICTIONAL^Person\r\
         OBR|1||S1|FBC^Full blood count|||20261130071500\r\
         OBX|1|NM|NEUT^Neutrophils||1.4|10*9/L|2.0-7.5|L|||F"
    )
}

fn framed(message: &str) -> Vec<u8> {
    let mut bytes = vec![0x0B];
    bytes.extend_from_slice(message.as_bytes());
    bytes.extend_from_slice(&[0x1C, 0x0D]);
    bytes
}

/// Reads one framed acknowledgement and gives MSA-1 and MSA-2 (and, for an AE, ERR-8 after them).
fn read_ack(stream: &mut TcpStream) -> (String, String) {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(&[0x1C, 0x0D]) {
        stream.read_exact(&mut byte).expect("an acknowledgement");
        bytes.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&bytes[1..bytes.len() - 2]).into_owned();
    let ack = hl7::Message::parse(&text).expect("the ACK is HL7");
    let msa = ack.segment("MSA").expect("MSA");
    if let Some(err) = ack.segment("ERR") {
        eprintln!("{} answered {}: {}", msa.value(2), msa.value(1), err.value(8));
    }
    (msa.value(1).to_owned(), msa.value(2).to_owned())
}

#[test]
fn results_over_mllp_are_filed_once_and_what_cannot_be_applied_is_answered_ae() {
    let site = Site::new();
    let listener = site.listen();
    let mut peer = TcpStream::connect(("127.0.0.1", listener.port)).expect("connected");
    peer.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");

    // Junk first, then a frame split across two writes.
    let wire = framed(&oru("LAB1", "9990000018^^^NHS^NH"));
    peer.write_all(b"\r\nnoise").expect("sent");
    peer.write_all(&wire[..20]).expect("sent");
    std::thread::sleep(Duration::from_millis(50));
    peer.write_all(&wire[20..]).expect("sent");
    assert_eq!(read_ack(&mut peer), ("AA".to_owned(), "LAB1".to_owned()));

    // The same message again, and an unknown patient's, in one write.
    let mut both = framed(&oru("LAB1", "9990000018^^^NHS^NH"));
    both.extend(framed(&oru("LAB2", "9990000107^^^NHS^NH")));
    peer.write_all(&both).expect("sent");
    assert_eq!(read_ack(&mut peer).0, "AA", "a resend is acknowledged again");
    assert_eq!(read_ack(&mut peer), ("AE".to_owned(), "LAB2".to_owned()));

    // An independent sender, by hospital number.
    let file = site.folder.path().join("lab3.hl7");
    std::fs::write(&file, oru("LAB3", "DEMO0000001^^^RXX^PI")).expect("written");
    let sent = Command::new("mllp_send")
        .args(["--loose", "--port", &listener.port.to_string(), "--file"])
        .arg(&file)
        .arg("127.0.0.1")
        .output()
        .expect("mllp_send (python3-hl7) runs");
    let answer = String::from_utf8_lossy(&sent.stdout).replace('\r', "\n");
    assert!(answer.contains("MSA|AA|LAB3"), "python-hl7 got: {answer}");

    // A file sent to the listener by cws itself: one new message, one already kept.
    let file = site.folder.path().join("lab4.hl7");
    std::fs::write(
        &file,
        format!("{}\n{}\n", oru("LAB4", "9990000018^^^NHS^NH"), oru("LAB1", "9990000018^^^NHS^NH")),
    )
    .expect("written");
    let to = format!("127.0.0.1:{}", listener.port);
    let sent = site.ok(&["adt", "replay", &file.to_string_lossy(), "--to", &to]);
    assert!(sent.contains("Applied 2 of 2"), "{sent}");
    let errors: serde_json::Value =
        serde_json::from_str(&site.ok(&["adt", "errors", "--json"])).expect("JSON");
    let ids: Vec<&str> =
        errors.as_array().expect("list").iter().filter_map(|m| m["control_id"].as_str()).collect();
    assert_eq!(ids, ["LAB2"], "only the unknown patient's message waits");
    let results = site.as_nurse(&["results", "show", "--patient", "9990000018"]);
    let values: Vec<&str> =
        results.as_array().expect("list").iter().filter_map(|r| r["value"].as_str()).collect();
    assert_eq!(
        values,
        ["1.4", "1.4", "1.4"],
        "LAB1 once (its resends not filed again), LAB3 and LAB4: {results}"
    );

    // A day's admission and transfer over the same connection: the bed board follows.
    let admit = "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|202611300900||ADT^A01^ADT_A01|ADT1|P|2.4\r\
                 EVN|A01|202611300900\rPID|||9990000018^^^NHS^NH||FICTIONAL^Person||19310202|F\rPV1||I|WARD7^BAY1^BED3";
    let transfer = "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|202611301000||ADT^A02^ADT_A02|ADT2|P|2.4\r\
                    EVN|A02|202611301000\rPID|||9990000018^^^NHS^NH||FICTIONAL^Person||19310202|F\rPV1||I|WARD7^BAY1^BED4";
    peer.write_all(&framed(admit)).expect("sent");
    assert_eq!(read_ack(&mut peer).0, "AA");
    peer.write_all(&framed(transfer)).expect("sent");
    assert_eq!(read_ack(&mut peer).0, "AA");
    let beds = site.as_nurse(&["beds"]);
    let board: Vec<(String, String, Option<String>)> = beds
        .as_array()
        .expect("list")
        .iter()
        .map(|b| {
            (
                b["bed"].as_str().unwrap_or("").to_owned(),
                b["state"].as_str().unwrap_or("").to_owned(),
                b["nhs_number"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        board,
        [
            ("BED3".to_owned(), "being cleaned".to_owned(), None),
            ("BED4".to_owned(), "occupied".to_owned(), Some("9990000018".to_owned()))
        ]
    );
    // The nurse's list: a patient added with a reason, shown, and taken off.
    site.as_nurse(&["patient-list", "add", "9990000018", "--reason", "outlier on WARD9"]);
    let list = site.as_nurse(&["patient-list", "show"]);
    assert_eq!(list[0]["reason"], "outlier on WARD9", "{list}");
    site.as_nurse(&["patient-list", "remove", "9990000018"]);
    assert_eq!(site.as_nurse(&["patient-list", "show"]).as_array().map(Vec::len), Some(0));
    let wards = site.ok(&["user", "wards", "555000000003", "--wards", "WARD7,WARD9"]);
    assert!(wards.contains("WARD7, WARD9"), "{wards}");
    drop(peer);

    // A frame with no readable MSH has nothing to be acknowledged by: the connection is closed, not left waiting.
    let mut stranger = TcpStream::connect(("127.0.0.1", listener.port)).expect("connected");
    stranger.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stranger.write_all(&framed("not an HL7 message")).expect("sent");
    let mut rest = Vec::new();
    let read = stranger.read_to_end(&mut rest);
    assert!(matches!(read, Ok(0)) || read.is_err() && rest.is_empty(), "closed without an answer: {read:?}");
    let log = listener.stop();
    for private in ["9990000018", "999 000 0018", "DEMO0000001", "FICTIONAL", "Neutrophils"] {
        let line = log.lines().find(|l| l.contains(private));
        assert!(line.is_none(), "{private} reached the listener's log at trace level: {line:?}");
    }
    assert!(log.contains("LAB1"), "control ids are logged");
    let audit = site.ok(&["audit", "verify"]);
    assert!(audit.contains("intact"), "{audit}");
}

/// Peers that connect and say nothing, one that trickles a frame that never
/// ends, and one that streams an endless frame: none of them keeps a
/// well-behaved laboratory from being served at once.
#[test]
fn silent_connections_and_endless_frames_do_not_keep_a_well_behaved_peer_out() {
    let site = Site::new();
    let listener = site.listen_with(&["--max-connections", "8"]);
    let port = listener.port;
    let endless = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connected");
        let _ = stream.write_all(b"\x0b");
        let chunk = [b'A'; 4096];
        let mut sent = 0usize;
        while stream.write_all(&chunk).is_ok() {
            sent += chunk.len();
            assert!(sent < 64 << 20, "the listener read 64 MiB of one frame without closing it");
        }
        sent
    });
    assert!(endless.join().expect("the endless sender ends") >= 65536, "closed once past the limit");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickle = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return };
            let _ = stream.write_all(b"\x0bMSH|^~\\&|SLOW");
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && stream.write_all(b"A").is_ok() {
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let silent: Vec<TcpStream> =
        (0..100).filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok()).collect();
    // Every place is now held by a connection that has completed no message.
    std::thread::sleep(Duration::from_millis(1500));
    let started = std::time::Instant::now();
    let mut laboratory = TcpStream::connect(("127.0.0.1", port)).expect("connected");
    laboratory.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    laboratory.write_all(&framed(&oru("LAB9", "9990000018^^^NHS^NH"))).expect("sent");
    assert_eq!(read_ack(&mut laboratory), ("AA".to_owned(), "LAB9".to_owned()));
    assert!(started.elapsed() < Duration::from_secs(3), "served at once: {:?}", started.elapsed());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    trickle.join().expect("trickle ends");
    drop(silent);
    let log = listener.stop();
    assert!(log.contains("message over the size limit"), "the endless frame was dropped");
    assert!(log.contains("silent longest was closed"), "a silent connection made room");
}

/// hl7apy (PyPI), an independent HL7 v2 library, in the environment `make test`
/// makes (target/python-peers), or `None` after saying why it is not there.
fn hl7apy_python() -> Option<PathBuf> {
    let python = std::env::var_os("CWS_TEST_HL7APY_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/python-peers/bin/python")
    });
    let present =
        Command::new(&python).args(["-c", "import hl7apy"]).output().is_ok_and(|o| o.status.success());
    match (present, std::env::var_os("CI").is_some()) {
        (true, _) => Some(python),
        (false, true) => {
            panic!("hl7apy must be installed under CI (make test does it): {}", python.display())
        }
        (false, false) => {
            let _ = writeln!(std::io::stderr(), "SKIPPED the hl7apy check: run `make test` to install it");
            None
        }
    }
}

/// A scripted day from an independent sender (python-hl7's mllp_send):
/// admissions, a transfer and its cancellation, an A08, results and their
/// duplicate, discharges and a cancelled discharge, an out-of-order transfer,
/// two registrations and a merge, a circular merge, a malformed message and
/// results for a patient not yet registered. The patient index, beds, results
/// and error queue are what the day leaves; every ACK validates in hl7apy; a
/// queued message is applied by `cws adt replay ID` once its patient exists.
#[test]
fn a_scripted_day_from_an_independent_sender_leaves_the_index_beds_results_and_queue_right() {
    let site = Site::new();
    let listener = site.listen();
    let day = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/scripted_day.hl7");
    let sent = Command::new("mllp_send")
        .args(["--loose", "--port", &listener.port.to_string(), "--file"])
        .arg(&day)
        .arg("127.0.0.1")
        .output()
        .expect("mllp_send (python3-hl7) runs");
    let acks = String::from_utf8_lossy(&sent.stdout).replace('\r', "\n");
    let answers: Vec<(String, String)> = acks
        .lines()
        .filter_map(|l| l.strip_prefix("MSA|"))
        .map(|msa| {
            let mut parts = msa.split('|');
            (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned())
        })
        .collect();
    let code_of = |id: &str| answers.iter().find(|(_, c)| c == id).map(|(a, _)| a.as_str()).unwrap_or("none");
    assert_eq!(answers.len(), 20, "one ACK for each message: {acks}");
    for accepted in ["DAY01", "DAY04", "DAY05", "DAY06", "LABDAY1", "DAY09", "DAY10", "DAY13"] {
        assert_eq!(code_of(accepted), "AA", "{accepted}: {acks}");
    }
    assert_eq!(answers.iter().filter(|(_, c)| c == "LABDAY1").count(), 2, "the duplicate acknowledged again");
    for refused in ["DAY14", "DAY15", "LABDAY3", "LABDAY4"] {
        assert_eq!(code_of(refused), "AE", "{refused}: {acks}");
    }

    // Every acknowledgement is valid HL7 to an independent library, in its message's version (2.4, and 2.5.1 for LABDAY4).
    if let Some(python) = hl7apy_python() {
        let validator = test_services::python_peers::script("validate_hl7v2.py");
        let mut check = Command::new(python)
            .arg(validator)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python runs");
        check.stdin.take().expect("stdin").write_all(acks.as_bytes()).expect("written");
        let verdict = check.wait_with_output().expect("validator ends");
        let said = String::from_utf8_lossy(&verdict.stdout);
        assert!(verdict.status.success(), "hl7apy refused an acknowledgement:\n{said}");
        assert_eq!(said.lines().filter(|l| l.starts_with("ok ")).count(), 20, "{said}");
    }

    // Beds: the cancelled transfer put Ada back, the stale transfer changed nothing,
    // Cleo's bed waits for cleaning, Bob's cancelled discharge gave him his bed back.
    let beds = site.as_nurse(&["beds"]);
    let board: Vec<String> = beds
        .as_array()
        .expect("list")
        .iter()
        .map(|b| {
            format!(
                "{}/{} {} {}",
                b["ward"].as_str().unwrap_or(""),
                b["bed"].as_str().unwrap_or(""),
                b["state"].as_str().unwrap_or(""),
                b["nhs_number"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        board,
        [
            "WARD7/BED1 occupied 9990005001",
            "WARD7/BED2 occupied 9990005028",
            "WARD8/BED1 being cleaned -",
            "WARD8/BED2 free -",
        ],
        "{beds}"
    );

    // The expected discharge dates: Ada's from her admission (PV2-9), Bob's from the A08.
    let expected: Vec<&str> = beds
        .as_array()
        .expect("list")
        .iter()
        .map(|b| b["expected_discharge"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(expected, ["2026-12-05", "2026-12-03", "-", "-"], "{beds}");

    // The index: Bob renamed by the A08; Dora's second record merged into her first.
    let bob = site.as_nurse(&["patient", "search", "9990005028"]);
    assert_eq!(bob[0]["display_name"].as_str().map(|n| n.starts_with("BRAVO-RENAMED")), Some(true), "{bob}");
    let second = site.as_nurse(&["patient", "search", "9990005052"]);
    let first = site.as_nurse(&["patient", "search", "9990005044"]);
    assert_eq!(second[0]["merged_into"], first[0]["id"], "merged: {second} into {first}");
    assert!(first[0]["merged_into"].is_null(), "the survivor is not merged: {first}");
    let merged_id = second[0]["id"].to_string();
    let opened = site.as_nurse_output(&["patient", "show", &merged_id]);
    assert!(!opened.status.success(), "a merged record is never the one opened");
    let said = String::from_utf8_lossy(&opened.stderr).into_owned();
    assert!(said.contains("merged into patient record"), "{said}");

    // Results: Ada's once despite the duplicate; Dora's creatinine moved with the merge.
    let values = |nhs: &str| -> Vec<String> {
        site.as_nurse(&["results", "show", "--patient", nhs])
            .as_array()
            .expect("list")
            .iter()
            .map(|r| format!("{} {}", r["code"].as_str().unwrap_or(""), r["value"].as_str().unwrap_or("")))
            .collect()
    };
    let mut ada = values("9990005001");
    ada.sort();
    assert_eq!(ada, ["NEUT 2.1", "PLT 95"]);
    assert_eq!(values("9990005044"), ["CREAT 71"]);

    // The error queue holds the circular merge, the malformed message and the stranger's results.
    let queue = |site: &Site| -> Vec<(i64, String)> {
        serde_json::from_str::<serde_json::Value>(&site.ok(&["adt", "errors", "--json"]))
            .expect("JSON")
            .as_array()
            .expect("list")
            .iter()
            .map(|m| (m["id"].as_i64().unwrap_or(0), m["control_id"].as_str().unwrap_or("").to_owned()))
            .collect()
    };
    let waiting = queue(&site);
    let ids: Vec<&str> = waiting.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(ids, ["DAY14", "DAY15", "LABDAY3", "LABDAY4"]);

    // Fay is registered; her results, replayed from the queue, are filed once.
    let mut peer = TcpStream::connect(("127.0.0.1", listener.port)).expect("connected");
    peer.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let register = "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261201115000||ADT^A28^ADT_A05|DAY16|P|2.4\r\
                    EVN|A28|20261201115000\rPID|||9990005079^^^NHS^NH||FOXTROTFICTION^Fay^^^Ms||19900505|F";
    peer.write_all(&framed(register)).expect("sent");
    assert_eq!(read_ack(&mut peer).0, "AA");
    let labday3 = waiting.iter().find(|(_, c)| c == "LABDAY3").map(|(id, _)| id.to_string()).expect("queued");
    assert!(site.ok(&["adt", "replay", &labday3]).contains("applied"));
    assert_eq!(values("9990005079"), ["NEUT 3.3"]);
    let again = site.command(&["adt", "replay", &labday3]).output().expect("cws runs");
    assert!(!again.status.success(), "a message is replayed once");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not waiting in the error queue"));
    let ids: Vec<String> = queue(&site).into_iter().map(|(_, c)| c).collect();
    assert_eq!(ids, ["DAY14", "DAY15", "LABDAY4"]);
    drop(peer);
    listener.stop();
    assert!(site.ok(&["audit", "verify"]).contains("intact"));
}

/// The listener killed (SIGKILL) between a message's commit and its ACK, again
/// and again: the sender, seeing no ACK, resends to the restarted listener,
/// and every effect is there exactly once.
#[test]
fn killed_between_commit_and_ack_again_and_again_each_effect_is_there_once() {
    let site = Site::new();
    let nhs = "9990005087";
    let mut messages = vec![format!(
        "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261201080000||ADT^A01^ADT_A01|K0|P|2.4\r\
         EVN|A01|20261201080000\rPID|||{nhs}^^^NHS^NH||GOLFFICTION^Gus^^^Mr||19550505|M\rPV1||I|WARD7^BAY1^BED1"
    )];
    for n in 1..=6 {
        messages.push(format!(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|2026120109{n:02}00||ADT^A02^ADT_A02|K{n}|P|2.4\r\
             EVN|A02|2026120109{n:02}00\rPID|||{nhs}^^^NHS^NH||GOLFFICTION^Gus^^^Mr||19550505|M\r\
             PV1||I|WARD7^BAY1^BED{}",
            n + 1
        ));
        messages.push(
            oru(&format!("KLAB{n}"), &format!("{nhs}^^^NHS^NH")).replace("||1.4|", &format!("||{n}.5|")),
        );
    }
    let (mut kills, mut next) = (0, 0);
    while next < messages.len() {
        let listener = site.listen_with_env(&[], &[("CWS_TEST_KILL_BEFORE_ACK_EVERY", "2")]);
        let mut peer = TcpStream::connect(("127.0.0.1", listener.port)).expect("connected");
        peer.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        while next < messages.len() {
            peer.write_all(&framed(&messages[next])).expect("sent");
            let mut byte = [0u8; 1];
            match peer.read(&mut byte) {
                Ok(1) if byte[0] == 0x0B => {
                    let mut rest = Vec::new();
                    while !rest.ends_with(&[0x1C, 0x0D]) {
                        peer.read_exact(&mut byte).expect("the rest of the ACK");
                        rest.push(byte[0]);
                    }
                    assert!(
                        String::from_utf8_lossy(&rest).contains("MSA|AA|"),
                        "{}",
                        String::from_utf8_lossy(&rest)
                    );
                    next += 1;
                }
                _ => {
                    // No ACK: the listener died after committing. Resend to its successor.
                    kills += 1;
                    break;
                }
            }
        }
        listener.stop();
    }
    assert!(kills >= 6, "the listener was killed between commit and ACK {kills} times");
    let results = site.as_nurse(&["results", "show", "--patient", nhs]);
    let mut values: Vec<&str> =
        results.as_array().expect("list").iter().filter_map(|r| r["value"].as_str()).collect();
    values.sort_unstable();
    assert_eq!(values, ["1.5", "2.5", "3.5", "4.5", "5.5", "6.5"], "each result once");
    let beds = site.as_nurse(&["beds"]);
    let occupied: Vec<&str> = beds
        .as_array()
        .expect("list")
        .iter()
        .filter(|b| b["state"] == "occupied")
        .filter_map(|b| b["bed"].as_str())
        .collect();
    assert_eq!(occupied, ["BED7"], "one bed taken, the last: {beds}");
    let errors: serde_json::Value =
        serde_json::from_str(&site.ok(&["adt", "errors", "--json"])).expect("JSON");
    assert_eq!(errors.as_array().map(Vec::len), Some(0), "nothing refused: {errors}");
    assert!(site.ok(&["audit", "verify"]).contains("intact"));
}

/// Four senders at once, so messages are committed together (a group commit),
/// and the listener killed between a commit and its ACKs again and again:
/// each sender resends what it was not answered, and every effect of every
/// sender is there exactly once.
#[test]
fn four_senders_and_the_listener_killed_between_a_group_commit_and_its_acks_each_effect_is_there_once() {
    let site = Site::new();
    let patients = ["9990005087", "9990005095", "9990005109", "9990005117"];
    let streams: Vec<Vec<String>> = patients
        .iter()
        .enumerate()
        .map(|(p, nhs)| {
            let mut messages = vec![format!(
                "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261201080000||ADT^A01^ADT_A01|G{p}A|P|2.4\r\
                 EVN|A01|20261201080000\rPID|||{nhs}^^^NHS^NH||GOLFFICTION^Gus^^^Mr||19550505|M\rPV1||I|WARD{p}^BAY1^BED1"
            )];
            for n in 1..=5 {
                messages.push(format!(
                    "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|2026120109{n:02}00||ADT^A02^ADT_A02|G{p}T{n}|P|2.4\r\
                     EVN|A02|2026120109{n:02}00\rPID|||{nhs}^^^NHS^NH||GOLFFICTION^Gus^^^Mr||19550505|M\r\
                     PV1||I|WARD{p}^BAY1^BED{}",
                    n + 1
                ));
                messages.push(
                    oru(&format!("G{p}L{n}"), &format!("{nhs}^^^NHS^NH"))
                        .replace("||1.4|", &format!("||{n}.5|")),
                );
            }
            messages
        })
        .collect();
    let mut next = [0usize; 4];
    let mut kills = 0;
    while next.iter().zip(&streams).any(|(n, s)| *n < s.len()) {
        let listener = site.listen_with_env(&[], &[("CWS_TEST_KILL_BEFORE_ACK_EVERY", "3")]);
        let port = listener.port;
        let progress: Vec<(usize, bool)> = std::thread::scope(|scope| {
            let senders: Vec<_> = streams
                .iter()
                .zip(next)
                .map(|(messages, from)| {
                    scope.spawn(move || {
                        let mut at = from;
                        let Ok(mut peer) = TcpStream::connect(("127.0.0.1", port)) else { return (at, true) };
                        peer.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
                        while at < messages.len() {
                            if peer.write_all(&framed(&messages[at])).is_err() {
                                return (at, true);
                            }
                            let mut byte = [0u8; 1];
                            match peer.read(&mut byte) {
                                Ok(1) if byte[0] == 0x0B => {
                                    let mut rest = Vec::new();
                                    while !rest.ends_with(&[0x1C, 0x0D]) {
                                        if peer.read_exact(&mut byte).is_err() {
                                            return (at, true);
                                        }
                                        rest.push(byte[0]);
                                    }
                                    let ack = String::from_utf8_lossy(&rest);
                                    assert!(ack.contains("MSA|AA|"), "{ack}");
                                    at += 1;
                                }
                                // No ACK: the listener died after committing. Resend to its successor.
                                _ => return (at, true),
                            }
                        }
                        (at, false)
                    })
                })
                .collect();
            senders.into_iter().map(|s| s.join().expect("sender")).collect()
        });
        kills += usize::from(progress.iter().any(|(_, cut)| *cut));
        for (index, (at, _)) in progress.into_iter().enumerate() {
            next[index] = at;
        }
        listener.stop();
    }
    assert!(kills >= 4, "the listener was killed between commit and ACK {kills} times");
    for nhs in patients {
        let results = site.as_nurse(&["results", "show", "--patient", nhs]);
        let mut values: Vec<&str> =
            results.as_array().expect("list").iter().filter_map(|r| r["value"].as_str()).collect();
        values.sort_unstable();
        assert_eq!(values, ["1.5", "2.5", "3.5", "4.5", "5.5"], "each result once, for {nhs}");
    }
    let beds = site.as_nurse(&["beds"]);
    let mut occupied: Vec<String> = beds
        .as_array()
        .expect("list")
        .iter()
        .filter(|b| b["state"] == "occupied")
        .map(|b| format!("{}/{}", b["ward"].as_str().unwrap_or("?"), b["bed"].as_str().unwrap_or("?")))
        .collect();
    occupied.sort_unstable();
    assert_eq!(occupied, ["WARD0/BED6", "WARD1/BED6", "WARD2/BED6", "WARD3/BED6"], "{beds}");
    let errors: serde_json::Value =
        serde_json::from_str(&site.ok(&["adt", "errors", "--json"])).expect("JSON");
    assert_eq!(errors.as_array().map(Vec::len), Some(0), "nothing refused: {errors}");
    assert!(site.ok(&["audit", "verify"]).contains("intact"));
}

/// `make run`'s bed board: three wards of twenty beds from a day of ADT, each
/// ward at its own occupancy; a second run changes nothing.
#[test]
fn the_demonstration_ward_day_fills_three_wards_of_twenty_beds_once() {
    let site = Site::new();
    site.ok(&["demo", "ward-day"]);
    site.ok(&["demo", "ward-day"]);
    let beds = site.as_nurse(&["beds"]);
    let mut tally = std::collections::BTreeMap::<(String, String), usize>::new();
    for bed in beds.as_array().expect("list") {
        let key =
            (bed["ward"].as_str().unwrap_or("").to_owned(), bed["state"].as_str().unwrap_or("").to_owned());
        *tally.entry(key).or_default() += 1;
    }
    let count =
        |ward: &str, state: &str| tally.get(&(ward.to_owned(), state.to_owned())).copied().unwrap_or(0);
    assert_eq!(beds.as_array().map(Vec::len), Some(60), "{tally:?}");
    assert_eq!(
        [count("WARD7", "occupied"), count("WARD7", "being cleaned"), count("WARD7", "free")],
        [19, 1, 0],
        "{tally:?}"
    );
    assert_eq!(
        [count("WARD8", "occupied"), count("WARD8", "being cleaned"), count("WARD8", "free")],
        [17, 2, 1]
    );
    assert_eq!(
        [count("WARD9", "occupied"), count("WARD9", "being cleaned"), count("WARD9", "free")],
        [15, 4, 1]
    );
    let errors: serde_json::Value =
        serde_json::from_str(&site.ok(&["adt", "errors", "--json"])).expect("JSON");
    assert_eq!(errors.as_array().map(Vec::len), Some(0));

    // The bed manager's marks: a cleaned bed is free again, a free bed closed;
    // an occupied bed is never marked by hand.
    let state_of = |bed: &str| -> String {
        let beds = site.as_nurse(&["beds"]);
        beds.as_array()
            .expect("list")
            .iter()
            .find(|b| {
                let named = [&b["ward"], &b["room"], &b["bed"]].map(|v| v.as_str().unwrap_or("").to_owned());
                named.join("/") == bed
            })
            .and_then(|b| b["state"].as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let mark = |bed: &str, action: &str| site.as_nurse_output(&["beds", "mark", bed, "--action", action]);
    assert_eq!(state_of("WARD7/BAY1/BED1"), "being cleaned");
    assert!(mark("WARD7/BAY1/BED1", "clean").status.success());
    assert_eq!(state_of("WARD7/BAY1/BED1"), "free");
    assert!(mark("WARD7/BAY1/BED1", "close").status.success());
    assert_eq!(state_of("WARD7/BAY1/BED1"), "closed");
    let refused = mark("WARD7/BAY1/BED2", "close");
    assert!(!refused.status.success(), "an occupied bed cannot be closed");
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(said.contains("occupied"), "{said}");
    assert_eq!(state_of("WARD7/BAY1/BED2"), "occupied");
    let unknown = mark("WARD7/BAY9/BED1", "clean");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no bed WARD7/BAY9/BED1"));
    assert!(site.ok(&["audit", "verify"]).contains("intact"));
}

/// The feed admits a second patient to a bed without moving the first: the
/// board shows the bed's occupant and says whose admission is also there.
#[test]
fn a_bed_claimed_by_two_patients_shows_both() {
    let site = Site::new();
    let admit = |id: &str, nhs: &str, at: &str| {
        format!(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|{at}||ADT^A01^ADT_A01|{id}|P|2.4\r\
             EVN|A01|{at}\rPID|||{nhs}^^^NHS^NH||HOTELFICTION^Hal||19600606|M\rPV1||I|WARD7^BAY1^BED1"
        )
    };
    let file = site.folder.path().join("two.hl7");
    let day = format!(
        "{}\n{}\n",
        admit("TWO1", "9990005095", "202612010800"),
        admit("TWO2", "9990005109", "202612010900")
    );
    std::fs::write(&file, day).expect("written");
    assert!(site.ok(&["adt", "replay", &file.to_string_lossy()]).contains("Applied 2 of 2"));
    let beds = site.as_nurse(&["beds"]);
    assert_eq!(beds[0]["nhs_number"], "9990005109", "the latest admission holds the bed: {beds}");
    assert_eq!(beds[0]["also_claimed_by"], serde_json::json!(["9990005095"]), "{beds}");
}

/// The site's ward layout (`[beds]`): every bed shown, free until the feed
/// fills it, and a bed the feed names that the layout lacks shown too.
#[test]
fn the_sites_ward_layout_shows_every_bed_and_the_feed_adds_what_it_lacks() {
    let site = Site::new();
    let settings = site.folder.path().join("workstation.toml");
    let mut text = std::fs::read_to_string(&settings).expect("settings");
    text.push_str(
        "[[beds.wards]]\ncode = \"WARD7\"\nname = \"Ward 7 (oncology)\"\nbays = [{ code = \"BAY1\", beds = 3 }]\n",
    );
    std::fs::write(&settings, text).expect("settings written");
    let admit = |id: &str, nhs: &str, place: &str| {
        format!(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|202612010800||ADT^A01^ADT_A01|{id}|P|2.4\r\
             EVN|A01|202612010800\rPID|||{nhs}^^^NHS^NH||INDIAFICTION^Ivy||19700707|F\rPV1||I|{place}"
        )
    };
    let file = site.folder.path().join("day.hl7");
    let day = format!(
        "{}\n{}\n",
        admit("L1", "9990005117", "WARD7^BAY1^BED2"),
        admit("L2", "9990005125", "WARD8^BAY1^BED1")
    );
    std::fs::write(&file, day).expect("written");
    assert!(site.ok(&["adt", "replay", &file.to_string_lossy()]).contains("Applied 2 of 2"));
    let beds = site.as_nurse(&["beds"]);
    let shown: Vec<String> = beds
        .as_array()
        .expect("list")
        .iter()
        .map(|b| {
            let at =
                [&b["ward"], &b["room"], &b["bed"], &b["state"]].map(|v| v.as_str().unwrap_or("").to_owned());
            at.join(" ")
        })
        .collect();
    assert_eq!(
        shown,
        [
            "WARD7 BAY1 BED1 free",
            "WARD7 BAY1 BED2 occupied",
            "WARD7 BAY1 BED3 free",
            "WARD8 BAY1 BED1 occupied"
        ],
        "{beds}"
    );
    assert_eq!(beds[0]["ward_name"], "Ward 7 (oncology)");
    // A bed of the layout the feed never named can be closed all the same.
    let closed = site.as_nurse_output(&["beds", "mark", "WARD7/BAY1/BED3", "--action", "close"]);
    assert!(closed.status.success(), "{}", String::from_utf8_lossy(&closed.stderr));
    assert_eq!(site.as_nurse(&["beds"])[2]["state"], "closed");
}
