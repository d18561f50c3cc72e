//! An independent cross-check: 10,000 random in-range inputs per formula are
//! also computed by mpmath at 50 digits (tests/reference/mpmath_reference.py),
//! and every rounded result must agree, and every unrounded one to 20
//! significant digits.

use std::process::Command;
use std::str::FromStr;

use dosing::bsa::{BsaFormula, BsaRounding, body_surface_area};
use dosing::carboplatin::calvert;
use dosing::renal::{CockcroftGaultInput, Sex, WeightBasis, cockcroft_gault};
use dosing::units::{Centimetres, Kilograms, MicromolesPerLitre, MillilitresPerMinute, TargetAuc, Years};
use rust_decimal::Decimal;
use serde_json::Value;

const CASES_PER_FORMULA: u32 = 10_000;
const SEED: u32 = 20261125;

fn python() -> &'static str {
    // Debian's interpreter, where `make test` installs python3-mpmath.
    if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" }
}

fn reference_cases() -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/mpmath_reference.py");
    let output = Command::new(python())
        .args([script, &SEED.to_string(), &CASES_PER_FORMULA.to_string()])
        .output()
        .expect("python3 runs (make test installs python3-mpmath)");
    assert!(output.status.success(), "mpmath reference failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn decimal(case: &Value, key: &str) -> Decimal {
    let text = case[key].as_str().unwrap_or_else(|| panic!("{key} missing in {case}"));
    Decimal::from_str(text).unwrap_or_else(|_| Decimal::from_scientific(text).expect("a number"))
}

/// Agreement to 20 significant digits.
fn agrees(ours: Decimal, reference: Decimal) -> bool {
    (ours - reference).abs() <= reference.abs() * Decimal::new(1, 20)
}

fn check(case: &Value, unrounded: Decimal, rounded: Decimal) -> Option<String> {
    let expected = decimal(case, "rounded");
    let reference = decimal(case, "unrounded");
    (rounded != expected || !agrees(unrounded, reference))
        .then(|| format!("{case}: ours {unrounded} → {rounded}, mpmath {reference} → {expected}"))
}

fn run_case(case: &Value) -> Option<String> {
    match case["kind"].as_str() {
        Some("bsa") => {
            let formula =
                BsaFormula::parse(case["formula"].as_str().expect("formula")).expect("known formula");
            let result = body_surface_area(
                Centimetres::new(decimal(case, "height_cm")),
                Kilograms::new(decimal(case, "weight_kg")),
                formula,
                BsaRounding::TWO_PLACES,
                None,
            )
            .expect("in range");
            check(case, result.unrounded_m2, result.bsa_m2.value())
        }
        Some("crcl") => {
            let result = cockcroft_gault(&CockcroftGaultInput {
                sex: Sex::parse(case["sex"].as_str().expect("sex")).expect("sex"),
                age: Years::new(decimal(case, "age_years")),
                weight: Kilograms::new(decimal(case, "weight_kg")),
                creatinine: MicromolesPerLitre::new(decimal(case, "creatinine_umol_l")),
                height: None,
                weight_basis: WeightBasis::Actual,
            })
            .expect("in range");
            let unrounded = result
                .steps
                .steps()
                .iter()
                .find_map(|s| (s.kind == dosing::StepKind::Formula).then_some(s.value))
                .flatten();
            check(case, unrounded.expect("formula step carries its value"), result.ml_min.value())
        }
        Some("calvert") => {
            let result = calvert(
                TargetAuc::new(decimal(case, "auc")),
                MillilitresPerMinute::new(decimal(case, "gfr_ml_min")),
            );
            check(case, result.dose_mg.value(), result.dose_mg.value().round_dp(1))
        }
        other => Some(format!("unknown case kind {other:?}")),
    }
}

#[test]
fn every_formula_agrees_with_mpmath_on_ten_thousand_random_inputs() {
    let cases = reference_cases();
    assert_eq!(cases.len(), 7 * CASES_PER_FORMULA as usize, "5 BSA formulae, CrCl and Calvert");
    let disagreements: Vec<String> = cases.iter().filter_map(run_case).collect();
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:?}",
        disagreements.len(),
        disagreements.first()
    );
}
