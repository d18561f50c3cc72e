//! `cws card watch` against a real PC/SC daemon (pcscd) and reader driver
//! (vsmartcard's vpcd): a card put in and taken out is reported as it happens.
//! The time from removal to the report is written to target/measurements, not asserted.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use test_services::{Pcscd, VIRTUAL_READER};

/// Long enough for a slow machine; the measured figure is printed, not asserted.
const PATIENCE: Duration = Duration::from_secs(5);

struct Watcher {
    child: Child,
    lines: Receiver<serde_json::Value>,
}

impl Watcher {
    fn start(pcscd: &Pcscd) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cws"))
            .args(["card", "watch", "--json"])
            .envs(pcscd.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cws runs");
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(serde_json::from_str(&line).expect("a JSON line"));
            }
        });
        Self { child, lines }
    }

    fn next(&self) -> serde_json::Value {
        self.lines.recv_timeout(PATIENCE).expect("the watcher reported within five seconds")
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_card_taken_from_a_reader_is_reported_as_it_happens() {
    let pcscd = Pcscd::start();
    let watcher = Watcher::start(&pcscd);
    let ready = watcher.next();
    assert!(
        ready["watching"].as_array().expect("reader list").iter().any(|r| r == VIRTUAL_READER),
        "{ready}"
    );

    let card = pcscd.insert_card();
    assert_eq!(watcher.next(), serde_json::json!({"reader": VIRTUAL_READER, "change": "arrived"}));

    let removed_at = Instant::now();
    card.remove();
    assert_eq!(watcher.next(), serde_json::json!({"reader": VIRTUAL_READER, "change": "left"}));
    // pcscd polls a reader without hot-plug events every 400 ms; a USB CCID reader reports at once.
    let reported_after = removed_at.elapsed().as_millis();
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/measurements");
    std::fs::create_dir_all(&folder).expect("measurement folder");
    std::fs::write(folder.join("pcsc-removal-reported-ms.txt"), format!("{reported_after}\n"))
        .expect("written");

    match watcher.lines.recv_timeout(Duration::from_millis(500)) {
        Err(RecvTimeoutError::Timeout) => {}
        other => panic!("one removal is reported once, got {other:?}"),
    }
}

#[test]
fn a_stopped_pcsc_service_ends_the_watch_with_a_reason() {
    let pcscd = Pcscd::start();
    let env = pcscd.env();
    drop(pcscd);
    let output =
        Command::new(env!("CARGO_BIN_EXE_cws")).args(["card", "watch"]).envs(env).output().expect("cws runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PC/SC service (pcscd) is not running"), "{stderr}");
}
