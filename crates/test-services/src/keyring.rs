//! A private session D-Bus with GNOME Keyring's Secret Service, unlocked, so
//! the store keeps its key in a real OS keyring during tests.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct KeyringSession {
    bus_address: String,
    home: tempfile::TempDir,
    bus: Child,
    keyring: Child,
}

const READY_TIMEOUT: Duration = Duration::from_secs(10);

impl KeyringSession {
    /// Starts dbus-daemon and gnome-keyring-daemon (from `make test`'s Debian packages).
    pub fn start() -> Self {
        let home = tempfile::tempdir().expect("temporary home");
        for folder in ["data", "runtime", "config"] {
            std::fs::create_dir_all(home.path().join(folder)).expect("folder");
        }
        // The runtime folder must be private, as XDG requires.
        std::fs::set_permissions(
            home.path().join("runtime"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("chmod");
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is installed (make test installs dbus)");
        let mut bus_address = String::new();
        BufReader::new(bus.stdout.take().expect("piped")).read_line(&mut bus_address).expect("bus address");
        let bus_address = bus_address.trim().to_owned();

        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--foreground", "--components=secrets"])
            .envs(environment(&bus_address, home.path()))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is installed (make test installs gnome-keyring)");
        let mut stdin = keyring.stdin.take().expect("piped");
        stdin.write_all(b"test-keyring-password").expect("unlock password");
        drop(stdin);

        let session = Self { bus_address, home, bus, keyring };
        session.wait_until_ready();
        session
    }

    /// Environment for a process that should use this keyring.
    pub fn env(&self) -> Vec<(String, String)> {
        environment(&self.bus_address, self.home.path())
    }

    /// Locks the login keyring, as a screen lock or a timeout would.
    pub fn lock(&self) {
        let status = self
            .dbus_send(&[
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .status()
            .expect("dbus-send runs");
        assert!(status.success(), "locking the keyring failed");
    }

    fn dbus_send(&self, args: &[&str]) -> Command {
        let mut command = Command::new("dbus-send");
        command
            .args(["--session", "--print-reply", "--type=method_call"])
            .args(args)
            .envs(self.env())
            .stdout(Stdio::piped());
        command
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let output = self
                .dbus_send(&[
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .expect("dbus-send runs");
            if String::from_utf8_lossy(&output.stdout).contains("boolean true") {
                return;
            }
            assert!(Instant::now() < deadline, "GNOME Keyring did not start on the test bus");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn environment(bus_address: &str, home: &Path) -> Vec<(String, String)> {
    let path = |p: &str| home.join(p).to_string_lossy().into_owned();
    vec![
        ("DBUS_SESSION_BUS_ADDRESS".into(), bus_address.to_owned()),
        ("HOME".into(), home.to_string_lossy().into_owned()),
        ("XDG_DATA_HOME".into(), path("data")),
        ("XDG_RUNTIME_DIR".into(), path("runtime")),
        ("XDG_CONFIG_HOME".into(), path("config")),
    ]
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
