//! SoftHSM2 tokens standing in for smart cards, in a private token folder.
//! A card is "removed" by deleting its token, as pulling it from a reader would.

use std::path::PathBuf;
use std::process::Command;

/// Debian's SoftHSM2 PKCS#11 module (package softhsm2).
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const SO_PIN: &str = "87654321";

pub struct SoftHsm {
    folder: tempfile::TempDir,
}

impl SoftHsm {
    pub fn start() -> Self {
        let folder = tempfile::tempdir().expect("temporary token folder");
        std::fs::create_dir_all(folder.path().join("tokens")).expect("token folder");
        let config = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = true\n",
            folder.path().join("tokens").display()
        );
        std::fs::write(folder.path().join("softhsm2.conf"), config).expect("config");
        Self { folder }
    }

    pub fn module(&self) -> PathBuf {
        PathBuf::from(SOFTHSM_MODULE)
    }

    /// Environment for a process that should see these tokens.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".into(), self.folder.path().join("softhsm2.conf").to_string_lossy().into_owned()),
            ("CWS_PKCS11_MODULE".into(), SOFTHSM_MODULE.into()),
        ]
    }

    /// A new card labelled `label` with this PIN, holding a key pair (PKCS#8 PEM) and its certificate.
    pub fn add_card(&self, label: &str, pin: &str, key_pem: &str, cert_der: &[u8]) {
        self.run(
            "softhsm2-util",
            &["--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin],
        );
        let key = self.folder.path().join(format!("{label}.key.pem"));
        let cert = self.folder.path().join(format!("{label}.cert.der"));
        std::fs::write(&key, key_pem).expect("key file");
        std::fs::write(&cert, cert_der).expect("certificate file");
        let key_path = key.to_string_lossy().into_owned();
        self.run(
            "softhsm2-util",
            &["--import", &key_path, "--token", label, "--label", "auth", "--id", "01", "--pin", pin],
        );
        let cert_path = cert.to_string_lossy().into_owned();
        self.run(
            "pkcs11-tool",
            &[
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                label,
                "--login",
                "--pin",
                pin,
                "--write-object",
                &cert_path,
                "--type",
                "cert",
                "--id",
                "01",
                "--label",
                "auth",
            ],
        );
        std::fs::remove_file(&key).expect("the key file is removed once on the card");
    }

    /// Takes the card out of its reader.
    pub fn remove_card(&self, label: &str) {
        self.run("softhsm2-util", &["--delete-token", "--token", label]);
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = Command::new(program)
            .args(args)
            .envs(self.env())
            .output()
            .unwrap_or_else(|e| panic!("{program} runs (make test installs softhsm2 and opensc): {e}"));
        assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
}
