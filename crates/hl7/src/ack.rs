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

/// The acknowledgements to send for `message` with `outcome`, in order, as its
/// MSH-15 and MSH-16 ask for them; `error` goes in an ERR segment (its text,
/// and a table 0357 code). Both empty is original mode: one AA, AE or AR.
/// Otherwise an empty one counts as "always": an accept acknowledgement
/// (CA/CE/CR) where MSH-15 asks for one, then an application acknowledgement
/// (AA/AE/AR) where MSH-16 does. Control ids are `control_id`, then `control_id`-2.
pub fn acknowledgements(
    message: &Message,
    outcome: Outcome,
    error: Option<(&str, &str)>,
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

/// An acknowledgement of `message`: sender and receiver swapped, MSA-2 the
/// original control id, in the original's version and with its delimiters.
pub fn build(
    message: &Message,
    code: &str,
    error: Option<(&str, &str)>,
    now: &str,
    control_id: &str,
) -> Message {
    let msh = message.header();
    let encoding: Encoding = message.encoding;
    let event = msh.component(9, 2);
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
            components(&["ACK", event, "ACK"]),
            text(control_id),
            msh.field(11).cloned().unwrap_or_default(),
            msh.field(12).cloned().unwrap_or_default(),
        ],
    };
    let msa = Segment { id: "MSA".into(), fields: vec![text(code), text(msh.value(10))] };
    let mut segments = vec![header, msa];
    if let Some((reason, code_0357)) = error {
        // ERR-3 is the HL7 error code (table 0357), ERR-4 severity E, ERR-8 the user message.
        let err = Segment {
            id: "ERR".into(),
            fields: vec![
                Field::default(),
                Field::default(),
                components(&[code_0357, "", "HL70357"]),
                text("E"),
                Field::default(),
                Field::default(),
                Field::default(),
                text(reason),
            ],
        };
        segments.push(err);
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
        let refused =
            only(acknowledgements(&m, Outcome::Error, Some(("PID-3: no NHS number", "101")), "t", "ACK2"));
        assert_eq!(code(&refused), "AE");
        let err = refused.segment("ERR").expect("ERR");
        assert_eq!((err.component(3, 1), err.value(8)), ("101", "PID-3: no NHS number"));
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
        let ack = only(acknowledgements(&m, Outcome::Error, Some(("a | b ^ c", "207")), "t", "ACK9"));
        let again = Message::parse(&ack.encode()).expect("valid ER7");
        assert_eq!(
            again.segment("ERR").expect("ERR").value(8),
            "a | b ^ c",
            "delimiters in text are escaped"
        );
    }
}
