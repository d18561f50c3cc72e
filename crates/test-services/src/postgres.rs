//! A private PostgreSQL server from Debian's packages (`postgresql`, which
//! `make test` installs): its own cluster made by `initdb` in a temporary folder,
//! started by `pg_ctl` on a free loopback port, stopped and removed on drop.
//! `initdb` refuses to run as root, so under root the cluster belongs to the
//! `postgres` account the package creates, and its programs run through `runuser`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

pub struct Postgres {
    folder: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

/// The database and role each test server holds.
pub const DATABASE: &str = "cws";
pub const ROLE: &str = "cws";

impl Postgres {
    /// Starts a server, or says why PostgreSQL cannot run here (so a test can
    /// report that it skipped, and why, rather than pass unseen).
    pub fn start() -> Result<Self, String> {
        let bin = server_programs().ok_or(
            "PostgreSQL is not installed (the Debian package postgresql; make test installs it)".to_owned(),
        )?;
        let folder = tempfile::Builder::new().prefix("cws-postgres").tempdir().map_err(|e| e.to_string())?;
        let server = Self { folder, bin, port: free_loopback_port() };
        server.hand_folder_to_server_account()?;
        server
            .run("initdb", &["-D", &server.data(), "-U", ROLE, "--auth=trust", "-E", "UTF8", "--locale=C"])?;
        let options =
            format!("-c listen_addresses=127.0.0.1 -p {} -k {}", server.port, server.socket_folder());
        server.run("pg_ctl", &["-D", &server.data(), "-o", &options, "-l", &server.log(), "-w", "start"])?;
        server.run("createdb", &["-h", "127.0.0.1", "-p", &server.port.to_string(), "-U", ROLE, DATABASE])?;
        Ok(server)
    }

    /// A server for a test, or `None` after saying plainly why the test is skipped.
    /// Under CI (`CI` set) nothing is skipped: `make test` installs PostgreSQL.
    pub fn start_or_skip(test: &str) -> Option<Self> {
        crate::or_skip(Self::start(), "PostgreSQL", test)
    }

    /// A server shared by the tests of one test binary that run at the same time,
    /// each in its own database (`fresh_database`): one server start, not one a
    /// test. It stops when the last test holding it lets it go, so none outlives
    /// the tests. `None` after saying plainly why, as `start_or_skip`.
    pub fn shared_or_skip(test: &str) -> Option<Arc<Self>> {
        static SHARED: Mutex<Weak<Postgres>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(server) = shared.upgrade() {
            return Some(server);
        }
        let server = Arc::new(Self::start_or_skip(test)?);
        *shared = Arc::downgrade(&server);
        Some(server)
    }

    /// Makes a new, empty database on this server and gives its URL.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.run("createdb", &["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", ROLE, &name])
            .expect("createdb");
        format!("postgres://{ROLE}@127.0.0.1:{}/{name}", self.port)
    }

    /// A connection URL for the test database on loopback (trust authentication: the cluster is private).
    pub fn url(&self) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn data(&self) -> String {
        self.folder.path().join("data").to_string_lossy().into_owned()
    }

    fn log(&self) -> String {
        self.folder.path().join("server.log").to_string_lossy().into_owned()
    }

    fn socket_folder(&self) -> String {
        self.folder.path().to_string_lossy().into_owned()
    }

    fn hand_folder_to_server_account(&self) -> Result<(), String> {
        if !running_as_root() {
            return Ok(());
        }
        let chown = Command::new("chown").args(["postgres:postgres"]).arg(self.folder.path()).output();
        check("chown", chown)
    }

    /// Runs one of the server's programs, as `postgres` when the tests run as root.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let path = self.bin.join(program);
        let output = if running_as_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&path).args(args).output()
        } else {
            Command::new(&path).args(args).output()
        };
        check(program, output)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}

/// Where Debian keeps the server's programs: /usr/lib/postgresql/<version>/bin.
fn server_programs() -> Option<PathBuf> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    let mut found: Vec<PathBuf> =
        versions.flatten().map(|v| v.path().join("bin")).filter(|bin| bin.join("initdb").exists()).collect();
    found.sort();
    found.pop()
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn free_loopback_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn check(program: &str, output: std::io::Result<Output>) -> Result<(), String> {
    let output = output.map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!("{program} failed: {}", String::from_utf8_lossy(&output.stderr).trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_server_starts_answers_on_loopback_and_goes_on_drop() {
        let Some(server) =
            Postgres::start_or_skip("a_private_server_starts_answers_on_loopback_and_goes_on_drop")
        else {
            return;
        };
        let answer = Command::new("psql")
            .args([&server.url(), "-tAc", "SELECT 1"])
            .output()
            .expect("psql runs (postgresql-client)");
        assert_eq!(
            String::from_utf8_lossy(&answer.stdout).trim(),
            "1",
            "{}",
            String::from_utf8_lossy(&answer.stderr)
        );
        let data = std::path::PathBuf::from(server.data());
        let port = server.port();
        drop(server);
        assert!(!data.exists(), "the cluster's folder is removed");
        let refused = Command::new("pg_isready").args(["-h", "127.0.0.1", "-p", &port.to_string()]).output();
        assert!(!refused.expect("pg_isready runs").status.success(), "the server has stopped");
    }
}
