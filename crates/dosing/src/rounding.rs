//! Rounding rules as named data. Each rule can also round so that the result
//! never exceeds a ceiling (a cap), because no step after a cap may pass it.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::DoseError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RoundingRule {
    /// To a number of decimal places, halves away from zero.
    DecimalPlaces { places: u32 },
    /// To the nearest multiple of `step`, halves up (e.g. carboplatin to 5 mg).
    NearestMultiple { step: Decimal },
    /// To the nearest amount made of whole tablets of these strengths; a tie goes to the lower amount.
    TabletCombination { strengths: Vec<Decimal> },
}

/// Up to this many tablets of one strength are considered in a combination.
const MAX_TABLETS_PER_STRENGTH: i64 = 40;

impl RoundingRule {
    pub fn validate(&self, field: &str) -> Result<(), DoseError> {
        match self {
            Self::DecimalPlaces { places } if *places > 6 => {
                Err(DoseError::new(field, "a dose is never rounded to more than 6 decimal places"))
            }
            Self::NearestMultiple { step } if *step <= Decimal::ZERO => {
                Err(DoseError::new(field, "the rounding step must be more than zero"))
            }
            Self::TabletCombination { strengths }
                if strengths.is_empty() || strengths.iter().any(|s| *s <= Decimal::ZERO) =>
            {
                Err(DoseError::new(field, "tablet strengths must be listed and each more than zero"))
            }
            _ => Ok(()),
        }
    }

    /// Describes the rule in words for the derivation, in the dose's unit (`mg`, `IU`).
    pub fn describe(&self, symbol: &str) -> String {
        match self {
            Self::DecimalPlaces { places } => format!("to {places} decimal places, halves up"),
            Self::NearestMultiple { step } => {
                format!("to the nearest {} {symbol}, halves up", step.normalize())
            }
            Self::TabletCombination { strengths } => {
                let list: Vec<String> = strengths.iter().map(|s| format!("{} mg", s.normalize())).collect();
                format!(
                    "to the nearest amount made of whole {} tablets, ties to the lower",
                    list.join(" and ")
                )
            }
        }
    }

    /// The nearest value the rule allows.
    pub fn apply(&self, value: Decimal) -> Decimal {
        match self {
            Self::DecimalPlaces { places } => {
                value.round_dp_with_strategy(*places, RoundingStrategy::MidpointAwayFromZero)
            }
            Self::NearestMultiple { step } => {
                (value / step).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) * step
            }
            Self::TabletCombination { strengths } => nearest_combination(value, strengths, None),
        }
    }

    /// The nearest allowed value that does not exceed `ceiling`.
    pub fn apply_not_above(&self, value: Decimal, ceiling: Decimal) -> Decimal {
        let nearest = self.apply(value);
        if nearest <= ceiling {
            return nearest;
        }
        match self {
            Self::DecimalPlaces { places } => {
                ceiling.round_dp_with_strategy(*places, RoundingStrategy::ToZero)
            }
            Self::NearestMultiple { step } => (ceiling / step).floor() * step,
            Self::TabletCombination { strengths } => nearest_combination(ceiling, strengths, Some(ceiling)),
        }
    }
}

/// Every sum of whole tablets, searched for the one nearest `target`.
fn nearest_combination(target: Decimal, strengths: &[Decimal], ceiling: Option<Decimal>) -> Decimal {
    let mut sums = vec![Decimal::ZERO];
    for strength in strengths {
        let mut next = Vec::with_capacity(sums.len() * 8);
        for sum in &sums {
            let mut count = 0;
            let mut total = *sum;
            while count <= MAX_TABLETS_PER_STRENGTH && total <= target + strength {
                next.push(total);
                total += strength;
                count += 1;
            }
        }
        sums = next;
    }
    sums.into_iter()
        .filter(|sum| ceiling.is_none_or(|c| *sum <= c))
        .min_by(|a, b| (*a - target).abs().cmp(&(*b - target).abs()).then(a.cmp(b)))
        .unwrap_or(Decimal::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn capecitabine() -> RoundingRule {
        RoundingRule::TabletCombination { strengths: vec![dec!(150), dec!(500)] }
    }

    #[test]
    fn decimal_places_round_halves_up() {
        let rule = RoundingRule::DecimalPlaces { places: 2 };
        assert_eq!(rule.apply(dec!(1.825)), dec!(1.83));
        assert_eq!(rule.apply(dec!(1.8249999)), dec!(1.82));
    }

    #[test]
    fn nearest_five_mg_rounds_halves_up() {
        let rule = RoundingRule::NearestMultiple { step: dec!(5) };
        assert_eq!(rule.apply(dec!(567.5)), dec!(570));
        assert_eq!(rule.apply(dec!(567.4)), dec!(565));
    }

    #[test]
    fn capecitabine_rounds_to_whole_tablets() {
        assert_eq!(capecitabine().apply(dec!(2275)), dec!(2250), "2250 and 2300 tie; the lower wins");
        assert_eq!(capecitabine().apply(dec!(2290)), dec!(2300));
        assert_eq!(capecitabine().apply(dec!(1000)), dec!(1000));
        assert_eq!(capecitabine().apply(dec!(160)), dec!(150));
    }

    #[test]
    fn rounding_never_passes_a_ceiling() {
        let five = RoundingRule::NearestMultiple { step: dec!(5) };
        assert_eq!(five.apply_not_above(dec!(748), dec!(748)), dec!(745));
        assert_eq!(
            capecitabine().apply_not_above(dec!(2290), dec!(2290)),
            dec!(2250),
            "2300 is nearer but passes the ceiling"
        );
        let places = RoundingRule::DecimalPlaces { places: 1 };
        assert_eq!(places.apply_not_above(dec!(1.99), dec!(1.99)), dec!(1.9));
    }

    #[test]
    fn invalid_rules_are_refused_naming_the_field() {
        let error = RoundingRule::NearestMultiple { step: Decimal::ZERO }.validate("rounding.carboplatin");
        assert_eq!(error.map_err(|e| e.field), Err("rounding.carboplatin".into()));
    }
}
