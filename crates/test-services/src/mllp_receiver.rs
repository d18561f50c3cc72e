//! A clinical system's HL7 v2 receiver (python-hl7's MLLP server, validating
//! each message strictly with hl7apy), for the discharge MDM^T02 notifications.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::loopback::free_loopback_port;

pub struct MllpReceiver {
    folder: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl MllpReceiver {
    pub fn start() -> Result<Self, String> {
        let python = crate::python_peers::python_path();
        if !Command::new(&python)
            .args(["-c", "import hl7.mllp, hl7apy"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Err(format!(
                "python-hl7 and hl7apy are not in {} (make test installs them)",
                python.display()
            ));
        }
        let folder = tempfile::Builder::new().prefix("cws-mllp").tempdir().map_err(|e| e.to_string())?;
        let port = free_loopback_port();
        let log = std::fs::File::create(folder.path().join("receiver.log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(&python)
            .arg(crate::python_peers::script("mllp_receiver.py"))
            .arg(port.to_string())
            .arg(folder.path().join("received"))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("python-hl7: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if line.trim() != "ready" {
            let _ = child.kill();
            return Err(format!("the MLLP receiver did not start on 127.0.0.1:{port}"));
        }
        Ok(Self { folder, port, child })
    }

    pub fn start_or_skip(test: &str) -> Option<Self> {
        crate::or_skip(Self::start(), "python-hl7 MLLP receiver", test)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every valid message kept, in the order received (segments separated by CR).
    pub fn received(&self) -> Vec<String> {
        let folder = self.folder.path().join("received");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "hl7"));
        names.sort();
        names.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }

    /// What it refused, and why (its log).
    pub fn refusals(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("receiver.log")).unwrap_or_default()
    }
}

impl Drop for MllpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
