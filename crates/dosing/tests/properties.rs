//! Properties that must hold for every input, not just the examples.

use dosing::banding::{BandOutcome, BoundaryRule, band_dose, shipped_tables};
use dosing::bsa::{BsaFormula, BsaRounding, body_surface_area};
use dosing::course::MeasurementsText;
use dosing::pipeline::{DoseBasis, DrugRequest, Modification, PatientBasis, dose_drug};
use dosing::policy::{DrugClass, SitePolicy};
use dosing::renal::measured_gfr;
use dosing::units::{Centimetres, Kilograms, MillilitresPerMinute, SquareMetres};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rust_decimal::Decimal;

/// Drugs with a site rule after the cap: a banding table, a tablet combination, 5 mg steps, or none.
const CAPPABLE: [&str; 5] = ["vincristine", "carboplatin", "capecitabine", "cyclophosphamide", "vinblastine"];

/// Caps across the whole range, and caps that fall between two bands of the
/// national table (for example 1.95 mg, between the 1.9 and 2 mg bands), where a
/// band above the cap would be the nearest.
fn cap() -> impl Strategy<Value = Decimal> {
    let between_bands = shipped_tables()
        .expect("tables")
        .remove(0)
        .bands()
        .windows(2)
        .map(|pair| (pair[0].band_dose_mg + pair[1].band_dose_mg) / Decimal::TWO)
        .collect::<Vec<_>>();
    prop_oneof![decimal(1, 3000, 1), prop::sample::select(between_bands)]
}

/// A decimal from `low` to `high` in steps of 10^-scale.
fn decimal(low: i64, high: i64, scale: u32) -> impl Strategy<Value = Decimal> {
    let factor = 10_i64.pow(scale);
    (low * factor..=high * factor).prop_map(move |n| Decimal::new(n, scale))
}

fn formula() -> impl Strategy<Value = BsaFormula> {
    prop::sample::select(BsaFormula::ALL.to_vec())
}

fn unrounded_bsa(height: Decimal, weight: Decimal, formula: BsaFormula) -> Decimal {
    body_surface_area(
        Centimetres::new(height),
        Kilograms::new(weight),
        formula,
        BsaRounding::TWO_PLACES,
        None,
    )
    .expect("in range")
    .unrounded_m2
}

proptest! {
    // Keep every failure found beside this file (`properties.proptest-regressions`), so
    // a case once found is tried first on every later run; the default cannot find
    // a lib.rs from an integration test and keeps nothing.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn bsa_rises_with_height(formula in formula(), height in decimal(30, 249, 1), weight in decimal(1, 350, 1), step in decimal(0, 1, 1)) {
        let taller = height + step + Decimal::new(1, 1);
        prop_assert!(unrounded_bsa(taller, weight, formula) > unrounded_bsa(height, weight, formula));
    }

    #[test]
    fn bsa_rises_with_weight(formula in formula(), height in decimal(30, 250, 1), weight in decimal(1, 349, 1)) {
        let heavier = weight + Decimal::new(1, 1);
        prop_assert!(unrounded_bsa(height, heavier, formula) > unrounded_bsa(height, weight, formula));
    }

    #[test]
    fn no_input_path_yields_a_dose_above_a_cap(
        drug in prop::sample::select(CAPPABLE.to_vec()),
        per_m2 in decimal(1, 3000, 1),
        bsa in decimal(1, 3, 2),
        cap in cap(),
        // 100% often, so the capped dose itself meets the bands around the cap.
        percent in prop_oneof![Just(Decimal::ONE_HUNDRED), decimal(1, 100, 0)],
        gfr in decimal(1, 300, 0),
        by_auc in any::<bool>(),
    ) {
        let policy = SitePolicy::shipped().expect("shipped policy");
        let modification = Modification { percent, reason: "property test".into() };
        let renal = measured_gfr(MillilitresPerMinute::new(gfr));
        let basis = if by_auc { DoseBasis::Auc(Decimal::new(5, 0)) } else { DoseBasis::MgPerM2(per_m2) };
        let request = DrugRequest { drug, field: "drugs[0]".into(), basis, regimen_cap: Some(cap), modification: Some(&modification) };
        let patient = PatientBasis { bsa: Some(SquareMetres::new(bsa)), weight: None, renal: Some(&renal) };
        match dose_drug(&request, &patient, &policy) {
            Ok(dose) => {
                prop_assert!(dose.final_dose <= cap, "{drug}: {} > cap {cap}", dose.final_dose);
                let site_cap = policy.drug(drug, "drug").expect("known").max_dose_mg;
                prop_assert!(site_cap.is_none_or(|c| dose.final_dose <= c));
            }
            // The only refusal here: a cap below the smallest tablet or band rounds to nothing.
            Err(error) => prop_assert!(error.reason.contains("rounds to nothing"), "{drug}: {error}"),
        }
    }

    #[test]
    fn a_reduction_never_raises_a_capped_dose_and_lowers_it_or_says_why_not(
        drug in prop::sample::select(CAPPABLE.to_vec()),
        per_m2 in decimal(1, 3000, 1),
        bsa in decimal(1, 3, 2),
        cap in cap(),
        percent in decimal(1, 99, 1),
    ) {
        let policy = SitePolicy::shipped().expect("shipped policy");
        let patient = PatientBasis { bsa: Some(SquareMetres::new(bsa)), weight: None, renal: None };
        let reduction = Modification { percent, reason: "property test".into() };
        let request = |modification| DrugRequest { drug, field: "drugs[0]".into(), basis: DoseBasis::MgPerM2(per_m2), regimen_cap: Some(cap), modification };
        let full = dose_drug(&request(None), &patient, &policy);
        let reduced = dose_drug(&request(Some(&reduction)), &patient, &policy);
        match (full, reduced) {
            (Ok(full), Ok(reduced)) => {
                prop_assert!(reduced.final_dose <= full.final_dose, "{drug} {percent}%: {} > {}", reduced.final_dose, full.final_dose);
                let erased = reduced.warnings.iter().any(|w| w.code == "modification_erased");
                prop_assert!(reduced.final_dose < full.final_dose || erased, "{drug} {percent}%: an erased reduction must be warned of");
                prop_assert!(!(erased && reduced.final_dose < full.final_dose), "{drug}: warned of a reduction that was kept");
            }
            (_, Err(error)) => prop_assert!(error.reason.contains("rounds to nothing"), "{drug}: {error}"),
            (Err(error), Ok(_)) => prop_assert!(false, "{drug}: the full dose was refused but the reduced one was not: {error}"),
        }
    }

    #[test]
    fn banded_doses_stay_within_their_tables_deviation(
        dose in decimal(0, 17, 3),
        biological in any::<bool>(),
        to_b in any::<bool>(),
    ) {
        prop_assume!(dose > Decimal::ZERO);
        let table = shipped_tables().expect("tables").remove(0);
        let class = if biological { DrugClass::Biological } else { DrugClass::Cytotoxic };
        let rule = if to_b { BoundaryRule::ToB } else { BoundaryRule::ToA };
        if let BandOutcome::Banded { band, .. } = band_dose(&table, dose, class, rule) {
            let deviation = ((band.band_dose_mg - dose) / dose * Decimal::ONE_HUNDRED).abs();
            prop_assert!(deviation <= table.max_deviation_percent(class).expect("limit"), "{dose} → {} is {deviation}%", band.band_dose_mg);
        }
    }

    #[test]
    fn a_modification_of_one_hundred_percent_changes_nothing(
        drug in prop::sample::select(vec!["vincristine", "carboplatin", "capecitabine", "doxorubicin", "vinblastine"]),
        per_m2 in decimal(1, 2000, 1),
        bsa in decimal(1, 3, 2),
    ) {
        let policy = SitePolicy::shipped().expect("shipped policy");
        let patient = PatientBasis { bsa: Some(SquareMetres::new(bsa)), weight: None, renal: None };
        let full = Modification { percent: Decimal::ONE_HUNDRED, reason: "none".into() };
        let request = |modification| DrugRequest { drug, field: "drugs[0]".into(), basis: DoseBasis::MgPerM2(per_m2), regimen_cap: None, modification };
        let plain = dose_drug(&request(None), &patient, &policy);
        let modified = dose_drug(&request(Some(&full)), &patient, &policy);
        prop_assert_eq!(plain.map(|d| d.final_dose), modified.as_ref().map(|d| d.final_dose).map_err(Clone::clone));
        prop_assert!(modified.map(|d| !d.modified).unwrap_or(true));
    }

    #[test]
    fn every_refusal_names_a_field(
        height in prop::sample::select(vec!["170", "0", "-5", "1700", "abc", "", "29.9", "250.1"]),
        weight in prop::sample::select(vec!["70", "0", "70000", "x", "0.4", "350.5"]),
        creatinine in prop::option::of(prop::sample::select(vec!["80", "-1", "5", "2001", "n/a"])),
        age in prop::option::of(prop::sample::select(vec!["60", "121", "-1", "old"])),
        sex in prop::option::of(prop::sample::select(vec!["female", "male", "unknown", "F"])),
    ) {
        let text = MeasurementsText {
            height_cm: height.into(),
            weight_kg: weight.into(),
            creatinine_umol_l: creatinine.map(Into::into),
            age_years: age.map(Into::into),
            sex: sex.map(Into::into),
            ..Default::default()
        };
        if let Err(error) = text.parse() {
            let known = ["height_cm", "weight_kg", "creatinine_umol_l", "age_years", "sex"];
            prop_assert!(known.contains(&error.field.as_str()), "unnamed field {:?}", error.field);
            prop_assert!(!error.reason.is_empty());
        }
    }
}
