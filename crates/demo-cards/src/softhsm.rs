//! SoftHSM2 tokens as smart cards, for demonstrations and tests: a private
//! token folder, cards written with `softhsm2-util` and OpenSC's `pkcs11-tool`,
//! and removal by deleting the token, as pulling a card from a reader would.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::DemoCardError;

/// Debian's SoftHSM2 PKCS#11 module (package softhsm2).
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const SO_PIN: &str = "87654321";

pub struct SoftHsmTokens {
    folder: PathBuf,
}

impl SoftHsmTokens {
    /// Prepares `folder` with a configuration (`softhsm2.conf`) and a token folder.
    pub fn create(folder: &Path) -> Result<Self, DemoCardError> {
        let io = |e: std::io::Error| DemoCardError(format!("{}: {e}", folder.display()));
        std::fs::create_dir_all(folder.join("tokens")).map_err(io)?;
        let config = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = true\n",
            folder.join("tokens").display()
        );
        std::fs::write(folder.join("softhsm2.conf"), config).map_err(io)?;
        Ok(Self { folder: folder.to_owned() })
    }

    /// The configuration file; give it to a process as `SOFTHSM2_CONF`.
    pub fn config(&self) -> PathBuf {
        self.folder.join("softhsm2.conf")
    }

    /// A new card labelled `label` with this PIN, holding a key (PKCS#8 PEM) and its certificate.
    pub fn add_card(
        &self,
        label: &str,
        pin: &str,
        key_pem: &str,
        cert_der: &[u8],
    ) -> Result<(), DemoCardError> {
        let initialised = self.run(
            "softhsm2-util",
            &["--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin],
        )?;
        // Address the new token by its slot, not its label: two cards may share a label.
        let slot = initialised
            .split_whitespace()
            .last()
            .filter(|word| word.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| DemoCardError(format!("softhsm2-util named no slot: {initialised}")))?
            .to_owned();
        let key = self.folder.join(format!("{label}.key.pem"));
        let cert = self.folder.join(format!("{label}.cert.der"));
        let io = |e: std::io::Error| DemoCardError(e.to_string());
        std::fs::write(&key, key_pem).map_err(io)?;
        std::fs::write(&cert, cert_der).map_err(io)?;
        let key_path = key.to_string_lossy().into_owned();
        let imported = self.run(
            "softhsm2-util",
            &["--import", &key_path, "--slot", &slot, "--label", "auth", "--id", "01", "--pin", pin],
        );
        // The key file goes as soon as the key is on the card, whatever happened.
        std::fs::remove_file(&key).map_err(io)?;
        imported?;
        let cert_path = cert.to_string_lossy().into_owned();
        let args = [
            "--module",
            SOFTHSM_MODULE,
            "--slot",
            &slot,
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
        ];
        self.run("pkcs11-tool", &args).map(drop)
    }

    /// Takes the card out of its reader.
    pub fn remove_card(&self, label: &str) -> Result<(), DemoCardError> {
        self.run("softhsm2-util", &["--delete-token", "--token", label]).map(drop)
    }

    /// Runs a SoftHSM2 or OpenSC tool, returning what it printed.
    fn run(&self, program: &str, args: &[&str]) -> Result<String, DemoCardError> {
        let output =
            Command::new(program).args(args).env("SOFTHSM2_CONF", self.config()).output().map_err(|e| {
                DemoCardError(format!("{program} (from the softhsm2 and opensc packages): {e}"))
            })?;
        if !output.status.success() {
            return Err(DemoCardError(format!(
                "{program} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}
