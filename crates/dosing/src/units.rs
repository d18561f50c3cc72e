//! Quantities with their units in their types, so a weight can never be passed
//! where a height belongs. Measurements from people are parsed through
//! `measured`, which refuses impossible values and names the field.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::DoseError;

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $symbol:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(transparent)]
        pub struct $name(Decimal);

        impl $name {
            pub const SYMBOL: &'static str = $symbol;

            /// For values the engine derived itself; people's inputs go through `measured`.
            pub const fn new(value: Decimal) -> Self {
                Self(value)
            }

            pub const fn value(self) -> Decimal {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", self.0.normalize(), Self::SYMBOL)
            }
        }
    };
}

quantity!(
    /// Height.
    Centimetres,
    "cm"
);
quantity!(
    /// Body weight.
    Kilograms,
    "kg"
);
quantity!(
    /// Body surface area.
    SquareMetres,
    "m²"
);
quantity!(
    /// A dose by mass.
    Milligrams,
    "mg"
);
quantity!(
    /// A dose in international units (bleomycin).
    InternationalUnits,
    "IU"
);
quantity!(
    /// Creatinine clearance or GFR.
    MillilitresPerMinute,
    "mL/min"
);
quantity!(
    /// Serum creatinine.
    MicromolesPerLitre,
    "µmol/L"
);
quantity!(
    /// Age.
    Years,
    "years"
);
quantity!(
    /// Carboplatin target area under the curve, in mg/mL × min.
    TargetAuc,
    "mg/mL·min"
);

/// The unit a final dose is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DoseUnit {
    #[serde(rename = "mg")]
    Milligrams,
    #[serde(rename = "IU")]
    InternationalUnits,
}

impl DoseUnit {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Milligrams => Milligrams::SYMBOL,
            Self::InternationalUnits => InternationalUnits::SYMBOL,
        }
    }
}

/// The range a measurement must lie in to be believed, and a hint for the
/// likeliest mistake (usually the wrong unit).
pub struct Plausible {
    pub field: &'static str,
    pub unit: &'static str,
    pub min: Decimal,
    pub max: Decimal,
    pub hint: &'static str,
}

pub const HEIGHT: Plausible = Plausible {
    field: "height_cm",
    unit: "cm",
    min: Decimal::from_parts(30, 0, 0, false, 0),
    max: Decimal::from_parts(250, 0, 0, false, 0),
    hint: "height is entered in centimetres",
};
pub const WEIGHT: Plausible = Plausible {
    field: "weight_kg",
    unit: "kg",
    min: Decimal::from_parts(5, 0, 0, false, 1),
    max: Decimal::from_parts(350, 0, 0, false, 0),
    hint: "weight is entered in kilograms, not grams or pounds",
};
pub const DOSING_WEIGHT: Plausible = Plausible { field: "dosing_weight_kg", ..WEIGHT };
pub const AGE: Plausible = Plausible {
    field: "age_years",
    unit: "years",
    min: Decimal::ZERO,
    max: Decimal::from_parts(120, 0, 0, false, 0),
    hint: "age is in whole or part years",
};
pub const CREATININE: Plausible = Plausible {
    field: "creatinine_umol_l",
    unit: "µmol/L",
    min: Decimal::from_parts(10, 0, 0, false, 0),
    max: Decimal::from_parts(2000, 0, 0, false, 0),
    hint: "creatinine is entered in µmol/L, not mg/dL",
};
pub const MEASURED_GFR: Plausible = Plausible {
    field: "gfr_ml_min",
    unit: "mL/min",
    min: Decimal::from_parts(1, 0, 0, false, 0),
    max: Decimal::from_parts(300, 0, 0, false, 0),
    hint: "GFR is entered in mL/min",
};
pub const EGFR: Plausible = Plausible {
    field: "egfr_ml_min_1_73m2",
    unit: "mL/min/1.73 m²",
    min: Decimal::from_parts(1, 0, 0, false, 0),
    max: Decimal::from_parts(300, 0, 0, false, 0),
    hint: "eGFR is entered in mL/min/1.73 m²",
};
pub const AUC: Plausible = Plausible {
    field: "auc",
    unit: "mg/mL·min",
    min: Decimal::from_parts(1, 0, 0, false, 0),
    max: Decimal::from_parts(10, 0, 0, false, 0),
    hint: "carboplatin target AUC is usually 4 to 7",
};

/// Refuses a value outside the plausible range, naming the field and the
/// range. Zero and negative values are refused with their own reason.
pub fn measured(value: Decimal, rule: &Plausible) -> Result<Decimal, DoseError> {
    if value.is_sign_negative() || (value.is_zero() && rule.min > Decimal::ZERO) {
        return Err(DoseError::new(rule.field, format!("{} must be more than zero", value.normalize())));
    }
    if value < rule.min || value > rule.max {
        return Err(DoseError::new(
            rule.field,
            format!(
                "{} {} is outside the possible range {}–{} {}; {}",
                value.normalize(),
                rule.unit,
                rule.min.normalize(),
                rule.max.normalize(),
                rule.unit,
                rule.hint
            ),
        ));
    }
    Ok(value)
}

/// Parses decimal text exactly (never through floating point), naming the field when it is not a number.
pub fn parse_decimal(text: &str, field: &str) -> Result<Decimal, DoseError> {
    let trimmed = text.trim();
    trimmed
        .parse::<Decimal>()
        .ok()
        .filter(|_| !trimmed.contains(['e', 'E']))
        .ok_or_else(|| DoseError::new(field, format!("{trimmed:?} is not a number")))
}

impl Centimetres {
    pub fn measured(value: Decimal) -> Result<Self, DoseError> {
        measured(value, &HEIGHT).map(Self)
    }
}

impl Kilograms {
    pub fn measured(value: Decimal) -> Result<Self, DoseError> {
        measured(value, &WEIGHT).map(Self)
    }
}

impl Years {
    pub fn measured(value: Decimal) -> Result<Self, DoseError> {
        measured(value, &AGE).map(Self)
    }
}

impl MicromolesPerLitre {
    pub fn measured(value: Decimal) -> Result<Self, DoseError> {
        measured(value, &CREATININE).map(Self)
    }
}

impl TargetAuc {
    pub fn measured(value: Decimal) -> Result<Self, DoseError> {
        measured(value, &AUC).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_height_of_seventeen_metres_is_refused_naming_the_field() {
        let error = measured(dec!(1700), &HEIGHT).expect_err("1700 cm is impossible");
        assert_eq!(error.field, "height_cm");
        assert!(error.reason.contains("30–250 cm"), "{}", error.reason);
    }

    #[test]
    fn a_weight_given_in_grams_is_refused_with_a_unit_hint() {
        let error = measured(dec!(70000), &WEIGHT).expect_err("70000 kg is impossible");
        assert_eq!(error.field, "weight_kg");
        assert!(error.reason.contains("not grams"), "{}", error.reason);
    }

    #[test]
    fn negative_creatinine_is_refused() {
        let error = measured(dec!(-80), &CREATININE).expect_err("negative creatinine");
        assert_eq!(error.field, "creatinine_umol_l");
        assert!(error.reason.contains("more than zero"));
    }

    #[test]
    fn zero_is_refused_where_the_minimum_is_positive() {
        assert!(measured(Decimal::ZERO, &WEIGHT).is_err());
        assert_eq!(measured(Decimal::ZERO, &AGE), Ok(Decimal::ZERO));
    }

    #[test]
    fn range_ends_are_accepted() {
        assert!(measured(dec!(30), &HEIGHT).is_ok());
        assert!(measured(dec!(250), &HEIGHT).is_ok());
        assert!(measured(dec!(250.01), &HEIGHT).is_err());
        assert!(measured(dec!(0.5), &WEIGHT).is_ok());
        assert!(measured(dec!(0.49), &WEIGHT).is_err());
    }

    #[test]
    fn decimal_text_is_parsed_exactly_and_refused_when_not_a_number() {
        assert_eq!(parse_decimal(" 70.35 ", "weight_kg"), Ok(dec!(70.35)));
        assert_eq!(parse_decimal("seventy", "weight_kg").map_err(|e| e.field), Err("weight_kg".into()));
        assert!(parse_decimal("1e2", "weight_kg").is_err());
    }

    #[test]
    fn quantities_print_with_their_unit() {
        assert_eq!(Milligrams::new(dec!(2.00)).to_string(), "2 mg");
        assert_eq!(SquareMetres::new(dec!(1.82)).to_string(), "1.82 m²");
    }
}
