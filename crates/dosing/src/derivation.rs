//! The steps that produced a number, kept with it: readable text for the
//! screen and print, and JSON for the command line and the store.

use rust_decimal::Decimal;
use serde::Serialize;

/// What a step did, so a reader (or a test) can find, say, every cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Input,
    Formula,
    Intermediate,
    Rounding,
    Cap,
    Modification,
    Banding,
    Result,
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Step {
    pub kind: StepKind,
    /// The step as a pharmacist would read it.
    pub text: String,
    /// The value the step produced, in full precision, where it produced one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct Derivation {
    steps: Vec<Step>,
}

impl Derivation {
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn note(&mut self, kind: StepKind, text: impl Into<String>) {
        self.steps.push(Step { kind, text: text.into(), value: None, unit: None });
    }

    pub fn value(&mut self, kind: StepKind, text: impl Into<String>, value: Decimal, unit: &str) {
        self.steps.push(Step { kind, text: text.into(), value: Some(value), unit: Some(unit.to_owned()) });
    }

    pub fn extend(&mut self, other: &Derivation) {
        self.steps.extend(other.steps.iter().cloned());
    }

    pub fn has(&self, kind: StepKind) -> bool {
        self.steps.iter().any(|step| step.kind == kind)
    }

    /// Numbered lines, one per step.
    pub fn to_text(&self) -> String {
        self.steps.iter().enumerate().map(|(i, step)| format!("{:>2}. {}\n", i + 1, step.text)).collect()
    }
}

/// A decimal as people read it: no trailing zeros, at most `places` decimals.
pub fn shown(value: Decimal, places: u32) -> String {
    value.round_dp(places).normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn text_numbers_each_step() {
        let mut derivation = Derivation::default();
        derivation.note(StepKind::Input, "Height 170 cm");
        derivation.value(StepKind::Result, "BSA 1.82 m²", dec!(1.82), "m²");
        assert_eq!(derivation.to_text(), " 1. Height 170 cm\n 2. BSA 1.82 m²\n");
    }

    #[test]
    fn json_carries_values_as_exact_strings() {
        let mut derivation = Derivation::default();
        derivation.value(StepKind::Result, "BSA 1.82 m²", dec!(1.82), "m²");
        let json = serde_json::to_value(&derivation).expect("serialisable");
        assert_eq!(json[0]["value"], "1.82");
        assert_eq!(json[0]["kind"], "result");
    }

    #[test]
    fn shown_values_drop_trailing_zeros() {
        assert_eq!(shown(dec!(2.000), 2), "2");
        assert_eq!(shown(dec!(1.8181186), 4), "1.8181");
    }
}
