//! The SACT prescription: every element of a complete order, each dose with its
//! derivation, the regimen version and hash, the signers with their
//! registrations, and "computer generated".

use crate::layout::{Block, Document};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrescriptionLine {
    /// Drug, days and route, e.g. "doxorubicin, day 1, intravenous bolus".
    pub what: String,
    /// Basis, calculated and final dose, e.g. "50 mg/m2 x 1.71 m2 = 85.5 mg; final 85 mg".
    pub dose: String,
    pub derivation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// What they did, e.g. "Prescribed", "Verified".
    pub act: String,
    pub name: String,
    pub registration: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrescriptionSheet {
    pub trust: String,
    pub patient_name: String,
    pub nhs_number: String,
    pub born: String,
    pub hospital_number: String,
    pub allergies: String,
    pub regimen: String,
    pub regimen_version: String,
    pub regimen_sha256: String,
    pub intent: String,
    pub cycle: String,
    /// When treatment starts and for how long, in words: no abbreviations.
    pub schedule: String,
    pub measurements: Vec<String>,
    pub lines: Vec<PrescriptionLine>,
    pub supportive: Vec<String>,
    pub cumulative: Vec<String>,
    pub warnings: Vec<String>,
    pub signers: Vec<Signer>,
    pub state: String,
    pub printed_at: String,
}

/// The prescription as an A4 PDF.
pub fn prescription_pdf(sheet: &PrescriptionSheet) -> Vec<u8> {
    document(sheet).to_pdf()
}

fn document(sheet: &PrescriptionSheet) -> Document {
    let mut body = vec![
        Block::Text(format!("Hospital number: {}    Allergies: {}", sheet.hospital_number, sheet.allergies)),
        Block::Heading("Regimen".into()),
        Block::Text(format!(
            "{} version {}, {}; intent: {}. {}",
            sheet.regimen, sheet.regimen_version, sheet.cycle, sheet.intent, sheet.schedule
        )),
        Block::Detail(format!("Regimen content SHA-256: {}", sheet.regimen_sha256)),
        Block::Heading("Measurements".into()),
    ];
    body.extend(sheet.measurements.iter().cloned().map(Block::Text));
    body.push(Block::Heading("Anti-cancer medicines".into()));
    for line in &sheet.lines {
        body.push(Block::Text(format!("{}: {}", line.what, line.dose)));
        body.extend(line.derivation.iter().cloned().map(Block::Detail));
        body.push(Block::Gap);
    }
    if !sheet.supportive.is_empty() {
        body.push(Block::Heading("Supportive medicines".into()));
        body.extend(sheet.supportive.iter().cloned().map(Block::Text));
    }
    if !sheet.cumulative.is_empty() {
        body.push(Block::Heading("Cumulative doses to date".into()));
        body.extend(sheet.cumulative.iter().cloned().map(Block::Text));
    }
    if !sheet.warnings.is_empty() {
        body.push(Block::Heading("Warnings".into()));
        body.extend(sheet.warnings.iter().cloned().map(Block::Text));
    }
    body.push(Block::Heading(format!("Signatures (this prescription is {})", sheet.state)));
    for signer in &sheet.signers {
        body.push(Block::Text(format!(
            "{}: {}, {}, {}",
            signer.act, signer.name, signer.registration, signer.at
        )));
    }
    Document {
        title: format!("{} - SACT prescription", sheet.trust),
        banner: format!("{}    NHS No. {}    Born {}", sheet.patient_name, sheet.nhs_number, sheet.born),
        footer: format!("Computer generated {} - each signature made with a smart card", sheet.printed_at),
        body,
    }
}
