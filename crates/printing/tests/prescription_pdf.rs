//! The printed prescription as a person reads it: pdftotext for its words,
//! pdftoppm for its pages as PNGs under target/printed/ to look at.

use std::path::PathBuf;
use std::process::Command;

use printing::{PrescriptionLine, PrescriptionSheet, Signer, prescription_pdf};

fn sheet(lines: usize) -> PrescriptionSheet {
    PrescriptionSheet {
        trust: "Example NHS Trust".into(),
        patient_name: "QUILLFEATHER, Ada (Mrs)".into(),
        nhs_number: "999 000 0026".into(),
        born: "03-Mar-1958 (68y)".into(),
        hospital_number: "Not recorded".into(),
        allergies: "Not recorded".into(),
        regimen: "R-CHOP-21".into(),
        regimen_version: "1.0.0".into(),
        regimen_sha256: "ab".repeat(32),
        intent: "curative".into(),
        cycle: "Cycle 1 of 6".into(),
        schedule: "Treatment on Tuesday 1 December 2026, for one day.".into(),
        measurements: vec!["Height 165 cm, weight 62 kg, taken on 30-Nov-2026; BSA 1.68 m²".into()],
        lines: (0..lines)
            .map(|n| PrescriptionLine {
                what: format!("drug {n}, day 1, intravenous infusion"),
                dose: "50 mg/m² × 1.68 m² = 84 mg; final 84 mg".into(),
                derivation: vec![
                    "Body surface area (Mosteller) = 1.68 m²".into(),
                    "Limit ≥ 1.0 ×10⁹/L".into(),
                ],
            })
            .collect(),
        supportive: vec!["ondansetron".into()],
        cumulative: vec!["doxorubicin: 50 of 450 mg/m²".into()],
        warnings: vec![],
        signers: vec![Signer {
            act: "Prescribed".into(),
            name: "ONCOLOGY, Olive (Dr)".into(),
            registration: "GMC 7000001".into(),
            at: "30-Nov-2026 09:00".into(),
        }],
        state: "prescribed".into(),
        printed_at: "30-Nov-2026 09:05".into(),
    }
}

fn printed_folder() -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target").join("printed");
    std::fs::create_dir_all(&folder).expect("folder");
    folder
}

fn text_of(pdf: &[u8], name: &str) -> String {
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
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn every_page_names_the_patient_and_says_which_page_it_is() {
    let text = text_of(&prescription_pdf(&sheet(30)), "prescription-long");
    let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert!(pages.len() >= 2, "thirty drugs take more than a page");
    for (index, page) in pages.iter().enumerate() {
        assert!(
            page.contains("QUILLFEATHER, Ada (Mrs)") && page.contains("NHS No. 999 000 0026"),
            "page {}",
            index + 1
        );
        assert!(
            page.contains(&format!("Page {} of {}", index + 1, pages.len())),
            "page {}:\n{page}",
            index + 1
        );
        assert!(page.contains("Computer generated"), "page {}", index + 1);
    }
}

#[test]
fn the_prescription_carries_every_element_of_the_order() {
    let text = text_of(&prescription_pdf(&sheet(2)), "prescription");
    // Words as read, whatever the line breaks and column spacing.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "R-CHOP-21 version 1.0.0, Cycle 1 of 6; intent: curative",
        &"ab".repeat(32),
        "Cycle 1 of 6",
        "for one day",
        "weight 62 kg, taken on 30-Nov-2026",
        "50 mg/m² × 1.68 m² = 84 mg; final 84 mg",
        "Body surface area (Mosteller) = 1.68 m²",
        "Limit >= 1.0 ×10^9/L",
        "ondansetron",
        "doxorubicin: 50 of 450 mg/m²",
        "Prescribed: ONCOLOGY, Olive (Dr), GMC 7000001",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
}
