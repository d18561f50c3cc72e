//! Body surface area by the five published formulae, rounded once by a named
//! rule, with any cap shown in the derivation.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::derivation::{Derivation, StepKind, shown};
use crate::maths::{log10, pow, sqrt};
use crate::units::{Centimetres, Kilograms, SquareMetres};

/// A decimal constant written as digits and a scale: `d(7184, 6)` is 0.007184.
fn d(digits: i64, scale: u32) -> Decimal {
    Decimal::new(digits, scale)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum BsaFormula {
    Mosteller,
    #[serde(rename = "dubois")]
    DuBois,
    Haycock,
    GehanGeorge,
    Boyd,
}

impl BsaFormula {
    pub const ALL: [BsaFormula; 5] =
        [Self::Mosteller, Self::DuBois, Self::Haycock, Self::GehanGeorge, Self::Boyd];

    pub fn parse(text: &str) -> Result<Self, DoseError> {
        Self::ALL.into_iter().find(|f| f.code() == text).ok_or_else(|| {
            DoseError::new(
                "formula",
                format!("unknown BSA formula {text:?}; use mosteller, dubois, haycock, gehan-george or boyd"),
            )
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Mosteller => "mosteller",
            Self::DuBois => "dubois",
            Self::Haycock => "haycock",
            Self::GehanGeorge => "gehan-george",
            Self::Boyd => "boyd",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Mosteller => "Mosteller",
            Self::DuBois => "DuBois & DuBois",
            Self::Haycock => "Haycock",
            Self::GehanGeorge => "Gehan & George",
            Self::Boyd => "Boyd",
        }
    }

    fn expression(self) -> &'static str {
        match self {
            Self::Mosteller => "√(height × weight / 3600)",
            Self::DuBois => "0.007184 × height^0.725 × weight^0.425",
            Self::Haycock => "0.024265 × height^0.3964 × weight^0.5378",
            Self::GehanGeorge => "0.0235 × height^0.42246 × weight^0.51456",
            Self::Boyd => "0.0003207 × height^0.3 × grams^(0.7285 − 0.0188 × log10 grams)",
        }
    }

    /// The formula's value before any rounding, to Decimal's 28 digits.
    pub fn unrounded(self, height: Centimetres, weight: Kilograms) -> Result<Decimal, DoseError> {
        let h = height.value();
        let w = weight.value();
        let field = "bsa";
        Ok(match self {
            Self::Mosteller => sqrt(h * w / d(3600, 0), field)?,
            Self::DuBois => d(7184, 6) * pow(h, d(725, 3), field)? * pow(w, d(425, 3), field)?,
            Self::Haycock => d(24265, 6) * pow(h, d(3964, 4), field)? * pow(w, d(5378, 4), field)?,
            Self::GehanGeorge => d(235, 4) * pow(h, d(42246, 5), field)? * pow(w, d(51456, 5), field)?,
            Self::Boyd => {
                let grams = w * d(1000, 0);
                let exponent = d(7285, 4) - d(188, 4) * log10(grams, field)?;
                d(3207, 7) * pow(h, d(3, 1), field)? * pow(grams, exponent, field)?
            }
        })
    }
}

/// How BSA is rounded: the named site policy, 2 decimal places halves up by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BsaRounding {
    pub decimal_places: u32,
}

impl BsaRounding {
    pub const TWO_PLACES: Self = Self { decimal_places: 2 };

    pub fn name(self) -> String {
        format!("bsa-{}dp-half-up", self.decimal_places)
    }

    pub fn apply(self, value: Decimal) -> Decimal {
        value.round_dp_with_strategy(self.decimal_places, RoundingStrategy::MidpointAwayFromZero)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BsaResult {
    pub formula: BsaFormula,
    pub unrounded_m2: Decimal,
    /// The BSA every dose uses: rounded, then capped where a cap applies.
    pub bsa_m2: SquareMetres,
    pub capped: bool,
    pub steps: Derivation,
}

pub fn body_surface_area(
    height: Centimetres,
    weight: Kilograms,
    formula: BsaFormula,
    rounding: BsaRounding,
    cap: Option<SquareMetres>,
) -> Result<BsaResult, DoseError> {
    let mut steps = Derivation::default();
    steps.value(StepKind::Input, format!("Height {height}"), height.value(), "cm");
    steps.value(StepKind::Input, format!("Weight {weight}"), weight.value(), "kg");
    let unrounded = formula.unrounded(height, weight)?;
    steps.value(
        StepKind::Formula,
        format!("BSA by {} = {} = {} m²", formula.name(), formula.expression(), shown(unrounded, 6)),
        unrounded,
        "m²",
    );
    let rounded = rounding.apply(unrounded);
    steps.value(
        StepKind::Rounding,
        format!("BSA rounded by rule {} = {} m²", rounding.name(), shown(rounded, rounding.decimal_places)),
        rounded,
        "m²",
    );
    let (bsa, capped) = match cap {
        Some(limit) if rounded > limit.value() => {
            steps.value(
                StepKind::Cap,
                format!("BSA capped at {limit} (regimen or site cap); {} m² exceeds it", shown(rounded, 4)),
                limit.value(),
                "m²",
            );
            (limit, true)
        }
        _ => (SquareMetres::new(rounded), false),
    };
    steps.value(StepKind::Result, format!("BSA used for dosing = {bsa}"), bsa.value(), "m²");
    Ok(BsaResult { formula, unrounded_m2: unrounded, bsa_m2: bsa, capped, steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn bsa(height: Decimal, weight: Decimal, formula: BsaFormula) -> Decimal {
        body_surface_area(
            Centimetres::new(height),
            Kilograms::new(weight),
            formula,
            BsaRounding::TWO_PLACES,
            None,
        )
        .expect("in range")
        .bsa_m2
        .value()
    }

    #[test]
    fn mosteller_for_an_average_adult() {
        // √(170 × 70 / 3600) = 1.81812…
        assert_eq!(bsa(dec!(170), dec!(70), BsaFormula::Mosteller), dec!(1.82));
    }

    #[test]
    fn mosteller_is_exact_for_a_perfect_square() {
        // 180 × 80 / 3600 = 4, √4 = 2 exactly.
        let result = body_surface_area(
            Centimetres::new(dec!(180)),
            Kilograms::new(dec!(80)),
            BsaFormula::Mosteller,
            BsaRounding::TWO_PLACES,
            None,
        )
        .expect("in range");
        assert_eq!(result.unrounded_m2, dec!(2));
    }

    #[test]
    fn each_formula_matches_its_published_value() {
        // Reference values computed with mpmath at 40 digits, rounded to 2 dp.
        assert_eq!(bsa(dec!(171), dec!(68.5), BsaFormula::DuBois), dec!(1.80));
        assert_eq!(bsa(dec!(171), dec!(68.5), BsaFormula::Haycock), dec!(1.81));
        assert_eq!(bsa(dec!(171), dec!(68.5), BsaFormula::GehanGeorge), dec!(1.82));
        assert_eq!(bsa(dec!(171), dec!(68.5), BsaFormula::Boyd), dec!(1.82));
    }

    #[test]
    fn bsa_cap_is_applied_and_shown() {
        let result = body_surface_area(
            Centimetres::new(dec!(195)),
            Kilograms::new(dec!(130)),
            BsaFormula::Mosteller,
            BsaRounding::TWO_PLACES,
            Some(SquareMetres::new(dec!(2.0))),
        )
        .expect("in range");
        assert_eq!(result.bsa_m2.value(), dec!(2.0));
        assert!(result.capped);
        assert!(result.steps.has(StepKind::Cap));
        assert!(result.steps.to_text().contains("capped at 2 m²"));
    }

    #[test]
    fn rounding_policy_is_configurable_and_named() {
        let three = BsaRounding { decimal_places: 3 };
        assert_eq!(three.name(), "bsa-3dp-half-up");
        assert_eq!(three.apply(dec!(1.8181186)), dec!(1.818));
    }

    #[test]
    fn unknown_formula_is_refused_naming_the_field() {
        assert_eq!(BsaFormula::parse("du-bois").map_err(|e| e.field), Err("formula".into()));
        assert_eq!(BsaFormula::parse("gehan-george"), Ok(BsaFormula::GehanGeorge));
    }
}
