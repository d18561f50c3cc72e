//! Acknowledgements. The mode comes from MSH-15 (accept) and MSH-16
//! (application): both empty is original mode (AA/AE/AR); otherwise enhanced
//! mode, where an accept acknowledgement (CA/CE/CR) is sent when MSH-15 asks
//! for it, and an application acknowledgement when MSH-16 does.

use crate::message::{Component, Encoding, Field, Message, Repetition, Segment};

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its effects are committed (or it was already applied).
    Accepted,
    /// It cannot be parsed or applied: the sender must correct it.
    Error,
    /// The receiver cannot take it now (the store is unreachable): resend later.
    Rejected,
}

impl Outcome {
    /// Its original-mode acknowledgement code (MSA-1): AA, AE or AR.
    pub fn code(self) -> &'static str {
        original(self)
    }
}

/// When MSH-15 or MSH-16 asks for an acknowledgement (table 0155).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    Never,
    OnError,
    OnSuccess,
}

fn condition(code: &str) -> Option<Condition> {
    match code.trim() {
        "AL" => Some(Condition::Always),
        "NE" => Some(Condition::Never),
        "ER" => Some(Condition::OnError),
        "SU" => Some(Condition::OnSuccess),
        _ => None,
    }
}

impl Condition {
    fn wants(self, outcome: Outcome) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::OnError => outcome != Outcome::Accepted,
            Self::OnSuccess => outcome == Outcome::Accepted,
        }
    }
}

/// Why a message was refused, for the ERR segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal<'a> {
    /// Where: a segment and field such as `PID-3`, or anything else (then no location is given).
    pub location: &'a str,
    /// HL7 table 0357: 101 required field missing, 204 unknown key identifier, …
    pub code: &'a str,
    /// In words, for the person who will correct it.
    pub text: &'a str,
}

/// The acknowledgements to send for `message` with `outcome`, in order, as its
/// MSH-15 and MSH-16 ask for them; `error` goes in an ERR segment (its text,
/// and a table 0357 code). Both empty is original mode: one AA, AE or AR.
/// Otherwise an empty one counts as "always": an accept acknowledgement
/// (CA/CE/CR) where MSH-15 asks for one, then an application acknowledgement
/// (AA/AE/AR) where MSH-16 does. Control ids are `control_id`, then `control_id`-2.
pub fn acknowledgements(
    message: &Message,
    outcome: Outcome,
    error: Option<Refusal<'_>>,
    now: &str,
    control_id: &str,
) -> Vec<Message> {
    let msh = message.header();
    let (accept, application) = (condition(msh.value(15)), condition(msh.value(16)));
    if accept.is_none() && application.is_none() {
        return vec![build(message, original(outcome), error, now, control_id)];
    }
    let mut sent = Vec::new();
    if accept.unwrap_or(Condition::Always).wants(outcome) {
        sent.push(build(message, enhanced(outcome), error, now, control_id));
    }
    if application.unwrap_or(Condition::Always).wants(outcome) {
        let id = if sent.is_empty() { control_id.to_owned() } else { format!("{control_id}-2") };
        sent.push(build(message, original(outcome), error, now, &id));
    }
    sent
}

fn original(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Accepted => "AA",
        Outcome::Error => "AE",
        Outcome::Rejected => "AR",
    }
}

fn enhanced(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Accepted => "CA",
        Outcome::Error => "CE",
        Outcome::Rejected => "CR",
    }
}

fn text(value: &str) -> Field {
    if value.is_empty() {
        return Field::default();
    }
    Field(vec![Repetition(vec![Component(vec![value.to_owned()])])])
}

fn components(values: &[&str]) -> Field {
    Field(vec![Repetition(values.iter().map(|v| Component(vec![(*v).to_owned()])).collect())])
}

/// The version a message declares (MSH-12) as (major, minor), 2.4 when unreadable.
fn version(message: &Message) -> (u32, u32) {
    let declared = message.header().component(12, 1);
    let mut parts = declared.split('.').map(|p| p.trim().parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor),
        _ => (2, 4),
    }
}

/// `PID-3` as (`PID`, `3`); anything else names no place.
fn segment_and_field(location: &str) -> Option<(&str, &str)> {
    let (segment, field) = location.split_once('-')?;
    let is_segment = segment.len() == 3 && segment.bytes().all(|b| b.is_ascii_alphanumeric());
    let is_field = !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit());
    (is_segment && is_field).then_some((segment, field))
}

/// The ERR segment in the message's own version: from 2.5, ERR-2 the location,
/// ERR-3 the code (table 0357), ERR-4 severity and ERR-8 the text; before 2.5,
/// ERR-1 alone, segment^sequence^field^code&text&HL70357.
fn error_segment(version: (u32, u32), refusal: Refusal<'_>) -> Segment {
    let place = segment_and_field(refusal.location);
    let (segment, sequence, field) = place.map_or(("", "", ""), |(s, f)| (s, "1", f));
    let fields = if version >= (2, 5) {
        vec![
            Field::default(),
            components(&[segment, sequence, field]),
            components(&[refusal.code, "", "HL70357"]),
            text("E"),
            Field::default(),
            Field::default(),
            Field::default(),
            text(refusal.text),
        ]
    } else {
        let code = Component(vec![refusal.code.to_owned(), refusal.text.to_owned(), "HL70357".to_owned()]);
        let text = |v: &str| Component(vec![v.to_owned()]);
        vec![Field(vec![Repetition(vec![text(segment), text(sequence), text(field), code])])]
    };
    Segment { id: "ERR".into(), fields }
}

/// An acknowledgement of `message`: sender and receiver swapped, MSA-2 the
/// original control id, in the original's version and with its delimiters.
pub fn build(
    message: &Message,
    code: &str,
    error: Option<Refusal<'_>>,
    now: &str,
    control_id: &str,
) -> Message {
    let msh = message.header();
    let encoding: Encoding = message.encoding;
    let event = msh.component(9, 2);
    let version = version(message);
    // MSH-9.3, the message structure, arrived in 2.3.1.
    let message_type = if version >= (2, 4) || msh.component(12, 1).trim() == "2.3.1" {
        vec!["ACK", event, "ACK"]
    } else {
        vec!["ACK", event]
    };
    let header = Segment {
        id: "MSH".into(),
        fields: vec![
            text(&encoding.field.to_string()),
            text(&encoding.characters()),
            msh.field(5).cloned().unwrap_or_default(),
            msh.field(6).cloned().unwrap_or_default(),
            msh.field(3).cloned().unwrap_or_default(),
            msh.field(4).cloned().unwrap_or_default(),
            text(now),
            Field::default(),
            components(&message_type),
            text(control_id),
            msh.field(11).cloned().unwrap_or_default(),
            msh.field(12).cloned().unwrap_or_default(),
        ],
    };
    let msa = Segment { id: "MSA".into(), fields: vec![text(code), text(msh.value(10))] };
    let mut segments = vec![header, msa];
    if let Some(refusal) = error {
        segments.push(error_segment(version, refusal));
    }
    Message { encoding, segments }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(accept: &str, application: &str) -> Message {
        Message::parse(&format!(
            "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261130101500||ADT^A02^ADT_A02|MSG7|P|2.4|||{accept}|{application}\rEVN|A02"
        ))
        .expect("parsed")
    }

    fn code(ack: &Message) -> &str {
        ack.segment("MSA").expect("MSA").value(1)
    }

    #[test]
    fn original_mode_acknowledges_each_outcome() {
        let m = message("", "");
        let ack = only(acknowledgements(&m, Outcome::Accepted, None, "20261130101501", "ACK1"));
        assert_eq!(code(&ack), "AA");
        let msh = ack.header();
        assert_eq!(
            (msh.value(3), msh.value(4), msh.value(5), msh.value(6)),
            ("CLINWS", "RXX01", "PAS", "RXX01")
        );
        assert_eq!((msh.component(9, 1), msh.component(9, 2)), ("ACK", "A02"));
        assert_eq!(ack.segment("MSA").expect("MSA").value(2), "MSG7", "MSA-2 echoes MSH-10");
        let refusal = Refusal { location: "PID-3", code: "101", text: "no NHS number" };
        let refused = only(acknowledgements(&m, Outcome::Error, Some(refusal), "t", "ACK2"));
        assert_eq!(code(&refused), "AE");
        // 2.4: ERR-1 alone, segment^sequence^field^code&text&HL70357.
        let err = refused.segment("ERR").expect("ERR");
        let eld = &err.field(1).expect("ERR-1").repetitions()[0];
        assert_eq!((eld.component(1), eld.component(2), eld.component(3)), ("PID", "1", "3"));
        assert_eq!(eld.0[3].0, ["101", "no NHS number", "HL70357"]);
        assert_eq!(code(&only(acknowledgements(&m, Outcome::Rejected, None, "t", "ACK3"))), "AR");
    }

    fn codes(sent: &[Message]) -> Vec<&str> {
        sent.iter().map(code).collect()
    }

    fn only(mut sent: Vec<Message>) -> Message {
        assert_eq!(sent.len(), 1, "one acknowledgement");
        sent.remove(0)
    }

    /// The table of integration.md §4.3, row by row.
    #[test]
    fn enhanced_mode_follows_msh_15_and_16() {
        let sent = |accept: &str, application: &str, outcome: Outcome| {
            acknowledgements(&message(accept, application), outcome, None, "t", "A")
        };
        assert!(sent("NE", "NE", Outcome::Accepted).is_empty(), "NE NE: nothing");
        assert_eq!(codes(&sent("AL", "NE", Outcome::Accepted)), ["CA"]);
        assert_eq!(codes(&sent("NE", "AL", Outcome::Accepted)), ["AA"]);
        assert_eq!(codes(&sent("AL", "AL", Outcome::Accepted)), ["CA", "AA"]);
        assert!(sent("ER", "NE", Outcome::Accepted).is_empty(), "errors only, and none");
        assert_eq!(codes(&sent("ER", "NE", Outcome::Error)), ["CE"]);
        assert_eq!(codes(&sent("SU", "ER", Outcome::Rejected)), ["AR"]);
        let both = sent("AL", "AL", Outcome::Accepted);
        let ids: Vec<&str> = both.iter().map(|m| m.header().value(10)).collect();
        assert_eq!(ids, ["A", "A-2"], "each acknowledgement has its own control id");
    }

    #[test]
    fn an_acknowledgement_reads_back_as_hl7() {
        let m = message("", "");
        let refusal = Refusal { location: "message", code: "207", text: "a | b ^ c & d" };
        let ack = only(acknowledgements(&m, Outcome::Error, Some(refusal), "t", "ACK9"));
        let again = Message::parse(&ack.encode()).expect("valid ER7");
        let eld = &again.segment("ERR").expect("ERR").field(1).expect("ERR-1").repetitions()[0];
        assert_eq!(eld.0[3].0[1], "a | b ^ c & d", "delimiters in text are escaped");
    }

    #[test]
    fn from_2_5_the_error_has_its_code_location_severity_and_text_in_their_own_fields() {
        let m =
            Message::parse("MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261130101500||ADT^A02^ADT_A02|MSG7|P|2.5.1")
                .expect("parsed");
        let refusal = Refusal { location: "PID-3", code: "204", text: "not in this index" };
        let ack = only(acknowledgements(&m, Outcome::Error, Some(refusal), "t", "ACK2"));
        let err = ack.segment("ERR").expect("ERR");
        assert!(err.value(1).is_empty(), "ERR-1 was withdrawn in 2.5");
        assert_eq!((err.component(2, 1), err.component(2, 3)), ("PID", "3"));
        assert_eq!((err.component(3, 1), err.component(3, 3), err.value(4)), ("204", "HL70357", "E"));
        assert_eq!(err.value(8), "not in this index");
    }

    #[test]
    fn before_2_3_1_the_acknowledgement_names_no_message_structure() {
        let m = Message::parse("MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261130101500||ADT^A02|MSG7|P|2.3")
            .expect("parsed");
        let ack = only(acknowledgements(&m, Outcome::Accepted, None, "t", "ACK1"));
        assert_eq!(ack.header().field(9).expect("MSH-9").repetitions()[0].0.len(), 2, "ACK^A02");
    }
}
