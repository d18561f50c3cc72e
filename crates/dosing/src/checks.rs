//! Checks that return warnings or blocks. None of them changes a dose.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::derivation::shown;
use crate::policy::LifetimeLimit;
use crate::units::Kilograms;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a second look; prescribing may go on.
    Warning,
    /// Prescribing must not go on without recalculation, deferral, or an authorised override with a reason.
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Warning {
    /// A stable code, e.g. `weight_changed`, `cumulative_limit_exceeded`.
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

impl Warning {
    pub fn new(code: &str, severity: Severity, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), severity, message: message.into() }
    }
}

/// Weight changed by the threshold or more since the weight the doses were based on.
pub fn weight_change(
    current: Kilograms,
    dosing_weight: Kilograms,
    threshold_percent: Decimal,
) -> Option<Warning> {
    let change_percent =
        (current.value() - dosing_weight.value()).abs() / dosing_weight.value() * Decimal::ONE_HUNDRED;
    (change_percent >= threshold_percent).then(|| {
        Warning::new(
            "weight_changed",
            Severity::Block,
            format!(
                "Weight {current} differs by {}% from the dosing weight {dosing_weight} (threshold {}%): recalculation is required before this cycle is prescribed.",
                shown(change_percent, 1),
                threshold_percent.normalize()
            ),
        )
    })
}

/// The projected lifetime dose against the drug's limit. A sum too large to
/// hold is refused, naming the dose already given.
pub fn cumulative(
    drug: &str,
    limit: LifetimeLimit,
    prior: Decimal,
    this_cycle: Decimal,
    warn_percent: Decimal,
) -> Result<Option<Warning>, DoseError> {
    let (limit_value, unit) = (limit.value(), limit.unit());
    let projected = prior.checked_add(this_cycle).ok_or_else(|| {
        DoseError::new(
            format!("prior_cumulative.{drug}"),
            "the lifetime dose is too large to count; check it",
        )
    })?;
    let describe = format!(
        "{drug}: lifetime dose {} {unit} given + {} {unit} this cycle = {} {unit}, against a limit of {} {unit}",
        shown(prior, 1),
        shown(this_cycle, 1),
        shown(projected, 1),
        limit_value.normalize()
    );
    if projected > limit_value {
        return Ok(Some(Warning::new(
            "cumulative_limit_exceeded",
            Severity::Block,
            format!(
                "{describe}. This cycle would pass the limit; it needs a consultant's override with a reason."
            ),
        )));
    }
    let near = projected.checked_mul(Decimal::ONE_HUNDRED).is_none_or(|p| p >= limit_value * warn_percent);
    Ok(near.then(|| {
        Warning::new("cumulative_limit_near", Severity::Warning, format!("{describe}. The limit is near."))
    }))
}

/// A pre-treatment limit a regimen sets on a blood result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct ResultLimit {
    /// The result's name as entered, e.g. `neutrophils`.
    pub test: String,
    pub unit: String,
    #[serde(default)]
    pub minimum: Option<Decimal>,
    #[serde(default)]
    pub maximum: Option<Decimal>,
}

/// Results outside the regimen's limits, and limits with no result to check.
pub fn pre_treatment(limits: &[ResultLimit], results: &BTreeMap<String, Decimal>) -> Vec<Warning> {
    limits.iter().filter_map(|limit| check_result(limit, results.get(&limit.test).copied())).collect()
}

fn check_result(limit: &ResultLimit, result: Option<Decimal>) -> Option<Warning> {
    let Some(value) = result else {
        return Some(Warning::new(
            "result_missing",
            Severity::Warning,
            format!("No {} result was given; the regimen's limit cannot be checked.", limit.test),
        ));
    };
    let low = limit.minimum.is_some_and(|min| value < min);
    let high = limit.maximum.is_some_and(|max| value > max);
    if !(low || high) {
        return None;
    }
    let bound = if low {
        format!("below the minimum {} {}", limit.minimum.unwrap_or_default().normalize(), limit.unit)
    } else {
        format!("above the maximum {} {}", limit.maximum.unwrap_or_default().normalize(), limit.unit)
    };
    Some(Warning::new(
        "result_outside_limit",
        Severity::Block,
        format!(
            "{} {} {} is {bound}: defer, or record an authorised override with a reason.",
            limit.test,
            value.normalize(),
            limit.unit
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_ten_percent_weight_change_requires_recalculation() {
        let warning =
            weight_change(Kilograms::new(dec!(77)), Kilograms::new(dec!(70)), dec!(10)).expect("10% change");
        assert_eq!(warning.severity, Severity::Block);
        assert!(warning.message.contains("10%"));
    }

    #[test]
    fn a_smaller_weight_change_passes() {
        assert_eq!(weight_change(Kilograms::new(dec!(76.9)), Kilograms::new(dec!(70)), dec!(10)), None);
    }

    #[test]
    fn cumulative_dose_warns_near_the_limit_and_blocks_past_it() {
        let limit = LifetimeLimit::MgPerM2(dec!(450));
        assert_eq!(cumulative("doxorubicin", limit, dec!(300), dec!(50), dec!(90)), Ok(None));
        let near = cumulative("doxorubicin", limit, dec!(360), dec!(50), dec!(90))
            .ok()
            .flatten()
            .expect("410 is past 90%");
        assert_eq!(near.severity, Severity::Warning);
        let at_limit = cumulative("doxorubicin", limit, dec!(400), dec!(50), dec!(90))
            .ok()
            .flatten()
            .expect("450 is at the limit");
        assert_eq!(at_limit.severity, Severity::Warning, "reaching the limit exactly is allowed");
        let past = cumulative("doxorubicin", limit, dec!(410), dec!(50), dec!(90))
            .ok()
            .flatten()
            .expect("460 is past the limit");
        assert_eq!(past.severity, Severity::Block);
    }

    #[test]
    fn results_outside_limits_block_and_missing_results_warn() {
        let limits = vec![ResultLimit {
            test: "neutrophils".into(),
            unit: "×10⁹/L".into(),
            minimum: Some(dec!(1.0)),
            maximum: None,
        }];
        let low = BTreeMap::from([("neutrophils".to_owned(), dec!(0.8))]);
        assert_eq!(pre_treatment(&limits, &low)[0].severity, Severity::Block);
        let fine = BTreeMap::from([("neutrophils".to_owned(), dec!(1.0))]);
        assert!(pre_treatment(&limits, &fine).is_empty());
        assert_eq!(pre_treatment(&limits, &BTreeMap::new())[0].code, "result_missing");
    }
}
