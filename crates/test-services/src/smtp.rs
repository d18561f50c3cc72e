//! A private SMTP submission server like NHSmail's (aiosmtpd, from the peers'
//! environment): STARTTLS required with a certificate for 127.0.0.1 from a CA
//! made for the run, login required, MAIL FROM only as the account. Accepted
//! mail is kept as .eml files to read back. It can be stopped and started
//! again on the same port, as a server that goes down and comes back.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::loopback::{free_loopback_port, make_certificates};

pub const SMTP_ACCOUNT: &str = "example.discharges@nhs.net";
pub const SMTP_PASSWORD: &str = "synthetic-only";

pub struct SmtpServer {
    folder: tempfile::TempDir,
    python: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl SmtpServer {
    /// Starts the server, or says why it cannot run here.
    pub fn start() -> Result<Self, String> {
        let mut server = Self::prepare()?;
        server.up()?;
        Ok(server)
    }

    /// A server with its port and certificate chosen, not yet running: a
    /// server that is down when the sender first tries.
    pub fn prepare() -> Result<Self, String> {
        let python = crate::python_peers::python_path();
        if !Command::new(&python).args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success()) {
            return Err(format!("aiosmtpd is not in {} (make test installs it)", python.display()));
        }
        let folder = tempfile::Builder::new().prefix("cws-smtp").tempdir().map_err(|e| e.to_string())?;
        make_certificates(folder.path())?;
        Ok(Self { folder, python, port: free_loopback_port(), child: None })
    }

    /// A server for a test, or `None` after saying why the test is skipped (never under CI).
    pub fn start_or_skip(test: &str) -> Option<Self> {
        crate::or_skip(Self::start(), "aiosmtpd", test)
    }

    pub fn prepare_or_skip(test: &str) -> Option<Self> {
        crate::or_skip(Self::prepare(), "aiosmtpd", test)
    }

    /// Starts (again) on the same port.
    pub fn up(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Ok(());
        }
        let folder = self.folder.path();
        let mut child = Command::new(&self.python)
            .arg(crate::python_peers::script("smtp_server.py"))
            .arg(self.port.to_string())
            .arg(folder.join("server.crt"))
            .arg(folder.join("server.key"))
            .args([SMTP_ACCOUNT, SMTP_PASSWORD])
            .arg(folder.join("mail"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("aiosmtpd: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("aiosmtpd did not start on 127.0.0.1:{}", self.port));
        }
        self.child = Some(child);
        Ok(())
    }

    /// Stops it, as a server that goes down; the mail it took is kept.
    pub fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM, so it closes its socket before the port is reused.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA that signed the server's certificate, for the client to trust.
    pub fn ca_certificate(&self) -> PathBuf {
        self.folder.path().join("ca.pem")
    }

    /// A file holding the account's password, mode 600.
    pub fn password_file(&self) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.folder.path().join("password");
        std::fs::write(&path, SMTP_PASSWORD).expect("password written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("mode 600");
        path
    }

    /// Every message accepted so far, raw, in the order received.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.folder.path().join("mail"))
            .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.down();
    }
}
