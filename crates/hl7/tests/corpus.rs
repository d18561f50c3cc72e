//! A byte-level corpus of hostile and odd messages (tests/corpus/*.hl7):
//! truncated headers, strange delimiters, broken escapes, NUL and invalid
//! UTF-8, very long fields, thousands of segments or repetitions. Each is read
//! or refused, never a panic, and whatever is read encodes and reads back the same.

use std::path::PathBuf;

/// Every file of the corpus, with its name.
pub fn corpus() -> Vec<(String, Vec<u8>)> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&folder)
        .expect("the corpus folder")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            (
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                std::fs::read(&path).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_message_of_the_corpus_is_read_or_refused_and_what_is_read_reads_back() {
    let files = corpus();
    assert!(files.len() >= 25, "the corpus is there: {}", files.len());
    let mut read = 0;
    for (name, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        match hl7::Message::parse(&text) {
            Ok(message) => {
                read += 1;
                let again =
                    hl7::Message::parse(&message.encode()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(again, message, "{name} reads back the same");
            }
            Err(refusal) => assert!(!refusal.reason.is_empty(), "{name}: a refusal says why"),
        }
        let mut decoder = hl7::mllp::Decoder::new(64 * 1024);
        let _ = decoder.push(&bytes);
    }
    assert!(read > 10, "most of the corpus is readable HL7 with odd content: {read}");
}
