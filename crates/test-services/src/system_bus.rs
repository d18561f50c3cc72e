//! A private system D-Bus, so a test can send the signals logind would
//! (`PrepareForSleep`) to the app under test without touching the machine's own bus.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct SystemBus {
    address: String,
    _folder: tempfile::TempDir,
    daemon: Child,
}

/// A system bus on which anyone may own a name and send or receive signals.
const CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=SOCKET</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

impl SystemBus {
    /// Starts dbus-daemon (from `make test`'s Debian packages) as a private system bus.
    pub fn start() -> Self {
        let folder = tempfile::tempdir().expect("temporary bus folder");
        let socket = folder.path().join("system_bus_socket");
        let config = folder.path().join("system.conf");
        std::fs::write(&config, CONFIG.replace("SOCKET", &socket.to_string_lossy())).expect("bus config");
        let mut daemon = Command::new("dbus-daemon")
            .args(["--nofork", "--print-address=1", "--config-file"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is installed (make test installs dbus)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().expect("piped")).read_line(&mut address).expect("bus address");
        Self { address: address.trim().to_owned(), _folder: folder, daemon }
    }

    /// Environment for a process whose system bus this is.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("DBUS_SYSTEM_BUS_ADDRESS".into(), self.address.clone())]
    }

    /// Sends logind's `PrepareForSleep(true)`: the machine is about to sleep.
    pub fn prepare_for_sleep(&self) {
        let status = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args([
                "--type=signal",
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager.PrepareForSleep",
                "boolean:true",
            ])
            .status()
            .expect("dbus-send is installed (make test installs dbus-bin)");
        assert!(status.success(), "dbus-send failed");
    }
}

impl Drop for SystemBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
