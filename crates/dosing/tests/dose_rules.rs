//! The dose rules a review found broken, each with the scenario that harmed a patient.

use std::collections::BTreeMap;

use dosing::checks::Severity;
use dosing::course::{
    CourseDoses, CourseOptions, CoursePlan, DrugModification, MeasurementsText, PlanStatus, PlannedDrug,
    calculate_course,
};
use dosing::pipeline::{DoseBasis, DrugDose, DrugRequest, Modification, PatientBasis, dose_drug};
use dosing::policy::SitePolicy;
use dosing::renal::{CockcroftGaultInput, Sex, WeightBasis, cockcroft_gault, measured_gfr};
use dosing::units::{Centimetres, Kilograms, MicromolesPerLitre, MillilitresPerMinute, Years};
use dosing::{DoseError, StepKind};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn policy() -> SitePolicy {
    SitePolicy::shipped().expect("shipped policy")
}

fn line(drug: &str, dose: DoseBasis) -> PlannedDrug {
    PlannedDrug { drug: drug.into(), label: None, dose, cap: None, days: vec![1], administrations_per_day: 1 }
}

fn plan(drugs: Vec<PlannedDrug>) -> CoursePlan {
    CoursePlan {
        code: "TEST".into(),
        version: "1.0.0".into(),
        status: PlanStatus::Approved,
        bsa_formula: None,
        bsa_cap_m2: None,
        drugs,
        pre_treatment_limits: Vec::new(),
    }
}

/// 200 cm and 72 kg: a Mosteller BSA of exactly 2.00 m².
fn two_square_metres() -> MeasurementsText {
    MeasurementsText { height_cm: "200".into(), weight_kg: "72".into(), ..Default::default() }
}

fn reduce(drug: &str, percent: Decimal) -> CourseOptions {
    CourseOptions {
        modifications: vec![DrugModification {
            drug: drug.into(),
            modification: Modification { percent, reason: "grade 2 peripheral neuropathy".into() },
        }],
        ..Default::default()
    }
}

fn course(
    plan: &CoursePlan,
    patient: &MeasurementsText,
    options: &CourseOptions,
) -> Result<CourseDoses, DoseError> {
    calculate_course(plan, &patient.parse().expect("valid measurements"), options, &policy())
}

fn vincristine() -> CoursePlan {
    plan(vec![PlannedDrug { cap: Some(dec!(2)), ..line("vincristine", DoseBasis::MgPerM2(dec!(1.4))) }])
}

fn only_dose(doses: &CourseDoses) -> &DrugDose {
    &doses.drugs[0].dose
}

#[test]
fn a_fifty_percent_vincristine_reduction_is_half_the_capped_dose() {
    let doses =
        course(&vincristine(), &two_square_metres(), &reduce("vincristine", dec!(50))).expect("calculable");
    assert_eq!(doses.bsa_m2.value(), dec!(2.00));
    assert_eq!(only_dose(&doses).final_dose, dec!(1), "50% of the 2 mg the patient was getting");
}

#[test]
fn a_seventy_five_percent_vincristine_reduction_is_not_capped_back_to_the_full_dose() {
    let doses =
        course(&vincristine(), &two_square_metres(), &reduce("vincristine", dec!(75))).expect("calculable");
    assert_eq!(only_dose(&doses).final_dose, dec!(1.5));
    assert!(only_dose(&doses).modified);
}

#[test]
fn the_derivation_shows_the_cap_before_the_modification() {
    let doses =
        course(&vincristine(), &two_square_metres(), &reduce("vincristine", dec!(50))).expect("calculable");
    let kinds: Vec<StepKind> = only_dose(&doses).steps.steps().iter().map(|s| s.kind).collect();
    let cap = kinds.iter().position(|k| *k == StepKind::Cap).expect("a cap step");
    let modification = kinds.iter().position(|k| *k == StepKind::Modification).expect("a modification step");
    let banding = kinds.iter().position(|k| *k == StepKind::Banding).expect("a banding step");
    assert!(cap < modification && modification < banding, "{kinds:?}");
    assert!(only_dose(&doses).steps.to_text().contains("Modified to 50% of 2 mg"));
}

fn carboplatin_at(
    auc: Decimal,
    gfr: Decimal,
    modification: Option<&Modification>,
) -> Result<DrugDose, DoseError> {
    let renal = measured_gfr(MillilitresPerMinute::new(gfr));
    let request = DrugRequest {
        drug: "carboplatin",
        field: "drugs[0]".into(),
        basis: DoseBasis::Auc(auc),
        regimen_cap: None,
        modification,
    };
    dose_drug(&request, &PatientBasis { bsa: None, weight: None, renal: Some(&renal) }, &policy())
}

#[test]
fn a_reduction_that_rounding_erases_is_a_warning_naming_the_drug() {
    // AUC 5 × (86 + 25) = 555 mg; 99.9% is 554.445 mg, which rounds back to 555 mg.
    let slight = Modification { percent: dec!(99.9), reason: "renal function".into() };
    let dose = carboplatin_at(dec!(5), dec!(86), Some(&slight)).expect("calculable");
    assert_eq!(dose.final_dose, dec!(555));
    let warning = dose.warnings.iter().find(|w| w.code == "modification_erased").expect("a warning");
    assert!(warning.message.starts_with("carboplatin:"), "{}", warning.message);
    let kept = Modification { percent: dec!(90), reason: "renal function".into() };
    let dose = carboplatin_at(dec!(5), dec!(86), Some(&kept)).expect("calculable");
    assert!(
        dose.warnings.iter().all(|w| w.code != "modification_erased"),
        "a real reduction is not warned of"
    );
}

#[test]
fn carboplatin_rounding_never_passes_auc_times_150() {
    // AUC 5.03 × 150 = 754.5 mg; nearest 5 mg would give 755 mg.
    let dose = carboplatin_at(dec!(5.03), dec!(140), None).expect("calculable");
    assert_eq!(dose.final_dose, dec!(750));
    assert!(dose.steps.to_text().contains("so as not to pass the Calvert maximum of AUC × 150 = 754.5 mg"));
}

#[test]
fn the_engine_refuses_a_modification_with_a_blank_reason() {
    let blank = Modification { percent: dec!(80), reason: "  ".into() };
    let error = carboplatin_at(dec!(5), dec!(86), Some(&blank)).expect_err("a reason is mandatory");
    assert_eq!(error.field, "drugs[0].modification");
    assert!(error.reason.contains("needs a reason"));
}

#[test]
fn the_engine_refuses_a_modification_above_one_hundred_percent() {
    let escalation = Modification { percent: dec!(150), reason: "escalation".into() };
    let error = carboplatin_at(dec!(5), dec!(86), Some(&escalation)).expect_err("above 100%");
    assert_eq!(error.field, "drugs[0].modification");
}

#[test]
fn a_modification_naming_a_drug_not_in_the_regimen_is_refused() {
    let error = course(&vincristine(), &two_square_metres(), &reduce("doxorubicin", dec!(75)))
        .expect_err("not in it");
    assert_eq!(error.field, "modifications[0].drug");
    assert!(error.reason.contains("doxorubicin is not in TEST"));
}

#[test]
fn a_withdrawn_regimen_is_refused_by_name() {
    let withdrawn = CoursePlan { status: PlanStatus::Withdrawn, ..vincristine() };
    let error = course(&withdrawn, &two_square_metres(), &CourseOptions::default()).expect_err("withdrawn");
    assert_eq!(error.field, "regimen");
    assert!(error.reason.contains("TEST v1.0.0 is withdrawn"));
}

fn doxorubicin_days(days: Vec<u32>, per_day: u32) -> CoursePlan {
    plan(vec![PlannedDrug {
        days,
        administrations_per_day: per_day,
        ..line("doxorubicin", DoseBasis::MgPerM2(dec!(20)))
    }])
}

fn prior(drug: &str, value: Decimal) -> CourseOptions {
    CourseOptions { prior_cumulative: BTreeMap::from([(drug.to_owned(), value)]), ..Default::default() }
}

#[test]
fn a_negative_lifetime_dose_is_refused_naming_the_field() {
    let error =
        course(&doxorubicin_days(vec![1], 1), &two_square_metres(), &prior("doxorubicin", dec!(-400)))
            .expect_err("negative");
    assert_eq!(error.field, "prior_cumulative.doxorubicin");
}

#[test]
fn an_absurd_lifetime_dose_is_refused_and_never_panics() {
    for absurd in [dec!(4501), Decimal::MAX] {
        let error =
            course(&doxorubicin_days(vec![1], 1), &two_square_metres(), &prior("doxorubicin", absurd))
                .expect_err("more than ten times the limit");
        assert_eq!(error.field, "prior_cumulative.doxorubicin");
    }
}

fn cumulative_message(doses: &CourseDoses) -> &str {
    let warning =
        doses.warnings.iter().find(|w| w.code.starts_with("cumulative_limit")).expect("near the limit");
    &warning.message
}

#[test]
fn a_multi_day_line_counts_every_day_toward_the_lifetime_dose() {
    // 20 mg/m² on days 1–3 is 60 mg/m² a cycle; 400 + 60 passes 450.
    let doses =
        course(&doxorubicin_days(vec![1, 2, 3], 1), &two_square_metres(), &prior("doxorubicin", dec!(400)))
            .expect("calculable");
    assert!(cumulative_message(&doses).contains("+ 60 mg/m² this cycle"), "{}", cumulative_message(&doses));
    assert!(doses.warnings.iter().any(|w| w.severity == Severity::Block));
}

#[test]
fn a_twice_daily_line_counts_twice_toward_the_lifetime_dose() {
    let doses = course(&doxorubicin_days(vec![1], 2), &two_square_metres(), &prior("doxorubicin", dec!(400)))
        .expect("calculable");
    assert!(cumulative_message(&doses).contains("+ 40 mg/m² this cycle"), "{}", cumulative_message(&doses));
}

#[test]
fn an_iu_dose_is_capped_in_iu_and_says_iu() {
    let capped = PlannedDrug { cap: Some(dec!(15000)), ..line("bleomycin", DoseBasis::IuPerM2(dec!(10000))) };
    let doses =
        course(&plan(vec![capped]), &two_square_metres(), &CourseOptions::default()).expect("calculable");
    let dose = only_dose(&doses);
    assert_eq!(dose.final_dose, dec!(15000));
    assert!(dose.capped);
    let text = dose.steps.to_text();
    assert!(text.contains("maximum single dose of 15000 IU"), "{text}");
    assert!(!text.contains(" mg"), "an IU dose is never described in mg: {text}");
}

fn crcl(
    sex: Sex,
    age: Decimal,
    height: Decimal,
    weight: Decimal,
    basis: WeightBasis,
) -> Result<Decimal, DoseError> {
    cockcroft_gault(&CockcroftGaultInput {
        sex,
        age: Years::new(age),
        weight: Kilograms::new(weight),
        creatinine: MicromolesPerLitre::new(dec!(60)),
        height: Some(Centimetres::new(height)),
        weight_basis: basis,
    })
    .map(|r| r.ml_min.value())
}

#[test]
fn ideal_or_adjusted_weight_is_never_above_the_actual_weight() {
    // 150 cm, 40 kg, 70 years: Devine gives 45.5 kg, but only 40 kg may be used.
    let actual = crcl(Sex::Female, dec!(70), dec!(150), dec!(40), WeightBasis::Actual).expect("valid");
    for basis in [WeightBasis::Ideal, WeightBasis::Adjusted, WeightBasis::ActualUnlessObese] {
        assert_eq!(crcl(Sex::Female, dec!(70), dec!(150), dec!(40), basis), Ok(actual), "{basis:?}");
    }
    let result = cockcroft_gault(&CockcroftGaultInput {
        sex: Sex::Female,
        age: Years::new(dec!(70)),
        weight: Kilograms::new(dec!(40)),
        creatinine: MicromolesPerLitre::new(dec!(60)),
        height: Some(Centimetres::new(dec!(150))),
        weight_basis: WeightBasis::Ideal,
    })
    .expect("valid");
    assert!(result.steps.to_text().contains("the actual weight is used"));
}

#[test]
fn a_small_woman_on_ideal_weight_gets_the_actual_weight_carboplatin_dose() {
    let carboplatin = plan(vec![line("carboplatin", DoseBasis::Auc(dec!(5)))]);
    let patient = MeasurementsText {
        height_cm: "150".into(),
        weight_kg: "40".into(),
        sex: Some("female".into()),
        age_years: Some("70".into()),
        creatinine_umol_l: Some("60".into()),
        ..Default::default()
    };
    let mut ideal = policy();
    ideal.crcl_weight_basis = WeightBasis::Ideal;
    let doses =
        calculate_course(&carboplatin, &patient.parse().expect("valid"), &CourseOptions::default(), &ideal)
            .expect("calculable");
    assert_eq!(only_dose(&doses).final_dose, dec!(370), "not the 400 mg that 45.5 kg would give");
}

#[test]
fn cockcroft_gault_is_refused_for_a_child_naming_the_age() {
    let error = crcl(Sex::Male, dec!(5), dec!(110), dec!(18), WeightBasis::Ideal).expect_err("a child");
    assert_eq!(error.field, "age_years");
    assert!(error.reason.contains("paediatric method"));
}

#[test]
fn a_vincristine_dose_on_two_square_metres_without_reduction_is_capped_at_two_milligrams() {
    let doses = course(&vincristine(), &two_square_metres(), &CourseOptions::default()).expect("calculable");
    assert_eq!(only_dose(&doses).final_dose, dec!(2));
    assert!(only_dose(&doses).capped);
    assert!(!only_dose(&doses).modified);
}

#[test]
fn a_draft_regimen_warns_that_it_awaits_sign_off_and_an_approved_one_does_not() {
    let draft = CoursePlan { status: PlanStatus::Draft, ..vincristine() };
    let warned = |plan: &CoursePlan| {
        course(plan, &two_square_metres(), &CourseOptions::default())
            .expect("calculable")
            .warnings
            .iter()
            .any(|w| w.code == "regimen_not_approved")
    };
    assert!(warned(&draft));
    assert!(!warned(&vincristine()));
}

#[test]
fn a_lifetime_dose_of_ten_times_the_limit_is_believed_and_more_is_not() {
    let plan = doxorubicin_days(vec![1], 1);
    let at_bound =
        course(&plan, &two_square_metres(), &prior("doxorubicin", dec!(4500))).expect("ten times 450");
    assert!(at_bound.warnings.iter().any(|w| w.code == "cumulative_limit_exceeded"));
    let error = course(&plan, &two_square_metres(), &prior("doxorubicin", dec!(4500.1))).expect_err("above");
    assert_eq!(error.field, "prior_cumulative.doxorubicin");
}

fn unusual(patient: MeasurementsText) -> Vec<String> {
    course(&vincristine(), &patient, &CourseOptions::default())
        .expect("calculable")
        .warnings
        .into_iter()
        .filter(|w| w.code == "unusual_measurement")
        .map(|w| w.message)
        .collect()
}

fn measured(height: &str, weight: &str, age: &str, creatinine: &str) -> MeasurementsText {
    MeasurementsText {
        height_cm: height.into(),
        weight_kg: weight.into(),
        age_years: Some(age.into()),
        creatinine_umol_l: Some(creatinine.into()),
        ..Default::default()
    }
}

#[test]
fn measurements_at_the_edges_of_adult_ranges_pass_and_beyond_them_are_questioned() {
    assert!(unusual(measured("120", "30", "18", "30")).is_empty(), "the lower edges are usual");
    assert!(unusual(measured("210", "200", "100", "500")).is_empty(), "the upper edges are usual");
    let low = unusual(measured("119.9", "29.9", "17.9", "29.9"));
    for what in ["Height", "Weight", "a child", "Creatinine"] {
        assert!(low.iter().any(|m| m.contains(what)), "{what} below its range is questioned: {low:?}");
    }
    let high = unusual(measured("210.1", "200.1", "100.1", "500.1"));
    for what in ["Height", "Weight", "Age", "Creatinine"] {
        assert!(high.iter().any(|m| m.contains(what)), "{what} above its range is questioned: {high:?}");
    }
}

#[test]
fn a_modification_for_all_drugs_applies_to_each_unless_one_has_its_own() {
    let two_drugs = plan(vec![
        line("doxorubicin", DoseBasis::MgPerM2(dec!(50))),
        line("cyclophosphamide", DoseBasis::MgPerM2(dec!(500))),
    ]);
    let options = CourseOptions {
        modifications: vec![
            DrugModification {
                drug: "all".into(),
                modification: Modification { percent: dec!(80), reason: "frailty".into() },
            },
            DrugModification {
                drug: "Doxorubicin".into(),
                modification: Modification { percent: dec!(50), reason: "cardiac function".into() },
            },
        ],
        ..Default::default()
    };
    let doses = course(&two_drugs, &two_square_metres(), &options).expect("calculable");
    assert_eq!(doses.drugs[0].dose.final_dose, dec!(50), "doxorubicin's own 50% of 100 mg");
    assert_eq!(doses.drugs[1].dose.final_dose, dec!(800), "80% of 1000 mg for every other drug");
}

#[test]
fn a_capped_dose_that_is_then_reduced_is_still_marked_capped() {
    let doses =
        course(&vincristine(), &two_square_metres(), &reduce("vincristine", dec!(50))).expect("calculable");
    assert!(only_dose(&doses).capped, "the 2.8 mg was capped before the reduction");
    assert!(only_dose(&doses).modified);
}

#[test]
fn a_dose_exactly_at_the_cap_is_not_reported_as_capped() {
    let at_cap =
        plan(vec![PlannedDrug { cap: Some(dec!(2)), ..line("vincristine", DoseBasis::MgPerM2(dec!(1))) }]);
    let doses = course(&at_cap, &two_square_metres(), &CourseOptions::default()).expect("calculable");
    assert_eq!(only_dose(&doses).final_dose, dec!(2));
    assert!(!only_dose(&doses).capped);
    assert!(!only_dose(&doses).steps.has(StepKind::Cap));
}

#[test]
fn a_dose_per_square_metre_is_the_dose_times_the_bsa() {
    let rituximab = plan(vec![line("rituximab", DoseBasis::MgPerM2(dec!(375)))]);
    let doses = course(&rituximab, &two_square_metres(), &CourseOptions::default()).expect("calculable");
    assert_eq!(only_dose(&doses).calculated_dose, dec!(750));
    assert_eq!(only_dose(&doses).basis.describe(), "375 mg/m²");
}

#[test]
fn the_calvert_maximum_binds_even_under_a_higher_regimen_cap() {
    let renal = measured_gfr(MillilitresPerMinute::new(dec!(140)));
    let request = DrugRequest {
        drug: "carboplatin",
        field: "drugs[0]".into(),
        basis: DoseBasis::Auc(dec!(5.03)),
        regimen_cap: Some(dec!(2000)),
        modification: None,
    };
    let dose = dose_drug(&request, &PatientBasis { bsa: None, weight: None, renal: Some(&renal) }, &policy())
        .expect("calculable");
    assert_eq!(dose.final_dose, dec!(750), "not 755 mg, which passes AUC × 150 = 754.5 mg");
}

#[test]
fn a_dose_per_kilogram_is_the_dose_times_the_weight() {
    let by_weight = plan(vec![line("gemcitabine", DoseBasis::MgPerKg(dec!(10)))]);
    let doses = course(&by_weight, &two_square_metres(), &CourseOptions::default()).expect("calculable");
    assert_eq!(only_dose(&doses).calculated_dose, dec!(720), "10 mg/kg × 72 kg");
}

#[test]
fn no_band_passes_a_cap_that_falls_between_two_bands() {
    let table = dosing::banding::shipped_tables().expect("tables").remove(0);
    for pair in table.bands().windows(2) {
        let cap = (pair[0].band_dose_mg + pair[1].band_dose_mg) / Decimal::TWO;
        let capped =
            plan(vec![PlannedDrug { cap: Some(cap), ..line("vinblastine", DoseBasis::MgPerM2(dec!(6))) }]);
        let doses = course(&capped, &two_square_metres(), &CourseOptions::default()).expect("calculable");
        assert!(only_dose(&doses).final_dose <= cap, "cap {cap}: {} passes it", only_dose(&doses).final_dose);
    }
}

#[test]
fn a_capped_dose_that_lands_on_a_band_is_banded() {
    let doses = course(&vincristine(), &two_square_metres(), &CourseOptions::default()).expect("calculable");
    assert!(only_dose(&doses).banded, "the 2 mg cap is itself a band dose");
}

#[test]
fn a_rounded_dose_is_marked_rounded_and_says_rounded_down_only_when_it_was() {
    let exact = carboplatin_at(dec!(5), dec!(85), None).expect("calculable");
    assert_eq!(exact.final_dose, dec!(550), "AUC 5 × 110 is already a multiple of 5 mg");
    assert!(!exact.rounded);
    let renal = measured_gfr(MillilitresPerMinute::new(dec!(86)));
    let request = DrugRequest {
        drug: "carboplatin",
        field: "drugs[0]".into(),
        basis: DoseBasis::Auc(dec!(4.9)),
        regimen_cap: Some(dec!(2000)),
        modification: None,
    };
    // AUC 4.9 × 111 = 543.9 mg, rounded to 545 mg, well under any ceiling.
    let dose = dose_drug(&request, &PatientBasis { bsa: None, weight: None, renal: Some(&renal) }, &policy())
        .expect("calculable");
    assert_eq!(dose.final_dose, dec!(545));
    assert!(dose.rounded);
    assert!(!dose.steps.to_text().contains("rounded down"), "{}", dose.steps.to_text());
}
