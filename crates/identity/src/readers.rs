//! PC/SC reader events: which reader a card just left or entered. A reader
//! reports removal as it happens, so the session can lock without waiting for
//! the next PKCS#11 poll. PKCS#11 stays the authority on which card is where.

use std::collections::HashMap;
use std::ffi::CString;
use std::time::Duration;

use pcsc::{Context, PNP_NOTIFICATION, ReaderState, Scope, State};

use crate::IdentityError;

/// What happened to the card in one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardChange {
    /// The card was taken out, or its reader went away with it.
    Left,
    Arrived,
    /// A card was taken out and one put back between two looks: treat as a removal.
    Swapped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderEvent {
    pub reader: String,
    pub change: CardChange,
}

impl ReaderEvent {
    /// True when a card that was in this reader is no longer the same card.
    pub fn card_left(&self) -> bool {
        matches!(self.change, CardChange::Left | CardChange::Swapped)
    }
}

/// A reader's card as last seen: in or out, and PC/SC's count of insertions and removals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub present: bool,
    pub event_count: u32,
}

/// The change between two looks at one reader, if any.
pub fn card_change(before: Seen, now: Seen) -> Option<CardChange> {
    match (before.present, now.present) {
        (true, false) => Some(CardChange::Left),
        (false, true) => Some(CardChange::Arrived),
        (true, true) if before.event_count != now.event_count => Some(CardChange::Swapped),
        _ => None,
    }
}

/// Whether a PKCS#11 slot sits in this PC/SC reader. OpenSC names each slot
/// after its reader, padded with spaces to 64 bytes and cut there if longer.
pub fn slot_is_in_reader(slot_description: &str, reader: &str) -> bool {
    let slot = slot_description.as_bytes().trim_ascii_end();
    let reader = reader.as_bytes();
    let named = &reader[..reader.len().min(SLOT_DESCRIPTION_BYTES)];
    !slot.is_empty() && slot == named.trim_ascii_end()
}

/// Whether the session's card has gone: PKCS#11 no longer finds it (`slot` is
/// `None`), or PC/SC says a card left the reader its slot is in, which may be
/// heard before PKCS#11 notices.
pub fn session_card_gone(slot: Option<&str>, readers_emptied: &[String]) -> bool {
    match slot {
        None => true,
        Some(slot) => readers_emptied.iter().any(|reader| slot_is_in_reader(slot, reader)),
    }
}

/// The size of PKCS#11's `CK_SLOT_INFO.slotDescription`.
const SLOT_DESCRIPTION_BYTES: usize = 64;

/// How long one wait for a change may last before the reader list is looked at again.
const WAIT: Duration = Duration::from_secs(2);

/// Reports every card change in every reader to `on_event`, until the PC/SC
/// service is missing or stops (the error says which). Readers plugged in
/// later are watched too. `on_ready` hears the readers once they are watched.
pub fn watch_readers(
    on_ready: impl FnOnce(&[String]),
    mut on_event: impl FnMut(ReaderEvent),
) -> Result<(), IdentityError> {
    let context = Context::establish(Scope::User).map_err(pcsc_error)?;
    let mut seen: HashMap<CString, Seen> = HashMap::new();
    let mut states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
    let mut on_ready = Some(on_ready);
    loop {
        refresh_readers(&context, &mut states, &mut seen, &mut on_event)?;
        for state in &mut states {
            state.sync_current_state();
        }
        match context.get_status_change(WAIT, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            // A reader unplugged during the wait: the next look drops it, reporting its card.
            Err(pcsc::Error::UnknownReader | pcsc::Error::NoReadersAvailable) => continue,
            Err(error) => return Err(pcsc_error(error)),
        }
        for state in states.iter().filter(|s| s.name() != PNP_NOTIFICATION()) {
            let now = seen_in(state);
            let before = seen.insert(state.name().to_owned(), now);
            if let Some(change) = before.and_then(|before| card_change(before, now)) {
                on_event(ReaderEvent { reader: state.name().to_string_lossy().into_owned(), change });
            }
        }
        if let Some(ready) = on_ready.take() {
            let names: Vec<String> = seen.keys().map(|name| name.to_string_lossy().into_owned()).collect();
            ready(&names);
        }
    }
}

/// Adds readers plugged in since the last look, and drops those that went,
/// reporting a card that went with its reader.
fn refresh_readers(
    context: &Context,
    states: &mut Vec<ReaderState>,
    seen: &mut HashMap<CString, Seen>,
    on_event: &mut impl FnMut(ReaderEvent),
) -> Result<(), IdentityError> {
    let names = match context.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(error) => return Err(pcsc_error(error)),
    };
    states.retain(|state| state.name() == PNP_NOTIFICATION() || names.iter().any(|n| n == state.name()));
    seen.retain(|name, last| {
        let still_there = names.contains(name);
        if !still_there && last.present {
            on_event(ReaderEvent { reader: name.to_string_lossy().into_owned(), change: CardChange::Left });
        }
        still_there
    });
    for name in names {
        if !states.iter().any(|state| state.name() == name.as_c_str()) {
            states.push(ReaderState::new(name, State::UNAWARE));
        }
    }
    Ok(())
}

fn seen_in(state: &ReaderState) -> Seen {
    let event = state.event_state();
    let gone = event.intersects(State::UNKNOWN | State::IGNORE | State::UNAVAILABLE | State::MUTE);
    Seen { present: event.contains(State::PRESENT) && !gone, event_count: state.event_count() }
}

fn pcsc_error(error: pcsc::Error) -> IdentityError {
    match error {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => {
            IdentityError::NoReaderService(error.to_string())
        }
        other => IdentityError::Pkcs11(format!("PC/SC: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(present: bool, event_count: u32) -> Seen {
        Seen { present, event_count }
    }

    #[test]
    fn a_card_taken_out_is_a_removal() {
        assert_eq!(card_change(seen(true, 1), seen(false, 2)), Some(CardChange::Left));
    }

    #[test]
    fn a_card_swapped_between_looks_counts_as_removed() {
        let change = card_change(seen(true, 1), seen(true, 3)).expect("a change");
        assert!(ReaderEvent { reader: "r".into(), change }.card_left());
    }

    #[test]
    fn a_card_put_in_is_not_a_removal() {
        let change = card_change(seen(false, 2), seen(true, 3)).expect("a change");
        assert_eq!(change, CardChange::Arrived);
        assert!(!ReaderEvent { reader: "r".into(), change }.card_left());
    }

    #[test]
    fn an_unchanged_reader_reports_nothing() {
        assert_eq!(card_change(seen(true, 4), seen(true, 4)), None);
        assert_eq!(card_change(seen(false, 4), seen(false, 4)), None);
    }

    #[test]
    fn opensc_slot_names_match_their_reader_only() {
        let padded = format!("{:<64}", "Virtual PCD 00 00");
        assert!(slot_is_in_reader(&padded, "Virtual PCD 00 00"));
        assert!(!slot_is_in_reader(&padded, "Virtual PCD 00 01"));
        assert!(
            !slot_is_in_reader("Virtual PCD 00", "Virtual PCD 00 00"),
            "a shorter name is another reader"
        );
        assert!(!slot_is_in_reader("", "Virtual PCD 00 00"));
        let long_reader =
            format!("Identiv uTrust 2700 R Smart Card Reader [CCID Interface] {}", "(55041514) 00 00");
        assert!(
            slot_is_in_reader(&long_reader[..64], &long_reader),
            "cut at 64 bytes, still the same reader"
        );
    }

    #[test]
    fn the_session_card_is_gone_when_its_reader_empties_or_pkcs11_loses_it() {
        let emptied = vec!["Virtual PCD 00 01".to_owned()];
        assert!(session_card_gone(None, &[]), "PKCS#11 cannot find it");
        assert!(session_card_gone(Some("Virtual PCD 00 01"), &emptied), "its reader emptied");
        assert!(!session_card_gone(Some("Virtual PCD 00 00"), &emptied), "another reader emptied");
        assert!(!session_card_gone(Some("Virtual PCD 00 00"), &[]));
    }

    #[test]
    fn softhsm_slots_are_in_no_reader() {
        assert!(!slot_is_in_reader("SoftHSM slot ID 0x1d2c3b4a", "Virtual PCD 00 00"));
    }
}
