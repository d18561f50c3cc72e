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
        // The first demonstration patient: NHS number 999 000 0018, hospital number DEMO0000001.
        site.ok(&["demo", "seed", "--patients", "3"]);
        site
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
        let mut child = self
            .command(&[
                "adt",
                "listen",
                "--bind",
                "127.0.0.1:0",
                "--idle-seconds",
                "5",
                "--max-message-bytes",
                "65536",
            ])
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

/// Reads one framed acknowledgement and gives MSA-1 and MSA-2.
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

    let errors: serde_json::Value =
        serde_json::from_str(&site.ok(&["adt", "errors", "--json"])).expect("JSON");
    let ids: Vec<&str> =
        errors.as_array().expect("list").iter().filter_map(|m| m["control_id"].as_str()).collect();
    assert_eq!(ids, ["LAB2"], "only the unknown patient's message waits");
    drop(peer);
    let log = listener.stop();
    for private in ["9990000018", "DEMO0000001", "FICTIONAL", "1.4"] {
        assert!(!log.contains(private), "{private} reached the listener's log at trace level");
    }
    assert!(log.contains("LAB1"), "control ids are logged");
    let audit = site.ok(&["audit", "verify"]);
    assert!(audit.contains("intact"), "{audit}");
}
