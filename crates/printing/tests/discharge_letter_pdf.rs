//! The discharge letter as the GP reads it: pdftotext for its words, and
//! pdftoppm for its pages as PNGs under target/printed/ to look at.

use std::path::PathBuf;
use std::process::Command;

use discharge::{Letter, Section};
use printing::discharge_letter_pdf;

fn printed_folder() -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target").join("printed");
    std::fs::create_dir_all(&folder).expect("folder");
    folder
}

/// The pages' text, split at form feeds, after rendering PNGs of them.
fn pages_of(pdf: &[u8], name: &str) -> Vec<String> {
    let file = printed_folder().join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).expect("written");
    let output = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; make test installs it)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let png = Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&file)
        .arg(printed_folder().join(name))
        .status()
        .expect("pdftoppm");
    assert!(png.success());
    String::from_utf8_lossy(&output.stdout)
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn the_letter_has_its_headings_in_prsb_order_and_the_signer_block() {
    let letter = Letter::example();
    let text = pages_of(&discharge_letter_pdf(&letter), "discharge-letter").join(" ");
    let mut from = 0;
    for section in letter.sections() {
        let title = match section {
            Section::PersonCompletingRecord => "Person completing record (signed)",
            other => other.title(),
        };
        let at =
            text[from..].find(title).unwrap_or_else(|| panic!("{title:?} missing or out of order:\n{text}"));
        from += at + title.len();
    }
    for expected in [
        "Example Hospitals NHS Trust - Discharge summary",
        "Community acquired pneumonia (SNOMED CT 385093006)",
        "NEW: Amoxicillin 500 mg capsules",
        "No known drug allergies or adverse reactions",
        "Dr Olive Oncology, Consultant GMC 7000004",
        "Signed with their smart card: 01-Jul-2026 10:30",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
}

#[test]
fn every_page_names_the_patient_and_says_which_page_it_is() {
    let mut letter = Letter::example();
    let long = (1..=120).map(|n| format!("Day {n}: observations stable.")).collect::<Vec<_>>().join("\n");
    letter.summary.text.insert(Section::ClinicalSummary, long);
    let pages = pages_of(&discharge_letter_pdf(&letter), "discharge-letter-long");
    assert!(pages.len() >= 3, "a long clinical summary runs over pages: {}", pages.len());
    for (index, page) in pages.iter().enumerate() {
        assert!(
            page.contains("TESTPATIENT, Ada NHS No. 999 000 0018 Born 01-Mar-1950"),
            "page {} lacks the banner:\n{page}",
            index + 1
        );
        assert!(page.contains(&format!("Page {} of {}", index + 1, pages.len())), "page {}", index + 1);
    }
}

#[test]
fn an_amended_letter_says_so_at_the_top_of_every_page() {
    let mut letter = Letter::example();
    letter.version = 2;
    letter.summary.amends = Some(discharge::Amendment {
        summary_id: 40,
        version: 1,
        reason: "The amoxicillin course was wrong".into(),
    });
    let pages = pages_of(&discharge_letter_pdf(&letter), "discharge-letter-amended");
    for page in &pages {
        assert!(page.contains("AMENDED discharge summary v2 (replaces v1)"), "{page}");
    }
    assert!(pages[0].contains("Amended from version 1: The amoxicillin course was wrong"));
}
