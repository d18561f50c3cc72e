//! SoftHSM2 tokens standing in for smart cards, in a private folder removed on drop.

pub use identity::softhsm::SOFTHSM_MODULE;
use identity::softhsm::SoftHsmTokens;

pub struct SoftHsm {
    tokens: SoftHsmTokens,
    _folder: tempfile::TempDir,
}

impl SoftHsm {
    pub fn start() -> Self {
        let folder = tempfile::tempdir().expect("temporary token folder");
        let tokens = SoftHsmTokens::create(folder.path()).expect("SoftHSM2 configuration");
        Self { tokens, _folder: folder }
    }

    /// Environment for a process that should see these cards.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".into(), self.tokens.config().to_string_lossy().into_owned()),
            ("CWS_PKCS11_MODULE".into(), SOFTHSM_MODULE.into()),
        ]
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
}
