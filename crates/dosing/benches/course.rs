//! How long a 12-drug regimen takes, every drug through the full pipeline with
//! its derivation. Figures go in docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dosing::course::{
    CourseOptions, CoursePlan, MeasurementsText, PlanStatus, PlannedDrug, calculate_course,
};
use dosing::pipeline::DoseBasis;
use dosing::policy::SitePolicy;
use rust_decimal::Decimal;

fn drug(name: &str, dose: DoseBasis, cap: Option<Decimal>) -> PlannedDrug {
    PlannedDrug { drug: name.into(), label: None, dose, cap, days: vec![1], administrations_per_day: 1 }
}

/// Twelve drugs covering every basis, a cap, banding, tablet rounding and a lifetime limit.
fn twelve_drug_plan() -> CoursePlan {
    let d = Decimal::new;
    CoursePlan {
        code: "BENCH-12".into(),
        version: "1.0.0".into(),
        status: PlanStatus::Approved,
        bsa_formula: None,
        bsa_cap_m2: None,
        drugs: vec![
            drug("rituximab", DoseBasis::MgPerM2(d(375, 0)), None),
            drug("cyclophosphamide", DoseBasis::MgPerM2(d(750, 0)), None),
            drug("doxorubicin", DoseBasis::MgPerM2(d(50, 0)), None),
            drug("vincristine", DoseBasis::MgPerM2(d(14, 1)), Some(d(2, 0))),
            drug("prednisolone", DoseBasis::FlatMg(d(100, 0)), None),
            drug("carboplatin", DoseBasis::Auc(d(5, 0)), None),
            drug("paclitaxel", DoseBasis::MgPerM2(d(175, 0)), None),
            drug("vinblastine", DoseBasis::MgPerM2(d(6, 0)), None),
            drug("bleomycin", DoseBasis::IuPerM2(d(10000, 0)), None),
            drug("capecitabine", DoseBasis::MgPerM2(d(1250, 0)), None),
            drug("gemcitabine", DoseBasis::MgPerM2(d(1000, 0)), None),
            drug("oxaliplatin", DoseBasis::MgPerKg(d(2, 0)), None),
        ],
        pre_treatment_limits: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let policy = SitePolicy::shipped().expect("shipped policy");
    let plan = twelve_drug_plan();
    let patient = MeasurementsText {
        height_cm: "172.5".into(),
        weight_kg: "81.3".into(),
        sex: Some("female".into()),
        age_years: Some("58".into()),
        creatinine_umol_l: Some("76".into()),
        ..Default::default()
    }
    .parse()
    .expect("valid patient");
    let options = CourseOptions::default();
    c.bench_function("twelve_drug_regimen_with_derivations", |b| {
        b.iter(|| {
            calculate_course(black_box(&plan), black_box(&patient), &options, &policy).expect("calculable")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
