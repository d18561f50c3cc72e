//! The discharge summary as an A4 letter: the trust and title at the top, the
//! patient banner on every page, each PRSB heading in the standard's order,
//! the signer block, and "Page X of Y".

use discharge::{Letter, Section};

use crate::layout::{Block, Document};

/// The letter as PDF bytes.
pub fn discharge_letter_pdf(letter: &Letter) -> Vec<u8> {
    document(letter).to_pdf()
}

fn document(letter: &Letter) -> Document {
    let mut body = Vec::new();
    for section in letter.sections() {
        let heading = match section {
            Section::PersonCompletingRecord => "Person completing record (signed)".to_owned(),
            other => other.title().to_owned(),
        };
        body.push(Block::Heading(heading));
        body.extend(letter.lines(section).into_iter().map(Block::Text));
    }
    let patient = &letter.patient;
    Document {
        title: format!("{} - {}", letter.trust.name, letter.title()),
        banner: format!(
            "{}    NHS No. {}    Born {}{}",
            patient.banner_name(),
            patient.nhs_number_display(),
            discharge::date(patient.born),
            patient.hospital_number.as_deref().map(|h| format!("    Hosp. No. {h}")).unwrap_or_default()
        ),
        footer: format!(
            "Signed with a smart card by {} on {} - summary {} version {}",
            letter.signer.name,
            discharge::local_time(letter.signed_at),
            letter.summary_id,
            letter.version
        ),
        body,
    }
}
