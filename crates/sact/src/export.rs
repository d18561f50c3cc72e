//! The SACT data set return (NHS England, v4.0.1): one row per drug given,
//! each item under its v4 number. A row that lacks a mandatory item is never
//! written: it is reported with the record and the items missing, so it can be
//! corrected and the return run again. The written form is CSV with the item
//! numbers and names as headers; the national submission channel's exact
//! layout is to be confirmed (docs/reference).

use serde::Serialize;

/// One drug administration, with the items the return carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReturnRow {
    /// Where the row came from, for a person correcting it: `cycle:12 doxorubicin D1`.
    #[serde(skip)]
    pub record: String,
    #[serde(rename = "NHS Number")]
    pub nhs_number: Option<String>,
    #[serde(rename = "Local Patient Identifier")]
    pub local_patient_id: Option<String>,
    #[serde(rename = "Person Birth Date")]
    pub birth_date: Option<String>,
    #[serde(rename = "Postcode of Usual Address")]
    pub postcode: Option<String>,
    #[serde(rename = "General Medical Practice Code (Patient Registration)")]
    pub gp_practice: Option<String>,
    #[serde(rename = "Consultant Code")]
    pub consultant: Option<String>,
    #[serde(rename = "15 Intent of Treatment")]
    pub intent: Option<String>,
    #[serde(rename = "66 Curative Line of Treatment")]
    pub curative_line: Option<u32>,
    #[serde(rename = "67 Non-Curative Line of Treatment")]
    pub non_curative_line: Option<u32>,
    #[serde(rename = "16 Regimen")]
    pub regimen: Option<String>,
    #[serde(rename = "17 Height at Start of Treatment (m)")]
    pub height_m: Option<String>,
    #[serde(rename = "18 Weight at Start of Regimen (kg)")]
    pub regimen_weight_kg: Option<String>,
    #[serde(rename = "22 Start Date of Regimen")]
    pub regimen_start: Option<String>,
    #[serde(rename = "26 Cycle Number")]
    pub cycle_number: Option<u32>,
    #[serde(rename = "27 Start Date of Cycle")]
    pub cycle_start: Option<String>,
    #[serde(rename = "28 Weight at Start of Cycle (kg)")]
    pub cycle_weight_kg: Option<String>,
    #[serde(rename = "31 Drug Name")]
    pub drug: Option<String>,
    #[serde(rename = "32 Daily Total Dose Per Administration")]
    pub dose: Option<String>,
    #[serde(rename = "53 Administration Measurement Per Daily Total Dose")]
    pub dose_unit: Option<String>,
    #[serde(rename = "33 SACT Administration Route")]
    pub route: Option<String>,
    #[serde(rename = "80 Administration Timestamp (Infusion)")]
    pub administered_at: Option<String>,
    #[serde(rename = "81 Administration Date (Oral Drug Dispensed)")]
    pub dispensed_on: Option<String>,
    #[serde(rename = "82 Cycle Length in Days")]
    pub cycle_length_days: Option<u32>,
    #[serde(rename = "35 Organisation Identifier of SACT Administration")]
    pub organisation: Option<String>,
}

/// A row kept out of the return, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub record: String,
    pub missing: Vec<&'static str>,
}

impl ReturnRow {
    /// The mandatory items this row lacks (an empty list: it may be written).
    pub fn missing_mandatory(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let mut need = |present: bool, item: &'static str| {
            if !present {
                missing.push(item);
            }
        };
        need(self.nhs_number.is_some(), "NHS Number");
        need(self.regimen.is_some(), "16 Regimen");
        need(self.regimen_start.is_some(), "22 Start Date of Regimen");
        need(self.curative_line.is_some() || self.non_curative_line.is_some(), "66/67 Line of Treatment");
        need(self.cycle_number.is_some(), "26 Cycle Number");
        need(self.cycle_start.is_some(), "27 Start Date of Cycle");
        need(self.drug.is_some(), "31 Drug Name");
        need(
            self.administered_at.is_some() || self.dispensed_on.is_some(),
            "80/81 Administration Timestamp or Oral Dispensed Date",
        );
        missing
    }
}

/// The header row: each item as `ReturnRow` names it, in its order.
const HEADERS: [&str; 24] = [
    "NHS Number",
    "Local Patient Identifier",
    "Person Birth Date",
    "Postcode of Usual Address",
    "General Medical Practice Code (Patient Registration)",
    "Consultant Code",
    "15 Intent of Treatment",
    "66 Curative Line of Treatment",
    "67 Non-Curative Line of Treatment",
    "16 Regimen",
    "17 Height at Start of Treatment (m)",
    "18 Weight at Start of Regimen (kg)",
    "22 Start Date of Regimen",
    "26 Cycle Number",
    "27 Start Date of Cycle",
    "28 Weight at Start of Cycle (kg)",
    "31 Drug Name",
    "32 Daily Total Dose Per Administration",
    "53 Administration Measurement Per Daily Total Dose",
    "33 SACT Administration Route",
    "80 Administration Timestamp (Infusion)",
    "81 Administration Date (Oral Drug Dispensed)",
    "82 Cycle Length in Days",
    "35 Organisation Identifier of SACT Administration",
];

/// The return as CSV (the header row even when no row qualifies), and the rows kept out of it.
pub fn write_return(rows: &[ReturnRow], out: impl std::io::Write) -> Result<Vec<LeftOut>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    writer.write_record(HEADERS)?;
    let mut left_out = Vec::new();
    for row in rows {
        let missing = row.missing_mandatory();
        if missing.is_empty() {
            writer.serialize(row)?;
        } else {
            left_out.push(LeftOut { record: row.record.clone(), missing });
        }
    }
    writer.flush()?;
    Ok(left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> ReturnRow {
        ReturnRow {
            record: "cycle:1 doxorubicin D1".into(),
            nhs_number: Some("9990000026".into()),
            intent: Some("curative".into()),
            curative_line: Some(1),
            regimen: Some("R-CHOP-21".into()),
            regimen_start: Some("2026-12-01".into()),
            cycle_number: Some(1),
            cycle_start: Some("2026-12-01".into()),
            drug: Some("doxorubicin".into()),
            dose: Some("84.5".into()),
            dose_unit: Some("mg".into()),
            administered_at: Some("2026-12-01T09:30:00Z".into()),
            ..ReturnRow::default()
        }
    }

    #[test]
    fn the_header_row_names_every_item_in_the_rows_order() {
        let mut derived = csv::Writer::from_writer(Vec::new());
        derived.serialize(complete()).expect("serialised");
        let text = String::from_utf8(derived.into_inner().expect("flushed")).expect("utf-8");
        let header = text.lines().next().expect("a header").to_owned();
        let mut ours = Vec::new();
        write_return(&[], &mut ours).expect("written");
        assert_eq!(
            String::from_utf8(ours).expect("utf-8").trim_end(),
            header,
            "the same items, in the same order"
        );
    }

    #[test]
    fn a_row_missing_a_mandatory_item_is_reported_and_never_written() {
        let mut incomplete = complete();
        incomplete.record = "cycle:2 vincristine D1".into();
        incomplete.cycle_start = None;
        incomplete.administered_at = None;
        let mut out = Vec::new();
        let left_out = write_return(&[complete(), incomplete], &mut out).expect("written");
        assert_eq!(
            left_out,
            [LeftOut {
                record: "cycle:2 vincristine D1".into(),
                missing: vec![
                    "27 Start Date of Cycle",
                    "80/81 Administration Timestamp or Oral Dispensed Date"
                ],
            }]
        );
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(text.lines().count(), 2, "the header and the one complete row:\n{text}");
        assert!(
            text.lines()
                .next()
                .is_some_and(|h| h.contains("31 Drug Name") && h.contains("22 Start Date of Regimen"))
        );
        assert!(!text.contains("vincristine"));
    }
}
