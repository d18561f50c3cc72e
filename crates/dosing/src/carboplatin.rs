//! Carboplatin by the Calvert formula, with the GFR used capped at 125 mL/min.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::derivation::{Derivation, StepKind};
use crate::units::{Milligrams, MillilitresPerMinute, TargetAuc};

/// The highest GFR Calvert may use, so no dose exceeds AUC × 150 mg.
pub const GFR_CAP: MillilitresPerMinute = MillilitresPerMinute::new(Decimal::from_parts(125, 0, 0, false, 0));

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CalvertDose {
    pub dose_mg: Milligrams,
    pub gfr_used_ml_min: MillilitresPerMinute,
    pub gfr_capped: bool,
    pub steps: Derivation,
}

/// The most Calvert can give for a target AUC: AUC × (125 + 25) = AUC × 150 mg.
/// No rounding of a carboplatin dose may pass it.
pub fn calvert_maximum(auc: TargetAuc) -> Milligrams {
    Milligrams::new(auc.value() * (GFR_CAP.value() + Decimal::new(25, 0)))
}

/// Dose (mg) = AUC × (GFR + 25), with GFR no more than 125 mL/min.
pub fn calvert(auc: TargetAuc, gfr: MillilitresPerMinute) -> CalvertDose {
    let mut steps = Derivation::default();
    let gfr_capped = gfr > GFR_CAP;
    let gfr_used = if gfr_capped { GFR_CAP } else { gfr };
    if gfr_capped {
        steps.value(
            StepKind::Cap,
            format!("GFR {gfr} capped at {GFR_CAP} for Calvert (maximum dose AUC × 150 mg)"),
            gfr_used.value(),
            "mL/min",
        );
    }
    let dose = auc.value() * (gfr_used.value() + Decimal::new(25, 0));
    steps.value(
        StepKind::Formula,
        format!(
            "Carboplatin by Calvert = AUC × (GFR + 25) = {} × ({} + 25) = {} mg",
            auc.value().normalize(),
            gfr_used.value().normalize(),
            dose.normalize()
        ),
        dose,
        "mg",
    );
    CalvertDose { dose_mg: Milligrams::new(dose), gfr_used_ml_min: gfr_used, gfr_capped, steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn calvert_dose_for_an_ordinary_gfr() {
        let result = calvert(TargetAuc::new(dec!(5)), MillilitresPerMinute::new(dec!(86)));
        assert_eq!(result.dose_mg.value(), dec!(555));
        assert!(!result.gfr_capped);
    }

    #[test]
    fn gfr_above_125_is_capped_and_shown() {
        let result = calvert(TargetAuc::new(dec!(5)), MillilitresPerMinute::new(dec!(160)));
        assert_eq!(result.dose_mg.value(), dec!(750), "AUC 5 × 150");
        assert!(result.gfr_capped);
        assert!(result.steps.has(StepKind::Cap));
    }

    #[test]
    fn gfr_of_exactly_125_is_not_reported_as_capped() {
        let result = calvert(TargetAuc::new(dec!(6)), MillilitresPerMinute::new(dec!(125)));
        assert_eq!(result.dose_mg.value(), dec!(900));
        assert!(!result.gfr_capped);
    }
}
