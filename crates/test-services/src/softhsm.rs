//! SoftHSM2 tokens standing in for smart cards, in a private folder removed on drop.

pub use demo_cards::softhsm::SOFTHSM_MODULE;
use demo_cards::softhsm::SoftHsmTokens;

pub struct SoftHsm {
    tokens: SoftHsmTokens,
    folder: tempfile::TempDir,
}

impl SoftHsm {
    pub fn start() -> Self {
        let folder = tempfile::tempdir().expect("temporary token folder");
        let tokens = SoftHsmTokens::create(folder.path()).expect("SoftHSM2 configuration");
        Self { tokens, folder }
    }

    /// Environment for a process that should see these cards.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".into(), self.tokens.config().to_string_lossy().into_owned()),
            ("CWS_PKCS11_MODULE".into(), SOFTHSM_MODULE.into()),
        ]
    }

    /// Environment for a process on another workstation: its own reader holding
    /// copies of these cards (the token files copied to a folder of its own), so
    /// processes running at once do not share SoftHSM2's files. Keep the folder
    /// returned for as long as the process runs.
    pub fn another_workstations_env(&self) -> (tempfile::TempDir, Vec<(String, String)>) {
        let folder = tempfile::tempdir().expect("temporary token folder");
        let copy = SoftHsmTokens::create(folder.path()).expect("SoftHSM2 configuration");
        copy_folder(&self.folder.path().join("tokens"), &folder.path().join("tokens"));
        let env = vec![
            ("SOFTHSM2_CONF".into(), copy.config().to_string_lossy().into_owned()),
            ("CWS_PKCS11_MODULE".into(), SOFTHSM_MODULE.into()),
        ];
        (folder, env)
    }

    pub fn add_card(&self, label: &str, pin: &str, key_pem: &str, cert_der: &[u8]) {
        self.tokens
            .add_card(label, pin, key_pem, cert_der)
            .expect("card written (make test installs softhsm2 and opensc)");
    }

    /// Takes the card out of its reader.
    pub fn remove_card(&self, label: &str) {
        self.tokens.remove_card(label).expect("card removed");
    }

    /// Puts the card in the state a real card reaches after too many wrong PINs.
    /// SoftHSM2 counts no tries, so this sets CKF_USER_PIN_LOCKED in the token's
    /// stored flags, which SoftHSM2 then reports through `C_GetTokenInfo`.
    pub fn lock_user_pin(&self, label: &str) {
        let token_file = self.token_file(label);
        let mut bytes = std::fs::read(&token_file).expect("token file read");
        // Each attribute is stored as three big-endian u64s: type, kind, value.
        let flags_type = (CKA_VENDOR_DEFINED + SOFTHSM_VENDOR + 3).to_be_bytes();
        let at = bytes.windows(8).position(|w| w == flags_type).expect("token flags stored") + 16;
        let flags = u64::from_be_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
        bytes[at..at + 8].copy_from_slice(&(flags | CKF_USER_PIN_LOCKED).to_be_bytes());
        std::fs::write(&token_file, bytes).expect("token file written");
    }

    fn token_file(&self, label: &str) -> std::path::PathBuf {
        let padded = format!("{label:<32}");
        std::fs::read_dir(self.folder.path().join("tokens"))
            .expect("token folder")
            .map(|entry| entry.expect("token entry").path().join("token.object"))
            .find(|file| std::fs::read(file).is_ok_and(|b| b.windows(32).any(|w| w == padded.as_bytes())))
            .unwrap_or_else(|| panic!("no token labelled {label}"))
    }
}

const CKA_VENDOR_DEFINED: u64 = 0x8000_0000;
/// SoftHSM2's vendor attribute base, 'SH' (src/lib/object_store/OSAttributes.h).
const SOFTHSM_VENDOR: u64 = 0x5348;
const CKF_USER_PIN_LOCKED: u64 = 0x0004_0000;

fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("folder made");
    for entry in std::fs::read_dir(from).expect("token folder read").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("token file copied");
        }
    }
}
