//! A message as HL7 v2 structures it: segments of fields, each field a list of
//! repetitions, each repetition of components, each component of
//! subcomponents. Values are held decoded (escape sequences undone) and
//! encoded again on the way out, with the message's own separators.

use crate::escape;

/// The five delimiters a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Encoding {
    /// `|^~\&`, as nearly every sender uses.
    fn default() -> Self {
        Self { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' }
    }
}

impl Encoding {
    /// MSH-2 as written: component, repetition, escape, subcomponent.
    pub fn characters(&self) -> String {
        [self.component, self.repetition, self.escape, self.subcomponent].iter().collect()
    }

    fn all(&self) -> [char; 5] {
        [self.field, self.component, self.repetition, self.escape, self.subcomponent]
    }
}

/// Why a message could not be read, saying where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ParseError {
    pub reason: String,
}

fn refuse(reason: impl Into<String>) -> ParseError {
    ParseError { reason: reason.into() }
}

/// One component: its subcomponents' text, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Component(pub Vec<String>);

/// One repetition of a field: its components.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repetition(pub Vec<Component>);

/// A field: its repetitions (none when the field is empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Field(pub Vec<Repetition>);

impl Component {
    /// The first subcomponent's text, or "".
    pub fn text(&self) -> &str {
        self.0.first().map(String::as_str).unwrap_or("")
    }
}

impl Repetition {
    /// Component `n` (1-based), or "" where there is none.
    pub fn component(&self, n: usize) -> &str {
        n.checked_sub(1).and_then(|i| self.0.get(i)).map(Component::text).unwrap_or("")
    }
}

impl Field {
    /// The first repetition's first component: the field's value, or "".
    pub fn value(&self) -> &str {
        self.component(1)
    }

    /// Component `n` (1-based) of the first repetition, or "".
    pub fn component(&self, n: usize) -> &str {
        self.0.first().map(|r| r.component(n)).unwrap_or("")
    }

    pub fn repetitions(&self) -> &[Repetition] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|r| r.0.iter().all(|c| c.0.iter().all(String::is_empty)))
    }
}

/// A segment: its three-character id and fields 1…n (HL7 numbering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    /// `fields[0]` is field 1. In MSH, field 1 is the field separator and
    /// field 2 the encoding characters, each held as one literal value.
    pub fields: Vec<Field>,
}

impl Segment {
    /// Field `n` (1-based), if the segment has it.
    pub fn field(&self, n: usize) -> Option<&Field> {
        n.checked_sub(1).and_then(|i| self.fields.get(i))
    }

    /// Field `n`'s value (first repetition, first component), or "".
    pub fn value(&self, n: usize) -> &str {
        self.field(n).map(Field::value).unwrap_or("")
    }

    /// Component `c` of field `n`'s first repetition, or "".
    pub fn component(&self, n: usize, c: usize) -> &str {
        self.field(n).map(|f| f.component(c)).unwrap_or("")
    }
}

/// A whole message: its delimiters and segments in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub encoding: Encoding,
    pub segments: Vec<Segment>,
}

impl Message {
    /// Reads a message in ER7. Segments end with a carriage return (a line
    /// feed, or both, is accepted too); blank segments are skipped.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim_start_matches(['\r', '\n']);
        if !text.starts_with("MSH") {
            return Err(refuse("MSH: a message begins with its MSH segment"));
        }
        let mut chars = text[3..].chars();
        let field = chars.next().ok_or_else(|| refuse("MSH-1: the field separator is missing"))?;
        let declared: String = chars.take_while(|c| *c != field && *c != '\r' && *c != '\n').collect();
        let mut declared_chars = declared.chars();
        let (Some(component), Some(repetition), Some(escape_char), Some(subcomponent)) =
            (declared_chars.next(), declared_chars.next(), declared_chars.next(), declared_chars.next())
        else {
            return Err(refuse(
                "MSH-2: four encoding characters are needed (component, repetition, escape, subcomponent)",
            ));
        };
        let encoding = Encoding { field, component, repetition, escape: escape_char, subcomponent };
        let delimiters = encoding.all();
        if delimiters.iter().any(|c| c.is_alphanumeric() || *c == '\r' || *c == '\n')
            || (1..delimiters.len()).any(|i| delimiters[..i].contains(&delimiters[i]))
        {
            return Err(refuse(
                "MSH-1/MSH-2: the five delimiters must be distinct and not letters, digits or line ends",
            ));
        }
        let mut segments = Vec::new();
        for (index, line) in text.split(['\r', '\n']).enumerate() {
            if line.is_empty() {
                continue;
            }
            segments.push(parse_segment(line, &encoding, &declared, index + 1)?);
        }
        Ok(Self { encoding, segments })
    }

    /// The first segment with this id.
    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    /// Every segment with this id, in order.
    pub fn segments<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.id == id)
    }

    /// MSH, which `parse` guarantees is first.
    pub fn header(&self) -> &Segment {
        &self.segments[0]
    }

    /// The message in ER7, segments ended by carriage returns, every value
    /// escaped so it reads back the same.
    pub fn encode(&self) -> String {
        let e = &self.encoding;
        let mut out = String::new();
        for segment in &self.segments {
            out.push_str(&segment.id);
            let fields = if segment.id == "MSH" {
                out.push(e.field);
                out.push_str(&e.characters());
                segment.fields.get(2..).unwrap_or(&[])
            } else {
                &segment.fields[..]
            };
            for field in fields {
                out.push(e.field);
                out.push_str(&encode_field(field, e));
            }
            out.push('\r');
        }
        out
    }
}

fn encode_field(field: &Field, e: &Encoding) -> String {
    let repetitions: Vec<String> = field
        .0
        .iter()
        .map(|repetition| {
            let components: Vec<String> = repetition
                .0
                .iter()
                .map(|component| {
                    let parts: Vec<String> = component.0.iter().map(|s| escape::encode(s, e)).collect();
                    parts.join(&e.subcomponent.to_string())
                })
                .collect();
            components.join(&e.component.to_string())
        })
        .collect();
    repetitions.join(&e.repetition.to_string())
}

fn parse_segment(line: &str, e: &Encoding, declared: &str, number: usize) -> Result<Segment, ParseError> {
    let mut parts = line.split(e.field);
    let id = parts.next().unwrap_or("");
    if id.len() != 3 || !id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        let shown: String = id.chars().take(8).collect();
        return Err(refuse(format!(
            "segment {number}: {shown:?} is not a segment id (three capitals or digits)"
        )));
    }
    let mut fields = Vec::new();
    if id == "MSH" {
        fields.push(literal(&e.field.to_string()));
        fields.push(literal(declared));
        parts.next();
    }
    fields.extend(parts.map(|raw| parse_field(raw, e)));
    Ok(Segment { id: id.to_owned(), fields })
}

fn literal(text: &str) -> Field {
    Field(vec![Repetition(vec![Component(vec![text.to_owned()])])])
}

fn parse_field(raw: &str, e: &Encoding) -> Field {
    if raw.is_empty() {
        return Field::default();
    }
    Field(
        raw.split(e.repetition)
            .map(|repetition| {
                Repetition(
                    repetition
                        .split(e.component)
                        .map(|component| {
                            Component(component.split(e.subcomponent).map(|s| escape::decode(s, e)).collect())
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIT: &str = "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261130101500||ADT^A01^ADT_A01|MSG00001|P|2.4|||AL|NE\r\
EVN|A01|20261130101455\r\
PID|||9990000018^^^NHS^NH~RXX1234567^^^RXX^PI||O\\S\\BRIEN^Ada^^^Ms||19580303|F||||||||||||||||||||||||NSTS01\r\
PV1||I|WARD7^BAY1^BED3^RXX01\r";

    #[test]
    fn fields_repetitions_and_components_are_kept_and_escapes_decoded() {
        let message = Message::parse(ADMIT).expect("parsed");
        let msh = message.header();
        assert_eq!((msh.value(1), msh.value(2)), ("|", "^~\\&"), "MSH-1 and MSH-2 are the delimiters");
        assert_eq!(msh.component(9, 2), "A01");
        assert_eq!(msh.value(10), "MSG00001");
        let pid = message.segment("PID").expect("PID");
        let ids = pid.field(3).expect("PID-3").repetitions();
        assert_eq!((ids[0].component(1), ids[0].component(4)), ("9990000018", "NHS"));
        assert_eq!((ids[1].component(1), ids[1].component(5)), ("RXX1234567", "PI"));
        assert_eq!(pid.component(5, 1), "O^BRIEN", "\\S\\ is a component separator in the text");
        assert_eq!(pid.value(32), "NSTS01");
        assert_eq!(message.segment("PV1").expect("PV1").component(3, 3), "BED3");
    }

    #[test]
    fn a_message_with_other_delimiters_is_read_with_them() {
        let text = "MSH#*@!%#PAS#RXX01\rPID###9990000018*X@Y";
        let message = Message::parse(text).expect("parsed");
        assert_eq!(message.encoding.component, '*');
        let pid = message.segment("PID").expect("PID");
        assert_eq!(pid.component(3, 1), "9990000018");
        assert_eq!(pid.component(3, 2), "X");
        let repetitions = pid.field(3).expect("PID-3").repetitions();
        assert_eq!((repetitions.len(), repetitions[1].component(1)), (2, "Y"), "@ repeats");
    }

    #[test]
    fn encoding_reads_back_to_the_same_message() {
        let message = Message::parse(ADMIT).expect("parsed");
        let again = Message::parse(&message.encode()).expect("re-read");
        assert_eq!(again, message);
    }

    #[test]
    fn a_header_of_only_its_delimiters_ends_at_the_segment_end() {
        let message = Message::parse("MSH|^~\\&\rPID|1").expect("parsed");
        assert_eq!(message.header().value(2), "^~\\&");
        assert_eq!(message.segment("PID").expect("PID").value(1), "1");
    }

    #[test]
    fn what_is_not_a_message_is_refused_saying_where() {
        assert!(Message::parse("PID|1").expect_err("no MSH").reason.starts_with("MSH"));
        assert!(Message::parse("MSH|^~").expect_err("short").reason.starts_with("MSH-2"));
        assert!(Message::parse("MSH|^~\\^|A").expect_err("repeated").reason.contains("distinct"));
        let bad = Message::parse("MSH|^~\\&|A\rpid|1").expect_err("lower-case id");
        assert!(bad.reason.starts_with("segment 2"), "{}", bad.reason);
    }
}
