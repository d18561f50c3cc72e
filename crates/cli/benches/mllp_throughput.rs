//! Sustained HL7 v2 throughput of `cws adt listen` over loopback: each message
//! kept, applied and committed durably (with its audit entry) before its ACK,
//! and the peer sending the next only after that ACK, as a PAS or laboratory
//! does. Half the messages are laboratory results (ORU^R01, two OBX), half are
//! ADT for a hospital of 600 inpatients, each stay as a real one runs: moved
//! twice (A02: the stay moved, the bed left for cleaning and the bed taken),
//! discharged (A03), then admitted again (A01, a new stay). On the local
//! SQLCipher store and on PostgreSQL 15, with one connection and with four.
//! Figures go in docs/PERFORMANCE.md.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use test_services::{KeyringSession, Postgres};

/// Inpatients admitted before the run, as in a large district general hospital.
/// Each patient's events are 1,200 messages apart, so a stay holds a handful of
/// steps, as a real one does (60 patients moved hundreds of times each measured
/// the cost of a stay's history instead: see docs/PERFORMANCE.md).
const PATIENTS: usize = 600;

/// A patient's two beds, on a ward of 30: the one they are admitted to, and the one they move to.
fn bed(patient: usize, moved: bool) -> String {
    format!("WARD{}^BAY{}^BED{}", patient / 30, if moved { 2 } else { 1 }, patient % 30)
}

struct Site {
    keyring: KeyringSession,
    folder: tempfile::TempDir,
    store_url: Option<String>,
}

impl Site {
    fn new(store_url: Option<String>) -> Self {
        let site = Self {
            keyring: KeyringSession::start(),
            folder: tempfile::tempdir().expect("folder"),
            store_url,
        };
        let account = String::from_utf8(Command::new("id").arg("-un").output().expect("id").stdout)
            .expect("account")
            .trim()
            .to_owned();
        // A shared store receives only from the account the site names.
        std::fs::write(site.settings(), format!("[interface]\naccount = {account:?}\n")).expect("settings");
        site.ok(&["store", "init", "--demo"]);
        site
    }

    fn settings(&self) -> PathBuf {
        self.folder.path().join("workstation.toml")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cws"));
        command
            .args(args)
            .envs(self.keyring.env())
            .env("CWS_STORE", self.folder.path().join("store.db"))
            .env("CWS_CONFIG", self.settings());
        command.envs(self.store_url.iter().map(|url| ("CWS_STORE_URL", url)));
        command
    }

    fn ok(&self, args: &[&str]) {
        let output = self.command(args).output().expect("cws runs");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn listen(&self) -> (Listener, u16) {
        let mut child = self
            .command(&["adt", "listen", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("listener starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("a line");
        let port = first.trim().rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
        (Listener(child), port)
    }
}

/// The listener process, stopped however the benchmark ends.
struct Listener(Child);

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn framed(message: &str) -> Vec<u8> {
    let mut bytes = vec![0x0B];
    bytes.extend_from_slice(message.as_bytes());
    bytes.extend_from_slice(&[0x1C, 0x0D]);
    bytes
}

/// MSA-1 of the next acknowledgement on `stream`.
fn ack_code(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> String {
    buffer.clear();
    let mut chunk = [0u8; 512];
    while !buffer.ends_with(&[0x1C, 0x0D]) {
        let read = stream.read(&mut chunk).expect("an acknowledgement");
        assert!(read > 0, "the listener closed the connection");
        buffer.extend_from_slice(&chunk[..read]);
    }
    let text = String::from_utf8_lossy(buffer);
    let msa = text.split('\r').find(|s| s.starts_with("MSA|")).expect("MSA");
    if !msa.starts_with("MSA|AA") {
        eprintln!("{}", text.replace('\r', "\n"));
    }
    msa[4..6].to_owned()
}

/// The NHS numbers of the patients the feed admits: 999 range, checksum valid.
fn nhs_numbers() -> &'static [String] {
    static NUMBERS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NUMBERS.get_or_init(|| {
        (0u32..)
            .filter_map(|i| {
                let digits: Vec<u8> = format!("999{:06}", 700_000 + i).bytes().map(|b| b - b'0').collect();
                patients::NhsNumber::from_nine_digits(digits.try_into().ok()?).map(|n| n.digits().to_string())
            })
            .take(PATIENTS)
            .collect()
    })
}

/// Message `n` of the stream: an ORU^R01, or the next ADT event of a patient's
/// round (A02 to their second bed, A02 back, A03, A01 to a new stay).
fn message(n: u64) -> String {
    let patient = (n / 2) as usize % PATIENTS;
    let nhs = &nhs_numbers()[patient];
    // One second apart, so each event is newer than the patient's last.
    let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date").and_hms_opt(0, 0, 0).expect("time")
        + chrono::Duration::seconds(n as i64);
    let at = at.format("%Y%m%d%H%M%S");
    if n.is_multiple_of(2) {
        return format!(
            "MSH|^~\\&|LIMS|RXX-PATH|CLINWS|RXX01|{at}||ORU^R01^ORU_R01|B{n}|P|2.4\r\
             PID|||{nhs}^^^NHS^NH||FICTIONAL^Person\r\
             OBR|1||S{n}|FBC^Full blood count|||{at}\r\
             OBX|1|NM|NEUT^Neutrophils||2.4|10*9/L|2.0-7.5||||F\r\
             OBX|2|NM|PLT^Platelets||180|10*9/L|150-400||||F"
        );
    }
    let round = (n / 2) as usize / PATIENTS;
    let (event, location) = match round % 4 {
        0 => ("A02", bed(patient, true)),
        1 => ("A02", bed(patient, false)),
        2 => ("A03", bed(patient, false)),
        _ => ("A01", bed(patient, false)),
    };
    format!(
        "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|{at}||ADT^{event}^ADT_{event}|B{n}|P|2.4\r\
         EVN|{event}|{at}\r\
         PID|||{nhs}^^^NHS^NH||FICTIONAL^Person||19500101|F\r\
         PV1||I|{location}"
    )
}

/// Sends `count` messages over `connections` connections, each waiting for its ACK.
fn send(port: u16, connections: u64, count: u64, next: &AtomicU64) -> Duration {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..connections {
            scope.spawn(|| {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connected");
                stream.set_nodelay(true).expect("nodelay");
                let mut buffer = Vec::new();
                for _ in 0..count / connections {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    stream.write_all(&framed(&message(n))).expect("sent");
                    assert_eq!(ack_code(&mut stream, &mut buffer), "AA", "message {n}");
                }
            });
        }
    });
    started.elapsed()
}

fn admit_everyone(port: u16) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connected");
    let mut buffer = Vec::new();
    for (index, nhs) in nhs_numbers().iter().enumerate() {
        let admit = format!(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261130080000||ADT^A01^ADT_A01|ADMIT{index}|P|2.4\r\
             EVN|A01|20261130080000\r\
             PID|||{nhs}^^^NHS^NH||FICTIONAL^Person||19500101|F\r\
             PV1||I|{}",
            bed(index, false)
        );
        stream.write_all(&framed(&admit)).expect("sent");
        assert_eq!(ack_code(&mut stream, &mut buffer), "AA", "admission {index}");
    }
}

fn throughput(c: &mut Criterion) {
    let server = Postgres::start_or_skip("mllp_throughput on PostgreSQL");
    let backends = [("local store", None), ("PostgreSQL", server.as_ref().map(Postgres::url))];
    let mut group = c.benchmark_group("mllp_throughput");
    group.sample_size(10).measurement_time(Duration::from_secs(15)).throughput(Throughput::Elements(1));
    for (backend, url) in backends {
        if backend == "PostgreSQL" && url.is_none() {
            continue;
        }
        let site = Site::new(url);
        let (listener, port) = site.listen();
        admit_everyone(port);
        let next = AtomicU64::new(0);
        for connections in [1u64, 4] {
            group.bench_function(BenchmarkId::new(backend, format!("{connections} connection(s)")), |b| {
                b.iter_custom(|iters| {
                    // At least one message per connection; the time is per message.
                    let count = iters.max(connections).div_ceil(connections) * connections;
                    send(port, connections, count, &next).mul_f64(iters as f64 / count as f64)
                });
            });
        }
        drop(listener);
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
