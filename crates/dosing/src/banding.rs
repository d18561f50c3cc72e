//! Dose banding from versioned tables held as data.
//!
//! Boundary rules (a named site setting), for a dose that falls on the step
//! between two bands at the table's 0.01 mg resolution:
//! - `to-a` (systems that round such doses UP): the dose is rounded to 0.01 mg
//!   halves up, then banded by From ≤ dose < To (A);
//! - `to-b` (systems that round them DOWN): the dose is truncated to 0.01 mg,
//!   then banded by From ≤ dose ≤ To (B).
//!
//! A dose outside the table is not banded and says so. A band further from the
//! calculated dose than the table allows for the drug's class is refused.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::policy::DrugClass;
use crate::units::parse_decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum BoundaryRule {
    ToA,
    ToB,
}

impl BoundaryRule {
    pub fn code(self) -> &'static str {
        match self {
            Self::ToA => "to-a",
            Self::ToB => "to-b",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Band {
    pub from_mg: Decimal,
    pub to_a_mg: Decimal,
    pub to_b_mg: Decimal,
    pub band_dose_mg: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableHeader {
    name: String,
    version: String,
    title: String,
    coverage_note: String,
    max_deviation_percent: BTreeMap<DrugClass, Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandingTable {
    pub name: String,
    pub version: String,
    pub title: String,
    pub coverage_note: String,
    max_deviation_percent: BTreeMap<DrugClass, Decimal>,
    bands: Vec<Band>,
}

const TABLE_RESOLUTION_DP: u32 = 2;

impl BandingTable {
    /// Builds a table from its JSON header and its CSV rows, refusing gaps,
    /// overlaps and bands outside their own range.
    pub fn parse(header_json: &str, rows_csv: &str) -> Result<Self, DoseError> {
        let header: TableHeader = serde_json::from_str(header_json)
            .map_err(|e| DoseError::new("banding_table", format!("the table header is not valid: {e}")))?;
        let bands = parse_rows(&header.name, rows_csv)?;
        Ok(Self {
            name: header.name,
            version: header.version,
            title: header.title,
            coverage_note: header.coverage_note,
            max_deviation_percent: header.max_deviation_percent,
            bands,
        })
    }

    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    pub fn max_deviation_percent(&self, class: DrugClass) -> Option<Decimal> {
        self.max_deviation_percent.get(&class).copied()
    }

    /// The band a dose falls in under the rule, or `None` outside the table.
    pub fn band_for(&self, dose_mg: Decimal, rule: BoundaryRule) -> Option<&Band> {
        match rule {
            BoundaryRule::ToA => {
                let at_resolution = dose_mg
                    .round_dp_with_strategy(TABLE_RESOLUTION_DP, RoundingStrategy::MidpointAwayFromZero);
                self.bands.iter().find(|b| b.from_mg <= at_resolution && at_resolution < b.to_a_mg)
            }
            BoundaryRule::ToB => {
                let at_resolution =
                    dose_mg.round_dp_with_strategy(TABLE_RESOLUTION_DP, RoundingStrategy::ToZero);
                self.bands.iter().find(|b| b.from_mg <= at_resolution && at_resolution <= b.to_b_mg)
            }
        }
    }

    pub fn range_text(&self) -> String {
        match (self.bands.first(), self.bands.last()) {
            (Some(first), Some(last)) => {
                format!("{}–{} mg", first.from_mg.normalize(), last.to_b_mg.normalize())
            }
            _ => "no bands".to_owned(),
        }
    }
}

fn parse_rows(table: &str, csv: &str) -> Result<Vec<Band>, DoseError> {
    let mut lines = csv.lines().filter(|line| !line.trim().is_empty());
    let expected_header = "from_mg_ge,to_mg_lt_round_up_systems,to_mg_le_round_down_systems,band_dose_mg,variance_below_pct,variance_above_pct";
    if lines.next().map(str::trim) != Some(expected_header) {
        return Err(DoseError::new(
            format!("{table}: header"),
            format!("the first line must be {expected_header}"),
        ));
    }
    let mut bands: Vec<Band> = Vec::new();
    for (index, line) in lines.enumerate() {
        let field = format!("{table}: row {}", index + 2);
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != 6 {
            return Err(DoseError::new(field, format!("expected 6 columns, found {}", cells.len())));
        }
        let number = |i: usize| parse_decimal(cells[i], &field);
        let band =
            Band { from_mg: number(0)?, to_a_mg: number(1)?, to_b_mg: number(2)?, band_dose_mg: number(3)? };
        if !(band.from_mg < band.to_a_mg && band.to_b_mg < band.to_a_mg && band.from_mg <= band.to_b_mg) {
            return Err(DoseError::new(field, "the band's From, To (A) and To (B) are out of order"));
        }
        if band.band_dose_mg < band.from_mg || band.band_dose_mg >= band.to_a_mg {
            return Err(DoseError::new(field, "the band dose lies outside its own range"));
        }
        if let Some(previous) = bands.last()
            && previous.to_a_mg != band.from_mg
        {
            return Err(DoseError::new(field, "this band does not start where the previous one ends"));
        }
        bands.push(band);
    }
    if bands.is_empty() {
        return Err(DoseError::new(table, "the table has no bands"));
    }
    Ok(bands)
}

/// What banding made of a dose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BandOutcome {
    Banded { band: Band, deviation_percent: Decimal, allowed_percent: Decimal },
    OutsideTable,
    DeviationTooLarge { band: Band, deviation_percent: Decimal, allowed_percent: Option<Decimal> },
}

/// Bands a dose for a drug of the given class, refusing a band further from
/// the dose than the table allows. Deviation is (band − dose) / dose × 100.
pub fn band_dose(
    table: &BandingTable,
    dose_mg: Decimal,
    class: DrugClass,
    rule: BoundaryRule,
) -> BandOutcome {
    let Some(band) = table.band_for(dose_mg, rule) else {
        return BandOutcome::OutsideTable;
    };
    let deviation_percent = (band.band_dose_mg - dose_mg) / dose_mg * Decimal::ONE_HUNDRED;
    match table.max_deviation_percent(class) {
        Some(allowed) if deviation_percent.abs() <= allowed => {
            BandOutcome::Banded { band: band.clone(), deviation_percent, allowed_percent: allowed }
        }
        allowed => {
            BandOutcome::DeviationTooLarge { band: band.clone(), deviation_percent, allowed_percent: allowed }
        }
    }
}

/// The tables this build ships.
pub fn shipped_tables() -> Result<Vec<BandingTable>, DoseError> {
    Ok(vec![BandingTable::parse(
        include_str!("../data/banding/national-single-container-1mg-ml.json"),
        include_str!("../data/banding/national-single-container-1mg-ml.csv"),
    )?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn national() -> BandingTable {
        shipped_tables().expect("shipped tables are valid").remove(0)
    }

    #[test]
    fn the_national_table_has_49_contiguous_bands() {
        let table = national();
        assert_eq!(table.bands().len(), 49);
        assert_eq!(table.range_text(), "0.21–16.96 mg");
    }

    #[test]
    fn a_dose_inside_a_band_gets_that_band() {
        let table = national();
        assert_eq!(table.band_for(dec!(2.0), BoundaryRule::ToA).map(|b| b.band_dose_mg), Some(dec!(2)));
        assert_eq!(table.band_for(dec!(10.8), BoundaryRule::ToB).map(|b| b.band_dose_mg), Some(dec!(11)));
    }

    #[test]
    fn a_dose_on_the_step_between_bands_follows_the_boundary_rule() {
        let table = national();
        // 0.225 mg lies between To (B) 0.22 and To (A) 0.23 of the first band.
        assert_eq!(table.band_for(dec!(0.225), BoundaryRule::ToA).map(|b| b.band_dose_mg), Some(dec!(0.24)));
        assert_eq!(table.band_for(dec!(0.225), BoundaryRule::ToB).map(|b| b.band_dose_mg), Some(dec!(0.22)));
    }

    #[test]
    fn a_dose_at_a_band_edge_goes_to_the_upper_band_under_both_rules() {
        let table = national();
        for rule in [BoundaryRule::ToA, BoundaryRule::ToB] {
            assert_eq!(table.band_for(dec!(1.90), rule).map(|b| b.band_dose_mg), Some(dec!(2)));
            assert_eq!(table.band_for(dec!(1.89), rule).map(|b| b.band_dose_mg), Some(dec!(1.8)));
        }
    }

    #[test]
    fn doses_outside_the_table_are_not_banded() {
        let table = national();
        assert_eq!(table.band_for(dec!(0.2), BoundaryRule::ToA), None);
        assert_eq!(table.band_for(dec!(16.97), BoundaryRule::ToA), None);
        assert_eq!(table.band_for(dec!(16.965), BoundaryRule::ToB).map(|b| b.band_dose_mg), Some(dec!(16)));
        assert_eq!(table.band_for(dec!(16.97), BoundaryRule::ToB), None);
    }

    #[test]
    fn a_band_beyond_the_deviation_limit_is_refused() {
        // 0.32 mg falls in the 0.34 mg band: +6.25%, beyond the 6% allowed for cytotoxics.
        let outcome = band_dose(&national(), dec!(0.32), DrugClass::Cytotoxic, BoundaryRule::ToA);
        assert!(matches!(outcome, BandOutcome::DeviationTooLarge { .. }), "{outcome:?}");
        let outcome = band_dose(&national(), dec!(0.32), DrugClass::Biological, BoundaryRule::ToA);
        assert!(matches!(outcome, BandOutcome::Banded { .. }), "10% is allowed for biologicals: {outcome:?}");
    }

    #[test]
    fn the_cytotoxic_and_biological_limits_come_from_the_table() {
        let table = national();
        assert_eq!(table.max_deviation_percent(DrugClass::Cytotoxic), Some(dec!(6)));
        assert_eq!(table.max_deviation_percent(DrugClass::Biological), Some(dec!(10)));
    }

    #[test]
    fn a_table_with_a_gap_is_refused_naming_the_row() {
        let header = include_str!("../data/banding/national-single-container-1mg-ml.json");
        let rows = "from_mg_ge,to_mg_lt_round_up_systems,to_mg_le_round_down_systems,band_dose_mg,variance_below_pct,variance_above_pct\n0.21,0.23,0.22,0.22,5,-4\n0.24,0.25,0.24,0.24,4,-4\n";
        let error = BandingTable::parse(header, rows).expect_err("gap between 0.23 and 0.24");
        assert_eq!(error.field, "national-single-container-1mg-ml: row 3");
    }
}
