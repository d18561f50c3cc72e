//! The parser and the framer against generated input: any message we can
//! build reads back exactly after encoding, and no bytes at all, however
//! hostile, make either panic or hold more than the frame limit.

use hl7::message::{Component, Encoding, Field, Message, Repetition, Segment};
use hl7::mllp::{Decoded, Decoder, frame};
use proptest::prelude::*;

/// Text as senders write it, delimiters, escapes, line ends and accents included.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('|'),
            Just('^'),
            Just('~'),
            Just('\\'),
            Just('&'),
            Just('\r'),
            Just('\n'),
            Just('é'),
            Just(' '),
            Just('#'),
            Just('*'),
            Just('@'),
            Just('!'),
            Just('%'),
            proptest::char::range('A', 'Z'),
            proptest::char::range('0', '9'),
        ],
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn field() -> impl Strategy<Value = Field> {
    proptest::collection::vec(
        proptest::collection::vec(proptest::collection::vec(text(), 1..3).prop_map(Component), 1..4)
            .prop_map(Repetition),
        0..3,
    )
    .prop_map(|repetitions| {
        // One repetition of one empty value is written as an empty field, and read back as one.
        let field = Field(repetitions);
        if field.is_empty()
            && field.0.len() <= 1
            && field.0.iter().all(|r| r.0.len() == 1 && r.0[0].0.len() == 1)
        {
            Field::default()
        } else {
            field
        }
    })
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::default()),
        Just(Encoding { field: '#', component: '*', repetition: '@', escape: '!', subcomponent: '%' }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let segment_id =
        prop_oneof![Just("EVN"), Just("PID"), Just("PV1"), Just("OBX"), Just("ZU1"), Just("MRG")];
    (
        encoding(),
        proptest::collection::vec(field(), 0..14),
        proptest::collection::vec((segment_id, proptest::collection::vec(field(), 0..8)), 0..6),
    )
        .prop_map(|(encoding, header_fields, others)| {
            let literal = |value: String| Field(vec![Repetition(vec![Component(vec![value])])]);
            let mut fields = vec![literal(encoding.field.to_string()), literal(encoding.characters())];
            fields.extend(header_fields);
            let mut segments = vec![Segment { id: "MSH".into(), fields }];
            segments.extend(others.into_iter().map(|(id, fields)| Segment { id: id.into(), fields }));
            Message { encoding, segments }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_message_reads_back_exactly_after_encoding(message in message()) {
        let encoded = message.encode();
        let again = Message::parse(&encoded).expect("our own encoding parses");
        prop_assert_eq!(again, message);
    }

    #[test]
    fn no_text_makes_the_parser_panic(text in ".{0,400}", header in proptest::bool::ANY) {
        let input = if header { format!("MSH{text}") } else { text };
        let _ = Message::parse(&input);
    }

    #[test]
    fn no_bytes_make_the_framer_panic_or_hold_more_than_its_limit(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20),
    ) {
        let mut decoder = Decoder::new(256);
        for chunk in &chunks {
            for found in decoder.push(chunk) {
                if let Decoded::Frame(bytes) = found {
                    prop_assert!(bytes.len() <= 256 + 2);
                }
            }
        }
    }

    #[test]
    fn frames_split_anywhere_come_out_whole_and_in_order(
        payloads in proptest::collection::vec(proptest::collection::vec(0x20u8..0x7f, 0..200), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let wire: Vec<u8> = payloads.iter().flat_map(|p| frame(p)).collect();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort_unstable();
        let mut decoder = Decoder::new(1 << 16);
        let mut found = Vec::new();
        let mut from = 0;
        for point in points.into_iter().chain([wire.len()]) {
            found.extend(decoder.push(&wire[from..point]));
            from = point;
        }
        let frames: Vec<Vec<u8>> = found.into_iter().filter_map(|d| match d {
            Decoded::Frame(f) => Some(f),
            Decoded::TooLong { .. } => None,
        }).collect();
        prop_assert_eq!(frames, payloads);
    }
}
