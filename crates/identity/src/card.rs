//! Cards in readers, found by token label or serial through PKCS#11.

use std::path::Path;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as Pkcs11Error, RvError};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::IdentityError;
use crate::certificate::{CardKey, Holder, Trust, check};
use crate::signing::{sign_on_card, verifies};

/// A token in a reader, as the sign-in screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    pub label: String,
    pub serial: String,
}

/// Who a card proved to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardLogin {
    pub user_id: String,
    pub common_name: String,
    pub card_serial: String,
    pub certificate_serial: String,
    /// The proven key's fingerprint, which the user's enrolment must match.
    pub key_sha256: String,
}

pub struct CardReader {
    pkcs11: Pkcs11,
}

impl CardReader {
    /// Loads a PKCS#11 module: OpenSC's for real cards, SoftHSM2's for tests and demonstrations.
    pub fn open(module: &Path) -> Result<Self, IdentityError> {
        let pkcs11 =
            Pkcs11::new(module).map_err(|e| IdentityError::Pkcs11(format!("{}: {e}", module.display())))?;
        pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
        Ok(Self { pkcs11 })
    }

    pub fn cards(&self) -> Result<Vec<CardInfo>, IdentityError> {
        let mut cards = Vec::new();
        for slot in self.pkcs11.get_slots_with_token()? {
            let info = self.pkcs11.get_token_info(slot)?;
            if info.user_pin_initialized() {
                cards.push(CardInfo {
                    label: info.label().trim().to_owned(),
                    serial: info.serial_number().trim().to_owned(),
                });
            }
        }
        // Slot order means nothing (SoftHSM2 numbers slots at random); people find a card by its name.
        cards.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(cards)
    }

    /// The description of the slot holding the card with this serial, while it
    /// is present. OpenSC names each slot after its PC/SC reader.
    pub fn slot_description(&self, serial: &str) -> Option<String> {
        let (slot, _) = self.slot_where(|info| info.serial == serial).ok()?;
        let info = self.pkcs11.get_slot_info(slot).ok()?;
        Some(info.slot_description().trim_end().to_owned())
    }

    fn slot_where(&self, wanted: impl Fn(&CardInfo) -> bool) -> Result<(Slot, CardInfo), IdentityError> {
        for slot in self.pkcs11.get_slots_with_token()? {
            let Ok(info) = self.pkcs11.get_token_info(slot) else { continue };
            let card = CardInfo {
                label: info.label().trim().to_owned(),
                serial: info.serial_number().trim().to_owned(),
            };
            if wanted(&card) {
                return Ok((slot, card));
            }
        }
        Err(IdentityError::CardNotFound(String::new()))
    }

    /// The card a person means by `card`: the one with that serial, else the only
    /// one with that label. Two cards of one label are refused, so a PIN never goes
    /// to a colleague's card and spends one of its tries.
    pub(crate) fn find(&self, card: &str) -> Result<Slot, IdentityError> {
        if let Ok((slot, _)) = self.slot_where(|c| c.serial == card) {
            return Ok(slot);
        }
        let labelled: Vec<Slot> = self
            .pkcs11
            .get_slots_with_token()?
            .into_iter()
            .filter(|slot| self.pkcs11.get_token_info(*slot).is_ok_and(|info| info.label().trim() == card))
            .collect();
        match labelled.as_slice() {
            [slot] => Ok(*slot),
            [] => Err(IdentityError::CardNotFound(card.to_owned())),
            _ => Err(IdentityError::AmbiguousCard(card.to_owned())),
        }
    }

    /// The whole login on the card with this serial: PIN, proof of key, and certificate trust.
    pub fn login_by_serial(
        &self,
        serial: &str,
        pin: &Zeroizing<String>,
        trust: &Trust,
        now: OffsetDateTime,
    ) -> Result<CardLogin, IdentityError> {
        self.login_in(self.slot_of(serial)?, pin, trust, now)
    }

    /// The whole login on the card given by serial or by a label no other card present has.
    pub fn login(
        &self,
        card: &str,
        pin: &Zeroizing<String>,
        trust: &Trust,
        now: OffsetDateTime,
    ) -> Result<CardLogin, IdentityError> {
        let slot = self.find(card)?;
        self.login_in(slot, pin, trust, now)
    }

    fn login_in(
        &self,
        slot: Slot,
        pin: &Zeroizing<String>,
        trust: &Trust,
        now: OffsetDateTime,
    ) -> Result<CardLogin, IdentityError> {
        let (serial, holder, ()) =
            self.with_logged_in_card(slot, pin, trust, now, |session, key, holder| {
                prove_key(session, key, &holder.public_key)
            })?;
        Ok(CardLogin {
            user_id: holder.user_id,
            common_name: holder.common_name,
            card_serial: serial,
            certificate_serial: holder.serial,
            key_sha256: holder.key_sha256,
        })
    }

    /// Checks the card's certificate, logs in with the PIN, runs `work` with the
    /// card's private key, and logs out whatever happened. The one place a PIN is used.
    pub(crate) fn with_logged_in_card<T>(
        &self,
        slot: Slot,
        pin: &Zeroizing<String>,
        trust: &Trust,
        now: OffsetDateTime,
        work: impl FnOnce(&Session, ObjectHandle, &Holder) -> Result<T, IdentityError>,
    ) -> Result<(String, Holder, T), IdentityError> {
        let info = self.pkcs11.get_token_info(slot)?;
        let serial = info.serial_number().trim().to_owned();
        // A locked card is named at once; trying its PIN again gains nothing.
        if self.pin_flags(slot).is_some_and(|flags| flags.locked) {
            return Err(IdentityError::PinLocked);
        }
        let session = self.pkcs11.open_ro_session(slot)?;
        let (cert_der, key_id) = certificate_on(&session)?;
        let holder = check(&cert_der, trust, now)?;
        let pin = AuthPin::from(pin.as_str());
        if let Err(error) = session.login(UserType::User, Some(&pin)) {
            return Err(self.pin_error(slot, error));
        }
        let done = private_key(&session, &key_id).and_then(|key| work(&session, key, &holder));
        let _ = session.logout();
        Ok((serial, holder, done?))
    }

    /// The slot of the card with this serial.
    pub(crate) fn slot_of(&self, serial: &str) -> Result<Slot, IdentityError> {
        self.slot_where(|c| c.serial == serial)
            .map(|(slot, _)| slot)
            .map_err(|_| IdentityError::CardNotFound(serial.to_owned()))
    }

    fn pin_error(&self, slot: Slot, error: Pkcs11Error) -> IdentityError {
        match error {
            Pkcs11Error::Pkcs11(RvError::PinLocked, _) => IdentityError::PinLocked,
            Pkcs11Error::Pkcs11(RvError::PinIncorrect, _) => wrong_pin(self.pin_flags(slot)),
            other => other.into(),
        }
    }

    fn pin_flags(&self, slot: Slot) -> Option<PinFlags> {
        self.pkcs11.get_token_info(slot).ok().map(|info| PinFlags {
            locked: info.user_pin_locked(),
            final_try: info.user_pin_final_try(),
            count_low: info.user_pin_count_low(),
        })
    }
}

/// The PIN state a token reports. PKCS#11 gives no count,
/// only whether few tries, or one, remain, or the PIN is now locked.
struct PinFlags {
    locked: bool,
    final_try: bool,
    count_low: bool,
}

fn wrong_pin(flags: Option<PinFlags>) -> IdentityError {
    let remaining = match flags {
        Some(PinFlags { locked: true, .. }) => return IdentityError::PinLocked,
        Some(PinFlags { final_try: true, .. }) => "one try is left before the card locks",
        Some(PinFlags { count_low: true, .. }) => "few tries are left before the card locks",
        _ => "the card did not say how many tries are left",
    };
    IdentityError::WrongPin { remaining }
}

fn certificate_on(session: &Session) -> Result<(Vec<u8>, Vec<u8>), IdentityError> {
    let handle = *session
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])?
        .first()
        .ok_or(IdentityError::CertificateMissing)?;
    let mut value = None;
    let mut id = Vec::new();
    for attribute in session.get_attributes(handle, &[AttributeType::Value, AttributeType::Id])? {
        match attribute {
            Attribute::Value(bytes) => value = Some(bytes),
            Attribute::Id(bytes) => id = bytes,
            _ => {}
        }
    }
    Ok((value.ok_or(IdentityError::CertificateMissing)?, id))
}

/// The private key beside the certificate (the same PKCS#11 id).
fn private_key(session: &Session, key_id: &[u8]) -> Result<ObjectHandle, IdentityError> {
    session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(key_id.to_vec())])?
        .first()
        .copied()
        .ok_or(IdentityError::KeyProofFailed)
}

/// Signs a fresh random challenge on the card and checks it with the certificate's key.
fn prove_key(session: &Session, key: ObjectHandle, public_key: &CardKey) -> Result<(), IdentityError> {
    let mut challenge = [0u8; 32];
    getrandom::fill(&mut challenge).map_err(|e| IdentityError::Pkcs11(e.to_string()))?;
    let signature = sign_on_card(session, key, public_key, &challenge)?;
    verifies(public_key, &challenge, &signature).then_some(()).ok_or(IdentityError::KeyProofFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(locked: bool, final_try: bool, count_low: bool) -> Option<PinFlags> {
        Some(PinFlags { locked, final_try, count_low })
    }

    #[test]
    fn a_wrong_pin_says_what_the_token_reports() {
        assert_eq!(
            wrong_pin(flags(false, true, true)),
            IdentityError::WrongPin { remaining: "one try is left before the card locks" }
        );
        assert_eq!(
            wrong_pin(flags(false, false, true)),
            IdentityError::WrongPin { remaining: "few tries are left before the card locks" }
        );
        assert_eq!(
            wrong_pin(None),
            IdentityError::WrongPin { remaining: "the card did not say how many tries are left" }
        );
    }

    #[test]
    fn a_pin_the_token_has_locked_is_reported_plainly() {
        let error = wrong_pin(flags(true, false, false));
        assert_eq!(error, IdentityError::PinLocked);
        assert!(error.to_string().contains("locked"), "{error}");
    }
}
