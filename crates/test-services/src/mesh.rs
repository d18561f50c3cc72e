//! A private MESH (mesh-sandbox from PyPI, served by uvicorn on loopback):
//! full NHSMESH authorisation with the sandbox's shared key, messages held in
//! memory, and its canned mailboxes X26ABC1..3 (password "password"). A
//! mailbox is read back with NHS England's mesh-client.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::loopback::{free_loopback_port, make_certificates, make_client_certificate};

pub const MESH_SHARED_KEY: &str = "Banana";
pub const MESH_PASSWORD: &str = "password";

pub struct MeshSandbox {
    folder: tempfile::TempDir,
    python: PathBuf,
    port: u16,
    child: Child,
    /// Served over TLS, admitting only clients with a certificate from its CA.
    tls: bool,
}

impl MeshSandbox {
    pub fn start() -> Result<Self, String> {
        Self::start_serving(false)
    }

    /// As live MESH is reached: HTTPS with a certificate from a test CA, and a
    /// TLS client certificate required (one for mailbox X26ABC1 is made, see
    /// `client_certificate`).
    pub fn start_with_client_certificates() -> Result<Self, String> {
        Self::start_serving(true)
    }

    fn start_serving(tls: bool) -> Result<Self, String> {
        let python = crate::python_peers::python_path();
        if !Command::new(&python)
            .args(["-c", "import mesh_sandbox, mesh_client"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Err(format!("mesh-sandbox is not in {} (make test installs it)", python.display()));
        }
        let folder = tempfile::Builder::new().prefix("cws-mesh").tempdir().map_err(|e| e.to_string())?;
        let port = free_loopback_port();
        let log = std::fs::File::create(folder.path().join("mesh.log")).map_err(|e| e.to_string())?;
        let mut tls_arguments = Vec::new();
        if tls {
            make_certificates(folder.path())?;
            make_client_certificate(folder.path(), "X26ABC1")?;
            let file = |name: &str| folder.path().join(name).display().to_string();
            tls_arguments = vec![
                "--ssl-certfile".to_owned(),
                file("server.crt"),
                "--ssl-keyfile".to_owned(),
                file("server.key"),
                "--ssl-ca-certs".to_owned(),
                file("ca.pem"),
                // ssl.CERT_REQUIRED: no certificate, no connection.
                "--ssl-cert-reqs".to_owned(),
                "2".to_owned(),
            ];
        }
        let child = Command::new(&python)
            .args([
                "-m",
                "uvicorn",
                "mesh_sandbox.api:app",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args(&tls_arguments)
            .env("STORE_MODE", "memory")
            .env("AUTH_MODE", "full")
            .env("SHARED_KEY", MESH_SHARED_KEY)
            .env("MAILBOXES_DATA_DIR", folder.path())
            .current_dir(folder.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("uvicorn: {e}"))?;
        let sandbox = Self { folder, python, port, child, tls };
        let until = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > until {
                return Err(format!("mesh-sandbox did not start: {}", sandbox.log()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(sandbox)
    }

    pub fn start_or_skip(test: &str) -> Option<Self> {
        crate::or_skip(Self::start(), "mesh-sandbox", test)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The test CA that signed the sandbox's server and client certificates.
    pub fn ca_certificate(&self) -> PathBuf {
        self.folder.path().join("ca.pem")
    }

    /// The client certificate and key (mode 600) the sandbox admits, for mailbox X26ABC1.
    pub fn client_certificate(&self) -> (PathBuf, PathBuf) {
        (self.folder.path().join("client.crt"), self.folder.path().join("client.key"))
    }

    /// The environment the Python peers read to reach a TLS sandbox.
    fn peer_environment(&self) -> Vec<(&'static str, PathBuf)> {
        if !self.tls {
            return Vec::new();
        }
        let (certificate, key) = self.client_certificate();
        vec![("MESH_CLIENT_CERT", certificate), ("MESH_CLIENT_KEY", key), ("MESH_CA", self.ca_certificate())]
    }

    /// A file holding `text` alone, mode 600 (a password, the shared key).
    pub fn secret_file(&self, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.folder.path().join(name);
        std::fs::write(&path, text).expect("written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("mode 600");
        path
    }

    /// What `mailbox` holds, read with mesh-client: id, workflow, local id, sender and body of each.
    pub fn inbox(&self, mailbox: &str) -> Vec<serde_json::Value> {
        let output = Command::new(&self.python)
            .arg(crate::python_peers::script("mesh_inbox.py"))
            .args([&self.url(), mailbox, MESH_PASSWORD, MESH_SHARED_KEY])
            .envs(self.peer_environment())
            .output()
            .expect("mesh-client runs");
        assert!(output.status.success(), "mesh-client: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("JSON")
    }

    /// The recipient takes the message and acknowledges it, as a practice's system does.
    pub fn acknowledge(&self, mailbox: &str, message_id: &str) {
        self.act(&["acknowledge", mailbox, MESH_PASSWORD, MESH_SHARED_KEY, message_id]);
    }

    /// MESH gives up on delivering the message (as when it is not collected in five days).
    pub fn make_undeliverable(&self, message_id: &str, description: &str) {
        self.act(&["undeliverable", message_id, description]);
    }

    /// The practice's system takes the message and answers it with an ITK3
    /// Response per code (20013, 20009, 30001, 30002); what it answered, as JSON.
    pub fn respond_as_practice(&self, mailbox: &str, message_id: &str, codes: &[&str]) -> serde_json::Value {
        let mut args = vec!["respond", mailbox, MESH_PASSWORD, MESH_SHARED_KEY, message_id];
        args.extend_from_slice(codes);
        serde_json::from_str(&self.practice(&args)).expect("JSON")
    }

    /// `mailbox` sends `to` an ITK3 Response naming the MessageHeader `answered`,
    /// which it never received.
    pub fn answer_for(&self, mailbox: &str, to: &str, workflow: &str, answered: &str, code: &str) {
        self.practice(&["answer-for", mailbox, MESH_PASSWORD, MESH_SHARED_KEY, to, workflow, answered, code]);
    }

    /// `mailbox` sends `to` a message on `workflow` that is not an ITK3 response.
    pub fn send_junk(&self, mailbox: &str, to: &str, workflow: &str) {
        self.practice(&["junk", mailbox, MESH_PASSWORD, MESH_SHARED_KEY, to, workflow]);
    }

    fn practice(&self, args: &[&str]) -> String {
        let output = Command::new(&self.python)
            .arg(crate::python_peers::script("mesh_practice.py"))
            .arg(self.url())
            .envs(self.peer_environment())
            .args(args)
            .output()
            .expect("mesh-client runs");
        assert!(output.status.success(), "practice {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn act(&self, args: &[&str]) {
        let output = Command::new(&self.python)
            .arg(crate::python_peers::script("mesh_act.py"))
            .arg(self.url())
            .envs(self.peer_environment())
            .args(args)
            .output()
            .expect("mesh-client runs");
        assert!(output.status.success(), "mesh {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("mesh.log")).unwrap_or_default()
    }
}

impl Drop for MeshSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
