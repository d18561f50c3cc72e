//! Outside input never panics the reading of an event: whatever parses is
//! either read or refused with a field and a code.

use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    let id = prop_oneof![Just("EVN"), Just("PID"), Just("PV1"), Just("MRG"), Just("ZU1")];
    let value = "[A-Z0-9^~&\\\\{}:+.-]{0,14}";
    (id, proptest::collection::vec(value, 0..46))
        .prop_map(|(id, fields)| format!("{id}|{}", fields.join("|")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_message_is_read_or_refused_by_field_never_a_panic(
        event in prop_oneof![Just("A01"), Just("A02"), Just("A03"), Just("A08"), Just("A40"), Just("A99"), Just("")],
        time in "[0-9+-]{0,20}",
        segments in proptest::collection::vec(segment(), 0..6),
    ) {
        let text = format!("MSH|^~\\&|PAS|RXX01|||{time}||ADT^{event}|M1|P|2.4\r{}", segments.join("\r"));
        if let Ok(message) = hl7::Message::parse(&text) {
            let policy = patients::NhsNumberPolicy { accept_test_range: true };
            if let Err(refusal) = adt::read_event(&message, policy) {
                prop_assert!(!refusal.field.is_empty() && !refusal.code.is_empty());
            }
        }
    }
}

/// The hl7 crate's byte-level corpus, read as events and as results: each is
/// read or refused with a field and a code, never a panic.
#[test]
fn the_byte_corpus_is_read_or_refused_by_field_as_events_and_as_results() {
    let folder = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hl7/tests/corpus");
    let policy = patients::NhsNumberPolicy { accept_test_range: true };
    let mut seen = 0;
    for entry in std::fs::read_dir(&folder).expect("the corpus") {
        let path = entry.expect("an entry").path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
        let Ok(message) = hl7::Message::parse(&text) else { continue };
        seen += 1;
        for refusal in [adt::read_event(&message, policy).err(), adt::read_results(&message, policy).err()]
            .into_iter()
            .flatten()
        {
            assert!(!refusal.field.is_empty() && !refusal.code.is_empty(), "{}: {refusal:?}", path.display());
        }
        let _ = adt::header(&message);
    }
    assert!(seen > 10, "{seen}");
}
