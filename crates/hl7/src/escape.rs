//! HL7 escape sequences (v2.5 §2.7): `\F\` field, `\S\` component, `\T\`
//! subcomponent, `\R\` repetition, `\E\` escape, and `\Xhh…\` hexadecimal.
//! Formatting escapes (`\H\`, `\N\`, `.br`…) are kept as written: they mark
//! up text and are not data characters.

use crate::message::Encoding;

/// The text of a value with its escape sequences decoded.
pub fn decode(raw: &str, encoding: &Encoding) -> String {
    let escape = encoding.escape;
    if !raw.contains(escape) {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(escape) {
        out.push_str(&rest[..start]);
        let after = &rest[start + escape.len_utf8()..];
        match after.find(escape) {
            Some(end) => {
                let sequence = &after[..end];
                match decode_sequence(sequence, encoding) {
                    Some(decoded) => out.push_str(&decoded),
                    // Not a data escape: keep it exactly as written.
                    None => {
                        out.push(escape);
                        out.push_str(sequence);
                        out.push(escape);
                    }
                }
                rest = &after[end + escape.len_utf8()..];
            }
            None => {
                // An escape character with no closing one: taken literally.
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_sequence(sequence: &str, encoding: &Encoding) -> Option<String> {
    match sequence {
        "F" => Some(encoding.field.to_string()),
        "S" => Some(encoding.component.to_string()),
        "T" => Some(encoding.subcomponent.to_string()),
        "R" => Some(encoding.repetition.to_string()),
        "E" => Some(encoding.escape.to_string()),
        hex if hex.len() > 1 && hex.starts_with('X') && hex.len() % 2 == 1 => {
            let bytes: Option<Vec<u8>> = (1..hex.len())
                .step_by(2)
                .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
                .collect();
            bytes.and_then(|bytes| String::from_utf8(bytes).ok())
        }
        _ => None,
    }
}

/// A value's text with every delimiter escaped, so it reads back the same.
pub fn encode(text: &str, encoding: &Encoding) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let code = match c {
            _ if c == encoding.escape => Some('E'),
            _ if c == encoding.field => Some('F'),
            _ if c == encoding.component => Some('S'),
            _ if c == encoding.subcomponent => Some('T'),
            _ if c == encoding.repetition => Some('R'),
            _ => None,
        };
        match code {
            Some(code) => {
                out.push(encoding.escape);
                out.push(code);
                out.push(encoding.escape);
            }
            // A segment separator inside a value would split the segment.
            None if c == '\r' || c == '\n' => {
                out.push(encoding.escape);
                out.push_str(&format!("X{:02X}", c as u32));
                out.push(encoding.escape);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_delimiter_escape_decodes_to_its_character() {
        let e = Encoding::default();
        assert_eq!(decode(r"O\S\BRIEN\T\x\R\y\F\z\E\", &e), "O^BRIEN&x~y|z\\");
        assert_eq!(decode(r"caf\XC3A9\", &e), "café");
    }

    #[test]
    fn formatting_and_unclosed_escapes_are_kept_as_written() {
        let e = Encoding::default();
        assert_eq!(decode(r"line\.br\next", &e), r"line\.br\next");
        assert_eq!(decode(r"trailing\", &e), r"trailing\");
        assert_eq!(decode(r"bad\XZZ\", &e), r"bad\XZZ\");
    }

    #[test]
    fn encoding_then_decoding_gives_the_text_back() {
        let e = Encoding::default();
        let text = "a|b^c~d\\e&f\rg";
        assert_eq!(decode(&encode(text, &e), &e), text);
        assert!(!encode(text, &e).contains('|'));
    }
}
