//! The smart-card side of the session: the PKCS#11 reader, the trusted CA, and
//! whether the session's card has left its reader (`card_watcher` asks).

use std::path::PathBuf;
use std::sync::Mutex;

use identity::{CardReader, Trust};
use settings::Settings;

pub struct Cards {
    module: PathBuf,
    pub trust: Option<Trust>,
    /// Why cards cannot be used here although settings ask for them (unreadable settings or CA).
    pub problem: Option<String>,
    /// One PKCS#11 context per process; re-opened to see cards inserted since.
    reader: Mutex<Option<CardReader>>,
    /// Offer the fictional demonstration staff, without cards.
    demo_sign_in: bool,
}

impl Cards {
    /// From the settings: OpenSC's module unless another is named (SoftHSM2 for
    /// demonstrations), and the CA that issues staff cards. `settings_problem` is
    /// why the settings could not be read; cards are then refused, never guessed at.
    /// The demonstration sign-in needs a store made for demonstrations as well.
    pub fn configure(
        settings: &Settings,
        settings_problem: Option<String>,
        demonstration_store: bool,
    ) -> Self {
        let module = settings.pkcs11_module.clone();
        let read_ca =
            |ca: &PathBuf| Trust::from_files(ca, settings.card_crl.as_deref()).map_err(|e| e.to_string());
        let (trust, ca_problem) = match settings.card_ca.as_ref().map(read_ca) {
            None => (None, None),
            Some(Ok(trust)) => (Some(trust), None),
            Some(Err(problem)) => (None, Some(problem)),
        };
        let problem = settings_problem.or(ca_problem);
        if let Some(problem) = &problem {
            tracing::error!(%problem, "card sign-in is unavailable");
        }
        Self {
            module,
            trust,
            problem,
            reader: Mutex::new(None),
            demo_sign_in: settings.demo_sign_in && settings.card_ca.is_none() && demonstration_store,
        }
    }

    /// The card-less demonstration sign-in: only when asked for, on a demonstration
    /// store, never beside cards, and never when the settings could not be read.
    pub fn demo_sign_in_allowed(&self) -> bool {
        self.demo_sign_in && self.trust.is_none() && self.problem.is_none()
    }

    /// Runs `work` with a freshly opened reader, so newly inserted cards are seen.
    pub fn with_fresh_reader<T>(
        &self,
        work: impl FnOnce(&CardReader) -> T,
    ) -> Result<T, identity::IdentityError> {
        let mut slot = self
            .reader
            .lock()
            .map_err(|_| identity::IdentityError::Pkcs11("the card reader lock was poisoned".into()))?;
        *slot = None;
        let reader = CardReader::open(&self.module)?;
        let result = work(&reader);
        *slot = Some(reader);
        Ok(result)
    }

    /// Whether the card with this serial has left its reader, by PKCS#11 or by
    /// a PC/SC removal from the reader its slot is in.
    pub fn card_gone(&self, serial: &str, readers_emptied: &[String]) -> bool {
        let slot = match self.reader.lock() {
            Ok(reader) => reader.as_ref().and_then(|reader| reader.slot_description(serial)),
            Err(_) => None,
        };
        identity::readers::session_card_gone(slot.as_deref(), readers_emptied)
    }
}

/// Signs a clinical act with a card at this workstation, its PIN typed for
/// this act: the session's own card, or a second checker's beside it.
pub struct CardActSigner<'a> {
    pub cards: &'a Cards,
    pub trust: &'a Trust,
    pub serial: String,
    pub pin: zeroize::Zeroizing<String>,
}

impl services::sact::ActSigner for CardActSigner<'_> {
    fn sign(&self, bytes: &[u8]) -> Result<identity::DocumentSignature, services::ServiceError> {
        let now = time::OffsetDateTime::now_utc();
        let signed = self
            .cards
            .with_fresh_reader(|reader| reader.sign_document(&self.serial, &self.pin, self.trust, now, bytes))
            .and_then(|signed| signed);
        signed.map_err(|e| services::ServiceError::Invalid { field: "pin", reason: e.to_string() })
    }
}

/// Proves the second checker's card (inserted beside the session's), that
/// they are enrolled and may give SACT; the session is untouched. A refusal
/// is audited as `action` and told plainly.
pub async fn prove_witness(
    state: &crate::state::AppState,
    witness: &CardActSigner<'_>,
    action: store::AuditAction,
) -> Result<services::Acting, crate::error::CommandError> {
    use crate::error::{CommandError, ErrorCode};
    let now = time::OffsetDateTime::now_utc();
    let login = state
        .cards
        .with_fresh_reader(|reader| reader.login_by_serial(&witness.serial, &witness.pin, witness.trust, now))
        .and_then(|login| login);
    let context = state.services()?;
    let permission = session::Permission::AdministerSact;
    let proven = services::cards::prove_card_holder(
        context,
        &witness.serial,
        login,
        &state.roles,
        Some(permission),
        action,
    )
    .await;
    let refused = |why: String| CommandError {
        code: ErrorCode::PinRefused,
        message: format!("The second checker's card was refused: {why}."),
        field: Some("witness".into()),
    };
    let (_, holder) = proven.map_err(|refusal| match refusal {
        access::CardRefusal::Card { error, .. } => refused(error.to_string()),
        access::CardRefusal::Holder { error, .. } => refused(error.to_string()),
    })?;
    Ok(services::cards::acting_for(context, &holder, permission)?)
}
