//! A private PC/SC daemon (pcscd) with vsmartcard's virtual reader driver
//! (vpcd), and a virtual card to put in that reader and take out.
//!
//! pcscd's socket path is fixed at build time (/run/pcscd), so the daemon runs
//! in its own mount namespace with a temporary folder bound over /run/pcscd;
//! clients reach it through `PCSCLITE_CSOCK_NAME`. That needs root: CI runs as
//! root, and anyone else is asked through `sudo -n`, as `make test` does for packages.
//! The card speaks vpcd's protocol itself: Debian 12's `vicc` cannot start
//! (it is installed outside Python's path and imports the retired pycrypto).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// vpcd names its first reader so; pcscd adds the slot numbers.
pub const VIRTUAL_READER: &str = "Virtual PCD 00 00";
const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Pcscd {
    folder: tempfile::TempDir,
    daemon: Child,
    card_port: u16,
}

impl Pcscd {
    pub fn start() -> Self {
        let folder = tempfile::tempdir().expect("temporary pcscd folder");
        let (run, config) = (folder.path().join("run"), folder.path().join("reader.conf.d"));
        std::fs::create_dir_all(&run).expect("run folder");
        std::fs::create_dir_all(&config).expect("config folder");
        let card_port = free_port_pair();
        std::fs::write(
            config.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:{card_port}\nLIBPATH {VPCD_DRIVER}\nCHANNELID {card_port}\n"
            ),
        )
        .expect("reader configuration");
        let daemon = as_root("unshare")
            .args([
                "--mount",
                "sh",
                "-c",
                r#"mkdir -p /run/pcscd && mount --bind "$0" /run/pcscd && exec pcscd --foreground --config "$1""#,
            ])
            .arg(&run)
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("unshare runs (util-linux)");
        let pcscd = Self { folder, daemon, card_port };
        pcscd.wait_until_ready();
        pcscd
    }

    /// Environment for a process that should use this daemon.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("PCSCLITE_CSOCK_NAME".into(), self.socket().to_string_lossy().into_owned())]
    }

    /// Puts a card in the virtual reader; dropping it takes the card out.
    pub fn insert_card(&self) -> VirtualCard {
        VirtualCard::insert(self.card_port)
    }

    fn socket(&self) -> PathBuf {
        self.folder.path().join("run").join("pcscd.comm")
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        // The driver listens for the card once pcscd has loaded it.
        while !(self.socket().exists() && reader_is_listening(self.card_port)) {
            assert!(
                Instant::now() < deadline,
                "pcscd did not start (make test installs pcscd and vsmartcard-vpcd; it needs root or sudo without a password)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        // pcscd writes its pid into the folder bound over /run/pcscd; through sudo, that is not the child's.
        let pid = std::fs::read_to_string(self.folder.path().join("run").join("pcscd.pid"));
        match pid {
            Ok(pid) => {
                // The file ends in a newline and a NUL.
                let digits: String = pid.chars().take_while(char::is_ascii_digit).collect();
                let _ = as_root("kill").arg(digits).status();
            }
            Err(_) => {
                let _ = self.daemon.kill();
            }
        }
        let _ = self.daemon.wait();
    }
}

/// `program` run as root: directly when the tests are root, else through `sudo -n`.
fn as_root(program: &str) -> Command {
    let is_root = std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status.lines().any(|line| line.split_whitespace().collect::<Vec<_>>() == ["Uid:", "0", "0", "0", "0"])
    });
    if is_root {
        return Command::new(program);
    }
    let mut command = Command::new("sudo");
    command.args(["-n", program]);
    command
}

/// A card in the virtual reader. It answers power and ATR requests and refuses
/// every APDU; enough for the reader to report a card present.
pub struct VirtualCard {
    stream: TcpStream,
}

impl VirtualCard {
    fn insert(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("virtual reader accepts the card");
        let answering = stream.try_clone().expect("socket clone");
        std::thread::spawn(move || answer(answering));
        Self { stream }
    }

    /// Takes the card out of the reader.
    pub fn remove(self) {}
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// vpcd frames: a two-byte big-endian length, then one control byte
/// (0 off, 1 on, 2 reset, 4 send the ATR) or a command APDU.
fn answer(mut stream: TcpStream) {
    const ATR: [u8; 4] = [0x3B, 0x02, 0x14, 0x50];
    const INSTRUCTION_NOT_SUPPORTED: [u8; 2] = [0x6D, 0x00];
    loop {
        let mut length = [0u8; 2];
        if stream.read_exact(&mut length).is_err() {
            return;
        }
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        if stream.read_exact(&mut message).is_err() {
            return;
        }
        let reply: &[u8] = match message.as_slice() {
            [4] => &ATR,
            [_] => continue,
            _ => &INSTRUCTION_NOT_SUPPORTED,
        };
        let framed = [&(reply.len() as u16).to_be_bytes()[..], reply].concat();
        if stream.write_all(&framed).is_err() {
            return;
        }
    }
}

/// vpcd listens on its port and the next one (a second reader).
fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind(("127.0.0.1", 0)).expect("a free port");
        let port = first.local_addr().expect("bound").port();
        if port < u16::MAX && TcpListener::bind(("0.0.0.0", port + 1)).is_ok() {
            return port;
        }
    }
}

fn reader_is_listening(port: u16) -> bool {
    // Probing the card port would insert a card, so look at the listening sockets.
    std::fs::read_to_string("/proc/net/tcp")
        .is_ok_and(|table| table.lines().any(|line| line.contains(&format!(":{port:04X} 00000000:0000 0A"))))
}
