//! Renal function for dosing: Cockcroft–Gault creatinine clearance with the
//! weight basis as a named site policy, a measured GFR that overrides it, and
//! an indexed eGFR de-indexed to the patient's BSA.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::derivation::{Derivation, StepKind, shown};
use crate::units::{Centimetres, Kilograms, MicromolesPerLitre, MillilitresPerMinute, SquareMetres, Years};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    pub fn parse(text: &str) -> Result<Self, DoseError> {
        match text {
            "female" => Ok(Self::Female),
            "male" => Ok(Self::Male),
            other => Err(DoseError::new(
                "sex",
                format!("{other:?} is not female or male; Cockcroft–Gault needs one of them"),
            )),
        }
    }

    /// The Cockcroft–Gault constant for creatinine in µmol/L.
    fn cockcroft_gault_factor(self) -> Decimal {
        match self {
            Self::Female => Decimal::new(104, 2),
            Self::Male => Decimal::new(123, 2),
        }
    }

    fn ideal_weight_base(self) -> Decimal {
        match self {
            Self::Female => Decimal::new(455, 1),
            Self::Male => Decimal::new(50, 0),
        }
    }
}

/// Which weight goes into Cockcroft–Gault: a site policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum WeightBasis {
    Actual,
    Ideal,
    Adjusted,
    /// Actual weight, unless it is above 120% of ideal, then adjusted.
    ActualUnlessObese,
}

impl WeightBasis {
    pub const ALL: [WeightBasis; 4] = [Self::Actual, Self::Ideal, Self::Adjusted, Self::ActualUnlessObese];

    pub fn parse(text: &str) -> Result<Self, DoseError> {
        Self::ALL.into_iter().find(|b| b.code() == text).ok_or_else(|| {
            DoseError::new(
                "weight_basis",
                format!("unknown weight basis {text:?}; use actual, ideal, adjusted or actual-unless-obese"),
            )
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Actual => "actual",
            Self::Ideal => "ideal",
            Self::Adjusted => "adjusted",
            Self::ActualUnlessObese => "actual-unless-obese",
        }
    }

    fn needs_height(self) -> bool {
        self != Self::Actual
    }
}

/// CrCl is reported to whole mL/min, halves up: the named rule `crcl-whole-ml-min-half-up`.
pub const CRCL_ROUNDING: &str = "crcl-whole-ml-min-half-up";

/// Rounds a clearance once, by `CRCL_ROUNDING`, and records the step.
fn round_clearance(what: &str, unrounded: Decimal, steps: &mut Derivation) -> Decimal {
    let rounded = unrounded.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    steps.value(
        StepKind::Rounding,
        format!("{what} rounded by rule {CRCL_ROUNDING} = {rounded} mL/min"),
        rounded,
        "mL/min",
    );
    rounded
}

/// Ideal body weight by Devine: 50 kg (men) or 45.5 kg (women) plus 2.3 kg per
/// inch over 5 feet. Below 5 feet the base weight is used, not less; Cockcroft–Gault
/// then takes the actual weight where that is lower.
pub fn ideal_body_weight(sex: Sex, height: Centimetres) -> Kilograms {
    let inches_over_five_feet =
        ((height.value() - Decimal::new(1524, 1)) / Decimal::new(254, 2)).max(Decimal::ZERO);
    Kilograms::new(sex.ideal_weight_base() + Decimal::new(23, 1) * inches_over_five_feet)
}

/// Adjusted body weight: IBW + 0.4 × (actual − IBW).
pub fn adjusted_body_weight(ideal: Kilograms, actual: Kilograms) -> Kilograms {
    Kilograms::new(ideal.value() + Decimal::new(4, 1) * (actual.value() - ideal.value()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CockcroftGaultInput {
    pub sex: Sex,
    pub age: Years,
    pub weight: Kilograms,
    pub creatinine: MicromolesPerLitre,
    pub height: Option<Centimetres>,
    pub weight_basis: WeightBasis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RenalFunction {
    /// The clearance or GFR doses use, rounded by `CRCL_ROUNDING`.
    pub ml_min: MillilitresPerMinute,
    /// The weight Cockcroft–Gault used, when it was the source.
    pub weight_used_kg: Option<Kilograms>,
    pub source: RenalSource,
    pub steps: Derivation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum RenalSource {
    CockcroftGault,
    MeasuredGfr,
    DeindexedEgfr,
}

/// Cockcroft–Gault was derived in adults; a child's clearance needs a paediatric method.
pub const COCKCROFT_GAULT_MINIMUM_AGE: Decimal = Decimal::from_parts(18, 0, 0, false, 0);

pub fn cockcroft_gault(input: &CockcroftGaultInput) -> Result<RenalFunction, DoseError> {
    if input.age.value() < COCKCROFT_GAULT_MINIMUM_AGE {
        return Err(DoseError::new(
            "age_years",
            format!(
                "Cockcroft–Gault is for adults and this patient is {}; a child needs a paediatric method (for example Schwartz) or a measured GFR",
                input.age
            ),
        ));
    }
    let mut steps = Derivation::default();
    steps.note(
        StepKind::Input,
        format!(
            "Sex {}, age {}, weight {}, creatinine {}",
            if input.sex == Sex::Male { "male" } else { "female" },
            input.age,
            input.weight,
            input.creatinine
        ),
    );
    let weight_used = weight_for_clearance(input, &mut steps)?;
    let factor = input.sex.cockcroft_gault_factor();
    let unrounded =
        (Decimal::new(140, 0) - input.age.value()) * weight_used.value() * factor / input.creatinine.value();
    if unrounded <= Decimal::ZERO {
        return Err(DoseError::new("age_years", "Cockcroft–Gault gives no clearance at 140 years or more"));
    }
    steps.value(
        StepKind::Formula,
        format!(
            "CrCl by Cockcroft–Gault = (140 − {}) × {} × {} / {} = {} mL/min",
            input.age.value().normalize(),
            weight_used.value().normalize(),
            factor,
            input.creatinine.value().normalize(),
            shown(unrounded, 4)
        ),
        unrounded,
        "mL/min",
    );
    let rounded = round_clearance("CrCl", unrounded, &mut steps);
    Ok(RenalFunction {
        ml_min: MillilitresPerMinute::new(rounded),
        weight_used_kg: Some(weight_used),
        source: RenalSource::CockcroftGault,
        steps,
    })
}

fn weight_for_clearance(input: &CockcroftGaultInput, steps: &mut Derivation) -> Result<Kilograms, DoseError> {
    let basis = input.weight_basis;
    if !basis.needs_height() {
        steps.note(StepKind::Intermediate, format!("Weight basis actual (site policy): {}", input.weight));
        return Ok(input.weight);
    }
    let height = input.height.ok_or_else(|| {
        DoseError::new(
            "height_cm",
            format!("the {} weight basis needs the height to find ideal body weight; give the height, or use the actual weight basis", basis.code()),
        )
    })?;
    let ideal = ideal_body_weight(input.sex, height);
    steps.value(
        StepKind::Intermediate,
        format!("Ideal body weight (Devine) for {height} = {} kg", shown(ideal.value(), 4)),
        ideal.value(),
        "kg",
    );
    let adjusted = adjusted_body_weight(ideal, input.weight);
    let by_basis = match basis {
        WeightBasis::Actual => input.weight,
        WeightBasis::Ideal => ideal,
        WeightBasis::Adjusted => adjusted,
        WeightBasis::ActualUnlessObese if input.weight.value() > ideal.value() * Decimal::new(12, 1) => {
            adjusted
        }
        WeightBasis::ActualUnlessObese => input.weight,
    };
    let explanation = match basis {
        WeightBasis::ActualUnlessObese if by_basis == adjusted => {
            "actual weight is above 120% of ideal, so adjusted weight IBW + 0.4 × (actual − IBW) is used"
        }
        WeightBasis::ActualUnlessObese => "actual weight is within 120% of ideal, so actual weight is used",
        WeightBasis::Adjusted => "adjusted weight IBW + 0.4 × (actual − IBW)",
        WeightBasis::Ideal => "ideal weight",
        WeightBasis::Actual => "actual weight",
    };
    steps.value(
        StepKind::Intermediate,
        format!(
            "Weight basis {} (site policy): {explanation} = {} kg",
            basis.code(),
            shown(by_basis.value(), 4)
        ),
        by_basis.value(),
        "kg",
    );
    // A clearance is never estimated from more weight than the patient has.
    if by_basis > input.weight {
        steps.value(
            StepKind::Intermediate,
            format!(
                "{} kg is more than the actual weight {}: the actual weight is used, since the weight used is never above it",
                shown(by_basis.value(), 4),
                input.weight
            ),
            input.weight.value(),
            "kg",
        );
        return Ok(input.weight);
    }
    Ok(by_basis)
}

/// A measured GFR (EDTA or iohexol) overrides any estimate.
pub fn measured_gfr(gfr: MillilitresPerMinute) -> RenalFunction {
    let mut steps = Derivation::default();
    steps.value(
        StepKind::Input,
        format!("Measured GFR {gfr} (overrides any estimate)"),
        gfr.value(),
        "mL/min",
    );
    RenalFunction { ml_min: gfr, weight_used_kg: None, source: RenalSource::MeasuredGfr, steps }
}

/// An eGFR in mL/min/1.73 m² de-indexed to the patient's BSA: eGFR × BSA / 1.73.
pub fn deindexed_egfr(egfr_per_1_73: Decimal, bsa: SquareMetres) -> RenalFunction {
    let mut steps = Derivation::default();
    steps.value(
        StepKind::Input,
        format!("eGFR {} mL/min/1.73 m²", egfr_per_1_73.normalize()),
        egfr_per_1_73,
        "mL/min/1.73 m²",
    );
    let unrounded = egfr_per_1_73 * bsa.value() / Decimal::new(173, 2);
    steps.value(
        StepKind::Formula,
        format!(
            "De-indexed to the patient's BSA: {} × {} / 1.73 = {} mL/min",
            egfr_per_1_73.normalize(),
            bsa.value().normalize(),
            shown(unrounded, 4)
        ),
        unrounded,
        "mL/min",
    );
    let rounded = round_clearance("GFR", unrounded, &mut steps);
    RenalFunction {
        ml_min: MillilitresPerMinute::new(rounded),
        weight_used_kg: None,
        source: RenalSource::DeindexedEgfr,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn patient(sex: Sex, weight: Decimal, basis: WeightBasis) -> CockcroftGaultInput {
        CockcroftGaultInput {
            sex,
            age: Years::new(dec!(60)),
            weight: Kilograms::new(weight),
            creatinine: MicromolesPerLitre::new(dec!(80)),
            height: Some(Centimetres::new(dec!(175))),
            weight_basis: basis,
        }
    }

    #[test]
    fn cockcroft_gault_for_a_man_on_actual_weight() {
        // (140 − 60) × 70 × 1.23 / 80 = 86.1 → 86
        let result = cockcroft_gault(&patient(Sex::Male, dec!(70), WeightBasis::Actual)).expect("valid");
        assert_eq!(result.ml_min.value(), dec!(86));
    }

    #[test]
    fn cockcroft_gault_for_a_woman_uses_1_04() {
        // (140 − 60) × 70 × 1.04 / 80 = 72.8 → 73
        let result = cockcroft_gault(&patient(Sex::Female, dec!(70), WeightBasis::Actual)).expect("valid");
        assert_eq!(result.ml_min.value(), dec!(73));
    }

    #[test]
    fn devine_ideal_weight() {
        // 175 cm is 8.8976… inches over 5 ft: 50 + 2.3 × 8.8976… = 70.4646…
        let ideal = ideal_body_weight(Sex::Male, Centimetres::new(dec!(175)));
        assert_eq!(ideal.value().round_dp(2), dec!(70.46));
        assert_eq!(ideal_body_weight(Sex::Female, Centimetres::new(dec!(140))).value(), dec!(45.5));
    }

    #[test]
    fn adjusted_weight_is_ibw_plus_forty_percent_of_the_excess() {
        let adjusted = adjusted_body_weight(Kilograms::new(dec!(70)), Kilograms::new(dec!(120)));
        assert_eq!(adjusted.value(), dec!(90.0));
    }

    #[test]
    fn actual_unless_obese_switches_above_120_percent_of_ideal() {
        let lean =
            cockcroft_gault(&patient(Sex::Male, dec!(84), WeightBasis::ActualUnlessObese)).expect("valid");
        assert_eq!(lean.weight_used_kg, Some(Kilograms::new(dec!(84))));
        let heavy =
            cockcroft_gault(&patient(Sex::Male, dec!(120), WeightBasis::ActualUnlessObese)).expect("valid");
        let ideal = ideal_body_weight(Sex::Male, Centimetres::new(dec!(175)));
        assert_eq!(heavy.weight_used_kg, Some(adjusted_body_weight(ideal, Kilograms::new(dec!(120)))));
        assert!(heavy.steps.to_text().contains("above 120% of ideal"));
    }

    #[test]
    fn ideal_and_adjusted_bases_need_a_height() {
        let mut input = patient(Sex::Male, dec!(70), WeightBasis::Ideal);
        input.height = None;
        assert_eq!(cockcroft_gault(&input).map_err(|e| e.field), Err("height_cm".into()));
    }

    #[test]
    fn egfr_is_deindexed_to_the_patients_bsa() {
        // 60 × 2.2 / 1.73 = 76.30… → 76
        let result = deindexed_egfr(dec!(60), SquareMetres::new(dec!(2.2)));
        assert_eq!(result.ml_min.value(), dec!(76));
        assert_eq!(result.source, RenalSource::DeindexedEgfr);
    }

    #[test]
    fn unknown_weight_basis_is_refused_naming_the_field() {
        assert_eq!(WeightBasis::parse("lean").map_err(|e| e.field), Err("weight_basis".into()));
    }
}
