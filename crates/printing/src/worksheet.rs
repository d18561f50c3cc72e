//! The aseptic unit's preparation worksheet for a released cycle: each
//! parenteral dose exactly as prescribed (never recalculated), its diluent,
//! final volume and label, with boxes for the batch, expiry and the two people
//! who prepare and check it; oral drugs listed to be dispensed.

use crate::layout::{Block, Document};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorksheetItem {
    pub drug: String,
    /// "705 mg", as prescribed.
    pub dose: String,
    /// In words: "intravenous infusion", "oral".
    pub route: String,
    /// "day 1", "days 1 to 5".
    pub days: String,
    /// "sodium chloride 0.9% to a final volume of 500 mL", or "not stated in the regimen".
    pub container: String,
    pub rate_or_duration: String,
    /// Oral: dispensed, not prepared.
    pub oral: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparationWorksheet {
    pub trust: String,
    pub patient_name: String,
    pub nhs_number: String,
    pub born: String,
    pub hospital_number: String,
    pub regimen: String,
    pub regimen_version: String,
    pub cycle: String,
    /// "Monday 30 November 2026".
    pub treatment_date: String,
    /// "PHARMACY, Percy (Mr), GPhC 2000002, 30-Nov-2026 14:18 UTC".
    pub released_by: String,
    pub items: Vec<WorksheetItem>,
    pub printed_at: String,
}

/// The worksheet as an A4 PDF.
pub fn worksheet_pdf(sheet: &PreparationWorksheet) -> Vec<u8> {
    document(sheet).to_pdf()
}

const BOXES: &str =
    "Batch: ____________   Expiry: ____________   Prepared by: ____________   Checked by: ____________";

fn document(sheet: &PreparationWorksheet) -> Document {
    let mut body = vec![
        Block::Text(format!("Hospital number: {}", sheet.hospital_number)),
        Block::Text(format!(
            "{} version {}, {}, for {}.",
            sheet.regimen, sheet.regimen_version, sheet.cycle, sheet.treatment_date
        )),
        Block::Text(format!("Released for preparation by {}.", sheet.released_by)),
        Block::Detail(
            "Prepare each dose exactly as printed. Do not recalculate; query any doubt with the releasing pharmacist."
                .into(),
        ),
    ];
    let (oral, prepared): (Vec<&WorksheetItem>, Vec<&WorksheetItem>) =
        sheet.items.iter().partition(|i| i.oral);
    body.push(Block::Heading("To prepare (two people: one prepares, another checks)".into()));
    for item in &prepared {
        body.push(Block::Text(format!("{}: {}, {}, {}", item.drug, item.dose, item.route, item.days)));
        body.push(Block::Detail(format!("Container: {}", item.container)));
        body.push(Block::Detail(format!("Give: {}", item.rate_or_duration)));
        body.push(Block::Detail(format!(
            "Label: {}, NHS No. {}. {} {} in {}. {}. For {}.",
            sheet.patient_name,
            sheet.nhs_number,
            item.drug,
            item.dose,
            item.container,
            item.route,
            sheet.treatment_date
        )));
        body.push(Block::Text(BOXES.into()));
        body.push(Block::Gap);
    }
    if !oral.is_empty() {
        body.push(Block::Heading("To dispense (oral; not prepared in the unit)".into()));
        for item in &oral {
            body.push(Block::Text(format!("{}: {}, {}, {}", item.drug, item.dose, item.route, item.days)));
            body.push(Block::Text("Dispensed by: ____________   Checked by: ____________".into()));
        }
    }
    Document {
        title: format!("{} - SACT preparation worksheet", sheet.trust),
        banner: format!("{}    NHS No. {}    Born {}", sheet.patient_name, sheet.nhs_number, sheet.born),
        footer: format!(
            "Computer generated {} - preparation worksheet, not a prescription",
            sheet.printed_at
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> PreparationWorksheet {
        let item = |drug: &str, dose: &str, oral: bool| WorksheetItem {
            drug: drug.into(),
            dose: dose.into(),
            route: if oral { "oral".into() } else { "intravenous infusion".into() },
            days: "day 1".into(),
            container: "sodium chloride 0.9% to a final volume of 500 mL".into(),
            rate_or_duration: "over 30 minutes".into(),
            oral,
        };
        PreparationWorksheet {
            trust: "Demonstration NHS Trust".into(),
            patient_name: "THISTLEWOOD, Ada (Ms)".into(),
            nhs_number: "999 000 0042".into(),
            born: "05-May-1934".into(),
            hospital_number: "Not recorded".into(),
            regimen: "R-CHOP-21".into(),
            regimen_version: "1.0.0".into(),
            cycle: "Cycle 2 of 6".into(),
            treatment_date: "Monday 30 November 2026".into(),
            released_by: "PHARMACY, Percy (Mr), GPhC 2000002".into(),
            items: vec![item("rituximab", "705 mg", false), item("prednisolone", "100 mg", true)],
            printed_at: "30-Nov-2026 14:20 UTC".into(),
        }
    }

    #[test]
    fn each_prepared_dose_has_its_label_and_two_person_boxes_and_oral_drugs_are_dispensed() {
        let document = document(&sheet());
        let text: Vec<String> = document
            .body
            .iter()
            .filter_map(|b| match b {
                Block::Text(t) | Block::Detail(t) | Block::Heading(t) => Some(t.clone()),
                Block::Gap => None,
            })
            .collect();
        let all = text.join("\n");
        assert!(all.contains("rituximab: 705 mg, intravenous infusion, day 1"), "{all}");
        assert!(
            all.contains("Label: THISTLEWOOD, Ada (Ms), NHS No. 999 000 0042. rituximab 705 mg"),
            "{all}"
        );
        assert!(all.contains("Prepared by: ____________   Checked by:"), "{all}");
        let dispense = all.find("To dispense").expect("oral section");
        assert!(all[dispense..].contains("prednisolone: 100 mg, oral"), "oral drugs are dispensed: {all}");
        assert!(!all[..dispense].contains("prednisolone"), "and not prepared: {all}");
        assert!(document.footer.contains("Computer generated"));
    }
}
