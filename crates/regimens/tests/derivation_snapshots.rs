//! The derivation text of every seed regimen for one reference patient,
//! pinned by snapshot. A change to any number or wording shows up in review.

use dosing::course::{CourseOptions, MeasurementsText, calculate_course};
use dosing::policy::SitePolicy;
use regimens::RegimenLibrary;

fn reference_patient() -> MeasurementsText {
    MeasurementsText {
        height_cm: "170".into(),
        weight_kg: "70".into(),
        sex: Some("female".into()),
        age_years: Some("60".into()),
        creatinine_umol_l: Some("80".into()),
        ..Default::default()
    }
}

fn derivation_text(code: &str) -> String {
    let library = RegimenLibrary::shipped().expect("shipped regimens are valid");
    let policy = SitePolicy::shipped().expect("shipped policy is valid");
    let regimen = library.find(code).expect("seed regimen");
    let patient = reference_patient().parse().expect("reference patient is valid");
    let doses =
        calculate_course(&regimen.plan(), &patient, &CourseOptions::default(), &policy).expect("calculable");
    let mut text = format!("{} v{}\nBSA\n{}", doses.regimen, doses.version, doses.bsa.steps.to_text());
    for line in &doses.drugs {
        let label = line.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
        text.push_str(&format!("{}{label} {}\n{}", line.dose.drug, line.day, line.dose.steps.to_text()));
    }
    for warning in &doses.warnings {
        text.push_str(&format!("{:?}: {}\n", warning.severity, warning.message));
    }
    text
}

#[test]
fn derivation_text_of_every_seed_regimen() {
    let library = RegimenLibrary::shipped().expect("shipped regimens are valid");
    for regimen in library.all() {
        insta::assert_snapshot!(regimen.code.clone(), derivation_text(&regimen.code));
    }
}
